// Network sources against local stand-ins on 127.0.0.1 that answer as the
// real services do: the X API v2 (two pages and a 429), Bluesky and Mastodon
// (pages with reposts), and their ways of saying no.
import test from 'ava';
import { readSource, SourceError, X_TIMELINE_CAP } from '../lib/sources/index.js';
import { captureProgress, fakeClock } from './helpers/servers/fake-clock.js';
import { startFakeBluesky, type FakeSkeet } from './helpers/servers/bluesky.js';
import { startFakeMastodon, type FakeToot } from './helpers/servers/mastodon.js';
import { startFakeXApi, type FakeTweet } from './helpers/servers/x-api.js';

const TOKEN = 'AAAAAAAAAAAAAAAAAAAAAsecret-test-token';
const NOW_MS = 1_700_000_000_000;

const X_USER = {
  id: '2244994945',
  username: 'SampleUser',
  name: 'Sample User',
  profile_image_url: 'https://pbs.twimg.com/profile_images/1683501992314798080/xl1POYLw_normal.jpg',
};

const X_PAGES: FakeTweet[][] = [
  [
    { id: '1700000000000000003', text: 'My newest post &amp; a link https://t.co/x1', created_at: '2023-11-14T22:13:20.000Z' },
    {
      id: '1700000000000000002',
      text: 'RT @other: their words, retweeted',
      created_at: '2023-11-14T20:00:00.000Z',
      referenced_tweets: [{ type: 'retweeted', id: '1699999999999999999' }],
    },
  ],
  [
    {
      id: '1700000000000000001',
      text: 'A long post that X cuts short…',
      note_tweet: { text: 'A long post that X cuts short in text but gives whole in note_tweet.' },
      created_at: '2023-11-13T10:00:00.000Z',
    },
    {
      id: '1700000000000000000',
      text: 'quoting someone with my own words',
      created_at: '2023-11-12T10:00:00.000Z',
      referenced_tweets: [{ type: 'quoted', id: '1600000000000000000' }],
    },
  ],
];

test('X API: user lookup, two pages, a 429 waited out with a countdown', async (t) => {
  const server = await startFakeXApi({ token: TOKEN, user: X_USER, pages: X_PAGES, rateLimitOnPage: 1, rateLimitResetS: NOW_MS / 1000 + 90 });
  t.teardown(() => server.close());
  const clock = fakeClock(NOW_MS);
  const progress = captureProgress();
  const read = await readSource('@sampleuser', { xBearerToken: TOKEN, xApiUrl: server.url, clock, progress });

  t.deepEqual(read.profile, {
    handle: 'SampleUser',
    name: 'Sample User',
    avatarUrl: 'https://pbs.twimg.com/profile_images/1683501992314798080/xl1POYLw_400x400.jpg',
  });
  t.deepEqual(
    read.posts.map((p) => [p.id, p.text, p.createdAt, p.isRetweet]),
    [
      ['1700000000000000003', 'My newest post &amp; a link https://t.co/x1', '2023-11-14T22:13:20.000Z', false],
      ['1700000000000000002', 'RT @other: their words, retweeted', '2023-11-14T20:00:00.000Z', true],
      ['1700000000000000001', 'A long post that X cuts short in text but gives whole in note_tweet.', '2023-11-13T10:00:00.000Z', false],
      ['1700000000000000000', 'quoting someone with my own words', '2023-11-12T10:00:00.000Z', false],
    ],
  );

  // The conversation: lookup with the profile fields, page 1, page 2 (429), page 2 again.
  const paths = server.requests.map((r) => new URL(r.url, server.url));
  t.deepEqual(
    paths.map((u) => u.pathname),
    ['/2/users/by/username/sampleuser', '/2/users/2244994945/tweets', '/2/users/2244994945/tweets', '/2/users/2244994945/tweets'],
  );
  t.is(paths[0]!.searchParams.get('user.fields'), 'profile_image_url,name');
  t.is(paths[1]!.searchParams.get('max_results'), '100');
  t.is(paths[1]!.searchParams.get('pagination_token'), null);
  t.is(paths[3]!.searchParams.get('pagination_token'), 'page-1');
  t.true(server.requests.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));

  // It waited until the reset (plus a second), visibly, and no longer.
  t.is(clock.now(), NOW_MS + 91_000);
  const log = progress.text();
  t.regex(log, /@sampleuser: rate limited, resuming in 1:31\n/);
  t.regex(log, /@sampleuser: rate limited, resuming in 1:01\n/);
  t.regex(log, /@sampleuser: rate limit over, resuming\n/);
  t.false(log.includes(TOKEN));
});

test('X API: on a terminal the countdown rewrites one line every second', async (t) => {
  const server = await startFakeXApi({ token: TOKEN, user: X_USER, pages: X_PAGES, rateLimitOnPage: 0, rateLimitResetS: NOW_MS / 1000 + 4 });
  t.teardown(() => server.close());
  const clock = fakeClock(NOW_MS);
  const progress = captureProgress(true);
  await readSource('@SampleUser', { xBearerToken: TOKEN, xApiUrl: server.url, clock, progress });
  t.deepEqual(clock.sleeps, [1000, 1000, 1000, 1000, 1000]);
  t.regex(progress.text(), /\r@SampleUser: rate limited, resuming in 0:05\u001b\[K\r@SampleUser: rate limited, resuming in 0:04/);
});

test('X API: stops at the 3,200 cap and at --max-posts', async (t) => {
  const pages: FakeTweet[][] = Array.from({ length: 40 }, (_, page) =>
    Array.from({ length: 100 }, (_, i) => ({ id: String(10_000 - page * 100 - i), text: `post ${page} ${i} with words`, created_at: '2023-01-01T00:00:00.000Z' })),
  );
  const server = await startFakeXApi({ token: TOKEN, user: X_USER, pages });
  t.teardown(() => server.close());
  const progress = captureProgress();
  const all = await readSource('x:SampleUser', { xBearerToken: TOKEN, xApiUrl: server.url, progress });
  t.is(all.posts.length, X_TIMELINE_CAP);
  t.is(server.requests.length, 1 + 32);
  const some = await readSource('x:SampleUser', { xBearerToken: TOKEN, xApiUrl: server.url, progress, maxPosts: 150 });
  t.is(some.posts.length, 150);
});

test.serial('X API: a bad token, an unknown handle, no token, an empty timeline', async (t) => {
  const server = await startFakeXApi({ token: TOKEN, user: X_USER, pages: [] });
  t.teardown(() => server.close());
  const progress = captureProgress();
  const badToken = await t.throwsAsync(readSource('@SampleUser', { xBearerToken: 'wrong-token', xApiUrl: server.url, progress }), { instanceOf: SourceError });
  t.is(badToken.message, '@SampleUser: X rejected the bearer token (HTTP 401). check X_BEARER_TOKEN: copy the bearer token of your app from the X developer portal again');
  t.false(badToken.message.includes('wrong-token'));
  t.false('cause' in badToken);

  await t.throwsAsync(readSource('@nobody_here', { xBearerToken: TOKEN, xApiUrl: server.url, progress }), {
    message: '@nobody_here: X has no account @nobody_here (Could not find user with username: [nobody_here].). check the spelling of the handle',
  });

  const saved = process.env.X_BEARER_TOKEN;
  delete process.env.X_BEARER_TOKEN;
  t.teardown(() => {
    if (saved !== undefined) process.env.X_BEARER_TOKEN = saved;
  });
  await t.throwsAsync(readSource('@SampleUser', { xApiUrl: server.url, progress }), { message: /@SampleUser: reading X needs an API bearer token. set X_BEARER_TOKEN/ });

  await t.throwsAsync(readSource('@SampleUser', { xBearerToken: TOKEN, xApiUrl: server.url, progress }), {
    message: /@SampleUser: has no posts \(the timeline is empty\)/,
  });
  t.false(progress.text().includes(TOKEN));
});

test('X API: an unknown handle answered with a 404', async (t) => {
  const server = await startFakeXApi({ token: TOKEN, user: X_USER, pages: X_PAGES, unknownUser: 404 });
  t.teardown(() => server.close());
  await t.throwsAsync(readSource('@ghost', { xBearerToken: TOKEN, xApiUrl: server.url, progress: captureProgress() }), {
    instanceOf: SourceError,
    message: '@ghost: X has no such account (HTTP 404: Could not find user with username: [ghost].). check the spelling of the handle',
  });
});

test.serial('X API: the base URL comes from TWEETSMITH_X_API_URL when not given', async (t) => {
  const server = await startFakeXApi({ token: TOKEN, user: X_USER, pages: X_PAGES });
  t.teardown(() => server.close());
  const saved = process.env.TWEETSMITH_X_API_URL;
  process.env.TWEETSMITH_X_API_URL = server.url;
  t.teardown(() => {
    if (saved === undefined) delete process.env.TWEETSMITH_X_API_URL;
    else process.env.TWEETSMITH_X_API_URL = saved;
  });
  const read = await readSource('@SampleUser', { xBearerToken: TOKEN, progress: captureProgress() });
  t.is(read.posts.length, 4);
});

// ---------------------------------------------------------------- Bluesky

const BSKY_ACCOUNT = {
  did: 'did:plc:sample123',
  handle: 'sample.bsky.social',
  displayName: 'Sample on Bluesky',
  avatar: 'https://cdn.bsky.app/img/avatar/plain/did:plc:sample123/abc@jpeg',
};

const SKEETS: FakeSkeet[][] = [
  [
    { rkey: '3kb1', text: 'My first thought of the day on bluesky', createdAt: '2024-03-01T08:00:00.000Z' },
    { rkey: '3kb0', text: 'Someone else wrote this and I reposted it', createdAt: '2024-02-29T08:00:00.000Z', repostOf: { did: 'did:plc:other', handle: 'other.bsky.social' } },
  ],
  [{ rkey: '3ka9', text: 'An older post from the second page', createdAt: '2024-02-28T08:00:00.000Z' }],
];

test('Bluesky: getAuthorFeed pages joined by cursor, reposts recognised', async (t) => {
  const server = await startFakeBluesky(BSKY_ACCOUNT, SKEETS);
  t.teardown(() => server.close());
  const read = await readSource('bsky:sample.bsky.social', { bskyUrl: server.url, progress: captureProgress() });
  t.deepEqual(read.profile, { handle: 'sample.bsky.social', name: 'Sample on Bluesky', avatarUrl: BSKY_ACCOUNT.avatar });
  t.deepEqual(
    read.posts.map((p) => [p.id, p.text, p.createdAt, p.isRetweet, p.author.handle]),
    [
      ['at://did:plc:sample123/app.bsky.feed.post/3kb1', 'My first thought of the day on bluesky', '2024-03-01T08:00:00.000Z', false, 'sample.bsky.social'],
      ['at://did:plc:sample123/app.bsky.feed.repost/3kb0', 'Someone else wrote this and I reposted it', '2024-02-29T08:00:00.000Z', true, 'sample.bsky.social'],
      ['at://did:plc:sample123/app.bsky.feed.post/3ka9', 'An older post from the second page', '2024-02-28T08:00:00.000Z', false, 'sample.bsky.social'],
    ],
  );
  const urls = server.requests.map((r) => new URL(r.url, server.url));
  t.deepEqual(
    urls.map((u) => [u.pathname, u.searchParams.get('actor'), u.searchParams.get('limit'), u.searchParams.get('cursor')]),
    [
      ['/xrpc/app.bsky.feed.getAuthorFeed', 'sample.bsky.social', '100', null],
      ['/xrpc/app.bsky.feed.getAuthorFeed', 'sample.bsky.social', '100', '1'],
    ],
  );
});

test('Bluesky: an unknown handle and an empty feed', async (t) => {
  const server = await startFakeBluesky(BSKY_ACCOUNT, [[]]);
  t.teardown(() => server.close());
  const progress = captureProgress();
  await t.throwsAsync(readSource('bsky:nobody.bsky.social', { bskyUrl: server.url, progress }), {
    instanceOf: SourceError,
    message: 'bsky:nobody.bsky.social: Bluesky has no account nobody.bsky.social (Profile not found). check the handle: it looks like name.bsky.social or a domain',
  });
  await t.throwsAsync(readSource('bsky:sample.bsky.social', { bskyUrl: server.url, progress }), { message: /has no posts \(the timeline is empty\)/ });
});

// ---------------------------------------------------------------- Mastodon

const TOOTS: FakeToot[] = [
  { id: '111000000000000005', content: '<p>Toot number five, with a <a href="https://example.com/x">https://example.com/x</a> link</p>', created_at: '2024-01-05T10:00:00.000Z' },
  { id: '111000000000000004', content: '', reblogOf: '<p>Boosted words from someone else</p>', created_at: '2024-01-04T10:00:00.000Z' },
  { id: '111000000000000003', content: '<p>Line one<br />line two</p><p>second paragraph &amp; more</p>', created_at: '2024-01-03T10:00:00.000Z' },
  { id: '111000000000000002', content: '<p>Toot two is here</p>', created_at: '2024-01-02T10:00:00.000Z' },
  { id: '111000000000000001', content: '<p>The oldest toot of them all</p>', created_at: '2024-01-01T10:00:00.000Z' },
];

for (const linkHeaders of [true, false]) {
  test(`Mastodon: lookup, statuses paged by ${linkHeaders ? 'Link rel="next"' : 'max_id'}, boosts recognised, HTML to text`, async (t) => {
    const server = await startFakeMastodon({ username: 'Sample', displayName: 'Sample Toots', statuses: TOOTS, pageSize: 2, linkHeaders });
    t.teardown(() => server.close());
    const read = await readSource('mastodon:@sample@social.example', { mastodonUrl: server.url, progress: captureProgress() });
    t.deepEqual(read.profile, { handle: 'sample@social.example', name: 'Sample Toots', avatarUrl: 'https://files.example/avatars/original/me.png' });
    t.deepEqual(
      read.posts.map((p) => [p.id, p.text, p.isRetweet]),
      [
        ['111000000000000005', 'Toot number five, with a https://example.com/x link', false],
        ['111000000000000004', 'Boosted words from someone else', true],
        ['111000000000000003', 'Line one\nline two\n\nsecond paragraph & more', false],
        ['111000000000000002', 'Toot two is here', false],
        ['111000000000000001', 'The oldest toot of them all', false],
      ],
    );
    t.is(read.posts[0]!.createdAt, '2024-01-05T10:00:00.000Z');
    const urls = server.requests.map((r) => new URL(r.url, server.url));
    t.is(urls[0]!.pathname, '/api/v1/accounts/lookup');
    t.is(urls[0]!.searchParams.get('acct'), 'sample');
    t.deepEqual(
      urls.slice(1).map((u) => u.searchParams.get('max_id')),
      [null, '111000000000000004', '111000000000000002', '111000000000000001'],
    );
    t.true(urls.slice(1).every((u) => u.searchParams.get('limit') === '40' || u.searchParams.get('limit') === '2'));
  });
}

test('Mastodon: a 429 is waited out until X-RateLimit-Reset', async (t) => {
  const server = await startFakeMastodon({
    username: 'sample',
    displayName: 'S',
    statuses: TOOTS,
    rateLimitResetIso: new Date(NOW_MS + 30_000).toISOString(),
  });
  t.teardown(() => server.close());
  const clock = fakeClock(NOW_MS);
  const progress = captureProgress();
  const read = await readSource('mastodon:@sample@social.example', { mastodonUrl: server.url, clock, progress });
  t.is(read.posts.length, 5);
  t.is(clock.now(), NOW_MS + 31_000);
  t.regex(progress.text(), /mastodon:@sample@social\.example: rate limited, resuming in 0:31/);
});

test('Mastodon: an unknown account is a 404 that names it', async (t) => {
  const server = await startFakeMastodon({ username: 'sample', displayName: 'S', statuses: [] });
  t.teardown(() => server.close());
  const progress = captureProgress();
  await t.throwsAsync(readSource('mastodon:@ghost@social.example', { mastodonUrl: server.url, progress }), {
    instanceOf: SourceError,
    message: 'mastodon:@ghost@social.example: Mastodon has no account @ghost@social.example (HTTP 404). check the name and the server: mastodon:@name@server',
  });
  await t.throwsAsync(readSource('mastodon:@sample@social.example', { mastodonUrl: server.url, progress }), { message: /has no posts \(the timeline is empty\)/ });
});

test('a server that cannot be reached is named', async (t) => {
  const server = await startFakeMastodon({ username: 'sample', displayName: 'S', statuses: [] });
  const url = server.url;
  await server.close();
  await t.throwsAsync(readSource('mastodon:@sample@social.example', { mastodonUrl: url, progress: captureProgress() }), {
    message: /mastodon:@sample@social\.example: cannot reach 127\.0\.0\.1:\d+/,
  });
});
