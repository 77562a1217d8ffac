/**
 * Hostile configs (fast-check, fixed seeds): ≥ 10,000 generated config files,
 * valid and broken, through `main(['--results-dir', dir, 'run', file,
 * '--until-experiment', 'exp_initializing', '--json'])` in this process.
 *
 * Every outcome is exit 0, 1 or 2 with a message (`error: …` and `hint: …` on
 * failure, never a stack trace or "internal error"); a failure creates or
 * changes no experiment (the log's heads and the results directory listing
 * are compared before and after each case); a success leaves the experiment
 * in the log, held at exp_initializing.
 *
 * Ids: every case starts from a unique id (`cfg-<n>`), so a valid config
 * always starts a new experiment. Only the random-noise mutations may replace
 * the id with a random string, which can collide with an earlier one: then
 * exit 1 "the config … changed since it started" (or exit 0 continuing that
 * experiment) is accepted, and exit 1 is accepted for nothing else.
 *
 * Five kinds of case:
 * - valid: the base config with mutations that keep it valid → exit 0;
 * - targeted: plus one known defect (path escapes, bad argv, duplicate ids,
 *   cycles, wrong types…) → exit 2 naming the field and the problem;
 * - noise: random removals, random values of every kind at every field,
 *   unknown keys, raw YAML/JSON tokens spliced into the text → any of 0/1/2;
 * - garbage: files that are not a config (binary, YAML syntax soup,
 *   truncated, nested 10,000 deep, alias bombs, empty…) → exit 2 when the
 *   content cannot be a valid config;
 * - odd paths for the config itself (a directory, missing, a NUL byte) → exit 2.
 *
 * Found by this fuzzing and fixed, now targeted cases: a prompt that is a
 * directory; NUL bytes in argv or env; environment variable names that are
 * empty or hold "="; ids that collide with the files expctl writes in a
 * results directory (`expctl.db`, `config.json`, `result.json`, …). A resource
 * destination through a symlink in the task repository is refused by the run
 * step (test/cli/hostile-files.int.test.ts). Left as they are: `__proto__`
 * keys in `agent.env` and `resources.files` are silently dropped by zod.
 */
import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../cli/io.js';
import { main } from '../../cli/main.js';
import { logFile } from '../../runner/paths.js';
import { type EventStore } from '../../store/index.js';
import { openLog } from '../support/stores.js';

const BATCHES = 5;
const RUNS_PER_BATCH = 2_000; // 10,000 configs in all
const SEEDS = [20_260_601, 7_771, 424_242, 90_001, 1_234_567];

// ---------------------------------------------------------------------------
// the experiment folder every config lives in

const root = mkdtempSync(join(tmpdir(), 'expctl-hostile-configs-'));
const expDir = join(root, 'exp');
const outside = join(root, 'outside');

function writeFolder(): void {
  mkdirSync(join(expDir, 'task'), { recursive: true });
  writeFileSync(join(expDir, 'task', 'README.md'), '# task\n');
  writeFileSync(join(expDir, 'prompt.md'), 'Do the task.\n');
  writeFileSync(join(expDir, 'hint.md'), 'A hint.\n');
  writeFileSync(join(expDir, 'agent.mjs'), 'console.log("{}")\n');
  mkdirSync(join(expDir, 'res'));
  writeFileSync(join(expDir, 'res', 'a.txt'), 'a\n');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.md'), 'outside the config folder\n');
  symlinkSync('hint.md', join(expDir, 'link-in.md')); // inside: fine
  symlinkSync(join(outside, 'secret.md'), join(expDir, 'link-out.md')); // a file outside
  symlinkSync(outside, join(expDir, 'link-dir-out')); // a folder outside
  symlinkSync('../outside/nope.md', join(expDir, 'dangling.md'));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Config = Record<string, any>;

const JUDGE = ['node', '-e', 'console.log(JSON.stringify({ score: 1, passed: true }))'];

function baseConfig(id: string): Config {
  return {
    id,
    description: 'hostile config fuzzing',
    task: { repo: './task', prompt: './prompt.md' },
    agent: { command: ['node', '-e', ''], timeoutSeconds: 60 },
    judges: [{ command: [...JUDGE] }],
    runsPerSubtest: 1,
    tiers: [
      { id: 'T0', subtests: [{ id: 'a' }, { id: 'b', resources: { files: { 'HINT.md': './hint.md' } } }] },
      { id: 'T1', dependsOn: ['T0'], subtests: [{ id: 'a' }] },
    ],
    retries: { maxAttempts: 2, backoffSeconds: 0 },
  };
}

// ---------------------------------------------------------------------------
// mutations that keep a config valid

type Mutation = (c: Config) => void;

const validId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const anyText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('$(id)', '`id`', 'a;b|c&&d > e', '{prompt}', '\u0000', '🙂', ''));
/** argv elements that are not config-relative paths (those must exist) */
// a benign argument: anything a process can receive (a NUL byte is refused; see the targeted cases)
const plainArg = anyText.filter((s) => !s.startsWith('./') && !s.startsWith('../') && !s.includes('\0'));

const benign: fc.Arbitrary<Mutation>[] = [
  anyText.map((s) => (c) => void (c.description = s)),
  anyText.map((s) => (c) => void (c.task.thinking = s)),
  anyText.map((s) => (c) => void (c.tiers[0].thinking = s)),
  fc.string({ minLength: 1 }).map((s) => (c) => void (c.task.commit = s)), // only checked when the repository is prepared
  fc.constantFrom('task', './task/', 'https://example.invalid/task.git', 'git@example.invalid:t/task.git').map((r) => (c) => void (c.task.repo = r)),
  fc.constantFrom('prompt.md', './res/../prompt.md', 'link-in.md', './task/README.md').map((p) => (c) => void (c.task.prompt = p)),
  fc.integer({ min: 1, max: 1000 }).map((n) => (c) => void (c.runsPerSubtest = n)),
  fc.double({ min: 1e-6, max: 1e12, noNaN: true }).map((n) => (c) => void (c.agent.timeoutSeconds = n)),
  // benign: real variable names and values (empty names, '=' and NUL bytes are refused, see the targeted cases)
  fc.dictionary(fc.string({ minLength: 1 }).filter((k) => !/[=\0]/.test(k)), fc.string().filter((v) => !v.includes('\0')), { maxKeys: 4 }).map((env) => (c) => void (c.agent.env = env)),
  fc.array(plainArg, { maxLength: 5 }).map((args) => (c) => void (c.agent.command = ['node', '-e', '', ...args])),
  fc.constantFrom(['node', './agent.mjs', '{prompt}'], [process.execPath, '-e', ''], ['node', '../exp/agent.mjs']).map((argv) => (c) => void (c.agent.command = argv)),
  fc.oneof(
    fc.record({ exitCode: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ outputPattern: fc.constantFrom('rate limit', '429|too many', '^x$', '[a-z]+') }, { requiredKeys: ['outputPattern'] }),
  ).map((rl) => (c) => void (c.agent.rateLimit = rl)),
  validId.map((id) => (c) => void (c.judges[0].id = id)),
  fc.double({ min: 1e-3, max: 1e6, noNaN: true }).map((n) => (c) => void (c.judges.push({ command: [...JUDGE], timeoutSeconds: n }))),
  fc.record({ maxConcurrentRuns: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), maxConcurrentAgents: fc.integer({ min: 1, max: 64 }) }).map((l) => (c) => void (c.limits = l)),
  fc.record({ maxAttempts: fc.integer({ min: 1, max: 20 }), backoffSeconds: fc.double({ min: 0, max: 1e9, noNaN: true }) }).map((r) => (c) => void (c.retries = r)),
  fc.tuple(fc.boolean(), fc.boolean()).map(([a, b]) => (c) => void Object.assign(c, { failFast: a, keepFailedWorkspaces: b })),
  fc.constantFrom<Json[] | undefined>([], undefined).map((deps) => (c) => {
    if (deps === undefined) delete c.tiers[1].dependsOn;
    else c.tiers[1].dependsOn = deps;
  }),
  fc.integer({ min: 1, max: 5 }).map((n) => (c) => void (c.tiers[0].maxSubtests = n)),
  validId.filter((id) => id !== 'T0').map((id) => (c) => void (c.tiers[1].id = id)),
  validId.map((id) => (c) => void (c.tiers[1].subtests[0].id = id)),
  fc.constant<Mutation>((c) => void (c.tiers[1].subtests[0].resources = { inheritBaseline: true })),
  fc.constantFrom<Record<string, string>>(
    { 'docs/HINT.md': './hint.md' },
    { 'ü/ñ 🙂.md': 'hint.md' },
    { './x.md': './link-in.md', 'copy-of-res': './res' },
    { 'a/b/c/d.md': './res/a.txt' },
  ).map((files) => (c) => void (c.tiers[0].subtests[1].resources.files = files)),
];

// ---------------------------------------------------------------------------
// one known defect each: exit 2, and the message names the field and the problem

interface Targeted {
  name: string;
  apply: (c: Config) => void;
  /** substrings of stderr, each on a line `  <path>: <message>` */
  expect: () => string[];
}

const setFiles = (files: Record<string, string>) => (c: Config) => void (c.tiers[0].subtests[1].resources.files = files);
const res = (dest: string) => `tiers[0].subtests[1].resources.files[${JSON.stringify(dest)}]`;

const targeted: Targeted[] = [
  // prompt and resource paths that leave the config's folder
  { name: 'prompt ../', apply: (c) => void (c.task.prompt = '../outside/secret.md'), expect: () => [`task.prompt: prompt file ../outside/secret.md leaves the config's folder ${expDir}`] },
  { name: 'prompt a/../../', apply: (c) => void (c.task.prompt = 'res/../../outside/secret.md'), expect: () => ['task.prompt: prompt file res/../../outside/secret.md leaves the config\'s folder'] },
  { name: 'prompt absolute outside', apply: (c) => void (c.task.prompt = join(outside, 'secret.md')), expect: () => [`task.prompt: prompt file ${join(outside, 'secret.md')} must be a path relative to the config file, not an absolute path`] },
  { name: 'prompt absolute inside', apply: (c) => void (c.task.prompt = join(expDir, 'prompt.md')), expect: () => [`task.prompt: prompt file ${join(expDir, 'prompt.md')} must be a path relative to the config file`] },
  { name: 'prompt symlink out', apply: (c) => void (c.task.prompt = './link-out.md'), expect: () => [`task.prompt: prompt file ./link-out.md is a symlink to outside the config's folder ${expDir}`] },
  { name: 'prompt through symlinked dir', apply: (c) => void (c.task.prompt = 'link-dir-out/secret.md'), expect: () => ['task.prompt: prompt file link-dir-out/secret.md is a symlink to outside'] },
  { name: 'prompt missing', apply: (c) => void (c.task.prompt = './nope.md'), expect: () => ['task.prompt: prompt file ./nope.md does not exist'] },
  { name: 'prompt dangling symlink', apply: (c) => void (c.task.prompt = 'dangling.md'), expect: () => ['task.prompt: prompt file dangling.md does not exist'] },
  { name: 'resource ../', apply: setFiles({ 'X.md': '../outside/secret.md' }), expect: () => [`${res('X.md')}: resource ../outside/secret.md leaves the config's folder`] },
  { name: 'resource absolute', apply: setFiles({ 'X.md': join(outside, 'secret.md') }), expect: () => [`${res('X.md')}: resource ${join(outside, 'secret.md')} must be a path relative to the config file`] },
  { name: 'resource symlink out', apply: setFiles({ 'X.md': './link-out.md' }), expect: () => [`${res('X.md')}: resource ./link-out.md is a symlink to outside the config's folder`] },
  { name: 'resource symlinked dir', apply: setFiles({ docs: './link-dir-out' }), expect: () => [`${res('docs')}: resource ./link-dir-out is a symlink to outside`] },
  { name: 'resource missing', apply: setFiles({ 'X.md': './nope.md' }), expect: () => [`${res('X.md')}: resource ./nope.md does not exist`] },
  // resource destinations that leave the workspace
  { name: 'dest ../', apply: setFiles({ '../x': './hint.md' }), expect: () => [`${res('../x')}: destination ../x leaves the workspace`] },
  { name: 'dest a/../../', apply: setFiles({ 'a/../../x': './hint.md' }), expect: () => [`${res('a/../../x')}: destination a/../../x leaves the workspace`] },
  { name: 'dest absolute', apply: setFiles({ '/tmp/x': './hint.md' }), expect: () => [`${res('/tmp/x')}: destination /tmp/x must be relative to the workspace, not absolute`] },
  { name: 'dest .git hook', apply: setFiles({ '.git/hooks/pre-commit': './hint.md' }), expect: () => [`${res('.git/hooks/pre-commit')}: destination .git/hooks/pre-commit is inside .git`] },
  { name: 'dest nested .git', apply: setFiles({ 'sub/.git/config': './hint.md' }), expect: () => [`${res('sub/.git/config')}: destination sub/.git/config is inside .git`] },
  // repository and commands
  { name: 'repo missing', apply: (c) => void (c.task.repo = './no-such-repo'), expect: () => ['task.repo: task repository ./no-such-repo does not exist'] },
  { name: 'argv empty', apply: (c) => void (c.agent.command = []), expect: () => ['agent.command: needs at least the program'] },
  { name: 'reserved experiment id', apply: (c) => void (c.id = 'expctl.db'), expect: () => ['id: is a name expctl uses for its own files'] },
  { name: 'reserved subtest id', apply: (c) => void (c.tiers[0].subtests[1].id = 'result.json'), expect: () => ['tiers[0].subtests[1].id: is a name expctl uses for its own files'] },
  { name: 'prompt is a directory', apply: (c) => void (c.task.prompt = './task'), expect: () => ['task.prompt: prompt ./task is not a file'] },
  { name: 'argv NUL byte', apply: (c) => void (c.agent.command = ['node', 'a\u0000b']), expect: () => ['agent.command[1]: must not contain a NUL byte'] },
  { name: 'env empty name', apply: (c) => void (c.agent.env = { '': 'x' }), expect: () => ['agent.env[""]: is not an environment variable name'] },
  { name: 'env name with =', apply: (c) => void (c.agent.env = { 'A=B': 'x' }), expect: () => ['agent.env["A=B"]: is not an environment variable name'] },
  { name: 'argv empty program', apply: (c) => void (c.agent.command = ['', 'x']), expect: () => ['agent.command[0]: the program must not be empty'] },
  { name: 'argv shell string', apply: (c) => void (c.agent.command = 'node agent.mjs "{prompt}"'), expect: () => ['agent.command: must be an argv array'] },
  { name: 'argv missing program', apply: (c) => void (c.agent.command = ['no-such-program-xyz', '{prompt}']), expect: () => ['agent.command[0]: program "no-such-program-xyz" not found on PATH or not executable'] },
  { name: 'argv absolute missing program', apply: (c) => void (c.agent.command = ['/nonexistent/bin/agent']), expect: () => ['agent.command[0]: program "/nonexistent/bin/agent" not found or not executable'] },
  { name: 'argv not executable', apply: (c) => void (c.agent.command = ['./prompt.md']), expect: () => ['agent.command[0]: program "./prompt.md" not found or not executable'] },
  { name: 'argv missing script', apply: (c) => void (c.agent.command = ['node', './missing.mjs']), expect: () => ['agent.command[1]: ./missing.mjs does not exist'] },
  { name: 'argv number', apply: (c) => void (c.agent.command = ['node', 5]), expect: () => ['agent.command[1]: '] },
  { name: 'judge argv empty', apply: (c) => void (c.judges[0].command = []), expect: () => ['judges[0].command: needs at least the program'] },
  { name: 'judge program missing', apply: (c) => void (c.judges[0].command = ['no-such-judge-xyz']), expect: () => ['judges[0].command[0]: program "no-such-judge-xyz" not found'] },
  { name: 'no judges', apply: (c) => void (c.judges = []), expect: () => ['judges: at least one judge is needed'] },
  { name: 'no agent', apply: (c) => void delete c.agent, expect: () => ['  agent: '] },
  // ids and tiers
  { name: 'duplicate tier', apply: (c) => void (c.tiers[1].id = 'T0'), expect: () => ['tiers[1].id: duplicate tier id "T0"'] },
  { name: 'duplicate subtest', apply: (c) => void (c.tiers[0].subtests[1].id = 'a'), expect: () => ['tiers[0].subtests[1].id: duplicate subtest id "a" in tier T0'] },
  { name: 'unknown dependency', apply: (c) => void (c.tiers[1].dependsOn = ['T9']), expect: () => ['tiers[1].dependsOn[0]: unknown tier "T9"'] },
  { name: 'self dependency', apply: (c) => void (c.tiers[0].dependsOn = ['T0']), expect: () => ['tiers[0].dependsOn[0]: tier T0 depends on itself'] },
  {
    name: 'dependency cycle',
    apply: (c) => {
      c.tiers[0].dependsOn = [c.tiers[1].id];
      c.tiers[1].dependsOn = ['T0'];
    },
    expect: () => ['tier dependencies form a cycle'],
  },
  { name: 'no tiers', apply: (c) => void (c.tiers = []), expect: () => ['tiers: at least one tier is needed'] },
  { name: 'no subtests', apply: (c) => void (c.tiers[0].subtests = []), expect: () => ['tiers[0].subtests: a tier needs at least one subtest'] },
  { name: 'unknown field', apply: (c) => void (c.bogusField = 1), expect: () => ['bogusField: unknown field'] },
  { name: 'unknown nested field', apply: (c) => void (c.task.promt = './prompt.md'), expect: () => ['task.promt: unknown field'] },
  { name: 'id traversal', apply: (c) => void (c.id = '../evil'), expect: () => ['  id: use letters, digits'] },
  { name: 'id empty', apply: (c) => void (c.id = ''), expect: () => ['  id: must not be empty'] },
  { name: 'id too long', apply: (c) => void (c.id = `x${'y'.repeat(64)}`), expect: () => ['  id: must be at most 64 characters'] },
  { name: 'id with ~', apply: (c) => void (c.id = 'exp~2'), expect: () => ['  id: use letters'] },
  { name: 'tier id unicode', apply: (c) => void (c.tiers[0].id = 'Tü'), expect: () => ['tiers[0].id: use letters'] },
  // numbers
  { name: 'runs 0', apply: (c) => void (c.runsPerSubtest = 0), expect: () => ['runsPerSubtest: '] },
  { name: 'runs 1001', apply: (c) => void (c.runsPerSubtest = 1001), expect: () => ['runsPerSubtest: '] },
  { name: 'runs 1.5', apply: (c) => void (c.runsPerSubtest = 1.5), expect: () => ['runsPerSubtest: '] },
  { name: 'runs string', apply: (c) => void (c.runsPerSubtest = '3'), expect: () => ['runsPerSubtest: Invalid input: expected number'] },
  { name: 'runs huge', apply: (c) => void (c.runsPerSubtest = 2 ** 53 + 2), expect: () => ['runsPerSubtest: '] },
  { name: 'timeout 0', apply: (c) => void (c.agent.timeoutSeconds = 0), expect: () => ['agent.timeoutSeconds: '] },
  { name: 'timeout negative', apply: (c) => void (c.agent.timeoutSeconds = -1), expect: () => ['agent.timeoutSeconds: '] },
  { name: 'max attempts 21', apply: (c) => void (c.retries.maxAttempts = 21), expect: () => ['retries.maxAttempts: '] },
  { name: 'backoff negative', apply: (c) => void (c.retries.backoffSeconds = -0.5), expect: () => ['retries.backoffSeconds: '] },
  { name: 'concurrency 0', apply: (c) => void (c.limits = { maxConcurrentRuns: 0 }), expect: () => ['limits.maxConcurrentRuns: '] },
  { name: 'maxSubtests 0', apply: (c) => void (c.tiers[0].maxSubtests = 0), expect: () => ['tiers[0].maxSubtests: '] },
  { name: 'rate limit empty', apply: (c) => void (c.agent.rateLimit = {}), expect: () => ['agent.rateLimit: set exitCode, outputPattern or both'] },
  { name: 'rate limit bad regex', apply: (c) => void (c.agent.rateLimit = { outputPattern: '(unclosed' }), expect: () => ['agent.rateLimit.outputPattern: is not a valid regular expression'] },
  { name: 'rate limit exit 256', apply: (c) => void (c.agent.rateLimit = { exitCode: 256 }), expect: () => ['agent.rateLimit.exitCode: '] },
  { name: 'env not strings', apply: (c) => void (c.agent.env = { A: 1 }), expect: () => ['agent.env.A: '] },
  { name: 'files not a map', apply: (c) => void (c.tiers[0].subtests[1].resources.files = ['./hint.md']), expect: () => ['tiers[0].subtests[1].resources.files: '] },
  { name: 'empty resource source', apply: setFiles({ 'X.md': '' }), expect: () => [`${res('X.md')}: `] },
  { name: 'failFast string', apply: (c) => void (c.failFast = 'yes'), expect: () => ['failFast: '] },
];

// ---------------------------------------------------------------------------
// random noise: removals, random values of every kind, unknown keys, raw tokens

/** A raw token spliced into the YAML/JSON text as is (not quoted). */
class Raw {
  constructor(readonly text: string) {}
}

const RAW_TOKENS = [
  '.nan', '.NaN', '.inf', '-.inf', '1e999', '-1e999', '0x1F', '0o17', '1_000', '~', 'null', 'yes', 'on', 'NaN', 'Infinity',
  '!!binary aGVsbG8=', '!!str 5', '!!int "x"', '!!float abc', '!!map []', '!!seq {}', '!custom x', '*nope', '&a 5',
  '"unterminated', "'unterminated", '[1, 2', '{a: 1', '- x', ': x', '|', '>', '@x', '`x`', '%YAML 1.2', '? x',
  '!!js/function "function(){}"', '!!python/object/apply:os.system ["id"]', '<<: *x', '12:30:00', '2026-01-01',
  '-0', '00', '1e3', '9007199254740993', '1.7976931348623157e309', '"\\u0000"', '"\\ud800"', '{}', '[]', '""',
];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(), // NaN, ±Infinity, -0, subnormals
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53 + 1, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-300, 0.5),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // lone surrogates included
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '0x10', '', ' ', '.', '..', '../x', '/etc/passwd', '~', '${HOME}', '$(id)', '\u0000', 'T0', 'a', '🙂', 'node', '-e', './prompt.md', 'link-out.md', 'C:\\x', 'a'.repeat(5000)),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 4 }),
  fc.constantFrom(...RAW_TOKENS).map((t) => new Raw(t)),
);

type Path = (string | number)[];

const PATHS: Path[] = [
  ['id'], ['description'], ['task'], ['task', 'repo'], ['task', 'commit'], ['task', 'prompt'], ['task', 'thinking'],
  ['agent'], ['agent', 'command'], ['agent', 'command', 0], ['agent', 'command', 1], ['agent', 'command', 7], ['agent', 'timeoutSeconds'],
  ['agent', 'env'], ['agent', 'env', 'X'], ['agent', 'rateLimit'], ['agent', 'rateLimit', 'exitCode'], ['agent', 'rateLimit', 'outputPattern'],
  ['agent', 'rateLimit', 'defaultWaitSeconds'], ['judges'], ['judges', 0], ['judges', 0, 'command'], ['judges', 0, 'command', 0],
  ['judges', 0, 'id'], ['judges', 0, 'timeoutSeconds'], ['judges', 3], ['runsPerSubtest'], ['tiers'], ['tiers', 0], ['tiers', 1], ['tiers', 4],
  ['tiers', 0, 'id'], ['tiers', 1, 'id'], ['tiers', 0, 'dependsOn'], ['tiers', 1, 'dependsOn'], ['tiers', 1, 'dependsOn', 0], ['tiers', 0, 'maxSubtests'],
  ['tiers', 0, 'thinking'], ['tiers', 0, 'description'], ['tiers', 0, 'subtests'], ['tiers', 0, 'subtests', 0], ['tiers', 0, 'subtests', 0, 'id'],
  ['tiers', 0, 'subtests', 1, 'resources'], ['tiers', 0, 'subtests', 1, 'resources', 'files'], ['tiers', 0, 'subtests', 1, 'resources', 'files', 'HINT.md'],
  ['tiers', 0, 'subtests', 1, 'resources', 'inheritBaseline'], ['tiers', 1, 'subtests', 0, 'resources'], ['limits'], ['limits', 'maxConcurrentRuns'],
  ['limits', 'maxConcurrentAgents'], ['retries'], ['retries', 'maxAttempts'], ['retries', 'backoffSeconds'], ['failFast'], ['keepFailedWorkspaces'],
];
const OBJECT_PATHS: Path[] = [[], ['task'], ['agent'], ['agent', 'env'], ['judges', 0], ['tiers', 0], ['tiers', 0, 'subtests', 0], ['tiers', 0, 'subtests', 1, 'resources'], ['tiers', 0, 'subtests', 1, 'resources', 'files'], ['retries']];

type Noise =
  | { op: 'remove'; path: Path }
  | { op: 'set'; path: Path; value: unknown }
  | { op: 'add'; path: Path; key: string; value: unknown }
  | { op: 'duplicate'; path: Path };

const noiseArb: fc.Arbitrary<Noise> = fc.oneof(
  fc.record({ op: fc.constant('remove' as const), path: fc.constantFrom(...PATHS) }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), path: fc.constantFrom(...PATHS), value: hostileValue }) },
  fc.record({
    op: fc.constant('add' as const),
    path: fc.constantFrom(...OBJECT_PATHS),
    key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', ' ', 'ID', 'tier', '<<', '-1', '0'), fc.string()),
    value: hostileValue,
  }),
  fc.record({ op: fc.constant('duplicate' as const), path: fc.constantFrom<Path>(['tiers'], ['tiers', 0, 'subtests'], ['judges'], ['agent', 'command'], ['tiers', 1, 'dependsOn']) }),
);

function parentOf(c: Config, path: Path): { parent: any; key: string | number } | null {
  let node: unknown = c;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return null;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (node === null || typeof node !== 'object') return null;
  return { parent: node, key: path[path.length - 1]! };
}

/** An own, enumerable property even for `__proto__`. */
const put = (target: object, key: string | number, value: unknown) =>
  Object.defineProperty(target, key, { value: value instanceof Raw ? value : structuredClone(value), enumerable: true, writable: true, configurable: true });

function applyNoise(c: Config, noise: Noise): void {
  if (noise.op === 'add') {
    const at = noise.path.length === 0 ? { parent: c, key: '' } : parentOf(c, [...noise.path, 'x']);
    if (at && !Array.isArray(at.parent)) put(noise.path.length === 0 ? c : at.parent, noise.key, noise.value);
    return;
  }
  const at = parentOf(c, noise.path);
  if (!at) return;
  if (noise.op === 'remove') {
    if (Array.isArray(at.parent) && typeof at.key === 'number') at.parent.splice(at.key, 1);
    else delete at.parent[at.key];
  } else if (noise.op === 'set') {
    put(at.parent, at.key, noise.value);
  } else {
    const list = at.parent[at.key];
    if (Array.isArray(list) && list.length > 0) list.push(list[0] instanceof Raw ? list[0] : structuredClone(list[0]));
  }
}

// ---------------------------------------------------------------------------
// serialisation, with raw tokens spliced in

type Format = 'yaml' | 'json' | 'json-pretty' | 'yaml-flow';

function serialise(c: Config, format: Format): string {
  const raws: string[] = [];
  const marked = JSON.parse(JSON.stringify(c, (_k, v: unknown) => {
    if (v instanceof Raw) return `RAW~TOKEN~${raws.push(v.text) - 1}~`;
    if (typeof v === 'number' && !Number.isFinite(v)) return `RAW~TOKEN~${raws.push(Number.isNaN(v) ? (format.startsWith('json') ? 'NaN' : '.nan') : v > 0 ? (format.startsWith('json') ? '1e999' : '.inf') : '-.inf') - 1}~`;
    return v;
  }), (_k, v: unknown) => v) as unknown;
  let text =
    format === 'json' ? JSON.stringify(marked)
      : format === 'json-pretty' ? JSON.stringify(marked, null, 2)
        : format === 'yaml-flow' ? YAML.stringify(marked, { collectionStyle: 'flow' })
          : YAML.stringify(marked);
  // the marker may come out quoted or plain: replace the whole scalar
  text = text.replace(/(["']?)RAW~TOKEN~(\d+)~\1/g, (_m, _q, i: string) => raws[Number(i)]!);
  return text;
}

// ---------------------------------------------------------------------------
// files that are not a config at all

interface Garbage {
  kind: string;
  content: string | Uint8Array;
  /** the content cannot be a valid config: exit 2 */
  mustRefuse: boolean;
}

/** Replaced by a unique id when the file is written. */
const GARBAGE_ID = 'garbage-id-0000000000';

const billionLaughs = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');

const garbageArb: fc.Arbitrary<Garbage> = fc.oneof(
  fc.constantFrom<Garbage>(
    { kind: 'empty', content: '', mustRefuse: true },
    { kind: 'whitespace', content: ' \n\t\n', mustRefuse: true },
    { kind: 'null document', content: '~\n', mustRefuse: true },
    { kind: 'scalar', content: '42\n', mustRefuse: true },
    { kind: 'list', content: '- id: x\n', mustRefuse: true },
    { kind: 'alias bomb', content: billionLaughs, mustRefuse: true },
    { kind: 'duplicate keys', content: 'id: a\nid: b\n', mustRefuse: true },
    { kind: 'duplicate JSON keys', content: '{"id":"a","id":"b"}', mustRefuse: true },
    { kind: 'two documents', content: 'id: a\n---\nid: b\n', mustRefuse: true },
    { kind: 'deep flow', content: '['.repeat(10_000), mustRefuse: true },
    { kind: 'deep closed flow', content: `${'['.repeat(5_000)}${']'.repeat(5_000)}`, mustRefuse: true },
    { kind: 'deep block', content: Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n'), mustRefuse: true },
    { kind: 'tab indentation', content: 'id: a\ntask:\n\trepo: ./task\n', mustRefuse: true },
    { kind: 'NUL bytes', content: 'id: a\u0000\u0000\n', mustRefuse: true },
    { kind: 'JSON with comments', content: '{ // comment\n "id": "a" }', mustRefuse: true },
    { kind: 'undefined alias', content: 'id: *nope\n', mustRefuse: true },
    { kind: 'python tag', content: '!!python/object/apply:os.system ["touch /tmp/expctl-pwned"]\n', mustRefuse: true },
  ),
  fc.uint8Array({ maxLength: 4_000 }).map((bytes) => ({ kind: 'random bytes', content: bytes, mustRefuse: true })),
  fc.string({ unit: 'binary', maxLength: 500 }).map((s) => ({ kind: 'random text', content: s, mustRefuse: true })),
  fc
    .array(fc.constantFrom(':', '-', '[', ']', '{', '}', '&a', '*a', '!!', '|', '>', '#', '\n', '  ', '"', "'", 'id', 'tiers', '?', ',', '\t', '%', '---', '...', 'T0', '@', '`', '!!binary', '<<'), { maxLength: 60 })
    .map((tokens) => ({ kind: 'YAML soup', content: tokens.join(''), mustRefuse: true })),
  fc.tuple(fc.constantFrom<Format>('json', 'json-pretty'), fc.double({ min: 0, max: 0.999, noNaN: true })).map(([format, at]) => {
    const text = serialise(baseConfig('truncated'), format);
    return { kind: `truncated ${format}`, content: text.slice(0, Math.floor(at * (text.length - 1))), mustRefuse: true };
  }),
  fc.double({ min: 0, max: 1, noNaN: true }).map((at) => {
    const text = serialise(baseConfig(GARBAGE_ID), 'yaml');
    const start = text.indexOf('\n') + 1; // keep the id line whole: a valid rest starts a new experiment
    // a YAML file cut at a line end may still be a valid config: no expectation but the invariants
    return { kind: 'truncated yaml', content: text.slice(0, start + Math.floor(at * (text.length - start))), mustRefuse: false };
  }),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ kind: 'bytes after a valid config', content: Buffer.concat([Buffer.from(serialise(baseConfig(GARBAGE_ID), 'yaml')), Buffer.from(bytes)]), mustRefuse: false })),
);

// ---------------------------------------------------------------------------
// the cases

type Case =
  | { kind: 'valid'; benign: Mutation[]; format: Format }
  | { kind: 'targeted'; benign: Mutation[]; target: Targeted; format: Format }
  | { kind: 'noise'; benign: Mutation[]; noise: Noise[]; format: Format }
  | { kind: 'garbage'; garbage: Garbage; ext: string }
  | { kind: 'path'; path: 'directory' | 'missing' | 'NUL' | 'empty' | 'symlink to a config outside' };

const formatArb = fc.constantFrom<Format>('yaml', 'yaml', 'json', 'json-pretty', 'yaml-flow');
const benignArb = fc.array(fc.oneof(...benign), { maxLength: 4 });

const caseArb: fc.Arbitrary<Case> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('valid' as const), benign: benignArb, format: formatArb }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('targeted' as const), benign: benignArb, target: fc.constantFrom(...targeted), format: formatArb }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('noise' as const), benign: benignArb, noise: fc.array(noiseArb, { minLength: 1, maxLength: 4 }), format: formatArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('garbage' as const), garbage: garbageArb, ext: fc.constantFrom('.yaml', '.yml', '.json', '', '.txt') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('path' as const), path: fc.constantFrom('directory' as const, 'missing' as const, 'NUL' as const, 'empty' as const, 'symlink to a config outside' as const) }) },
);

// ---------------------------------------------------------------------------
// running one case

function captureIo(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false, color: false, cwd, env: process.env };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

/**
 * What the results directory holds: its entries, and each experiment's head
 * in the log. The log is read through one read-only store per results
 * directory, opened once the log exists (a new read transaction per query).
 */
const readers = new Map<string, EventStore>();

function snapshot(resultsDir: string): { dir: boolean; log: boolean; entries: string[]; heads: Record<string, string> } {
  const dir = existsSync(resultsDir);
  const log = existsSync(logFile(resultsDir));
  const entries = dir ? readdirSync(resultsDir).filter((e) => !/^expctl\.db(-wal|-shm)?$/.test(e)).sort() : [];
  const heads: Record<string, string> = {};
  if (log) {
    let store = readers.get(resultsDir);
    if (!store) readers.set(resultsDir, (store = openLog(logFile(resultsDir), { readonly: true })));
    for (const h of store.experiments()) heads[h.experiment] = `${h.rows}/${h.headSeq}/${h.headHash}`;
  }
  return { dir, log, entries, heads };
}

const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
let cases = 0;
let counter = 0;
const usedIds = new Set<string>();
let started = 0;
const lastSnapshot = new Map<string, ReturnType<typeof snapshot>>();

function caseFile(c: Case, n: number): { file: string; id: string | null; cleanup: () => void; config?: Config } {
  const none = () => {};
  if (c.kind === 'path') {
    switch (c.path) {
      case 'directory': return { file: join(expDir, 'res'), id: null, cleanup: none };
      case 'missing': return { file: join(expDir, `missing-${n}.yaml`), id: null, cleanup: none };
      case 'NUL': return { file: join(expDir, `nul-${n}\u0000.yaml`), id: null, cleanup: none };
      case 'empty': return { file: '', id: null, cleanup: none }; // `run ''`: the config's folder itself
      case 'symlink to a config outside': {
        const target = join(outside, `cfg-${n}.yaml`);
        writeFileSync(target, serialise(baseConfig(`cfg-outside-${n}`), 'yaml'));
        const file = join(expDir, `link-cfg-${n}.yaml`);
        symlinkSync(target, file);
        return { file, id: `cfg-outside-${n}`, cleanup: () => { unlinkSync(file); unlinkSync(target); } };
      }
    }
  }
  if (c.kind === 'garbage') {
    const file = join(expDir, `garbage-${n}${c.ext}`);
    const id = `g-${String(n).padStart(GARBAGE_ID.length - 2, '0')}`; // same length: byte offsets stay put
    const content = Buffer.from(c.garbage.content);
    const at = content.indexOf(GARBAGE_ID);
    if (at >= 0) content.write(id, at);
    writeFileSync(file, content);
    return { file, id: at >= 0 ? id : null, cleanup: () => unlinkSync(file) };
  }
  // generated values are shared between cases: work on copies only
  let config = baseConfig(`cfg-${n}`);
  for (const m of c.benign) m(config);
  config = structuredClone(config);
  if (c.kind === 'targeted') c.target.apply(config);
  config = structuredClone(config);
  if (c.kind === 'noise') for (const m of c.noise) applyNoise(config, m);
  const file = join(expDir, `case-${n}${c.format.startsWith('json') ? '.json' : '.yaml'}`);
  writeFileSync(file, serialise(config, c.format));
  return { file, id: typeof config.id === 'string' ? config.id : null, cleanup: () => unlinkSync(file), config };
}

function describeCase(c: Case): string {
  if (c.kind === 'garbage') return `garbage (${c.garbage.kind})`;
  if (c.kind === 'path') return `config path: ${c.path}`;
  if (c.kind === 'targeted') return `targeted: ${c.target.name}`;
  return c.kind;
}

async function runCase(c: Case, resultsDir: string): Promise<void> {
  const n = ++counter;
  const { file, id, cleanup, config } = caseFile(c, n);
  // only this test writes to resultsDir: the state after a case is the state before the next
  const before = lastSnapshot.get(resultsDir) ?? snapshot(resultsDir);
  const { io, stdout, stderr } = captureIo(expDir);
  let code: number;
  try {
    code = await main(['--results-dir', resultsDir, 'run', file, '--until-experiment', 'exp_initializing', '--json'], io);
  } finally {
    cleanup();
  }
  const after = snapshot(resultsDir);
  lastSnapshot.set(resultsDir, after);
  const err = stderr();
  const what = `${describeCase(c)}; file ${file}\n${config ? `config: ${JSON.stringify(config).slice(0, 2000)}\n` : ''}exit ${code}\nstderr: ${err.slice(0, 3000)}`;
  cases += 1;
  count(`${c.kind}: exit ${code}`);

  expect([0, 1, 2], what).toContain(code);
  expect(err, what).not.toMatch(/^\s+at /m);
  expect(err, what).not.toContain('internal error');
  if (code !== 0) {
    expect(err.startsWith('error: '), what).toBe(true);
    expect(err, what).toMatch(/^hint: \S/m);
    expect(after, `${what}\na failed run changed the results directory or the log`).toEqual(before);
  } else {
    expect(err, what).toBe('');
    const outcome = JSON.parse(stdout()) as { experiment: string; state: string; held: number };
    // a raw token as the id (e.g. `!!str 5`) has no id to compare before parsing
    if (!(config?.id instanceof Raw)) expect(outcome.experiment, what).toBe(id);
    expect(outcome, what).toMatchObject({ state: 'exp_initializing', held: 1 });
    expect(after.heads[outcome.experiment], `${what}\nexit 0 but experiment ${outcome.experiment} is not in the log`).toBeDefined();
    usedIds.add(outcome.experiment);
    expect(after.entries, `${what}\nheld at exp_initializing, nothing is written but the log`).toEqual(before.entries);
  }
  if (code === 1) {
    // the one expected failure here: a noise id that collides with an earlier experiment
    expect(c.kind, what).toBe('noise');
    const collided = /^error: the config of experiment (\S+) changed since it started; changed: /.exec(err)?.[1];
    expect(collided && usedIds.has(collided), what).toBe(true);
  }

  switch (c.kind) {
    case 'valid':
      expect(code, what).toBe(0);
      expect(before.heads[id!], `${what}\na valid case starts a new experiment`).toBeUndefined();
      break;
    case 'targeted':
      expect(code, what).toBe(2);
      expect(err, what).toContain(`error: config ${file} is invalid:\n`);
      for (const line of c.target.expect()) expect(err, what).toContain(line);
      break;
    case 'garbage':
      if (c.garbage.mustRefuse) {
        expect(code, what).toBe(2);
        expect(err, what).toMatch(new RegExp(`^error: (cannot read config|config) ${escapeRe(file)}`));
      }
      break;
    case 'path':
      // a symlinked config counts as living where the link is (its relative paths resolve next to the link)
      if (c.path === 'symlink to a config outside') expect(code, what).toBe(0);
      else {
        expect(code, what).toBe(2);
        expect(err, what).toMatch(/^error: cannot read config /);
      }
      break;
    case 'noise':
      break;
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// YAML reports unresolved tags (`!!python/…`, `!custom`) through process.emitWarning: counted, not printed 2,000 times
const emitWarning = process.emitWarning;
let yamlWarnings = 0;

beforeAll(() => {
  writeFolder();
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (warning instanceof Error && warning.name === 'YAMLWarning') {
      yamlWarnings += 1;
      return;
    }
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  started = performance.now();
});

afterAll(() => {
  process.emitWarning = emitWarning;
  for (const store of readers.values()) store.close();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const lines = [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k.padEnd(20)} ${v}`);
  const ok = [...tally].filter(([k]) => k.endsWith('exit 0')).reduce((s, [, v]) => s + v, 0);
  console.log(`hostile configs: ${cases} cases in ${seconds} s; ${ok} accepted (exit 0), ${cases - ok} refused; ${yamlWarnings} YAML warnings\n${lines.join('\n')}`);
  rmSync(root, { recursive: true, force: true });
});

describe('hostile configs through `run` (in process): exit 0/1/2 with a message, nothing created on failure', () => {
  for (let batch = 0; batch < BATCHES; batch++) {
    it(`batch ${batch + 1}/${BATCHES}: ${RUNS_PER_BATCH} generated configs (seed ${SEEDS[batch]})`, async () => {
      const resultsDir = join(root, `results-${batch}`);
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => runCase(c, resultsDir)),
        { seed: SEEDS[batch], numRuns: RUNS_PER_BATCH, endOnFailure: true },
      );
    }, 240_000);
  }

  it('ran at least 10,000 configs, both accepted and refused ones', () => {
    expect(cases).toBeGreaterThanOrEqual(10_000);
    const accepted = [...tally].filter(([k]) => k.endsWith('exit 0')).reduce((s, [, v]) => s + v, 0);
    expect(accepted).toBeGreaterThan(500);
    expect(cases - accepted).toBeGreaterThan(5_000);
  });
});
