// The hub download against a hostile server (test/helpers/servers/hostile.ts)
// and a damaged cache: headers that look like paths are refused with the URL
// and the header named, and nothing is written outside the cache folder; a
// body larger than announced, or with no size announced, is not kept.
import test, { type ExecutionContext } from 'ava';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubError, resolveModel } from '../lib/hub/index.js';
import { HOSTILE_COMMIT, startHostileHub, type HostileHubMode } from './helpers/servers/hostile.js';

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-hub-hostile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every path under `dir` (symlinks not followed). */
function walk(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return lstatSync(join(dir, name)).isDirectory() ? [`${rel}/`, ...walk(join(dir, name), rel)] : [rel];
  });
}

const PATH_HEADERS: Array<[HostileHubMode, RegExp]> = [
  ['commit-path', /has X-Repo-Commit "\.\.\/\.\.\/\.\.\/\.\.\/escaped", not a commit id \(40 hex digits\)/],
  ['commit-short', /has X-Repo-Commit "abc", not a commit id/],
  ['etag-path', /has ETag "\.\.\/\.\.\/\.\.\/\.\.\/escaped", not a file hash \(40 or 64 hex digits\)/],
  ['linked-etag-absolute', /has X-Linked-Etag "\/tmp\/tweetsmith-escaped", not a file hash/],
  ['etag-backslash', /has ETag "\.\.\\\\\\\\\.\.\\\\\\\\escaped", not a file hash/],
];

for (const [mode, message] of PATH_HEADERS) {
  test(`a hub whose ${mode} header looks like a path: a clear error naming URL and header, nothing written outside the cache`, async (t) => {
    const server = await startHostileHub(mode);
    t.teardown(() => server.close());
    const home = await tempDir(t);
    const cache = join(home, 'cache', 'hub');
    const err = await t.throwsAsync(resolveModel('org/model', { cacheDir: cache, endpoint: server.url, env: {} }), { instanceOf: HubError });
    t.is(err.code, 'bad-response');
    t.regex(err.message, new RegExp(`^org/model: the answer from ${server.url}/org/model/resolve/main/config\\.json has `));
    t.regex(err.message, message);
    t.regex(err.message, /check HF_ENDPOINT/);
    // Nothing beside the cache, and in the cache no file at all.
    t.true(readdirSync(home).every((name) => name === 'cache'), readdirSync(home).join());
    t.deepEqual(walk(cache).filter((p) => !p.endsWith('/')), []);
    t.false(existsSync('/tmp/tweetsmith-escaped'));
    t.false(server.requests.some((r) => r.method === 'GET'), 'no download was started');
  });
}

test('a 404 whose X-Repo-Commit is a path records nothing under it', async (t) => {
  const server = await startHostileHub('absent-commit-path');
  t.teardown(() => server.close());
  const home = await tempDir(t);
  const cache = join(home, 'hub');
  await t.throwsAsync(resolveModel('org/model', { cacheDir: cache, endpoint: server.url, env: {} }), {
    instanceOf: HubError,
    message: /has no config\.json/,
  });
  t.true(readdirSync(home).every((name) => name === 'hub'), readdirSync(home).join());
  t.deepEqual(walk(cache).filter((p) => !p.endsWith('/')), []);
});

test('a file announced with no size and sent without end is refused, and no blob is kept', async (t) => {
  const server = await startHostileHub('no-size-endless');
  t.teardown(() => server.close());
  const cache = join(await tempDir(t), 'hub');
  const err = await t.throwsAsync(resolveModel('org/model', { cacheDir: cache, endpoint: server.url, env: {} }), { instanceOf: HubError });
  t.is(err.code, 'download-failed');
  t.regex(err.message, /config\.json from http:\/\/127\.0\.0\.1:\d+\/org\/model\/resolve\/main\/config\.json came without a size/);
  t.deepEqual(walk(join(cache, 'models--org--model', 'blobs')), []);
});

test('a GET that says it is larger than the HEAD announced is cut off before its body is read', async (t) => {
  const server = await startHostileHub('size-lie');
  t.teardown(() => server.close());
  const cache = join(await tempDir(t), 'hub');
  const err = await t.throwsAsync(resolveModel('org/model', { cacheDir: cache, endpoint: server.url, env: {} }), { instanceOf: HubError });
  t.regex(err.message, /announced 10485760 bytes, more than the 10 the hub announced; the partial file was removed/);
  t.deepEqual(walk(join(cache, 'models--org--model', 'blobs')), []);
  t.true(server.streamedBytes() < 10 * 1024 * 1024);
});

test('a damaged ref in the cache (a path, not a commit) is no ref: offline, the model is not found there', async (t) => {
  const home = await tempDir(t);
  const cache = join(home, 'hub');
  // A complete model outside the cache, and a ref that points at it.
  const outside = join(home, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'config.json'), '{}');
  await writeFile(join(outside, 'model.safetensors'), '');
  await mkdir(join(cache, 'models--org--model', 'refs'), { recursive: true });
  await writeFile(join(cache, 'models--org--model', 'refs', 'main'), '../../../outside');
  const err = await t.throwsAsync(resolveModel('org/model', { cacheDir: cache, offline: true, env: {} }), { instanceOf: HubError });
  t.is(err.code, 'not-cached');

  // The same ref holding a commit id is followed (the check refuses only what is not one).
  await mkdir(join(cache, 'models--org--model', 'snapshots', HOSTILE_COMMIT), { recursive: true });
  await writeFile(join(cache, 'models--org--model', 'snapshots', HOSTILE_COMMIT, 'config.json'), '{}');
  await writeFile(join(cache, 'models--org--model', 'snapshots', HOSTILE_COMMIT, 'model.safetensors'), '');
  await writeFile(join(cache, 'models--org--model', 'refs', 'main'), HOSTILE_COMMIT);
  t.is(await resolveModel('org/model', { cacheDir: cache, offline: true, env: {} }), join(cache, 'models--org--model', 'snapshots', HOSTILE_COMMIT));
});

test('a revision that is a path, or holds a NUL or a backslash, is refused before any request', async (t) => {
  const cache = join(await tempDir(t), 'hub');
  for (const revision of ['../../x', '/abs', 'a\\b', 'main\u0000', 'refs//pr', 'C:evil']) {
    await t.throwsAsync(resolveModel('org/model', { cacheDir: cache, revision, endpoint: 'http://127.0.0.1:9', env: {} }), {
      instanceOf: HubError,
      message: /is not a revision/,
    });
  }
});
