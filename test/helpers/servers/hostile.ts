// Servers on 127.0.0.1 that answer as a hostile or broken service would:
// cursors that never end, bodies far larger than any real reply (streamed
// until the client hangs up, so the test costs only what the client reads),
// rate-limit resets a day away, fields of the wrong type, and hub headers
// that look like paths. Each misbehaviour is one small route, so a test says
// which one it faces.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from './local-server.js';

export interface RawServer {
  url: string;
  requests: RecordedRequest[];
  /** Bytes the server wrote into bodies of endless answers before the client hung up. */
  streamedBytes(): number;
  close(): Promise<void>;
}

/** What a handler may answer: a JSON body, or a body streamed without end. */
export type RawReply =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  | { status?: number; headers?: Record<string, string>; text: string }
  | { status?: number; headers?: Record<string, string>; endless: true };

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

export async function startRawServer(route: (url: URL, request: RecordedRequest) => RawReply): Promise<RawServer> {
  const requests: RecordedRequest[] = [];
  let streamed = 0;
  const server = http.createServer((req, res) => {
    const recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    requests.push(recorded);
    const reply = route(new URL(recorded.url, 'http://127.0.0.1'), recorded);
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    if (req.method === 'HEAD') {
      res.end();
    } else if ('endless' in reply) {
      // A JSON array that never closes: written as fast as the client reads, until it hangs up.
      res.write('[');
      const pump = () => {
        while (!res.destroyed && res.write(CHUNK)) streamed += CHUNK.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    } else {
      res.end('json' in reply ? JSON.stringify(reply.json) : reply.text);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    streamedBytes: () => streamed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------- X API

export type HostileXMode =
  | 'same-cursor' // every page names the same next_token
  | 'new-cursor-same-posts' // a fresh next_token each time, the same posts on every page
  | 'far-reset' // the timeline answers 429 with a reset a day away
  | 'day-cap' // the app's 24-hour cap ran out: the reset is hours away
  | 'endless-body' // the timeline reply never ends
  | 'huge-declared' // Content-Length far past the cap
  | 'bad-user-id' // the user's id is a path
  | 'not-json'; // a 200 whose body is not JSON

export const HOSTILE_X_USER = { id: '2244994945', username: 'SampleUser', name: 'Sample User' };

export function startHostileXApi(mode: HostileXMode, nowMs: number): Promise<RawServer> {
  let page = 0;
  return startRawServer((url): RawReply => {
    if (url.pathname.startsWith('/2/users/by/username/')) {
      return { json: { data: mode === 'bad-user-id' ? { ...HOSTILE_X_USER, id: '../../2/tweets' } : HOSTILE_X_USER } };
    }
    page++;
    switch (mode) {
      case 'same-cursor':
        return { json: { data: [{ id: `${page}`, text: `post on page ${page}` }], meta: { next_token: 'again' } } };
      case 'new-cursor-same-posts':
        return { json: { data: [{ id: '1', text: 'the same post' }], meta: { next_token: `token-${page}` } } };
      case 'far-reset':
        return { status: 429, headers: { 'x-rate-limit-reset': String(Math.round(nowMs / 1000) + 24 * 3600) }, json: { title: 'Too Many Requests' } };
      case 'day-cap':
        return {
          status: 429,
          headers: {
            'x-rate-limit-reset': String(Math.round(nowMs / 1000) + 60),
            'x-app-limit-24hour-remaining': '0',
            'x-app-limit-24hour-reset': String(Math.round(nowMs / 1000) + 5 * 3600),
          },
          json: { title: 'Too Many Requests' },
        };
      case 'endless-body':
        return { endless: true };
      case 'huge-declared':
        return { headers: { 'content-length': String(64 * 1024 * 1024) }, endless: true };
      case 'not-json':
        return { text: '<html>surprise</html>' };
      default:
        return { json: { data: [{ id: '1', text: 'a post' }], meta: {} } };
    }
  });
}

// ---------------------------------------------------------------- Bluesky

export type HostileBlueskyMode = 'same-cursor' | 'new-cursor-same-posts' | 'far-reset' | 'endless-body';

export function startHostileBluesky(mode: HostileBlueskyMode, nowMs: number): Promise<RawServer> {
  let page = 0;
  return startRawServer((): RawReply => {
    page++;
    const item = (rkey: string) => ({
      post: { uri: `at://did:plc:x/app.bsky.feed.post/${rkey}`, author: { did: 'did:plc:x', handle: 'x.bsky.social' }, record: { text: `post ${rkey}` } },
    });
    switch (mode) {
      case 'same-cursor':
        return { json: { cursor: 'again', feed: [item(String(page))] } };
      case 'new-cursor-same-posts':
        return { json: { cursor: `c${page}`, feed: [item('1')] } };
      case 'far-reset':
        return { status: 429, headers: { 'ratelimit-reset': String(Math.round(nowMs / 1000) + 24 * 3600) }, json: { error: 'RateLimitExceeded' } };
      case 'endless-body':
        return { endless: true };
    }
  });
}

// ---------------------------------------------------------------- Mastodon

export type HostileMastodonMode = 'same-link' | 'far-reset' | 'endless-body' | 'path-account-id';

export function startHostileMastodon(mode: HostileMastodonMode, nowMs: number): Promise<RawServer> {
  let page = 0;
  return startRawServer((url, request): RawReply => {
    if (url.pathname === '/api/v1/accounts/lookup') {
      return { json: { id: mode === 'path-account-id' ? '../../../admin' : '42', username: 'sample' } };
    }
    page++;
    switch (mode) {
      case 'same-link':
        // Always "next" to the very same URL, each time with one new status.
        return {
          headers: { link: `<http://${request.headers.host}/api/v1/accounts/42/statuses?max_id=1>; rel="next"` },
          json: [{ id: String(1000 - page), content: `<p>toot ${page}</p>`, created_at: '2024-01-01T00:00:00Z' }],
        };
      case 'far-reset':
        return { status: 429, headers: { 'x-ratelimit-reset': new Date(nowMs + 24 * 3600 * 1000).toISOString() }, json: { error: 'Too many requests' } };
      case 'endless-body':
        return { endless: true };
      default:
        return { json: [] };
    }
  });
}

// ---------------------------------------------------------------- hub

export type HostileHubMode =
  | 'commit-path' // X-Repo-Commit climbs out of the cache
  | 'etag-path' // the ETag is a relative path
  | 'linked-etag-absolute' // X-Linked-Etag is an absolute path
  | 'etag-backslash' // a Windows-style path
  | 'commit-short' // not 40 hex
  | 'absent-commit-path' // a 404 EntryNotFound whose X-Repo-Commit is a path
  | 'no-size-endless' // no size anywhere, and a body without end
  | 'size-lie'; // the HEAD says 10 bytes, the GET says and sends more

export const HOSTILE_COMMIT = 'c'.repeat(40);

export function startHostileHub(mode: HostileHubMode): Promise<RawServer> {
  const etag = 'e'.repeat(40);
  return startRawServer((url, request): RawReply => {
    if (!url.pathname.includes('/resolve/')) return { status: 404, text: 'not found' };
    const file = url.pathname.split('/').at(-1);
    const head = request.method === 'HEAD';
    const base = { 'x-repo-commit': HOSTILE_COMMIT, etag: `"${etag}"`, 'content-length': '10' };
    switch (mode) {
      case 'commit-path':
        return { headers: { ...base, 'x-repo-commit': '../../../../escaped' }, text: '' };
      case 'etag-path':
        return { headers: { ...base, etag: '"../../../../escaped"' }, text: '' };
      case 'linked-etag-absolute':
        return { headers: { ...base, 'x-linked-etag': '"/tmp/tweetsmith-escaped"', 'x-linked-size': '10' }, text: '' };
      case 'etag-backslash':
        return { headers: { ...base, etag: '"..\\\\..\\\\escaped"' }, text: '' };
      case 'commit-short':
        return { headers: { ...base, 'x-repo-commit': 'abc' }, text: '' };
      case 'absent-commit-path':
        return { status: 404, headers: { 'x-repo-commit': '../../../../escaped', 'x-error-code': 'EntryNotFound' }, text: '' };
      case 'no-size-endless':
        // Chunked: neither the HEAD nor the GET says how large the file is.
        return head ? { headers: { 'x-repo-commit': HOSTILE_COMMIT, etag: `"${etag}"`, 'transfer-encoding': 'chunked' }, text: '' } : { endless: true };
      case 'size-lie':
        return head || file !== 'config.json' ? { headers: base, text: '' } : { headers: { 'content-length': String(10 * 1024 * 1024) }, endless: true };
    }
  });
}
