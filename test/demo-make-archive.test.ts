// demo/make-archive.mjs: the demo's X archive, and bigger ones (--posts N --out DIR) for
// timing a whole training run, read back through tweetsmith's own archive reader.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readXArchive } from '../lib/sources/x-archive.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const script = join(root, 'demo', 'make-archive.mjs');

async function tempDir(t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-archive-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('without --posts it writes the committed demo archive, byte for byte', async (t) => {
  const out = join(await tempDir(t), 'archive');
  await run(process.execPath, [script, '--out', out]);
  const names = (await readdir(join(root, 'demo', 'archive', 'data'))).sort();
  t.deepEqual((await readdir(join(out, 'data'))).sort(), names);
  for (const name of names) {
    t.true((await readFile(join(out, 'data', name))).equals(await readFile(join(root, 'demo', 'archive', 'data', name))), name);
  }
});

test('--posts N past the 421 originals writes N distinct posts that the X archive reader reads, the originals among them', async (t) => {
  const out = join(await tempDir(t), 'big');
  const { stdout } = await run(process.execPath, [script, '--posts', '1000', '--out', out]);
  t.regex(stdout, /tweets downloaded 1000, retweets \d+, short tweets \d+, tweets kept \d+/);
  const archive = await readXArchive('x-archive:big', out);
  t.is(archive.posts.length, 1000);
  t.is(new Set(archive.posts.map((p) => p.text)).size, 1000);
  t.is(new Set(archive.posts.map((p) => p.id)).size, 1000);
  t.is(archive.profile.handle, 'fenwick_lighthouse');
  // every original is there (its t.co codes drawn anew), and the new posts keep the mix:
  // some retweets, mostly posts of her own
  const demo = await readXArchive('x-archive:demo', join(root, 'demo', 'archive'));
  const withoutLinks = (text: string) => text.replace(/https:\/\/t\.co\/\w+/g, 'https://t.co/…');
  const texts = new Set(archive.posts.map((p) => withoutLinks(p.text)));
  t.true(demo.posts.every((p) => texts.has(withoutLinks(p.text))));
  const retweets = archive.posts.filter((p) => p.isRetweet).length;
  t.true(retweets > 20 && retweets < 200, `${retweets} retweets`);
  // newest first, as X writes them
  const dates = archive.posts.map((p) => Date.parse(p.createdAt));
  t.true(dates.every((d, i) => i === 0 || d <= dates[i - 1]));
});

test('--posts N up to 421 takes the first N originals', async (t) => {
  const out = join(await tempDir(t), 'small');
  await run(process.execPath, [script, '--posts', '5', '--out', out]);
  const lines = (await readFile(join(root, 'demo', 'posts.txt'), 'utf8')).split('\n').filter((l) => l.trim());
  const archive = await readXArchive('x-archive:small', out);
  t.deepEqual(archive.posts.map((p) => p.text).reverse(), lines.slice(0, 5).map((l) => l.replaceAll('&', '&amp;')));
});

test('make-archive refuses a bad --posts and an --out that holds files, and leaves the files alone', async (t) => {
  const dir = await tempDir(t);
  for (const bad of ['0', '2.5', 'many', '100001']) {
    const e = await run(process.execPath, [script, '--posts', bad, '--out', join(dir, 'x')]).catch((err) => err);
    t.is(e.code, 1, bad);
    t.regex(e.stderr, /--posts must be a whole number from 1 to 100000/, bad);
  }
  const full = join(dir, 'full');
  await mkdir(full);
  await writeFile(join(full, 'mine.txt'), 'keep me');
  const e = await run(process.execPath, [script, '--posts', '10', '--out', full]).catch((err) => err);
  t.is(e.code, 1);
  t.regex(e.stderr, /is not empty; name a new or empty folder/);
  t.deepEqual(await readdir(full), ['mine.txt']);
  t.is(await readFile(join(full, 'mine.txt'), 'utf8'), 'keep me');
});
