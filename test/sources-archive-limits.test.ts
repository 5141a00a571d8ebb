// X archives and local files that are too large, lie about their size, or
// hold fields of the wrong type: each is a clear SourceError naming the file,
// never an out-of-memory crash or a TypeError from deep inside.
import test, { type ExecutionContext } from 'ava';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSource, SourceError } from '../lib/sources/index.js';
import { SOURCE_LIMITS } from '../lib/defaults.js';
import { makeZip } from './fixtures/archive/make-zip.js';

const SAMPLE = fileURLToPath(new URL('./fixtures/archive/sample', import.meta.url));

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-limits-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function sampleFiles(): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  for (const name of await readdir(join(SAMPLE, 'data'))) files[`data/${name}`] = await readFile(join(SAMPLE, 'data', name));
  return files;
}

/** A tweets.js of `bytes` bytes, mostly spaces: deflates to a few hundred times smaller (a zip bomb in miniature). */
function bomb(bytes: number): Buffer {
  const head = Buffer.from('window.YTD.tweets.part0 = [');
  const body = Buffer.alloc(bytes - head.length - 1, 0x20);
  return Buffer.concat([head, body, Buffer.from(']')]);
}

const CAP = 1024 * 1024;

test('the defaults: 2 GiB for an archive entry, 32 MiB for a JSON reply, 15 minutes of rate-limit wait', (t) => {
  t.is(SOURCE_LIMITS.maxArchiveEntryBytes, 2 * 1024 ** 3);
  t.is(SOURCE_LIMITS.maxJsonReplyBytes, 32 * 1024 ** 2);
  t.is(SOURCE_LIMITS.maxRateLimitWaitMs, 15 * 60 * 1000);
});

test('a zip whose tweets.js inflates past the cap is refused before inflating it, naming file and cap', async (t) => {
  const dir = await tempDir(t);
  const zip = makeZip({ ...(await sampleFiles()), 'data/tweets.js': bomb(48 * CAP) });
  t.true(zip.length < CAP, `${zip.length} bytes`);
  await writeFile(join(dir, 'bomb.zip'), zip);
  const err = await t.throwsAsync(readSource(join(dir, 'bomb.zip'), { maxArchiveEntryBytes: CAP }), { instanceOf: SourceError });
  t.is(
    err.message,
    `${join(dir, 'bomb.zip')}: data/tweets.js unpacks to ${48 * CAP} bytes (as the zip declares), more than the ${CAP} bytes tweetsmith reads from one archive file. ` +
      'an archive from X is not like this: download it again, or allow more (maxArchiveEntryBytes)',
  );
});

test('a zip that declares a small tweets.js but inflates to far more is stopped while inflating', async (t) => {
  const dir = await tempDir(t);
  const zip = makeZip({ ...(await sampleFiles()), 'data/tweets.js': bomb(48 * CAP) }, { declaredSize: { 'data/tweets.js': 1000 } });
  await writeFile(join(dir, 'liar.zip'), zip);
  const err = await t.throwsAsync(readSource(join(dir, 'liar.zip'), { maxArchiveEntryBytes: CAP }), { instanceOf: SourceError });
  t.regex(err.message, /liar\.zip: (is a damaged zip file: data\/tweets\.js cannot be read|data\/tweets\.js unpacks to more than)/);
  // Declaring the cap itself gets past the declared-size check; the count stops it.
  await writeFile(join(dir, 'liar2.zip'), makeZip({ ...(await sampleFiles()), 'data/tweets.js': bomb(48 * CAP) }, { declaredSize: { 'data/tweets.js': CAP } }));
  const err2 = await t.throwsAsync(readSource(join(dir, 'liar2.zip'), { maxArchiveEntryBytes: CAP }), { instanceOf: SourceError });
  t.regex(err2.message, /liar2\.zip: (is a damaged zip file: data\/tweets\.js cannot be read|data\/tweets\.js unpacks to more than)/);
});

test('an unpacked archive whose tweets.js is past the cap is refused by its size', async (t) => {
  const dir = await tempDir(t);
  await cp(SAMPLE, join(dir, 'big'), { recursive: true });
  await writeFile(join(dir, 'big', 'data', 'tweets.js'), bomb(2 * CAP));
  await t.throwsAsync(readSource(join(dir, 'big'), { maxArchiveEntryBytes: CAP }), {
    instanceOf: SourceError,
    message: new RegExp(`big: data/tweets\\.js unpacks to ${2 * CAP} bytes, more than the ${CAP} bytes`),
  });
});

test('archive fields of the wrong type are errors that name the file, the item and the field', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, string, RegExp]> = [
    ['account.js', 'window.YTD.account.part0 = [{"account":{"username":42}}]', /data\/account\.js: item 1\.account: "username" is the number 42, not a string/],
    ['account.js', 'window.YTD.account.part0 = [{"account":{"username":"x","accountDisplayName":{"a":1}}}]', /data\/account\.js: item 1\.account: "accountDisplayName" is an object, not a string/],
    ['account.js', 'window.YTD.account.part0 = ["x"]', /data\/account\.js: item 1 is "x", not an object/],
    ['account.js', 'window.YTD.account.part0 = [{"account":"me"}]', /data\/account\.js: item 1: "account" is "me", not an object/],
    ['profile.js', 'window.YTD.profile.part0 = [{"profile":{"avatarMediaUrl":["u"]}}]', /data\/profile\.js: item 1\.profile: "avatarMediaUrl" is a list, not a string/],
    ['tweets.js', 'window.YTD.tweets.part0 = [{"tweet":{"id_str":"1","full_text":{"t":1}}}]', /data\/tweets\.js: item 1\.tweet: "full_text" is an object, not a string/],
    ['tweets.js', 'window.YTD.tweets.part0 = [{"tweet":{"id_str":1,"full_text":"x"}}]', /data\/tweets\.js: item 1\.tweet: "id_str" is the number 1, not a string/],
    ['tweets.js', 'window.YTD.tweets.part0 = [{"tweet":{"id_str":"1","full_text":"x","created_at":7}}]', /"created_at" is the number 7, not a string/],
    ['tweets.js', 'window.YTD.tweets.part0 = [null]', /data\/tweets\.js: item 1 is null, not a tweet/],
  ];
  for (const [index, [file, content, message]] of cases.entries()) {
    const folder = join(dir, `case${index}`);
    await cp(SAMPLE, folder, { recursive: true });
    await writeFile(join(folder, 'data', file), content);
    const err = await t.throwsAsync(readSource(folder), { instanceOf: SourceError }, file);
    t.true(err.message.startsWith(`${folder}: `), err.message);
    t.regex(err.message, message);
  }
});

test('JSON Lines: an author or id of the wrong type is an error naming the line', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string, RegExp]> = [
    ['{"text":"a","author":{"handle":5}}', /line 1: "author": "handle" is the number 5, not a string/],
    ['{"text":"a","author":"alice"}', /line 1: "author" is "alice", not an object/],
    ['{"text":"a","author":{"handle":"a","name":[1]}}', /line 1: "author": "name" is a list, not a string/],
    ['{"text":"a"}\n{"text":"b","id":{"n":1}}', /line 2: id is an object, not a string or a number/],
    ['{"text":"a","is_retweet":{"x":1}}', /line 1: is_retweet an object is not true or false/],
  ];
  for (const [index, [content, message]] of cases.entries()) {
    const path = join(dir, `case${index}.jsonl`);
    await writeFile(path, content);
    const err = await t.throwsAsync(readSource(path), { instanceOf: SourceError });
    t.true(err.message.startsWith(`${path}: `), err.message);
    t.regex(err.message, message);
  }
});
