// Text from outside cannot drive the terminal: escape sequences, C1 controls,
// carriage returns and bidi overrides in names, handles, posts, file names and
// error messages are printed as visible escapes, never obeyed.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { terminalJson, terminalText } from '../lib/terminal-text.js';
import { syntheticPosts } from './helpers/servers/synthetic-posts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What a hostile post, name or file name may carry, one of each kind. */
const SEQUENCES = {
  csiClear: '\x1b[2J\x1b[H',
  csiColour: '\x1b[31mred\x1b[0m',
  osc8Link: '\x1b]8;;https://evil.test/\x1b\\click me\x1b]8;;\x1b\\',
  oscTitleBel: '\x1b]0;owned\x07',
  c1Csi: '\u009b31m',
  c1Osc: '\u009d0;title\u009c',
  carriageReturn: 'safe\rEVIL',
  backspace: 'abc\b\b\bxyz',
  del: 'a\x7fb',
  bidiOverride: 'abc\u202edcba\u202c',
  bidiIsolate: '\u2066x\u2069',
  lineSeparator: 'a\u2028b',
  nul: 'a\0b',
};

/** Characters a terminal obeys; none may reach it from outside text. */
const OBEYED = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('terminalText: every control, C1 and bidi override is shown as a visible escape', (t) => {
  for (const [name, sequence] of Object.entries(SEQUENCES)) {
    const shown = terminalText(`before ${sequence} after`);
    t.notRegex(shown, OBEYED, name);
    t.false(shown.includes('\n'), name);
    t.true(shown.startsWith('before ') && shown.endsWith(' after'), name);
  }
  t.is(terminalText('\x1b[31mred'), '\\x1b[31mred');
  t.is(terminalText('a\u202eb'), 'a\\u202eb');
  t.is(terminalText('a\u009bb'), 'a\\x9bb');
  t.is(terminalText('one\r\ntwo'), 'one\\r\\ntwo');
});

test('terminalText: ordinary text, tabs, emoji and right-to-left posts are left as they are', (t) => {
  for (const text of ['plain text', 'tab\there', 'émoji 🤖✨ 日本語', 'שלום\u200f עולם', 'مرحبا\u061c', '']) t.is(terminalText(text), text);
  t.is(terminalText('one\ntwo', { multiline: true }), 'one\ntwo');
  t.is(terminalText('one\ntwo'), 'one\\ntwo');
  t.is(terminalText('one\r\ntwo', { multiline: true }), 'one\\r\ntwo');
});

test('terminalJson: the same JSON value, with nothing a terminal obeys', (t) => {
  const value = { prompt: 'My dream is', samples: Object.values(SEQUENCES), nested: { name: '\u009b2J\u202e' } };
  const json = terminalJson(value);
  t.notRegex(json, OBEYED);
  t.deepEqual(JSON.parse(json), value);
  t.is(terminalJson({ a: 'plain 🤖' }), JSON.stringify({ a: 'plain 🤖' }));
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tweetsmith(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'tweetsmith.js'), ...args], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-terminal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('CLI dataset: hostile handles, names and file names are printed as text', async (t) => {
  const dir = await tempDir(t);
  const hostile = Object.values(SEQUENCES).join(' ');
  // A file name with an escape sequence, as a glob over a downloaded folder could pass it.
  const file = join(dir, 'posts\x1b[2J\u009b31m.jsonl');
  const author = { handle: `evil\x1b]8;;https://evil.test/\x07x\x1b]8;;\x07`, name: `Name ${hostile}` };
  // Few enough characters for a warning that quotes the handle.
  const lines = syntheticPosts('evil', 120).map((p, i) => JSON.stringify({ id: p.id, text: i % 2 ? `${p.text} ${hostile}` : p.text, author }));
  await writeFile(file, lines.join('\n') + '\n');
  // a second person, so that the data table has a column per name
  const bob = join(dir, 'bob.jsonl');
  await writeFile(bob, syntheticPosts('bob', 120).map((p) => JSON.stringify({ id: p.id, text: p.text })).join('\n') + '\n');
  const run = await tweetsmith(['dataset', file, bob, '--out', join(dir, 'out'), '--seed', '1', '--block-size', '64', '--warn-characters', '1000000']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /reading .*posts\\x1b\[2J\\x9b31m\.jsonl/);
  t.regex(run.stderr, /warning: @evil\\x1b\]8;;https:\/\/evil\.test\/\\x07x\\x1b\]8;;\\x07/);
  t.regex(run.stdout, /Name \\x1b\[2J\\x1b\[H/);
  t.notRegex(run.stdout, OBEYED);
  t.notRegex(run.stderr, OBEYED);

  const json = await tweetsmith(['dataset', file, '--out', join(dir, 'out2'), '--seed', '1', '--block-size', '64', '--json']);
  t.is(json.code, 0, json.stderr);
  t.notRegex(json.stdout, OBEYED);
  t.is(JSON.parse(json.stdout).users[0].name, author.name);
});

test('CLI: an error message that quotes the input is printed as text', async (t) => {
  const dir = await tempDir(t);
  const missing = await tweetsmith(['dataset', join(dir, 'no\x1b]0;owned\x07such\u202e.jsonl'), '--out', join(dir, 'out')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /no\\x1b\]0;owned\\x07such\\u202e\.jsonl/);
  t.notRegex(missing.stderr, OBEYED);
  // commander's own errors quote the argument too
  const badOption = await tweetsmith(['dataset', 'x.jsonl', '--out', dir, '--seed', '\x1b[2J']);
  t.not(badOption.code, 0);
  t.regex(badOption.stderr, /\\x1b\[2J/);
  t.notRegex(badOption.stderr, OBEYED);
});
