#!/usr/bin/env node
// A deterministic stand-in for a coding agent, so the demo runs offline in well under a second.
//
// It runs in the workspace (cwd), reads the prompt (argv[2], else $EXPCTL_PROMPT_FILE) and any
// guidance files present (CLAUDE.md, AGENTS.md, docs/*.md), then edits src/ of the demo task:
// the obvious bug is always fixed; each other bug only when the guidance mentions it. Like a real
// agent it sometimes overlooks a hint: whether it does is a hash of tier/subtest/run, so the same
// run always behaves the same way (re-runs and resumes reproduce it) while runs of one subtest
// can differ. Last stdout line: {"tokens": …, "costUsd": …}, derived from the characters handled.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Each fix: the hint (a pattern in the guidance) that makes the agent attempt it, and the edit. */
const FIXES = [
  {
    id: 'sum-skips-first-number',
    hint: null, // obvious from the failing test: always fixed
    file: 'src/stats.mjs',
    find: 'for (let i = 1; i < values.length; i++)',
    replace: 'for (let i = 0; i < values.length; i++)',
  },
  {
    id: 'average-of-empty-list',
    hint: /\bempty (list|lists|array|arrays|input)\b/i,
    file: 'src/stats.mjs',
    find: '  return sum(values) / values.length;',
    replace: '  if (values.length === 0) return 0;\n  return sum(values) / values.length;',
  },
  {
    id: 'slugify-whitespace',
    hint: /\bwhitespace\b/i,
    file: 'src/slugify.mjs',
    find: "slug = slug.replace(' ', '-');",
    replace: "slug = slug.replace(/\\s+/g, '-');",
  },
  {
    id: 'slugify-punctuation',
    hint: /\bpunctuation\b/i,
    file: 'src/slugify.mjs',
    find: '  let slug = text.trim().toLowerCase();\n',
    replace: "  let slug = text.trim().toLowerCase();\n  slug = slug.replace(/[^a-z0-9\\s-]/g, '');\n",
  },
];

const log = (line) => console.log(`demo-agent: ${line}`);

const prompt = readPrompt();
const guidance = readGuidance(process.cwd());
let charsRead = prompt.length;
let charsWritten = 0;
log(`read the prompt (${prompt.length} chars)${guidance.length ? ` and ${guidance.map((g) => `${g.path} (${g.text.length} chars)`).join(', ')}` : ', no guidance files'}`);
for (const g of guidance) charsRead += g.text.length;

const hints = guidance.map((g) => g.text).join('\n');
const chosen = FIXES.filter((fix) => fix.hint === null || fix.hint.test(hints));
const hinted = chosen.filter((fix) => fix.hint !== null);
if (hinted.length > 0 && overlooksAHint()) {
  const missed = hinted[hinted.length - 1];
  chosen.splice(chosen.indexOf(missed), 1);
  log(`overlooked the hint about ${missed.id}`);
}

const files = new Map(); // path → current text
const original = new Map(); // path → text as read
for (const fix of chosen) {
  if (!files.has(fix.file)) {
    if (!existsSync(fix.file)) {
      log(`${fix.file} not found, skipping ${fix.id}`);
      continue;
    }
    const text = readFileSync(fix.file, 'utf8');
    files.set(fix.file, text);
    original.set(fix.file, text);
    charsRead += text.length;
  }
  const text = files.get(fix.file);
  if (text.includes(fix.replace)) {
    log(`${fix.id} is already fixed in ${fix.file}`);
    continue;
  }
  if (!text.includes(fix.find)) {
    log(`nothing to change for ${fix.id} in ${fix.file}`);
    continue;
  }
  files.set(fix.file, text.replace(fix.find, fix.replace));
  log(`fixed ${fix.id} in ${fix.file}`);
}
for (const [path, text] of files) {
  if (text === original.get(path)) continue;
  writeFileSync(path, text);
  charsWritten += text.length;
}

const tokens = Math.ceil(charsRead / 4) + Math.ceil(charsWritten / 4);
console.log(JSON.stringify({ tokens, costUsd: Number((tokens * 0.000003).toFixed(6)) }));

function readPrompt() {
  if (process.argv[2]) return process.argv[2];
  const file = process.env.EXPCTL_PROMPT_FILE;
  if (file && existsSync(file)) return readFileSync(file, 'utf8');
  console.error('demo-agent: no prompt; pass it as the first argument or set EXPCTL_PROMPT_FILE');
  process.exit(2);
}

/** Guidance files in a fixed order, so the agent reads the same text every time. */
function readGuidance(dir) {
  const paths = ['CLAUDE.md', 'AGENTS.md'];
  if (existsSync(join(dir, 'docs'))) {
    for (const name of readdirSync(join(dir, 'docs')).sort()) if (name.endsWith('.md')) paths.push(`docs/${name}`);
  }
  return paths.filter((p) => existsSync(join(dir, p))).map((p) => ({ path: p, text: readFileSync(join(dir, p), 'utf8') }));
}

/** One run in three overlooks its last hint, picked by an FNV-1a hash of tier/subtest/run. */
function overlooksAHint() {
  const key = `${process.env.EXPCTL_TIER ?? ''}/${process.env.EXPCTL_SUBTEST ?? ''}/${process.env.EXPCTL_RUN ?? '1'}`;
  let hash = 0x811c9dc5;
  for (const char of key) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash % 3 === 0;
}
