#!/usr/bin/env node
// A stand-in for your agent, so the experiment runs as soon as it is written. Replace its command
// in experiment.yaml (agent.command) with your agent's.
//
// expctl runs the agent in the run's workspace (its cwd: a fresh git worktree of task/, with the
// subtest's files added), here with the prompt file as its argument ({promptFile}). Whatever it
// leaves in the workspace is committed and judged. The environment names the run
// (EXPCTL_TIER, EXPCTL_SUBTEST, EXPCTL_RUN, EXPCTL_WORKSPACE, …).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const promptFile = process.argv[2] ?? process.env.EXPCTL_PROMPT_FILE;
if (!promptFile || !existsSync(promptFile)) {
  console.error('agent: no prompt file; pass it as the first argument ({promptFile} in agent.command)');
  process.exit(2);
}
const prompt = readFileSync(promptFile, 'utf8');
console.log(`agent: read the prompt (${prompt.length} chars)${existsSync('HINTS.md') ? ' and HINTS.md' : ''}`);

// the "work": the fix a real agent would find
const file = 'src/greet.mjs';
const before = readFileSync(file, 'utf8');
const after = before.replace('`Hello, ${name}!`', "`Hello, ${name || 'world'}!`");
writeFileSync(file, after);
console.log(after === before ? `agent: nothing to change in ${file}` : `agent: fixed ${file}`);

// An agent may end its stdout with what it used: {"tokens": …, "costUsd": …}; expctl adds it up
// in the reports (missing values are reported as unknown). This stand-in uses nothing.
console.log(JSON.stringify({ tokens: 0, costUsd: 0 }));
