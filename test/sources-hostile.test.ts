// The network sources against hostile servers on 127.0.0.1
// (test/helpers/servers/hostile.ts): endless cursors end the reading, a
// rate-limit reset a day away is an error that says when to retry, bodies
// past the cap are cut off after reading no more than the cap, fields of the
// wrong type and path-like ids are errors that name the URL.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readSource, SourceError, type SourceOptions } from '../lib/sources/index.js';
import { captureProgress, fakeClock } from './helpers/servers/fake-clock.js';
import {
  startHostileBluesky,
  startHostileMastodon,
  startHostileXApi,
  startRawServer,
  type RawServer,
} from './helpers/servers/hostile.js';

const TOKEN = 'AAAAAAAAAAAAAAAAAAAAAhostile-test-token';
const NOW_MS = 1_700_000_000_000;
const DAY_LATER_ISO = new Date(NOW_MS + 24 * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, '');

async function serve(t: { teardown(fn: () => unknown): void }, server: Promise<RawServer>): Promise<RawServer> {
  const started = await server;
  t.teardown(() => started.close());
  return started;
}

function xOptions(server: RawServer, extra: SourceOptions = {}): SourceOptions {
  return { xBearerToken: TOKEN, xApiUrl: server.url, clock: fakeClock(NOW_MS), progress: captureProgress(), ...extra };
}

// ---------------------------------------------------------------- pagination

test('X API: a cursor given twice ends the reading, with what was read', async (t) => {
  const server = await serve(t, startHostileXApi('same-cursor', NOW_MS));
  const progress = captureProgress();
  const read = await readSource('@SampleUser', xOptions(server, { progress }));
  t.deepEqual(read.posts.map((p) => p.text), ['post on page 1', 'post on page 2']);
  t.is(server.requests.length, 1 + 2);
  t.regex(progress.text(), /@SampleUser: the server gave a page cursor it had given before; stopping after 2 pages/);
});

test('X API: fresh cursors over the same posts end after three pages in a row with nothing new', async (t) => {
  const server = await serve(t, startHostileXApi('new-cursor-same-posts', NOW_MS));
  const progress = captureProgress();
  const read = await readSource('@SampleUser', xOptions(server, { progress }));
  t.is(read.posts.length, 1);
  t.is(server.requests.length, 1 + 1 + 3);
  t.regex(progress.text(), /the server gave 3 pages in a row with no new posts; stopping after 4 pages/);
});

test('Bluesky: a repeated cursor and fresh cursors over old posts both end', async (t) => {
  for (const mode of ['same-cursor', 'new-cursor-same-posts'] as const) {
    const server = await serve(t, startHostileBluesky(mode, NOW_MS));
    const read = await readSource('bsky:x.bsky.social', { bskyUrl: server.url, progress: captureProgress() });
    t.is(read.posts.length, mode === 'same-cursor' ? 2 : 1, mode);
    t.is(server.requests.length, mode === 'same-cursor' ? 2 : 4, mode);
  }
});

test('Mastodon: a Link rel="next" to the same URL again ends the reading', async (t) => {
  const server = await serve(t, startHostileMastodon('same-link', NOW_MS));
  const progress = captureProgress();
  const read = await readSource('mastodon:@sample@social.example', { mastodonUrl: server.url, progress });
  t.is(read.posts.length, 2);
  t.is(server.requests.length, 1 + 2);
  t.regex(progress.text(), /page cursor it had given before/);
});

// ---------------------------------------------------------------- rate limits

test('a rate-limit reset a day away is an error that says when to retry, after no wait at all', async (t) => {
  const cases: Array<[string, Promise<RawServer>, (server: RawServer) => SourceOptions]> = [
    ['@SampleUser', startHostileXApi('far-reset', NOW_MS), (s) => ({ xBearerToken: TOKEN, xApiUrl: s.url })],
    ['bsky:x.bsky.social', startHostileBluesky('far-reset', NOW_MS), (s) => ({ bskyUrl: s.url })],
    ['mastodon:@sample@social.example', startHostileMastodon('far-reset', NOW_MS), (s) => ({ mastodonUrl: s.url })],
  ];
  for (const [source, start, options] of cases) {
    const server = await serve(t, start);
    const clock = fakeClock(NOW_MS);
    const err = await t.throwsAsync(readSource(source, { ...options(server), clock, progress: captureProgress() }), { instanceOf: SourceError });
    t.true(err.message.startsWith(`${source}: rate limited until ${DAY_LATER_ISO}`), err.message);
    t.regex(err.message, /further away than the longest wait allowed \(15:00\)\. try again after \d{4}-/);
    t.deepEqual(clock.sleeps, [], source);
  }
});

test('the CLI: --rate-limit-wait sets the cap (default 15 minutes), and a reset past it fails the command at once', async (t) => {
  const server = await serve(t, startHostileXApi('far-reset', Date.now()));
  const dir = mkdtempSync(join(tmpdir(), 'tweetsmith-hostile-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cli = join(import.meta.dirname, '..', 'bin', 'tweetsmith.js');
  // Offline, with a local base: nothing but the fake server is ever asked.
  const env = { ...process.env, X_BEARER_TOKEN: TOKEN, TWEETSMITH_X_API_URL: server.url, HF_HUB_OFFLINE: '1', HF_HOME: dir };
  // a base with GPT-2's tokenizer files (train refuses a base whose tokenizer it cannot read)
  const base = join(dir, 'base');
  await promisify(execFile)(process.execPath, [cli, 'init-model', '--size', 'tiny', '--out', base], { env });
  for (const [command, extra, shown] of [
    ['dataset', [], '15:00'],
    ['train', ['--rate-limit-wait', '1', '--base', base], '1:00'],
  ] as const) {
    const failed = await promisify(execFile)(process.execPath, [cli, command, '@SampleUser', '--out', join(dir, command), ...extra], { env }).then(
      () => undefined,
      (err: { stderr: string; code: number }) => err,
    );
    t.truthy(failed, command);
    t.regex(failed!.stderr, new RegExp(`@SampleUser: rate limited until \\S+, further away than the longest wait allowed \\(${shown}\\)\\. try again after`), command);
    t.false(failed!.stderr.includes(TOKEN));
  }
});

test("X API: the app's 24-hour cap is an error naming its reset; a longer cap option waits it out", async (t) => {
  const server = await serve(t, startHostileXApi('day-cap', NOW_MS));
  const fiveHours = new Date(NOW_MS + 5 * 3600 * 1000).toISOString();
  await t.throwsAsync(readSource('@SampleUser', xOptions(server)), { message: new RegExp(`rate limited until ${fiveHours.replace(/[.]/g, '\\.')}`) });

  const clock = fakeClock(NOW_MS);
  // Allowed to wait six hours, it waits the five; the server keeps answering 429 with
  // the same (now past) reset, and after ten tries the reading gives up.
  await t.throwsAsync(readSource('@SampleUser', xOptions(server, { clock, maxRateLimitWaitMs: 6 * 3600 * 1000 })), {
    message: /X kept answering "too many requests" \(HTTP 429\)/,
  });
  t.is(clock.now() - NOW_MS, 5 * 3600 * 1000 + 1000);
});

// ---------------------------------------------------------------- size caps

test('a reply that never ends is cut off once past the cap, with the URL named', async (t) => {
  const cap = 256 * 1024;
  const cases: Array<[string, Promise<RawServer>, (server: RawServer) => SourceOptions]> = [
    ['@SampleUser', startHostileXApi('endless-body', NOW_MS), (s) => ({ xBearerToken: TOKEN, xApiUrl: s.url })],
    ['bsky:x.bsky.social', startHostileBluesky('endless-body', NOW_MS), (s) => ({ bskyUrl: s.url })],
    ['mastodon:@sample@social.example', startHostileMastodon('endless-body', NOW_MS), (s) => ({ mastodonUrl: s.url })],
  ];
  for (const [source, start, options] of cases) {
    const server = await serve(t, start);
    const err = await t.throwsAsync(readSource(source, { ...options(server), maxJsonReplyBytes: cap, progress: captureProgress() }), {
      instanceOf: SourceError,
    });
    t.regex(err.message, new RegExp(`^${source.replace(/[.@]/g, '\\$&')}: http://127\\.0\\.0\\.1:\\d+/\\S+ answered with more than ${cap} bytes`));
    t.regex(err.message, /allow more \(maxJsonReplyBytes\)/);
    // It stopped reading: what the server got out is the cap plus what socket buffers hold, not the endless rest.
    t.true(server.streamedBytes() < 32 * 1024 * 1024, `${server.streamedBytes()} bytes streamed`);
  }
});

test('a Content-Length past the default cap (32 MiB) is refused before the body is read', async (t) => {
  const server = await serve(t, startHostileXApi('huge-declared', NOW_MS));
  await t.throwsAsync(readSource('@SampleUser', xOptions(server)), {
    message: /answered with 67108864 bytes, more than the 33554432 bytes a reply may have/,
  });
});

// ---------------------------------------------------------------- wrong types and path-like values

test('X API: a user id that is a path, or a body that is not JSON, is a clear error', async (t) => {
  const badId = await serve(t, startHostileXApi('bad-user-id', NOW_MS));
  await t.throwsAsync(readSource('@SampleUser', xOptions(badId)), {
    instanceOf: SourceError,
    message: /^@SampleUser: the reply from http:\/\/127\.0\.0\.1:\d+\/2\/users\/by\/username\/SampleUser\.data: "id" "\.\.\/\.\.\/2\/tweets" is not an X user id/,
  });
  t.is(badId.requests.length, 1, 'the path-like id was never requested');

  const notJson = await serve(t, startHostileXApi('not-json', NOW_MS));
  await t.throwsAsync(readSource('@SampleUser', xOptions(notJson)), {
    instanceOf: SourceError,
    message: /^@SampleUser: the reply from http:\/\/127\.0\.0\.1:\d+\/2\/users\/2244994945\/tweets is not JSON/,
  });
});

test('Mastodon: an account id that is a path is refused before it is used', async (t) => {
  const server = await serve(t, startHostileMastodon('path-account-id', NOW_MS));
  await t.throwsAsync(readSource('mastodon:@sample@social.example', { mastodonUrl: server.url, progress: captureProgress() }), {
    instanceOf: SourceError,
    message: /"id" "\.\.\/\.\.\/\.\.\/admin" is not an account id/,
  });
  t.is(server.requests.length, 1);
});

/** A server answering every request with `body` (the lookup too, for the X API: `data` then holds the user). */
function fieldCases(): Array<{ source: string; route: (url: URL) => unknown; options: (url: string) => SourceOptions; message: RegExp }> {
  const xUser = { data: { id: '1', username: 'u' } };
  return [
    {
      source: '@u',
      route: (url) => (url.pathname.includes('/by/username/') ? xUser : { data: [{ id: '5', text: { html: 'no' } }] }),
      options: (url) => ({ xBearerToken: TOKEN, xApiUrl: url }),
      message: /^@u: the reply from \S+\/2\/users\/1\/tweets: data\[0\]: "text" is an object, not a string/,
    },
    {
      source: '@u',
      route: (url) => (url.pathname.includes('/by/username/') ? { data: { id: 7, username: 'u' } } : {}),
      options: (url) => ({ xBearerToken: TOKEN, xApiUrl: url }),
      message: /^@u: the reply from \S+\/by\/username\/u\.data: "id" is the number 7, not a string/,
    },
    {
      source: '@u',
      route: (url) => (url.pathname.includes('/by/username/') ? xUser : { data: 'many', meta: {} }),
      options: (url) => ({ xBearerToken: TOKEN, xApiUrl: url }),
      message: /"data" is "many", not a list/,
    },
    {
      source: 'bsky:u.bsky.social',
      route: () => ({ feed: [{ post: { uri: 'at://x/y/z', record: { text: 'hi' }, author: { handle: ['u'] , did: 'did:x' } } }] }),
      options: (url) => ({ bskyUrl: url }),
      message: /^bsky:u\.bsky\.social: the reply from \S+getAuthorFeed: feed\[0\]\.post\.author: "handle" is a list, not a string/,
    },
    {
      source: 'bsky:u.bsky.social',
      route: () => ({ feed: { 0: 'x' } }),
      options: (url) => ({ bskyUrl: url }),
      message: /"feed" is an object, not a list/,
    },
    {
      source: 'mastodon:@u@h.example',
      route: (url) => (url.pathname.endsWith('/lookup') ? { id: '1', display_name: 12 } : []),
      options: (url) => ({ mastodonUrl: url }),
      message: /^mastodon:@u@h\.example: the reply from \S+\/lookup: "display_name" is the number 12, not a string/,
    },
    {
      source: 'mastodon:@u@h.example',
      route: (url) => (url.pathname.endsWith('/lookup') ? { id: '1' } : { statuses: [] }),
      options: (url) => ({ mastodonUrl: url }),
      message: /\/statuses is an object, not a list of statuses/,
    },
    {
      source: 'mastodon:@u@h.example',
      route: (url) => (url.pathname.endsWith('/lookup') ? { id: '1' } : [{ id: '2', content: ['<p>'] }]),
      options: (url) => ({ mastodonUrl: url }),
      message: /status 1: "content" is a list, not a string/,
    },
  ];
}

test('fields of the wrong type are errors naming the source, the URL and the field', async (t) => {
  for (const { source, route, options, message } of fieldCases()) {
    const server = await serve(t, startRawServer((url) => ({ json: route(url) })));
    const err = await t.throwsAsync(readSource(source, { ...options(server.url), progress: captureProgress() }), { instanceOf: SourceError });
    t.regex(err.message, message);
  }
});

test('Mastodon: a Link rel="next" that is no URL is not followed (and is no TypeError)', async (t) => {
  const server = await serve(
    t,
    startRawServer((url) =>
      url.pathname.endsWith('/lookup')
        ? { json: { id: '42' } }
        : { headers: { link: '<http://[::1>; rel="next"' }, json: url.searchParams.has('max_id') ? [] : [{ id: '7', content: '<p>hi</p>' }] },
    ),
  );
  const read = await readSource('mastodon:@a@b.example', { mastodonUrl: server.url, progress: captureProgress() });
  t.deepEqual(read.posts.map((p) => p.text), ['hi']);
  // It went on by max_id on its own server, not to the broken link.
  t.is(new URL(server.requests.at(-1)!.url, server.url).searchParams.get('max_id'), '7');
});

test('X API: one empty page in the middle (deleted posts) does not end the reading', async (t) => {
  const pages: Record<string, unknown> = {
    '': { data: [{ id: '3', text: 'newest' }], meta: { next_token: 't1' } },
    t1: { meta: { result_count: 0, next_token: 't2' } },
    t2: { data: [{ id: '1', text: 'oldest' }], meta: {} },
  };
  const server = await serve(
    t,
    startRawServer((url) =>
      url.pathname.includes('/by/username/') ? { json: { data: { id: '9', username: 'u' } } } : { json: pages[url.searchParams.get('pagination_token') ?? ''] },
    ),
  );
  const read = await readSource('@u', xOptions(server));
  t.deepEqual(read.posts.map((p) => p.text), ['newest', 'oldest']);
});
