import type { Argument, Command, Option } from 'commander';
import { resolve } from 'node:path';
import type { Io } from './io.js';

/**
 * `expctl __complete -- WORDS… CURRENT`: what the completion scripts
 * (cli/completion.ts) call on every Tab. It reads the command line the way
 * cli/main.ts parses it, from the program's own commander definition, and
 * prints the candidates for CURRENT, one a line (`value<TAB>description`), or
 * `:files` / `:dirs` for the shell to complete paths itself. It loads only
 * what the answer needs: the log for experiment ids, the machines for state
 * names; it never fails loudly (a Tab must not print errors).
 */

export interface Candidate {
  value: string;
  description?: string;
}

export type Completion = { values: Candidate[] } | { paths: 'files' | 'dirs' };

/** Where the data behind completions comes from (injected in tests). */
export interface CompletionSources {
  /** The experiment keys in the log of this results directory; none when it has no log. */
  ids(resultsDir: string): Promise<string[]>;
  /** The state names a `--until-<level>` or `--from-<level>` flag takes. */
  states(flag: '--until' | '--from', level: 'experiment' | 'tier' | 'run'): Promise<string[]>;
}

/** The lifecycle machines `graph [machine]` draws (test/cli/completion.int.test.ts checks them against the registry). */
const MACHINE_NAMES = ['experiment', 'tier', 'subtest', 'run'];
const STATE_FLAG = /^(--until|--from)-(experiment|tier|run)$/;

interface Position {
  command: Command;
  /** Operands given to `command` so far. */
  operands: number;
  /** The option whose value CURRENT is. */
  pending: Option | null;
  used: Set<string>;
  /** --results-dir as given on this command line, if it is. */
  resultsDir: string | undefined;
  afterDashDash: boolean;
}

const takesValue = (option: Option) => option.required || option.optional;

/** An option of this command, else a program option (commander accepts those after the command too). */
function findOption(root: Command, command: Command, name: string): Option | undefined {
  const find = (c: Command) => c.options.find((o) => o.long === name || o.short === name);
  return find(command) ?? find(root);
}

function subcommand(root: Command, command: Command, word: string): Command | undefined {
  return root.createHelp().visibleCommands(command).find((c) => c.name() === word || c.aliases().includes(word));
}

/** Where the words before CURRENT leave the command line. */
function positionAfter(root: Command, words: readonly string[]): Position {
  const at: Position = { command: root, operands: 0, pending: null, used: new Set(), resultsDir: undefined, afterDashDash: false };
  for (const word of words) {
    if (at.pending) {
      if (at.pending.long === '--results-dir') at.resultsDir = word;
      at.pending = null;
    } else if (at.afterDashDash || !word.startsWith('-') || word === '-') {
      const sub = !at.afterDashDash && at.operands === 0 ? subcommand(root, at.command, word) : undefined;
      if (sub) at.command = sub;
      else at.operands += 1;
    } else if (word === '--') {
      at.afterDashDash = true;
    } else {
      const [name, inline] = word.startsWith('--') && word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined];
      const option = findOption(root, at.command, name!);
      if (!option) continue;
      at.used.add(option.long ?? name!);
      if (option.long === '--results-dir' && inline !== undefined) at.resultsDir = inline;
      if (takesValue(option) && inline === undefined) at.pending = option;
    }
  }
  return at;
}

const described = (value: string, description?: string): Candidate => (description ? { value, description } : { value });

function optionsOf(root: Command, at: Position): Candidate[] {
  const help = root.createHelp();
  const own = help.visibleOptions(at.command);
  const global = at.command === root ? [] : root.options.filter((o) => !o.hidden && takesValue(o));
  return [...own, ...global]
    .filter((o) => o.long && !at.used.has(o.long))
    .map((o) => described(o.long!, o.description));
}

function commandsOf(root: Command, command: Command): Candidate[] {
  return root.createHelp().visibleCommands(command).map((c) => described(c.name(), c.summary() || c.description()));
}

async function valuesOfOption(option: Option, sources: CompletionSources): Promise<Completion> {
  if (option.argChoices) return { values: option.argChoices.map((v) => ({ value: v })) };
  const state = STATE_FLAG.exec(option.long ?? '');
  if (state) return { values: (await sources.states(state[1] as '--until' | '--from', state[2] as 'experiment' | 'tier' | 'run')).map((v) => ({ value: v })) };
  if (option.long === '--results-dir') return { paths: 'dirs' };
  if (option.long === '--out' || option.long === '--metrics-file') return { paths: 'files' };
  return { values: [] };
}

async function valuesOfArgument(root: Command, argument: Argument | undefined, resultsDir: string, sources: CompletionSources): Promise<Completion> {
  if (!argument) return { values: [] };
  if (argument.argChoices) return { values: argument.argChoices.map((v) => ({ value: v })) };
  switch (argument.name()) {
    case 'id':
    case 'ids':
    case 'a':
    case 'b':
      return { values: (await sources.ids(resultsDir)).map((v) => ({ value: v })) };
    case 'config':
    case 'file':
      return { paths: 'files' };
    case 'dir':
      return { paths: 'dirs' };
    case 'machine':
      return { values: MACHINE_NAMES.map((v) => ({ value: v })) };
    case 'command':
      return { values: commandsOf(root, root).filter((c) => c.value !== 'help') };
    default:
      return { values: [] };
  }
}

/**
 * The completions of `current`, the last word of `expctl WORDS… CURRENT`.
 * `resultsDir` is where ids come from unless the words name another
 * (relative to `cwd`).
 */
export async function complete(root: Command, words: readonly string[], current: string, where: { resultsDir: string; cwd: string }, sources: CompletionSources): Promise<Completion> {
  const at = positionAfter(root, words);
  let completion: Completion;
  if (at.pending) completion = await valuesOfOption(at.pending, sources);
  else if (current.startsWith('-') && !at.afterDashDash) completion = { values: optionsOf(root, at) };
  else if (at.operands === 0 && !at.afterDashDash && root.createHelp().visibleCommands(at.command).length > 0) completion = { values: commandsOf(root, at.command) };
  else {
    const args = at.command.registeredArguments;
    const argument = args[at.operands] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
    completion = await valuesOfArgument(root, argument, at.resultsDir === undefined ? where.resultsDir : resolve(where.cwd, at.resultsDir), sources);
  }
  return 'values' in completion ? { values: completion.values.filter((c) => c.value.startsWith(current)) } : completion;
}

/** The sources of the real CLI: each loads its modules only when a completion needs it. */
export const cliSources: CompletionSources = {
  ids: async (resultsDir) => {
    const { openLogForStates } = await import('./log-file.js');
    const store = openLogForStates(resultsDir);
    try {
      return store.experiments().map((h) => h.experiment);
    } finally {
      store.close();
    }
  },
  states: async (flag, level) => (flag === '--until' ? (await import('../runner/holds.js')).stoppableStates(level) : (await import('../runner/resume/reexecute.js')).resettableStates(level)),
};

/** `expctl __complete [words…]`: the candidates for the last word, one a line; nothing when anything goes wrong. */
export async function completeCommand(root: Command, words: string[], where: { resultsDir: string; cwd: string }, io: Io, sources: CompletionSources = cliSources): Promise<void> {
  const current = words.at(-1) ?? '';
  let completion: Completion;
  try {
    completion = await complete(root, words.slice(0, -1), current, where, sources);
  } catch {
    return;
  }
  if ('paths' in completion) return io.out(`:${completion.paths}\n`);
  io.out(completion.values.map((c) => (c.description ? `${c.value}\t${c.description.replace(/\s+/g, ' ')}\n` : `${c.value}\n`)).join(''));
}
