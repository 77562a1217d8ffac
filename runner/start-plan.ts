import type { TierConfig } from '../schemas/config.js';
import type { EventStore } from '../store/types.js';
import { loadConfigFile } from './setup/config-file.js';
import { ConfigInvalidError, ExperimentNotFoundError } from './errors.js';
import type { RecordedStart, Resume } from './resume/resume.js';
import { environmentIssues } from './setup/setup.js';

export interface StartPlan extends RecordedStart {
  key: string;
  isNew: boolean;
  added: TierConfig[];
}

/** Which experiment (generation) to drive, with which config: a new one, or one that continues. */
export function planStart(request: { store: EventStore; config?: RecordedStart & { file: string }; experiment?: string; fresh?: boolean }, resume: Resume): StartPlan {
  if (!request.config) {
    const id = request.experiment!;
    const generations = resume.generations(request.store, id);
    const key = id.includes('~') || generations.length === 0 ? id : generations.at(-1)!;
    if (!request.store.head(key)) throw new ExperimentNotFoundError(key, request.store.location, request.store.experiments().map((h) => h.experiment));
    return { key, isNew: false, added: [], ...resume.recordedStart(request.store, key) };
  }
  const { config, configDir } = request.config;
  const current = { config, configDir };
  const generations = resume.generations(request.store, config.id);
  if (generations.length === 0) return { key: config.id, isNew: true, added: [], ...current };
  if (request.fresh) return { key: `${config.id}~${generations.length + 1}`, isNew: true, added: [], ...current };
  const key = generations.at(-1)!;
  const added = resume.checkConfig(key, resume.recordedStart(request.store, key), current);
  return { key, isNew: false, added, ...current };
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

