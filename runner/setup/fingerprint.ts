import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonDifferences } from '../../engine/diff.js';
import type { ExperimentConfig, TierConfig } from '../../schemas/config.js';
import { canonicalJson } from '../../util/canonical-json.js';
import { sha256 } from '../../util/hash.js';

/**
 * What in a config changes results (docs/design.md §5), with the contents of the files
 * it names. Not included: concurrency limits, retries, failFast,
 * keepFailedWorkspaces. Tiers are fingerprinted one by one, so adding a tier
 * is additive rather than a change.
 */
export interface Fingerprint {
  common: Record<string, unknown>;
  tiers: Record<string, Record<string, unknown>>;
}

export function configFingerprint(config: ExperimentConfig, configDir: string): Fingerprint {
  const { task, agent, judges, runsPerSubtest } = config;
  return {
    common: {
      task: { repo: task.repo, commit: task.commit, prompt: fileDigest(configDir, task.prompt), thinking: task.thinking ?? null },
      agent: { command: agent.command, timeoutSeconds: agent.timeoutSeconds, env: agent.env, rateLimit: agent.rateLimit ?? null },
      judges: judges.map((j) => ({ command: j.command, timeoutSeconds: j.timeoutSeconds })),
      runsPerSubtest,
    },
    tiers: Object.fromEntries(config.tiers.map((tier) => [tier.id, tierFingerprint(tier, configDir)])),
  };
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

export function fingerprintHash(fingerprint: Fingerprint): string {
  return sha256(canonicalJson(fingerprint));
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
    .filter((entry) => !statSync(join(full, entry)).isDirectory())
    .map((entry) => `${entry}\n${readFileSync(join(full, entry)).toString('base64')}`)
    .join('\n');
}

export interface FingerprintComparison {
  /** Changed fields, e.g. `runsPerSubtest (3 → 5)`, `tiers.T0.subtests[1].files.CLAUDE.md`. */
  changed: string[];
  added: string[];
  removed: string[];
}

export function compareFingerprints(recorded: Fingerprint, current: Fingerprint): FingerprintComparison {
  const describe = (prefix: string) => (d: { path: string; expected: unknown; actual: unknown }) =>
    `${prefix}${d.path} (${short(d.expected)} → ${short(d.actual)})`;
  const changed = jsonDifferences(recorded.common, current.common).map(describe(''));
  for (const [id, tier] of Object.entries(recorded.tiers)) {
    if (current.tiers[id]) changed.push(...jsonDifferences(tier, current.tiers[id]).map(describe(`tiers.${id}.`)));
  }
  return {
    changed,
    added: Object.keys(current.tiers).filter((id) => !recorded.tiers[id]),
    removed: Object.keys(recorded.tiers).filter((id) => !current.tiers[id]),
  };
}

function short(value: unknown): string {
  if (value === undefined) return 'none';
  const text = typeof value === 'string' ? value.replace(/#[0-9a-f]{16}$/, ' (content)') : canonicalJson(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
