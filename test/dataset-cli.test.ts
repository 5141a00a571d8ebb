// `tweetsmith dataset` end to end, as a user runs it: a child process of
// bin/tweetsmith.js, sources on disk and a local stand-in for the X API.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticPosts } from './helpers/servers/synthetic-posts.js';
import { startFakeXApi } from './helpers/servers/x-api.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SAMPLE = fileURLToPath(new URL('./fixtures/archive/sample', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tweetsmith(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'tweetsmith.js'), ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Two people's files: alice.jsonl and bob.csv, enough text each to pass the 6,000-character limit. */
async function writeSources(dir: string): Promise<{ alice: string; bob: string }> {
  const alice = join(dir, 'alice.jsonl');
  await writeFile(alice, syntheticPosts('alice', 400).map((p) => JSON.stringify({ id: p.id, text: p.text })).join('\n') + '\n');
  const bob = join(dir, 'bob.csv');
  const rows = syntheticPosts('bob', 150).map((p) => `${p.id},"${p.text}, he said ""yes"""`);
  await writeFile(bob, ['id,text', ...rows, '999,"RT @alice: a retweet"', '1000,ok then'].join('\n') + '\n');
  return { alice, bob };
}

test('dataset --json: one JSON document on stdout, the files in --out, byte-identical on a rerun', async (t) => {
  const dir = await tempDir(t);
  const { alice, bob } = await writeSources(dir);
  const args = (out: string) => ['dataset', bob, alice, '--out', out, '--seed', '42', '--block-size', '128', '--valid-split', '0.1', '--epochs', '2', '--json'];
  const first = await tweetsmith(args(join(dir, 'one')));
  t.is(first.code, 0, first.stderr);
  const stats = JSON.parse(first.stdout);
  t.is(first.stdout.trim().split('\n').length, 1, 'nothing else on stdout');
  t.like(stats, { format: 'tweetsmith-dataset', kind: 'cyborg', name: 'alice-bob', seed: 42, epochs: 2, blockSize: 128, validSplit: 0.1 });
  t.like(stats.users[1], { handle: 'bob', downloaded: 152, retweets: 1, short: 1, kept: 150 });
  t.like(stats.users[0], { handle: 'alice', downloaded: 400, retweets: 0, short: 0, kept: 400 });
  t.regex(first.stderr, /reading .*bob\.csv/);
  t.regex(first.stderr, /wrote .*: \d+ training blocks of 128 tokens, \d+ validation blocks \(seed 42\)/);

  const files = ['.tweetsmith-output.json', 'posts.jsonl', 'stats.json', 'train.bin', 'train.txt', 'valid.bin', 'valid.txt'];
  t.deepEqual((await readdir(join(dir, 'one'))).sort(), files);
  t.deepEqual(JSON.parse(await readFile(join(dir, 'one', 'stats.json'), 'utf8')), stats);
  t.is((await readFile(join(dir, 'one', 'train.bin'))).length, stats.trainBlocks * 128 * 4);
  t.is((await readFile(join(dir, 'one', 'valid.bin'))).length, stats.validBlocks * 128 * 4);

  // The same sources and seed, named in the other order: the same bytes.
  const second = await tweetsmith(['dataset', alice, bob, ...args(join(dir, 'two')).slice(3)]);
  t.is(second.code, 0, second.stderr);
  for (const file of files) {
    t.true((await readFile(join(dir, 'one', file))).equals(await readFile(join(dir, 'two', file))), file);
  }
  // Another seed: another order.
  const third = await tweetsmith([...args(join(dir, 'three')).slice(0, 5), '--seed', '43', '--json']);
  t.is(third.code, 0, third.stderr);
  t.not(await readFile(join(dir, 'one', 'train.txt'), 'utf8'), await readFile(join(dir, 'three', 'train.txt'), 'utf8'));
});

test('dataset: the model card table on stdout', async (t) => {
  const dir = await tempDir(t);
  const { alice, bob } = await writeSources(dir);
  const run = await tweetsmith(['dataset', alice, bob, '--out', join(dir, 'out'), '--seed', '1']);
  t.is(run.code, 0, run.stderr);
  t.is(
    run.stdout,
    '| Data | @alice | @bob |\n| --- | --- | --- |\n| Tweets downloaded | 400 | 152 |\n| Retweets | 0 | 1 |\n| Short tweets | 0 | 1 |\n| Tweets kept | 400 | 150 |\n',
  );
});

test('dataset: too little text fails with the four counts and writes nothing', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const run = await tweetsmith(['dataset', SAMPLE, '--out', out, '--json']);
  t.is(run.code, 1);
  t.is(run.stdout, '');
  t.regex(run.stderr, /tweetsmith: @sampleuser: not enough text to learn from: 283 characters of kept tweets, 6000 needed \(tweets downloaded 10, retweets 2, short tweets 3, tweets kept 5\)/);
  t.deepEqual(await readdir(dir), []);
});

test('dataset: bad arguments and bad sources are explained', async (t) => {
  const dir = await tempDir(t);
  const noOut = await tweetsmith(['dataset', SAMPLE]);
  t.not(noOut.code, 0);
  t.regex(noOut.stderr, /--out <dir>/);
  const badSplit = await tweetsmith(['dataset', SAMPLE, '--out', join(dir, 'x'), '--valid-split', '1.5']);
  t.not(badSplit.code, 0);
  t.regex(badSplit.stderr, /expected a fraction/);
  const badSource = await tweetsmith(['dataset', 'elonmusk', '--out', join(dir, 'x')]);
  t.is(badSource.code, 1);
  t.regex(badSource.stderr, /elonmusk: not a file, a folder, or a known kind of source\. did you mean @elonmusk\?/);
  const help = await tweetsmith(['dataset', '--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /mastodon:@name@host/);
  t.regex(help.stdout, /uint32 little-endian/);
});

test('dataset from the X API: the bearer token is never printed or written', async (t) => {
  const dir = await tempDir(t);
  const token = 'AAAAAAAAAAAAAAAAAAAAA-cli-secret-token';
  const posts = syntheticPosts('sampleuser', 250);
  const server = await startFakeXApi({
    token,
    user: { id: '99', username: 'SampleUser', name: 'Sample User' },
    pages: [0, 1, 2].map((page) =>
      posts.slice(page * 100, page * 100 + 100).map((p) => ({ id: String(10_000 - Number(p.id)), text: p.text, created_at: '2024-01-01T00:00:00.000Z' })),
    ),
  });
  t.teardown(() => server.close());
  const out = join(dir, 'out');
  const env = { X_BEARER_TOKEN: token, TWEETSMITH_X_API_URL: server.url };
  const run = await tweetsmith(['dataset', '@SampleUser', '--out', out, '--seed', '5', '--json'], env);
  t.is(run.code, 0, run.stderr);
  t.like(JSON.parse(run.stdout), { name: 'sampleuser', users: [{ downloaded: 250, kept: 250 }] });
  t.is(server.requests.length, 4);
  t.false(run.stdout.includes(token) || run.stderr.includes(token));
  for (const file of await readdir(out)) t.false((await readFile(join(out, file))).includes(token), file);

  const wrong = await tweetsmith(['dataset', '@SampleUser', '--out', join(dir, 'other')], { ...env, X_BEARER_TOKEN: 'wrong-secret' });
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /@SampleUser: X rejected the bearer token \(HTTP 401\)/);
  t.false(wrong.stderr.includes('wrong-secret'));
});
