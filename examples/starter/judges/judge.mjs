#!/usr/bin/env node
// Scores a run by the task's own tests: runs `node tests/run.mjs` in the workspace (its cwd) and
// prints the verdict expctl reads, as the last line of stdout:
//   {"score": 0..1, "passed": true|false, "grade": "A", "reasoning": "…", "criteria": {…}}
// (`grade`, `reasoning` and `criteria` are optional). Failing tests are a low score, not an error:
// it exits 0 whenever it could judge. The agent's patch is at $EXPCTL_DIFF, its output at
// $EXPCTL_AGENT_STDOUT, for judges that read them.
import { spawnSync } from 'node:child_process';

const tests = spawnSync(process.execPath, ['tests/run.mjs'], { encoding: 'utf8', timeout: 30_000 });
const result = lastJsonLine(tests.stdout ?? '');
if (!result || !Number.isInteger(result.passed) || !Number.isInteger(result.total)) {
  // could not judge: a non-zero exit makes expctl retry the judge, then count the run as errored
  console.error(`judge: tests/run.mjs printed no {"passed", "total"} line (exit ${tests.status}): ${String(tests.stderr ?? '').trim()}`);
  process.exit(1);
}
const score = result.total > 0 ? result.passed / result.total : 0;
const failed = (result.failures ?? []).map((f) => f.name);
console.log(`judge: ${result.passed}/${result.total} checks passed`);
console.log(JSON.stringify({
  score,
  passed: score === 1,
  grade: score === 1 ? 'A' : score >= 0.5 ? 'C' : 'F',
  reasoning: failed.length === 0 ? `all ${result.total} checks passed` : `failed: ${failed.join('; ')}`,
  criteria: { checksPassed: result.passed, checksTotal: result.total },
}));

function lastJsonLine(text) {
  for (const line of text.trim().split('\n').reverse()) {
    try {
      const value = JSON.parse(line);
      if (value && typeof value === 'object') return value;
    } catch {
      // not JSON: keep looking upwards
    }
  }
  return undefined;
}
