// The task's own tests: named checks, no framework. Prints one JSON line
// {"passed": k, "total": n, "failures": [{"name", "message"}]} and exits 1 when a check fails.

const checks = [
  ['greets someone by name', (greet) => greet('Ada'), 'Hello, Ada!'],
  ['greets the world without a name', (greet) => greet(), 'Hello, world!'],
];

const failures = [];
let greet;
try {
  ({ greet } = await import('../src/greet.mjs'));
} catch (error) {
  greet = () => { throw new Error(`cannot load src/greet.mjs: ${error?.message ?? error}`); };
}
for (const [name, call, expected] of checks) {
  try {
    const actual = call(greet);
    if (actual !== expected) throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  } catch (error) {
    failures.push({ name, message: String(error?.message ?? error).split('\n')[0] });
  }
}
console.log(JSON.stringify({ passed: checks.length - failures.length, total: checks.length, failures }));
process.exitCode = failures.length === 0 ? 0 : 1;
