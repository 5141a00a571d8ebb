// Property-based fuzzing of every source parser (fast-check): whatever the
// input (arbitrary JSON in tweets.js and account.js, damaged zips and random
// bytes, JSON Lines, CSV and text, and arbitrary JSON replies from the X API,
// Bluesky and Mastodon), reading it gives either a valid result or a
// SourceError whose message starts with the source's name, never a TypeError,
// a crash or a hang. A few hundred cases per parser; the seed of a failure is
// printed, and `fc.assert(…, { seed, path })` replays it.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSource, SourceError, type SourceOptions, type SourcePosts } from '../lib/sources/index.js';
import { parseCsv } from '../lib/sources/csv-parse.js';
import { makeZip } from './fixtures/archive/make-zip.js';
import { captureProgress, fakeClock } from './helpers/servers/fake-clock.js';
import { startRawServer, type RawReply } from './helpers/servers/hostile.js';

const SAMPLE = fileURLToPath(new URL('./fixtures/archive/sample', import.meta.url));
/** Cases per parser: a few hundred inside the suite; TWEETSMITH_FUZZ_RUNS sets more for a longer run. */
const RUNS = Number(process.env.TWEETSMITH_FUZZ_RUNS) || 200;

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-fuzz-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A result every later step can rely on: strings where strings belong, at least one post. */
function assertValid(read: SourcePosts): void {
  const ok =
    typeof read.profile.handle === 'string' &&
    (read.profile.name === undefined || typeof read.profile.name === 'string') &&
    (read.profile.avatarUrl === undefined || typeof read.profile.avatarUrl === 'string') &&
    read.posts.length > 0 &&
    read.posts.every(
      (p) => typeof p.id === 'string' && typeof p.text === 'string' && typeof p.createdAt === 'string' && typeof p.isRetweet === 'boolean' && typeof p.author.handle === 'string',
    );
  if (!ok) throw new Error(`an invalid result: ${JSON.stringify(read).slice(0, 500)}`);
}

/** Reads `source`: a valid result, or a SourceError that names it; anything else fails the property. */
async function readsCleanly(source: string, options: SourceOptions = {}): Promise<void> {
  let read: SourcePosts;
  try {
    read = await readSource(source, { progress: captureProgress(), ...options });
  } catch (err) {
    if (err instanceof SourceError && err.message.startsWith(`${source}: `)) return;
    throw new Error(`not a clear error: ${(err as Error)?.stack ?? String(err)}`);
  }
  assertValid(read);
}

/** Any value a field could hold: mostly the right type, sometimes anything. */
const anyOf = <T>(right: fc.Arbitrary<T>) => fc.oneof({ arbitrary: right, weight: 3 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
const maybe = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) => fc.record(fields, { requiredKeys: [] });

// ---------------------------------------------------------------- X archive

const archiveTweet = maybe({
  tweet: anyOf(maybe({ id_str: anyOf(fc.string()), id: anyOf(fc.string()), full_text: anyOf(fc.string()), created_at: anyOf(fc.constant('Sat Aug 12 16:10:37 +0000 2023')) })),
  id_str: anyOf(fc.string()),
  full_text: anyOf(fc.string()),
});
const archiveAccount = maybe({ account: anyOf(maybe({ username: anyOf(fc.string()), accountDisplayName: anyOf(fc.string()) })) });
const archiveProfile = maybe({ profile: anyOf(maybe({ avatarMediaUrl: anyOf(fc.webUrl()) })) });

/** The script as X writes it, or something like it: a prefix, JSON, maybe a semicolon; or raw text. */
const script = (name: string, items: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: fc.tuple(fc.array(items, { maxLength: 4 }), fc.boolean()).map(([list, semi]) => `window.YTD.${name}.part0 = ${JSON.stringify(list)}${semi ? ';' : ''}`), weight: 4 },
    { arbitrary: fc.jsonValue().map((value) => `window.YTD.${name}.part0 = ${JSON.stringify(value) ?? ''}`), weight: 1 },
    { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
  );

test('fuzz: tweets.js, account.js and profile.js in an unpacked archive', async (t) => {
  const dir = await tempDir(t);
  const archive = join(dir, 'archive');
  await cp(SAMPLE, archive, { recursive: true });
  await fc.assert(
    fc.asyncProperty(script('tweets', archiveTweet), script('account', archiveAccount), script('profile', archiveProfile), async (tweets, account, profile) => {
      await writeFile(join(archive, 'data', 'tweets.js'), tweets);
      await writeFile(join(archive, 'data', 'account.js'), account);
      await writeFile(join(archive, 'data', 'profile.js'), profile);
      await readsCleanly(archive);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('fuzz: zip archives, damaged valid ones and random bytes', async (t) => {
  const dir = await tempDir(t);
  const files: Record<string, Buffer> = {};
  for (const name of await readdir(join(SAMPLE, 'data'))) files[`data/${name}`] = await readFile(join(SAMPLE, 'data', name));
  const zip = makeZip(files);
  const path = join(dir, 'fuzz.zip');
  const damaged = fc.oneof(
    // Bytes overwritten at random places.
    fc.array(fc.tuple(fc.nat(zip.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }).map((edits) => {
      const copy = Buffer.from(zip);
      for (const [at, byte] of edits) copy[at] = byte;
      return copy;
    }),
    // Cut short, or a slice taken out.
    fc.tuple(fc.nat(zip.length), fc.nat(zip.length)).map(([a, b]) => Buffer.concat([zip.subarray(0, Math.min(a, b)), zip.subarray(Math.max(a, b))])),
    // A 32-bit field (sizes, offsets, counts) set to an extreme.
    fc.tuple(fc.nat(zip.length - 4), fc.constantFrom(0, 0xffffffff, 0x7fffffff, 1)).map(([at, value]) => {
      const copy = Buffer.from(zip);
      copy.writeUInt32LE(value, at);
      return copy;
    }),
    fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes)),
  );
  await fc.assert(
    fc.asyncProperty(damaged, async (bytes) => {
      await writeFile(path, bytes);
      await readsCleanly(path, { maxArchiveEntryBytes: 1 << 20 });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

// ---------------------------------------------------------------- local files

test('fuzz: JSON Lines', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'posts.jsonl');
  const post = maybe({
    text: anyOf(fc.string()),
    id: anyOf(fc.oneof(fc.string(), fc.integer())),
    created_at: anyOf(fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string())),
    is_retweet: anyOf(fc.oneof(fc.boolean(), fc.constantFrom('true', 'no', '1', 'maybe'))),
    author: anyOf(maybe({ handle: anyOf(fc.string()), name: anyOf(fc.string()), avatarUrl: anyOf(fc.string()) })),
  });
  const line = fc.oneof({ arbitrary: post.map((p) => JSON.stringify(p)), weight: 4 }, { arbitrary: fc.string({ maxLength: 40 }), weight: 1 });
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n'), async (lines, eol) => {
      await writeFile(path, lines.join(eol));
      await readsCleanly(path);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

const csvChars = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r', 'é', '\u0000', '1'), maxLength: 80 });

test('fuzz: CSV, and the parser on its own', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'posts.csv');
  const header = fc.constantFrom('text', 'text,id,created_at,is_retweet', 'id,text', '"text"', 'words');
  await fc.assert(
    fc.asyncProperty(header, csvChars, async (head, body) => {
      await writeFile(path, `${head}\n${body}`);
      await readsCleanly(path);
    }),
    { numRuns: RUNS },
  );
  // parseCsv alone: records or its CsvSyntaxError, and every record holds strings.
  fc.assert(
    fc.property(csvChars, (text) => {
      try {
        for (const record of parseCsv(text)) if (!record.fields.every((f) => typeof f === 'string') || record.line < 1) return false;
        return true;
      } catch (err) {
        return (err as Error).name === 'CsvSyntaxError';
      }
    }),
    { numRuns: RUNS * 2 },
  );
  t.pass();
});

test('fuzz: text files of arbitrary bytes', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'posts.txt');
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.string({ unit: 'binary', maxLength: 200 })), async (content) => {
      await writeFile(path, content);
      await readsCleanly(path);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

// ---------------------------------------------------------------- network replies

/** One server whose every answer is the current case's (set before each run). */
async function replyServer(t: ExecutionContext) {
  let answer: (url: URL) => RawReply = () => ({ json: {} });
  const server = await startRawServer((url) => answer(url));
  t.teardown(() => server.close());
  return { url: server.url, set: (next: (url: URL) => RawReply) => (answer = next) };
}

const status = fc.constantFrom(200, 200, 200, 200, 400, 401, 403, 404, 429, 500);
const now = 1_700_000_000_000;

test('fuzz: X API replies', async (t) => {
  const server = await replyServer(t);
  const user = maybe({ id: anyOf(fc.oneof(fc.constant('42'), fc.string())), username: anyOf(fc.string()), name: anyOf(fc.string()), profile_image_url: anyOf(fc.string()) });
  const lookup = anyOf(maybe({ data: anyOf(user), errors: anyOf(fc.array(maybe({ detail: anyOf(fc.string()) }))) }));
  const tweet = maybe({
    id: anyOf(fc.string()),
    text: anyOf(fc.string()),
    created_at: anyOf(fc.constant('2024-01-01T00:00:00.000Z')),
    note_tweet: anyOf(maybe({ text: anyOf(fc.string()) })),
    referenced_tweets: anyOf(fc.array(maybe({ type: anyOf(fc.constantFrom('retweeted', 'quoted')), id: anyOf(fc.string()) }))),
  });
  const timeline = anyOf(maybe({ data: anyOf(fc.array(tweet, { maxLength: 4 })), meta: anyOf(maybe({ next_token: anyOf(fc.string()) })) }));
  await fc.assert(
    fc.asyncProperty(lookup, timeline, status, async (lookupBody, timelineBody, code) => {
      server.set((url): RawReply => {
        if (url.pathname.includes('/by/username/')) return { json: lookupBody };
        const headers: Record<string, string> = code === 429 ? { 'x-rate-limit-reset': String(now / 1000 + 10) } : {};
        return { status: code, headers, json: timelineBody };
      });
      await readsCleanly('@SampleUser', { xBearerToken: 'fuzz-token', xApiUrl: server.url, clock: fakeClock(now) });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('fuzz: Bluesky replies', async (t) => {
  const server = await replyServer(t);
  const item = maybe({
    post: anyOf(
      maybe({
        uri: anyOf(fc.string()),
        author: anyOf(maybe({ did: anyOf(fc.constant('x.bsky.social')), handle: anyOf(fc.constant('x.bsky.social')), displayName: anyOf(fc.string()), avatar: anyOf(fc.string()) })),
        record: anyOf(maybe({ text: anyOf(fc.string()), createdAt: anyOf(fc.string()) })),
        indexedAt: anyOf(fc.string()),
      }),
    ),
    reason: anyOf(maybe({ $type: anyOf(fc.constant('app.bsky.feed.defs#reasonRepost')), uri: anyOf(fc.string()) })),
  });
  const page = anyOf(maybe({ cursor: anyOf(fc.string()), feed: anyOf(fc.array(item, { maxLength: 4 })), error: anyOf(fc.string()), message: anyOf(fc.string()) }));
  await fc.assert(
    fc.asyncProperty(page, status, async (body, code) => {
      const headers: Record<string, string> = code === 429 ? { 'ratelimit-reset': String(now / 1000 + 10) } : {};
      server.set(() => ({ status: code, headers, json: body }));
      await readsCleanly('bsky:x.bsky.social', { bskyUrl: server.url, clock: fakeClock(now) });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('fuzz: Mastodon replies', async (t) => {
  const server = await replyServer(t);
  const account = anyOf(maybe({ id: anyOf(fc.oneof(fc.constant('42'), fc.string())), username: anyOf(fc.string()), display_name: anyOf(fc.string()), avatar: anyOf(fc.string()) }));
  const toot = maybe({ id: anyOf(fc.string()), content: anyOf(fc.string()), created_at: anyOf(fc.string()), reblog: anyOf(maybe({ content: anyOf(fc.string()) })) });
  const statuses = anyOf(fc.array(toot, { maxLength: 4 }));
  const link = fc.option(
    fc.oneof(
      fc.string(),
      fc.constantFrom('</api/v1/accounts/42/statuses?max_id=1>; rel="next"', '<http://[::1>; rel="next"', '<https://elsewhere.example/x>; rel=next', '<>; rel="next"'),
    ),
    { nil: undefined },
  );
  await fc.assert(
    fc.asyncProperty(account, statuses, status, link, async (accountBody, statusesBody, code, linkHeader) => {
      server.set((url): RawReply => {
        if (url.pathname.endsWith('/lookup')) return { json: accountBody };
        return { status: code, headers: linkHeader === undefined ? {} : { link: linkHeader }, json: statusesBody };
      });
      await readsCleanly('mastodon:@sample@social.example', { mastodonUrl: server.url, clock: fakeClock(now) });
    }),
    { numRuns: RUNS },
  );
  t.pass();
});
