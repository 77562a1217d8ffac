// The task's own test runner: named checks, no framework. Prints one JSON line
// {"passed": k, "total": n, "failures": [{"name", "message"}]} and exits 1 when a check fails.
// A source file that does not load fails its checks instead of crashing the runner.

const stats = await load('../src/stats.mjs');
const slugs = await load('../src/slugify.mjs');
const sum = use(stats, 'sum');
const average = use(stats, 'average');
const slugify = use(slugs, 'slugify');

const checks = [
  ['sum adds every number', () => is(sum([1, 2, 3]), 6)],
  ['sum of an empty list is 0', () => is(sum([]), 0)],
  ['average of three numbers', () => is(average([2, 4, 6]), 4)],
  ['average of an empty list is 0', () => is(average([]), 0)],
  ['slugify lowercases a single word', () => is(slugify('Hello'), 'hello')],
  ['slugify joins every word with a dash', () => is(slugify('Hello World Again'), 'hello-world-again')],
  ['slugify collapses runs of whitespace', () => is(slugify('many   spaces\there'), 'many-spaces-here')],
  ['slugify strips punctuation', () => is(slugify('Hello, World!'), 'hello-world')],
];

const failures = [];
for (const [name, check] of checks) {
  try {
    check();
  } catch (error) {
    failures.push({ name, message: String(error?.message ?? error).split('\n')[0] });
  }
}
console.log(JSON.stringify({ passed: checks.length - failures.length, total: checks.length, failures }));
process.exitCode = failures.length === 0 ? 0 : 1;

async function load(path) {
  try {
    return await import(path);
  } catch (error) {
    return { loadError: `cannot load ${path.slice(3)}: ${error?.message ?? error}` };
  }
}

function use(module, name) {
  return (...args) => {
    if (module.loadError) throw new Error(module.loadError);
    if (typeof module[name] !== 'function') throw new Error(`${name} is not exported`);
    return module[name](...args);
  };
}

function is(actual, expected) {
  if (!Object.is(actual, expected)) throw new Error(`expected ${show(expected)}, got ${show(actual)}`);
}

function show(value) {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
