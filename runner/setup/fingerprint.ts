import { randomBytes, scryptSync } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonDifferences } from '../../engine/diff.js';
import type { ExperimentConfig, TierConfig } from '../../schemas/config.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { sha256 } from '../../util/hash.js';

/**
 * What in a config changes results (docs/design.md §5), with the contents of
 * the files it names and a salted digest of each secret's value. Not
 * included: concurrency limits, retries, failFast, keepFailedWorkspaces.
 * Tiers are fingerprinted one by one, so adding a tier is additive rather
 * than a change. Recorded in the log when an experiment starts (and when
 * tiers are added), and compared with today's on every `run` and `resume`.
 */
export interface Fingerprint {
  common: Record<string, unknown>;
  tiers: Record<string, Record<string, unknown>>;
  /** The salt of the secrets' digests (hex); the same one is used to compare. */
  salt?: string;
}

/** Where secret values come from (the driver's environment). */
export type SecretSource = (name: string) => string | undefined;

export function configFingerprint(config: ExperimentConfig, configDir: string, secrets: { salt: string; env: SecretSource } = { salt: newSalt(), env: (name) => process.env[name] }): Fingerprint {
  const { task, agent, judges, runsPerSubtest } = config;
  const digests = (names: readonly string[]) => Object.fromEntries(names.map((name) => [name, secretDigest(secrets.env(name), secrets.salt)]));
  return {
    common: {
      task: { repo: task.repo, commit: task.commit, prompt: fileDigest(configDir, task.prompt), thinking: task.thinking ?? null },
      agent: { command: agent.command, timeoutSeconds: agent.timeoutSeconds, env: agent.env, rateLimit: agent.rateLimit ?? null, ...(agent.secretEnv.length > 0 ? { secretEnv: digests(agent.secretEnv) } : {}) },
      judges: judges.map((j) => ({ command: j.command, timeoutSeconds: j.timeoutSeconds, ...(j.secretEnv.length > 0 ? { secretEnv: digests(j.secretEnv) } : {}) })),
      runsPerSubtest,
    },
    tiers: Object.fromEntries(config.tiers.map((tier) => [tier.id, tierFingerprint(tier, configDir)])),
    salt: secrets.salt,
  };
}

export const newSalt = () => randomBytes(16).toString('hex');

/**
 * A secret's value as the log may hold it: scrypt over a per-experiment salt
 * (slow to guess, so even a short secret is not recoverable from the log);
 * `unset` when the variable is missing.
 */
function secretDigest(value: string | undefined, salt: string): string {
  if (value === undefined) return 'unset';
  return `scrypt:${scryptSync(value, salt, 16).toString('hex')}`;
}

function tierFingerprint(tier: TierConfig, configDir: string): Record<string, unknown> {
  return {
    dependsOn: tier.dependsOn,
    maxSubtests: tier.maxSubtests ?? null,
    thinking: tier.thinking ?? null,
    subtests: tier.subtests.map((s) => ({
      id: s.id,
      inheritBaseline: s.resources.inheritBaseline,
      files: Object.fromEntries(Object.entries(s.resources.files).map(([dest, source]) => [dest, fileDigest(configDir, source)])),
    })),
  };
}

/** The config hash: of the fingerprint without its salt. */
export function fingerprintHash(fingerprint: Fingerprint): string {
  const { salt: _salt, ...rest } = fingerprint;
  return sha256(canonicalJson(rest));
}

/** A path and the SHA-256 of its content (a directory: of its files, recursively); "missing" if absent. */
function fileDigest(configDir: string, path: string): string {
  const full = resolve(configDir, path);
  if (!existsSync(full)) return `${path}#missing`;
  return `${path}#${sha256(contentOf(full)).slice(0, 16)}`;
}

function contentOf(full: string): string {
  if (!statSync(full).isDirectory()) return readFileSync(full).toString('base64');
  return readdirSync(full, { recursive: true, withFileTypes: false })
    .map(String)
    .sort()
    .filter((entry) => !statSync(join(full, entry), { throwIfNoEntry: false })?.isDirectory())
    .map((entry) => `${entry}\n${entryContent(join(full, entry))}`)
    .join('\n');
}

/** A file's content; a link that points nowhere, as where it points (it is copied as such). */
function entryContent(file: string): string {
  if (!existsSync(file) && lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) return `(link to ${readlinkSync(file)})`;
  return readFileSync(file).toString('base64');
}

export interface FingerprintComparison {
  /** Changed fields, e.g. `runsPerSubtest (3 → 5)`, `tiers.T0.subtests[1].files.CLAUDE.md`. */
  changed: string[];
  added: string[];
  removed: string[];
}

export function compareFingerprints(recorded: Fingerprint, current: Fingerprint): FingerprintComparison {
  const changed = jsonDifferences(recorded.common, current.common).map((d) => describeChange('', d));
  for (const [id, tier] of Object.entries(recorded.tiers)) {
    if (current.tiers[id]) changed.push(...jsonDifferences(tier, current.tiers[id]).map((d) => describeChange(`tiers.${id}.`, d)));
  }
  return {
    changed,
    added: Object.keys(current.tiers).filter((id) => !recorded.tiers[id]),
    removed: Object.keys(recorded.tiers).filter((id) => !current.tiers[id]),
  };
}

const DIGEST = /^(.*)#([0-9a-f]{16}|missing)$/;

/** One changed field, in words: `runsPerSubtest (2 → 3)`, `task.prompt (the content of ./prompt.md changed)`. */
function describeChange(prefix: string, d: { path: string; expected: unknown; actual: unknown }): string {
  const [was, now] = [d.expected, d.actual].map((v) => (typeof v === 'string' ? v : ''));
  const file = DIGEST.exec(was!);
  const fileNow = DIGEST.exec(now!);
  if (file && fileNow && file[1] === fileNow[1]) {
    const what = fileNow[2] === 'missing' ? 'is missing now' : file[2] === 'missing' ? 'exists now' : 'changed';
    return `${prefix}${d.path} (the content of ${file[1]} ${what})`;
  }
  if (/secretEnv\./.test(d.path)) {
    const name = d.path.slice(d.path.lastIndexOf('.') + 1);
    return `${prefix}${d.path} (${now === 'unset' ? `$${name} is not set` : was === 'unset' ? `$${name} is set now` : `the value of $${name} changed`})`;
  }
  return `${prefix}${d.path} (${short(d.expected)} → ${short(d.actual)})`;
}

function short(value: unknown): string {
  if (value === undefined) return 'none';
  const text = typeof value === 'string' ? value.replace(/#[0-9a-f]{16}$/, ' (content)') : canonicalJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
