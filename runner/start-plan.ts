import type { ExperimentConfig, TierConfig } from '../schemas/config.js';
import { ConfigChangedError, ConfigInvalidError, ExperimentNotFoundError } from './errors.js';
import { generationKey } from './log-keys.js';
import { generations, recordedStart, type ExperimentLog, type RecordedStart } from './log.js';
import { loadConfigFile } from './setup/config-file.js';
import { compareFingerprints, configFingerprint, newSalt, type Fingerprint } from './setup/fingerprint.js';
import { configWarnings, environmentIssues } from './setup/preflight.js';

/** What to drive: the experiment's key, the config it runs with (and its fingerprint), and what is new. */
export interface StartPlan extends RecordedStart {
  key: string;
  isNew: boolean;
  fingerprint: Fingerprint;
  /** Tiers the config adds to an existing experiment. */
  added: TierConfig[];
}

/** A config read for `run`: the tiers selected (`--tiers`), and the whole file's config. */
export interface RunConfig extends RecordedStart {
  file: string;
  /** Every tier of the file, selected or not: what counts as removed is judged against it. */
  full: ExperimentConfig;
  /** What the config does that is allowed but probably not meant (a secret in agent.env). */
  warnings: string[];
}

/**
 * Which experiment (generation) to drive, with which config: a new one, or one
 * that continues. Continuing is refused when anything the results depend on
 * changed since it was recorded (the config's fields, the prompt and
 * resource files' contents, secrets' values): on `run` against the given
 * config, on `resume` against the recorded config with today's files.
 */
export function planStart(request: { store: ExperimentLog; config?: RunConfig; experiment?: string; fresh?: boolean }): StartPlan {
  const { store } = request;
  if (!request.config) {
    const id = request.experiment!;
    const known = generations(store, id);
    const key = id.includes('~') ? generationKey(id) : known.length === 0 ? id : known.at(-1)!;
    if (!store.head(key)) throw new ExperimentNotFoundError(key, store.location, store.experiments().map((h) => h.experiment));
    return { key, isNew: false, ...continuing(key, recordedStart(store, key), null) };
  }
  const { config, configDir } = request.config;
  const known = generations(store, config.id);
  const fresh = (key: string): StartPlan => ({ key, isNew: true, added: [], config, configDir, fingerprint: configFingerprint(config, configDir) });
  const plan = known.length === 0 ? fresh(config.id) : request.fresh ? fresh(`${config.id}~${known.length + 1}`) : null;
  const key = known.at(-1)!;
  return checkDependencies(plan ?? { key, isNew: false, ...continuing(key, recordedStart(store, key), request.config) }, request.config.file);
}

/** Every tier's dependencies are in the experiment: selected with `--tiers`, or there already. */
function checkDependencies(plan: StartPlan, file: string): StartPlan {
  const ids = new Set(plan.config.tiers.map((t) => t.id));
  const issues = plan.config.tiers.flatMap((t) => t.dependsOn.filter((d) => !ids.has(d)).map((d) => ({ path: '--tiers', message: `tier ${t.id} depends on ${d}, which is not selected and has not run in ${plan.key}; select it too` })));
  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  return plan;
}

/** The recorded experiment checked against today's files and, with `run`, today's config; tiers the config adds come along. */
function continuing(key: string, recorded: RecordedStart, current: RunConfig | null): { config: ExperimentConfig; configDir: string; fingerprint: Fingerprint; added: TierConfig[] } {
  const salt = recorded.fingerprint?.salt ?? newSalt();
  // a log of expctl 0.1 recorded no fingerprint: its config is fingerprinted with today's files (their edits go unseen)
  const before = recorded.fingerprint ?? configFingerprint(recorded.config, recorded.configDir, { salt, env: (name) => process.env[name] });
  const now = current
    ? configFingerprint(current.full, current.configDir, { salt, env: (name) => process.env[name] })
    : configFingerprint(recorded.config, recorded.configDir, { salt, env: (name) => process.env[name] });
  const comparison = compareFingerprints(before, now);
  const changes = [...comparison.changed, ...comparison.removed.map((t) => `tiers.${t} (removed)`)];
  if (changes.length > 0) throw new ConfigChangedError(key, changes, current ? 'run' : 'resume');
  if (!current) return { config: recorded.config, configDir: recorded.configDir, fingerprint: before, added: [] };
  const added = current.config.tiers.filter((t) => !before.tiers[t.id]);
  const config = { ...current.config, tiers: [...recorded.config.tiers, ...added] };
  const fingerprint: Fingerprint = { common: now.common, tiers: { ...before.tiers, ...Object.fromEntries(added.map((t) => [t.id, now.tiers[t.id]!])) }, salt };
  return { config, configDir: current.configDir, fingerprint, added };
}

/**
 * Read, validate and check a config for `run` before anything is created: the
 * file, its fields, the files, programs and secrets it names (exit 2 on any
 * problem). `tiers` keeps only those tiers (their dependencies must be among
 * them, or have run already).
 */
export function loadRunConfig(file: string, tiers?: string[]): RunConfig {
  const loaded = loadConfigFile(file);
  const config = tiers ? selectTiers(loaded.config, tiers, loaded.file) : loaded.config;
  const issues = environmentIssues(config, loaded.dir);
  if (issues.length > 0) throw new ConfigInvalidError(loaded.file, issues);
  return { config, configDir: loaded.dir, file: loaded.file, full: loaded.config, warnings: configWarnings(config) };
}

function selectTiers(config: ExperimentConfig, ids: string[], file: string): ExperimentConfig {
  const unknown = ids.filter((id) => !config.tiers.some((t) => t.id === id));
  const issues = unknown.map((id) => ({ path: '--tiers', message: `unknown tier "${id}"; known tiers: ${config.tiers.map((t) => t.id).join(', ')}` }));
  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  return { ...config, tiers: config.tiers.filter((t) => ids.includes(t.id)) };
}
