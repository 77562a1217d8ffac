#!/usr/bin/env node
// Scores a run by the task's own tests: runs `tests/run.mjs` in the workspace (cwd) and turns
// {"passed", "total", "failures"} into a verdict: score = passed/total, passed when score ≥ 0.75.
// Failing tests are a low score, not a judge error: this script exits 0 whenever it can judge.
// The last stdout line is the verdict: {"score", "passed", "grade", "reasoning", "criteria"}.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const PASS_AT = 0.75;

const outcome = runTests();
const score = outcome.total > 0 ? outcome.passed / outcome.total : 0;
const criteria = { checksPassed: outcome.passed, checksTotal: outcome.total };
const diffLines = countDiffLines(process.env.EXPCTL_DIFF);
if (diffLines !== undefined) criteria.diffLines = diffLines;

console.log(`test-judge: ${outcome.passed}/${outcome.total} checks passed`);
console.log(JSON.stringify({ score, passed: score >= PASS_AT, grade: grade(score), reasoning: reasoning(outcome), criteria }));

/** Run the task's tests; a crash or garbled output counts as nothing passed, with the reason. */
function runTests() {
  if (!existsSync('tests/run.mjs')) return { passed: 0, total: 0, failures: [], error: 'tests/run.mjs is missing from the workspace' };
  let stdout;
  try {
    stdout = execFileSync(process.execPath, ['tests/run.mjs'], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    stdout = typeof error.stdout === 'string' ? error.stdout : ''; // the runner exits 1 when a check fails
    if (!lastJsonLine(stdout)) {
      const why = error.signal ? `was killed (${error.signal})` : `exited ${error.status}: ${String(error.stderr ?? '').trim().split('\n')[0]}`;
      return { passed: 0, total: 0, failures: [], error: `tests/run.mjs ${why}` };
    }
  }
  const result = lastJsonLine(stdout);
  if (!result || !Number.isInteger(result.passed) || !Number.isInteger(result.total)) {
    return { passed: 0, total: 0, failures: [], error: 'tests/run.mjs printed no {"passed", "total"} line' };
  }
  return { passed: result.passed, total: result.total, failures: Array.isArray(result.failures) ? result.failures : [] };
}

function lastJsonLine(text) {
  for (const line of text.trim().split('\n').reverse()) {
    try {
      const value = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // not JSON: keep looking upwards
    }
  }
  return undefined;
}

function grade(s) {
  if (s >= 0.95) return 'S';
  if (s >= 0.85) return 'A';
  if (s >= 0.7) return 'B';
  if (s >= 0.5) return 'C';
  if (s >= 0.25) return 'D';
  return 'F';
}

function reasoning({ passed, total, failures, error }) {
  if (error) return `could not run the tests: ${error}`;
  if (failures.length === 0) return `all ${total} checks passed`;
  const failed = failures.map((f) => (f.message ? `${f.name} (${f.message})` : f.name));
  return `${passed}/${total} checks passed; failed: ${failed.join('; ')}`;
}

/** Lines added or removed in the agent's patch, when the engine provides it. */
function countDiffLines(path) {
  if (!path || !existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n');
  return lines.filter((l) => (l.startsWith('+') && !l.startsWith('+++')) || (l.startsWith('-') && !l.startsWith('---'))).length;
}
