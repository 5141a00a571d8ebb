// Building the dataset: counts, size limits, seeded shuffles, up-sampling,
// validation split, token blocks, the data table and the dataset folder.
import test, { type ExecutionContext } from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildDataset,
  collectPosts,
  createRng,
  cutIntoBlocks,
  joinedCharacters,
  makeDataset,
  modelNameFor,
  normalizeHandle,
  NotEnoughDataError,
  readTokenBlocks,
  renderDataTable,
  shuffled,
  tokenBlocksToBytes,
  upsampleToCharacters,
  writeDatasetDir,
  type Dataset,
  type DatasetUser,
} from '../lib/data/index.js';
import { readSource, type Post } from '../lib/sources/index.js';
import { Tokenizer } from '../lib/tokenizer/index.js';
import { captureProgress } from './helpers/servers/fake-clock.js';
import { postOfLength, syntheticPosts } from './helpers/servers/synthetic-posts.js';
import { startFakeXApi } from './helpers/servers/x-api.js';

const EOT = '<|endoftext|>';
const SAMPLE = fileURLToPath(new URL('./fixtures/archive/sample', import.meta.url));
const tokenizer = Tokenizer.gpt2();

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-dataset-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The tweets of a training or validation text, in order. */
function tweetsOf(text: string): string[] {
  if (text === '') return [];
  const parts = text.split(EOT);
  return parts.slice(1, -1);
}

const sorted = (items: readonly string[]) => [...items].sort();

// ---------------------------------------------------------------- random numbers

test('createRng: xoshiro128** seeded by splitmix32, pinned outputs', (t) => {
  // Computed independently (a Python transcription of the same algorithm).
  const rng = createRng(42, 'x');
  t.deepEqual([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()], [1993691856, 2708275663, 4033137467]);
  const a = createRng(42, 'x');
  const b = createRng(42, 'y');
  t.not(a.nextUint32(), b.nextUint32());
  t.not(createRng(2 ** 40).nextUint32(), createRng(0).nextUint32());
  t.throws(() => createRng(-1), { instanceOf: RangeError });
  t.throws(() => createRng(1.5), { instanceOf: RangeError });
});

test('nextBelow stays in range; shuffled is a permutation', (t) => {
  const rng = createRng(7);
  for (let i = 0; i < 1000; i++) {
    const x = rng.nextBelow(10);
    t.true(x >= 0 && x < 10 && Number.isInteger(x));
  }
  const items = Array.from({ length: 50 }, (_, i) => i);
  const mixed = shuffled(items, createRng(1));
  t.notDeepEqual(mixed, items);
  t.deepEqual([...mixed].sort((x, y) => x - y), items);
});

// ---------------------------------------------------------------- handles, sizes, blocks, table

test('handles: @ dropped, lower-cased; bot or cyborg named by the sorted handles', (t) => {
  t.is(normalizeHandle('@ElonMusk'), 'elonmusk');
  t.deepEqual(modelNameFor(['@Solo']), { kind: 'bot', name: 'solo' });
  t.deepEqual(modelNameFor(['@Zed', 'alice', '@ALICE']), { kind: 'cyborg', name: 'alice-zed' });
});

test('joinedCharacters counts code points, with <|endoftext|> between tweets', (t) => {
  t.is(joinedCharacters([]), 0);
  t.is(joinedCharacters(['abc']), 3);
  t.is(joinedCharacters(['abc', 'de']), 3 + 13 + 2);
  t.is(joinedCharacters(['😀 ab cd']), 7);
});

test('cutIntoBlocks drops the last partial block; .bin is uint32 little-endian', async (t) => {
  const blocks = cutIntoBlocks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3);
  t.deepEqual([...blocks], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(cutIntoBlocks([1, 2], 3).length, 0);
  const bytes = tokenBlocksToBytes(Uint32Array.from([50256, 1, 0x01020304]));
  t.deepEqual([...bytes], [0x50, 0xc4, 0, 0, 1, 0, 0, 0, 4, 3, 2, 1]);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'x.bin'), tokenBlocksToBytes(blocks));
  t.deepEqual([...(await readTokenBlocks(join(dir, 'x.bin'), 3))], [...blocks]);
  await t.throwsAsync(readTokenBlocks(join(dir, 'x.bin'), 4), { message: /not a whole number of 4-token blocks/ });
});

test('renderDataTable: the seed card table, and one column per person', (t) => {
  t.is(
    renderDataTable([{ handle: 'soashworth', name: 'Scott Ashworth', downloaded: 3250, retweets: 266, short: 394, kept: 2590 }]),
    '| Data | Quantity |\n| --- | --- |\n| Tweets downloaded | 3250 |\n| Retweets | 266 |\n| Short tweets | 394 |\n| Tweets kept | 2590 |\n',
  );
  t.is(
    renderDataTable([
      { handle: 'a', name: 'Ann | A', downloaded: 10, retweets: 1, short: 2, kept: 7 },
      { handle: 'b', downloaded: 5, retweets: 0, short: 1, kept: 4 },
    ]),
    '| Data | Ann \\| A | @b |\n| --- | --- | --- |\n| Tweets downloaded | 10 | 5 |\n| Retweets | 1 | 0 |\n| Short tweets | 2 | 1 |\n| Tweets kept | 7 | 4 |\n',
  );
});

// ---------------------------------------------------------------- the 6,000 / 40,000 limits

/** n posts whose kept texts join to exactly `total` characters: (n-1) of 87 and one to make up the rest. */
function postsJoiningTo(handle: string, n: number, total: number): Post[] {
  const last = total - (n - 1) * 87 - (n - 1) * 13;
  return [...Array.from({ length: n - 1 }, (_, i) => postOfLength(handle, i, 87)), postOfLength(handle, n - 1, last)];
}

test('fewer than 6,000 characters is an error with the four counts', async (t) => {
  const posts = [
    ...postsJoiningTo('small', 60, 5999),
    { id: 'rt', text: 'RT @x: not mine', createdAt: '', isRetweet: true, author: { handle: 'small' } },
    { id: 'short', text: 'ok https://t.co/z', createdAt: '', isRetweet: false, author: { handle: 'small' } },
  ];
  t.is(joinedCharacters(posts.slice(0, 60).map((p) => p.text)), 5999);
  const error = await t.throwsAsync(buildDataset({ users: [{ handle: 'small', posts }], tokenizer }), { instanceOf: NotEnoughDataError });
  t.is(error.characters, 5999);
  t.deepEqual(error.counts, { downloaded: 62, retweets: 1, short: 1, kept: 60 });
  t.regex(error.message, /^@small: not enough text to learn from: 5999 characters of kept tweets, 6000 needed \(tweets downloaded 62, retweets 1, short tweets 1, tweets kept 60\)/);
});

test('6,000 characters is enough, with a warning under 40,000', async (t) => {
  const dataset = await buildDataset({ users: [{ handle: 'small', posts: postsJoiningTo('small', 60, 6000) }], tokenizer, epochs: 1, seed: 1 });
  t.is(dataset.stats.users[0]!.characters, 6000);
  t.deepEqual(dataset.stats.warnings, ['@small: only 6000 characters of kept tweets (under 40000): the model may not write much like them']);
  const almost = await buildDataset({ users: [{ handle: 'mid', posts: postsJoiningTo('mid', 400, 39999) }], tokenizer, epochs: 1, seed: 1 });
  t.is(almost.stats.warnings.length, 1);
  const enough = await buildDataset({ users: [{ handle: 'big', posts: postsJoiningTo('big', 400, 40000) }], tokenizer, epochs: 1, seed: 1 });
  t.deepEqual(enough.stats.warnings, []);
});

test('the limits are options with the original defaults', async (t) => {
  const posts = postsJoiningTo('small', 20, 2000);
  await t.throwsAsync(buildDataset({ users: [{ handle: 'small', posts }], tokenizer }), { instanceOf: NotEnoughDataError });
  const dataset = await buildDataset({ users: [{ handle: 'small', posts }], tokenizer, minCharacters: 1000, warnCharacters: 1500, seed: 3 });
  t.deepEqual(dataset.stats.warnings, []);
});

// ---------------------------------------------------------------- the fixture archive, end to end

test('the sample archive: counts and training text as worked out by hand', async (t) => {
  const read = await readSource(SAMPLE);
  const user: DatasetUser = { handle: read.profile.handle, name: read.profile.name, posts: read.posts };
  const dataset = await buildDataset({ users: [user], tokenizer, epochs: 2, seed: 11, minCharacters: 0, blockSize: 8 });
  const stats = dataset.stats;
  t.is(stats.kind, 'bot');
  t.is(stats.name, 'sampleuser');
  t.like(stats.users[0], { handle: 'sampleuser', name: 'Sample User', downloaded: 10, retweets: 2, short: 3, kept: 5, characters: 64 + 35 + 45 + 42 + 45 + 4 * 13 });
  const kept = [
    'Just shipped a new release of my side project & I am proud of it',
    'Morning thoughts on coffee and code',
    'Three lines today and a second <thought> here',
    'Writing tests by hand is slow but worth it',
    'The last tweet in the archive, from part ten.',
  ];
  t.deepEqual(kept.map((tweet) => tweet.length), [64, 35, 45, 42, 45]);
  t.true(dataset.trainText.startsWith(EOT) && dataset.trainText.endsWith(EOT));
  const tweets = tweetsOf(dataset.trainText);
  t.is(tweets.length, 10);
  t.deepEqual(sorted(tweets.slice(0, 5)), sorted(kept), 'epoch 1 holds each kept tweet once');
  t.deepEqual(sorted(tweets.slice(5)), sorted(kept), 'epoch 2 too');
  t.is(dataset.trainText, EOT + tweets.join(EOT) + EOT);
  // Tokenized once, cut into blocks of 8.
  const tokens = tokenizer.encode(dataset.trainText);
  t.is(stats.trainTokens, tokens.length);
  t.is(stats.trainBlocks, Math.floor(tokens.length / 8));
  t.deepEqual([...dataset.trainBlocks], tokens.slice(0, stats.trainBlocks * 8));
  t.is(dataset.trainBlocks[0], 50256);

  const withNewlines = await buildDataset({ users: [user], tokenizer, epochs: 1, seed: 11, minCharacters: 0, allowNewlines: true });
  t.true(tweetsOf(withNewlines.trainText).includes('Three lines today\nand a second <thought> here'));
});

// ---------------------------------------------------------------- seeds

test('the same seed gives the same bytes; another seed another order', async (t) => {
  const users = [{ handle: 'alice', posts: syntheticPosts('alice', 700) }];
  const build = (seed: number) => buildDataset({ users, tokenizer, seed, blockSize: 64, validSplit: 0.1 });
  const [a, b, c] = await Promise.all([build(5), build(5), build(6)]);
  t.is(a.trainText, b.trainText);
  t.is(a.validText, b.validText);
  t.true(Buffer.from(a.trainBlocks.buffer).equals(Buffer.from(b.trainBlocks.buffer)));
  t.deepEqual(a.stats, b.stats);
  t.is(a.stats.seed, 5);
  t.not(a.trainText, c.trainText);
  // Different held-out tweets and order, the same tweets in all.
  const everyTweet = (d: Dataset) => sorted([...new Set([...tweetsOf(d.trainText), ...tweetsOf(d.validText)])]);
  t.deepEqual(everyTweet(a), sorted(users[0]!.posts.map((p) => p.text)));
  t.deepEqual(everyTweet(c), everyTweet(a));
  t.notDeepEqual(tweetsOf(a.validText), tweetsOf(c.validText));
  // Without a seed one is drawn, and recorded.
  const random = await buildDataset({ users, tokenizer, blockSize: 64 });
  t.true(Number.isSafeInteger(random.stats.seed));
  const again = await buildDataset({ users, tokenizer, blockSize: 64, seed: random.stats.seed });
  t.is(again.trainText, random.trainText);
});

test('epochs: each is a shuffled copy of the data', async (t) => {
  const posts = syntheticPosts('alice', 500);
  const dataset = await buildDataset({ users: [{ handle: 'alice', posts }], tokenizer, seed: 9, epochs: 3 });
  const tweets = tweetsOf(dataset.trainText);
  t.is(tweets.length, 1500);
  const one = sorted(posts.map((p) => p.text));
  for (let e = 0; e < 3; e++) t.deepEqual(sorted(tweets.slice(e * 500, (e + 1) * 500)), one);
  t.notDeepEqual(tweets.slice(0, 500), tweets.slice(500, 1000));
  t.is(dataset.stats.epochs, 3);
  t.is(dataset.stats.blockSize, 1024);
});

// ---------------------------------------------------------------- cyborgs

test('upsampleToCharacters repeats tweets in shuffled order until the target', (t) => {
  const tweets = ['aaaa bbbb cccc', 'dddd eeee ffff', 'gggg hhhh iiii'];
  const out = upsampleToCharacters(tweets, 200, createRng(3));
  t.deepEqual(out.slice(0, 3), tweets);
  t.true(joinedCharacters(out) >= 200);
  t.true(joinedCharacters(out.slice(0, -1)) < 200);
  // Each round of repeats is a permutation of the list.
  t.deepEqual(sorted(out.slice(3, 6)), sorted(tweets));
  t.deepEqual(upsampleToCharacters(tweets, 10, createRng(3)), tweets);
});

test('a cyborg: characters equalised, named by sorted handles, order of naming irrelevant', async (t) => {
  const big = { handle: '@Zara', posts: syntheticPosts('zara', 900) };
  const small = { handle: 'bob', posts: syntheticPosts('bob', 250) };
  const dataset = await buildDataset({ users: [big, small], tokenizer, seed: 4, epochs: 2 });
  const { stats } = dataset;
  t.is(stats.kind, 'cyborg');
  t.is(stats.name, 'bob-zara');
  t.deepEqual(stats.users.map((u) => u.handle), ['bob', 'zara']);
  const [bob, zara] = stats.users as [(typeof stats.users)[0], (typeof stats.users)[0]];
  t.is(zara.upsampledTweets, 900);
  t.true(bob.upsampledTweets > 250);

  const tweets = tweetsOf(dataset.trainText);
  t.is(tweets.length, 2 * (bob.upsampledTweets + zara.upsampledTweets));
  const epoch = tweets.slice(0, bob.upsampledTweets + zara.upsampledTweets);
  const bobs = epoch.filter((tweet) => tweet.startsWith('bob '));
  const zaras = epoch.filter((tweet) => tweet.startsWith('zara '));
  t.is(bobs.length, bob.upsampledTweets);
  // Bob's share reaches Zara's, overshooting by less than one tweet.
  t.true(joinedCharacters(bobs) >= joinedCharacters(zaras));
  t.true(joinedCharacters(bobs) - joinedCharacters(zaras) < 13 + Math.max(...bobs.map((b) => b.length)));
  // Each of Bob's tweets is there at least 3 times (zara writes > 3× as much).
  t.true(new Set(bobs).size === 250);

  const swapped = await buildDataset({ users: [small, big], tokenizer, seed: 4, epochs: 2 });
  t.is(swapped.trainText, dataset.trainText);
});

test('users: 1 to 3, no handle twice', async (t) => {
  const user = (handle: string) => ({ handle, posts: syntheticPosts(handle, 300) });
  await t.throwsAsync(buildDataset({ users: [], tokenizer }), { message: /from 1 to 3 people, not 0/ });
  await t.throwsAsync(buildDataset({ users: ['a', 'b', 'c', 'd'].map(user), tokenizer }), { message: /from 1 to 3 people, not 4/ });
  await t.throwsAsync(buildDataset({ users: [user('@Ann'), user('ann')], tokenizer }), { message: /@ann is named twice/ });
  await t.throwsAsync(buildDataset({ users: [user('a')], tokenizer, validSplit: 1 }), { instanceOf: RangeError });
  await t.throwsAsync(buildDataset({ users: [user('a')], tokenizer, epochs: 0 }), { instanceOf: RangeError });
});

// ---------------------------------------------------------------- validation split

test('a validation split holds out whole tweets before the epochs', async (t) => {
  const posts = syntheticPosts('alice', 400);
  const dataset = await buildDataset({ users: [{ handle: 'alice', posts }], tokenizer, seed: 2, validSplit: 0.1, blockSize: 128 });
  const valid = tweetsOf(dataset.validText);
  const train = tweetsOf(dataset.trainText);
  t.is(valid.length, 40);
  t.is(train.length, 4 * 360);
  t.deepEqual(sorted([...train.slice(0, 360), ...valid]), sorted(posts.map((p) => p.text)));
  t.false(valid.some((tweet) => train.includes(tweet)));
  t.like(dataset.stats.users[0], { trainTweets: 360, validTweets: 40 });
  const validTokens = tokenizer.encode(dataset.validText);
  t.is(dataset.stats.validTokens, validTokens.length);
  t.is(dataset.validBlocks.length, Math.floor(validTokens.length / 128) * 128);
  t.true(dataset.validBlocks.length > 0);

  const none = await buildDataset({ users: [{ handle: 'alice', posts }], tokenizer, seed: 2 });
  t.is(none.validText, '');
  t.is(none.validBlocks.length, 0);
});

// ---------------------------------------------------------------- collecting and writing

test('collectPosts: one person from their archive and the API, each post once; same source twice ignored', async (t) => {
  const token = 'collect-test-token';
  const server = await startFakeXApi({
    token,
    user: { id: '1234567890', username: 'SampleUser', name: 'Sample User' },
    pages: [
      [
        { id: '1011', text: 'A new post after the archive was made', created_at: '2023-09-02T00:00:00.000Z' },
        { id: '1010', text: 'The last tweet in the archive, from part ten.', created_at: '2023-08-04T12:00:00.000Z' },
      ],
    ],
  });
  t.teardown(() => server.close());
  const users = await collectPosts([SAMPLE, '@SampleUser', 'x:sampleuser'], { xBearerToken: token, xApiUrl: server.url, progress: captureProgress() });
  t.is(users.length, 1);
  t.like(users[0], { handle: 'sampleuser', name: 'Sample User', avatarUrl: 'https://pbs.twimg.com/profile_images/1/sample.jpg' });
  t.deepEqual(users[0]!.sources, [SAMPLE, '@SampleUser']);
  t.is(users[0]!.posts.length, 11);
  t.is(server.requests.length, 2);
});

test('collectPosts: more than 3 people is refused before anything is downloaded', async (t) => {
  await t.throwsAsync(collectPosts(['@a', '@b', '@c', '@d'], { xApiUrl: 'http://127.0.0.1:9', progress: captureProgress() }), {
    message: '4 people (@a, @b, @c, @d): a model is made from 1 to 3',
  });
  await t.throwsAsync(collectPosts([]), { message: /no source given/ });
});

async function smallDataset(seed: number): Promise<{ dataset: Dataset; posts: Post[] }> {
  const posts = syntheticPosts('alice', 300);
  return { dataset: await buildDataset({ users: [{ handle: 'alice', posts }], tokenizer, seed, blockSize: 32, validSplit: 0.2 }), posts };
}

test('writeDatasetDir writes every file, replaces an earlier dataset, refuses other folders', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'data', 'alice');
  const { dataset, posts } = await smallDataset(1);
  const manifest = await writeDatasetDir(out, posts, dataset);
  t.deepEqual((await readdir(out)).sort(), ['.tweetsmith-output.json', 'posts.jsonl', 'stats.json', 'train.bin', 'train.txt', 'valid.bin', 'valid.txt']);
  t.like(manifest, { format: 'tweetsmith-dataset', formatVersion: 1, tokenFormat: 'uint32le', seed: 1, blockSize: 32 });
  t.deepEqual(JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')), manifest);
  t.is(await readFile(join(out, 'train.txt'), 'utf8'), dataset.trainText);
  t.deepEqual([...(await readTokenBlocks(join(out, 'train.bin'), 32))], [...dataset.trainBlocks]);
  t.deepEqual([...(await readTokenBlocks(join(out, 'valid.bin'), 32))], [...dataset.validBlocks]);
  const lines = (await readFile(join(out, 'posts.jsonl'), 'utf8')).trimEnd().split('\n');
  t.deepEqual(JSON.parse(lines[0]!), posts[0]);
  t.is(lines.length, 300);

  const second = await smallDataset(2);
  await writeDatasetDir(out, second.posts, second.dataset);
  t.is(JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')).seed, 2);
  t.deepEqual(await readdir(join(dir, 'data')), ['alice'], 'no staging or old folder left behind');

  const other = join(dir, 'photos');
  await mkdir(other);
  await writeFile(join(other, 'cat.jpg'), 'meow');
  await t.throwsAsync(writeDatasetDir(other, posts, dataset), { message: /photos holds .*cat\.jpg, which tweetsmith did not write/ });
  t.deepEqual(await readdir(other), ['cat.jpg']);
});

test('makeDataset: a source failing midway leaves the earlier dataset untouched', async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, 'alice.jsonl');
  await writeFile(good, syntheticPosts('alice', 300).map((p) => JSON.stringify({ text: p.text })).join('\n'));
  const out = join(dir, 'out');
  const progress = captureProgress();
  await makeDataset([good], { out, seed: 1, progress });
  const before = await readFile(join(out, 'train.bin'));

  const bad = join(dir, 'bob.jsonl');
  await writeFile(bad, '{"text": "fine line here"}\n{oops\n');
  await t.throwsAsync(makeDataset([good, bad], { out, seed: 2, progress }), { message: /bob\.jsonl: line 2 is not valid JSON/ });
  t.true(before.equals(await readFile(join(out, 'train.bin'))));
  t.deepEqual((await readdir(dir)).sort(), ['alice.jsonl', 'bob.jsonl', 'out']);
});
