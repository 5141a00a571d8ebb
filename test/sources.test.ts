// Sources that read local things: the source-string parser, the X archive
// (folder and zip, and the ways it can be broken), JSON Lines, CSV, text.
import test, { type ExecutionContext } from 'ava';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseCsv,
  parseSourceString,
  readSource,
  SourceError,
  sourceKey,
  type SourcePosts,
} from '../lib/sources/index.js';
import { parseTwitterDate } from '../lib/sources/dates.js';
import { parseArchiveScript, tweetFilesInOrder } from '../lib/sources/x-archive.js';
import { htmlToText } from '../lib/sources/html-to-text.js';
import { makeZip } from './fixtures/archive/make-zip.js';

const SAMPLE = fileURLToPath(new URL('./fixtures/archive/sample', import.meta.url));

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-sources-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The sample archive's files as zip entries, under `prefix`. */
async function sampleZip(prefix = ''): Promise<Buffer> {
  const files: Record<string, Buffer> = {};
  for (const name of await readdir(join(SAMPLE, 'data'))) files[`${prefix}data/${name}`] = await readFile(join(SAMPLE, 'data', name));
  files[`${prefix}data/tweets_media/1001-a.jpg`] = Buffer.from([0xff, 0xd8, 0xff]);
  return makeZip(files);
}

// ---------------------------------------------------------------- source strings

test('parseSourceString: network handles', (t) => {
  t.deepEqual(parseSourceString('@Jack'), { kind: 'x-api', handle: 'Jack' });
  t.deepEqual(parseSourceString('x:jack'), { kind: 'x-api', handle: 'jack' });
  t.deepEqual(parseSourceString('X:@jack_2'), { kind: 'x-api', handle: 'jack_2' });
  t.deepEqual(parseSourceString('bsky:Alice.bsky.social'), { kind: 'bluesky', actor: 'alice.bsky.social' });
  t.deepEqual(parseSourceString('bsky:alice'), { kind: 'bluesky', actor: 'alice.bsky.social' });
  t.deepEqual(parseSourceString('bsky:did:plc:abc123'), { kind: 'bluesky', actor: 'did:plc:abc123' });
  t.deepEqual(parseSourceString('mastodon:@Gargron@Mastodon.social'), { kind: 'mastodon', username: 'Gargron', host: 'mastodon.social' });
  t.deepEqual(parseSourceString('mastodon:bob@127.0.0.1:3000'), { kind: 'mastodon', username: 'bob', host: '127.0.0.1:3000' });
});

test('parseSourceString: files and archives by extension or folder', (t) => {
  t.deepEqual(parseSourceString('twitter-2023-09-01.zip'), { kind: 'x-archive', path: 'twitter-2023-09-01.zip' });
  t.deepEqual(parseSourceString('posts.jsonl'), { kind: 'jsonl', path: 'posts.jsonl' });
  t.deepEqual(parseSourceString('Posts.CSV'), { kind: 'csv', path: 'Posts.CSV' });
  t.deepEqual(parseSourceString('posts.txt'), { kind: 'text', path: 'posts.txt' });
  t.deepEqual(parseSourceString(SAMPLE), { kind: 'x-archive', path: SAMPLE });
});

test('parseSourceString: clear errors for what it cannot read', (t) => {
  t.throws(() => parseSourceString('@this_name_is_far_too_long'), { instanceOf: SourceError, message: /not an X user name/ });
  t.throws(() => parseSourceString('mastodon:bob'), { message: /mastodon:@name@mastodon\.social/ });
  t.throws(() => parseSourceString('jack'), { message: /did you mean @jack\?/ });
  const error = t.throws(() => parseSourceString('nothing/here.pdf'));
  t.regex(error.message, /^nothing\/here\.pdf: not a file, a folder, or a known kind of source/);
  t.regex(error.message, /bsky:name\.bsky\.social/);
});

test('sourceKey: the same source spelled two ways is one source', (t) => {
  t.is(sourceKey(parseSourceString('@Jack')), sourceKey(parseSourceString('x:jack')));
  t.is(sourceKey(parseSourceString('./a.csv')), sourceKey(parseSourceString('a.csv')));
  t.not(sourceKey(parseSourceString('a.csv')), sourceKey(parseSourceString('a.txt')));
});

// ---------------------------------------------------------------- X archive

test('parseTwitterDate: X created_at to ISO, offsets applied', (t) => {
  t.is(parseTwitterDate('Sat Aug 12 16:10:37 +0000 2023'), '2023-08-12T16:10:37.000Z');
  t.is(parseTwitterDate('Mon Jan 01 01:30:00 +0200 2024'), '2023-12-31T23:30:00.000Z');
  t.is(parseTwitterDate('2023-08-12'), undefined);
});

test('parseArchiveScript: cuts the window.YTD prefix, allows a trailing ;, never evaluates', (t) => {
  t.deepEqual(parseArchiveScript('window.YTD.tweets.part0 = [ {"a": 1} ];\n'), [{ a: 1 }]);
  t.deepEqual(parseArchiveScript('window.YTD.tweets.part0 = []'), []);
  t.is(parseArchiveScript('window.YTD.tweets.part0 = [ alert(1) ]'), undefined);
  t.is(parseArchiveScript('{"not": "an archive file"}'), undefined);
});

test('tweetFilesInOrder: numeric part order, only tweet files', (t) => {
  t.deepEqual(
    tweetFilesInOrder(['tweets-part10.js', 'tweet-headers.js', 'tweets-part2.js', 'deleted-tweets.js', 'tweets.js', 'note-tweet.js', 'tweets-part1.js', 'community-tweet.js', 'account.js']),
    ['tweets.js', 'tweets-part1.js', 'tweets-part2.js', 'tweets-part10.js'],
  );
  t.deepEqual(tweetFilesInOrder(['tweet.js', 'tweet-part1.js']), ['tweet.js', 'tweet-part1.js']);
});

function checkSample(t: ExecutionContext, read: SourcePosts): void {
  t.deepEqual(read.profile, { handle: 'SampleUser', name: 'Sample User', avatarUrl: 'https://pbs.twimg.com/profile_images/1/sample.jpg' });
  t.is(read.idSpace, 'x');
  t.deepEqual(
    read.posts.map((p) => p.id),
    ['1001', '1002', '1003', '1004', '1005', '1006', '1007', '1008', '1009', '1010'],
  );
  t.deepEqual(
    read.posts.filter((p) => p.isRetweet).map((p) => p.id),
    ['1002', '1008'],
  );
  const first = read.posts[0]!;
  t.is(first.text, 'Just shipped a new release of my side project &amp; I am proud of it https://t.co/aaa');
  t.is(first.createdAt, '2023-08-12T16:10:37.000Z');
  t.is(first.author.handle, 'SampleUser');
}

test('X archive: the unpacked folder', async (t) => {
  checkSample(t, await readSource(SAMPLE));
});

test('X archive: data/ itself', async (t) => {
  checkSample(t, await readSource(join(SAMPLE, 'data')));
});

test('X archive: the zip, with data/ at the top or one folder down', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'twitter-2023-09-01-abc.zip'), await sampleZip());
  checkSample(t, await readSource(join(dir, 'twitter-2023-09-01-abc.zip')));
  await writeFile(join(dir, 'rezipped.zip'), await sampleZip('twitter-2023-09-01-abc/'));
  checkSample(t, await readSource(join(dir, 'rezipped.zip')));
});

test('X archive: older archives name the file tweet.js', async (t) => {
  const dir = await tempDir(t);
  await cp(SAMPLE, join(dir, 'old'), { recursive: true });
  const tweets = await readFile(join(dir, 'old', 'data', 'tweets.js'), 'utf8');
  await writeFile(join(dir, 'old', 'data', 'tweet.js'), tweets.replace('window.YTD.tweets.part0', 'window.YTD.tweet.part0'));
  for (const name of ['tweets.js', 'tweets-part1.js', 'tweets-part2.js', 'tweets-part10.js']) {
    await writeFile(join(dir, 'old', 'data', name), 'window.YTD.tweets.part0 = []');
  }
  const read = await readSource(join(dir, 'old'));
  t.is(read.posts.length, 6);
});

test('X archive: a damaged zip says so and what to do', async (t) => {
  const dir = await tempDir(t);
  const zip = await sampleZip();
  const truncated = join(dir, 'truncated.zip');
  await writeFile(truncated, zip.subarray(0, Math.floor(zip.length / 2)));
  const error = await t.throwsAsync(readSource(truncated), { instanceOf: SourceError });
  t.regex(error.message, /truncated\.zip: is not a readable zip file/);
  t.regex(error.message, /Download an archive of your data/);

  // Garbage where tweets.js's compressed bytes should be.
  const corrupt = Buffer.from(zip);
  const at = corrupt.indexOf(Buffer.from('data/tweets.js')) + 'data/tweets.js'.length;
  corrupt.fill(0x5a, at, at + 200);
  await writeFile(join(dir, 'corrupt.zip'), corrupt);
  const damaged = await t.throwsAsync(readSource(join(dir, 'corrupt.zip')), { instanceOf: SourceError });
  t.regex(damaged.message, /corrupt\.zip: (is a damaged zip file|data\/tweets\.js is not in the archive format)/);
});

test('X archive: a file that is not an archive', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'notes.zip'), 'these are my notes, not a zip');
  await t.throwsAsync(readSource(join(dir, 'notes.zip')), { message: /notes\.zip: is not a readable zip file/ });
  await writeFile(join(dir, 'photos.zip'), makeZip({ 'IMG_0001.jpg': 'jpeg bytes' }));
  await t.throwsAsync(readSource(join(dir, 'photos.zip')), { message: /photos\.zip: is a zip file but not an X archive: it has no data\/ folder/ });
  await mkdir(join(dir, 'folder'));
  await t.throwsAsync(readSource(join(dir, 'folder')), { message: /folder: is not an X archive: it has no data\/ folder/ });
  await t.throwsAsync(readSource(join(dir, 'missing.zip')), { message: /missing\.zip: no such file/ });
  await mkdir(join(dir, 'noaccount', 'data'), { recursive: true });
  await writeFile(join(dir, 'noaccount', 'data', 'tweets.js'), 'window.YTD.tweets.part0 = []');
  await t.throwsAsync(readSource(join(dir, 'noaccount')), { message: /has no data\/account\.js/ });
  await writeFile(join(dir, 'noaccount', 'data', 'account.js'), 'window.YTD.account.part0 = [{"account":{"username":"x"}}]');
  await t.throwsAsync(readSource(join(dir, 'noaccount')), { message: /noaccount: has no posts \(the archive holds no tweets\)/ });
});

// ---------------------------------------------------------------- local files

test('JSON Lines: text, optional id / created_at / is_retweet, blank lines skipped', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'Alice.jsonl');
  await writeFile(
    path,
    [
      '{"text": "first post of mine", "id": 7, "created_at": "2024-02-03T04:05:06Z"}',
      '',
      '{"text": "RT @bob: something bob said"}',
      '{"text": "not really a retweet", "is_retweet": true, "created_at": "Sat Aug 12 16:10:37 +0000 2023"}\r',
    ].join('\n'),
  );
  const read = await readSource(path);
  t.deepEqual(read.profile, { handle: 'alice' });
  t.deepEqual(
    read.posts.map((p) => [p.id, p.text, p.createdAt, p.isRetweet]),
    [
      ['7', 'first post of mine', '2024-02-03T04:05:06.000Z', false],
      ['3', 'RT @bob: something bob said', '', true],
      ['4', 'not really a retweet', '2023-08-12T16:10:37.000Z', true],
    ],
  );
});

test('JSON Lines: posts.jsonl written by tweetsmith keeps its author', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'posts.jsonl');
  const author = { handle: 'SampleUser', name: 'Sample User' };
  await writeFile(path, `${JSON.stringify({ id: '1', text: 'hello there world', createdAt: '', isRetweet: false, author })}\n`);
  t.deepEqual((await readSource(path)).profile, author);
});

test('JSON Lines: a bad line is named by its number', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'bad.jsonl');
  await writeFile(path, '{"text": "fine"}\n{"text": "broken"\n');
  await t.throwsAsync(readSource(path), { instanceOf: SourceError, message: /bad\.jsonl: line 2 is not valid JSON/ });
  await writeFile(path, '{"text": "fine"}\n\n{"body": "no text"}\n');
  await t.throwsAsync(readSource(path), { message: /bad\.jsonl: line 3 has no "text" string/ });
  await writeFile(path, '["an", "array"]\n');
  await t.throwsAsync(readSource(path), { message: /line 1 is not a JSON object/ });
  await writeFile(path, '{"text": "x", "created_at": "yesterday-ish"}\n');
  await t.throwsAsync(readSource(path), { message: /line 1: created_at "yesterday-ish" is not a date/ });
});

test('CSV: quoted fields with commas, quotes and newlines', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'bob.csv');
  await writeFile(
    path,
    '\ufeffid,Text,created_at,is_retweet\r\n' +
      '1,"hello, world and more",2024-01-01T00:00:00Z,false\r\n' +
      '2,"she said ""hi"" to me",,\r\n' +
      '3,"two\nlines here",,yes\r\n' +
      '\r\n' +
      '4,plain words here,,\r\n',
  );
  const read = await readSource(path);
  t.deepEqual(read.profile, { handle: 'bob' });
  t.deepEqual(
    read.posts.map((p) => [p.id, p.text, p.createdAt, p.isRetweet]),
    [
      ['1', 'hello, world and more', '2024-01-01T00:00:00.000Z', false],
      ['2', 'she said "hi" to me', '', false],
      ['3', 'two\nlines here', '', true],
      ['4', 'plain words here', '', false],
    ],
  );
});

test('CSV: no text column names the columns it has', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'export.csv');
  await writeFile(path, 'id,tweet_body,date\n1,hello,2024-01-01\n');
  await t.throwsAsync(readSource(path), {
    instanceOf: SourceError,
    message: /export\.csv: has no "text" column \(its columns: "id", "tweet_body", "date"\)\. rename the column/,
  });
  await writeFile(path, 'text\n"never closed\n');
  await t.throwsAsync(readSource(path), { message: /export\.csv: is not valid CSV: the quoted field opened on line 2 never closes/ });
});

test('parseCsv: records and the line each starts on', (t) => {
  t.deepEqual(parseCsv('a,b\n"x\ny",z\n,\n'), [
    { fields: ['a', 'b'], line: 1 },
    { fields: ['x\ny', 'z'], line: 2 },
    { fields: ['', ''], line: 4 },
  ]);
  t.deepEqual(parseCsv('text\nno newline at the end'), [
    { fields: ['text'], line: 1 },
    { fields: ['no newline at the end'], line: 2 },
  ]);
});

test('text file: one post a line', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'Carol.txt');
  await writeFile(path, 'first post\r\n\r\nRT @dan: a retweet\nlast one');
  const read = await readSource(path);
  t.deepEqual(read.profile, { handle: 'carol' });
  t.deepEqual(
    read.posts.map((p) => [p.id, p.text, p.isRetweet]),
    [
      ['1', 'first post', false],
      ['3', 'RT @dan: a retweet', true],
      ['4', 'last one', false],
    ],
  );
});

test('an empty file is an error that names it', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['empty.txt', 'empty.jsonl']) {
    await writeFile(join(dir, name), '\n\n');
    await t.throwsAsync(readSource(join(dir, name)), { message: new RegExp(`${name.replace('.', '\\.')}: has no posts`) });
  }
  await writeFile(join(dir, 'header-only.csv'), 'text\n');
  await t.throwsAsync(readSource(join(dir, 'header-only.csv')), { message: /header-only\.csv: has no posts/ });
  await t.throwsAsync(readSource(join(dir, 'absent.csv')), { message: /absent\.csv: no such file/ });
});

test('htmlToText: Mastodon HTML to what was typed', (t) => {
  t.is(htmlToText('<p>first line<br />second line</p><p>new paragraph</p>'), 'first line\nsecond line\n\nnew paragraph');
  t.is(
    htmlToText(
      '<p>Hi <span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a></span> see <a href="https://example.com/page" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="">example.com/page</span><span class="invisible"></span></a></p>',
    ),
    'Hi @bob see https://example.com/page',
  );
  t.is(htmlToText('<p>a &amp; b &lt;tag&gt; &quot;q&quot; &#39;s&#x27; caf&#233;</p>'), 'a & b <tag> "q" \'s\' café');
});
