import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import { parseExperimentConfig, type ExperimentConfig } from '../../schemas/config.js';
import { ConfigInvalidError, ConfigReadError } from '../errors.js';

export interface LoadedConfig {
  config: ExperimentConfig;
  /** Absolute path of the file, and its directory: relative paths in the config are relative to it. */
  file: string;
  dir: string;
}

/**
 * Read and validate an experiment config (YAML or JSON). Bad input gives a
 * ConfigReadError or ConfigInvalidError naming the file and every bad field.
 *
 * @example const { config, dir } = loadConfigFile('examples/demo/experiment.yaml');
 */
export function loadConfigFile(path: string): LoadedConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigReadError(file, (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message);
  }
  let value: unknown;
  try {
    value = YAML.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    throw new ConfigReadError(file, (error as Error).message.split('\n')[0] ?? 'not valid YAML or JSON');
  }
  const parsed = parseExperimentConfig(value);
  if (!parsed.ok) throw new ConfigInvalidError(file, parsed.issues);
  return { config: parsed.config, file, dir: dirname(file) };
}
