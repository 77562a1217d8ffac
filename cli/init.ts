import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import YAML from 'yaml';
import { Id } from '../schemas/ids.js';
import { ExpctlError, UsageError } from '../util/errors.js';
import { expctlRoot } from '../util/version.js';
import type { Io } from './io.js';
import { expctlCommand } from './shell.js';

export interface InitOptions {
  /** The results directory the printed `run` command uses. */
  resultsDir: string;
}

const CONFIG = 'experiment.yaml';
const MODELINE = '# yaml-language-server: $schema=';
const FALLBACK_ID = 'my-experiment';

/**
 * What `init` copies: examples/starter of the running expctl (a git checkout
 * or the installed package: both ship it, and schemas/experiment.schema.json).
 */
function starter(): { dir: string; schema: string } {
  const root = expctlRoot();
  const dir = root && join(root, 'examples', 'starter');
  const schema = root && join(root, 'schemas', 'experiment.schema.json');
  if (!dir || !schema || !existsSync(join(dir, CONFIG)) || !existsSync(schema)) {
    throw new ExpctlError('EXPCTL_ASSET_MISSING', `this expctl has no starter experiment (looked for examples/starter/${CONFIG} and schemas/experiment.schema.json in ${root ?? 'its package folder'})`, 'reinstall expctl, or run `npm run build` in its git checkout');
  }
  return { dir, schema };
}

/** The starter's files, relative to its folder, sorted. */
function filesOf(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => (entry.isDirectory() ? filesOf(dir, join(under, entry.name)) : [join(under, entry.name)]));
}

/** The experiment id: the folder's name made into an id, when it can be one. */
function experimentId(dir: string): string {
  const name = basename(dir).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return Id.safeParse(name).success ? name : FALLBACK_ID;
}

/** The starter's config with this experiment's id and a modeline pointing editors at the installed schema (relative to the config). */
function configText(text: string, id: string, schemaPath: string): string {
  const lines = text.split('\n');
  const idLine = lines.findIndex((line) => /^id: \S+/.test(line));
  if (!lines[0]?.startsWith(MODELINE) || idLine < 0) throw new Error(`examples/starter/${CONFIG} lost its schema line or its id`);
  // quoted when YAML would read it as something else (2024, true, 1e3)
  const value = (YAML.parse(`id: ${id}`) as { id: unknown }).id === id ? id : JSON.stringify(id);
  lines[0] = `${MODELINE}${schemaPath}`;
  lines[idLine] = lines[idLine]!.replace(/^id: \S+/, `id: ${value}`);
  return lines.join('\n');
}

function createFolder(dir: string, shown: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${shown} is a file, not a folder`, 'give the folder to write the experiment into: `expctl init my-experiment` (it is created when missing)');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`cannot create the folder ${shown}: ${(error as Error).message}`, 'choose a folder you can write to', { cause: error });
  }
}

function writeNew(file: string, text: string, shown: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ExpctlError('EXPCTL_EXISTS', `${shown} already exists; init never overwrites a file`, 'choose another folder, or remove the file first');
    throw new UsageError(`cannot write ${shown}: ${(error as Error).message}`, 'choose a folder you can write to', { cause: error });
  }
}

/**
 * `expctl init [dir]`: a runnable experiment in DIR (created when missing):
 * the config, a task folder, a prompt, a hint file, a stand-in agent and a
 * judge. Refuses, writing nothing, when any of those files exists.
 */
export async function initCommand(target: string, options: InitOptions, io: Io): Promise<void> {
  const dir = resolve(io.cwd, target);
  const shown = (path: string) => {
    const rel = relative(io.cwd, path);
    return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  };
  const { dir: source, schema } = starter();
  const files = filesOf(source).sort((a, b) => Number(b === CONFIG) - Number(a === CONFIG));
  createFolder(dir, shown(dir));
  const existing = files.filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0) {
    const names = existing.map((file) => shown(join(dir, file)));
    throw new ExpctlError(
      'EXPCTL_EXISTS',
      `${names.join(', ')} already ${names.length === 1 ? 'exists' : 'exist'}; init never overwrites a file (nothing was written)`,
      `give another folder, e.g. \`expctl init my-experiment\`, or remove ${names.length === 1 ? 'that file' : 'those files'} first`,
    );
  }
  const id = experimentId(dir);
  for (const file of files) {
    const text = readFileSync(join(source, file), 'utf8');
    writeNew(join(dir, file), file === CONFIG ? configText(text, id, relative(dir, schema)) : text, shown(join(dir, file)));
  }
  io.out(`wrote experiment ${id} into ${shown(dir)}/:\n${files.map((file) => `  ${shown(join(dir, file))}\n`).join('')}`);
  io.out(`its agent (agents/agent.mjs) is a stand-in that fixes the task's bug; put your agent's command in ${CONFIG} (agent.command)\n`);
  const config = shown(join(dir, CONFIG));
  io.out(`next: ${expctlCommand(['run', config.startsWith('-') ? `./${config}` : config], options.resultsDir, io)}\n`);
}
