import type { TierConfig } from '../schemas/config.js';
import { ConfigChangedError, ConfigInvalidError, ExperimentNotFoundError } from './errors.js';
import { generations, recordedStart, type ExperimentLog, type RecordedStart } from './log.js';
import { loadConfigFile } from './setup/config-file.js';
import { compareFingerprints, configFingerprint } from './setup/fingerprint.js';
import { environmentIssues } from './setup/preflight.js';

export interface StartPlan extends RecordedStart {
  key: string;
  isNew: boolean;
  added: TierConfig[];
}

/** Which experiment (generation) to drive, with which config: a new one, or one that continues. */
export function planStart(request: { store: ExperimentLog; config?: RecordedStart & { file: string }; experiment?: string; fresh?: boolean }): StartPlan {
  const { store } = request;
  if (!request.config) {
    const id = request.experiment!;
    const known = generations(store, id);
    const key = id.includes('~') || known.length === 0 ? id : known.at(-1)!;
    if (!store.head(key)) throw new ExperimentNotFoundError(key, store.location, store.experiments().map((h) => h.experiment));
    return { key, isNew: false, added: [], ...recordedStart(store, key) };
  }
  const { config, configDir } = request.config;
  const current = { config, configDir };
  const known = generations(store, config.id);
  if (known.length === 0) return { key: config.id, isNew: true, added: [], ...current };
  if (request.fresh) return { key: `${config.id}~${known.length + 1}`, isNew: true, added: [], ...current };
  const key = known.at(-1)!;
  const added = checkConfig(key, recordedStart(store, key), current);
  return { key, isNew: false, added, ...current };
}

/** Compare the config given to `run` with the recorded one: refuse changes, return the tiers added since. */
function checkConfig(key: string, recorded: RecordedStart, current: RecordedStart): TierConfig[] {
  const comparison = compareFingerprints(configFingerprint(recorded.config, recorded.configDir), configFingerprint(current.config, current.configDir));
  const changes = [...comparison.changed, ...comparison.removed.map((t) => `tiers.${t} (removed)`)];
  if (changes.length > 0) throw new ConfigChangedError(key, changes);
  return current.config.tiers.filter((t) => comparison.added.includes(t.id));
}

/**
 * Read, validate and check a config for `run` before anything is created: the
 * file, its fields, the files and programs it names (exit 2 on any problem).
 * `tiers` keeps only those tiers (their dependencies must be among them).
 */
export function loadRunConfig(file: string, tiers?: string[]): RecordedStart & { file: string } {
  const loaded = loadConfigFile(file);
  const config = tiers ? selectTiers(loaded.config, tiers, loaded.file) : loaded.config;
  const issues = environmentIssues(config, loaded.dir);
  if (issues.length > 0) throw new ConfigInvalidError(loaded.file, issues);
  return { config, configDir: loaded.dir, file: loaded.file };
}

function selectTiers(config: StartPlan['config'], ids: string[], file: string): StartPlan['config'] {
  const unknown = ids.filter((id) => !config.tiers.some((t) => t.id === id));
  const tiers = config.tiers.filter((t) => ids.includes(t.id));
  const issues = [
    ...unknown.map((id) => ({ path: '--tiers', message: `unknown tier "${id}"; known tiers: ${config.tiers.map((t) => t.id).join(', ')}` })),
    ...tiers.flatMap((t) => t.dependsOn.filter((d) => !ids.includes(d)).map((d) => ({ path: '--tiers', message: `tier ${t.id} depends on ${d}; select it too` }))),
  ];
  if (issues.length > 0) throw new ConfigInvalidError(file, issues);
  return { ...config, tiers };
}
