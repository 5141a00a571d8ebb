// No token (X_BEARER_TOKEN, HF_TOKEN) in anything a run writes or prints, nor
// in any error object (its causes included): a whole `tweetsmith train` from
// an @handle through the fake X API, on a private base model from the fake
// hub, then every file under the output and the caches, stdout and stderr,
// are searched for the tokens; then the ways of failing, in process, with
// each error inspected to the bottom.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect, promisify } from 'node:util';
import { GPT2 } from '../lib/index.js';
import { resolveModel } from '../lib/hub/index.js';
import { readSource } from '../lib/sources/index.js';
import { captureProgress } from './helpers/servers/fake-clock.js';
import { startFakeHub } from './helpers/servers/hub.js';
import { startHostileHub, startHostileXApi } from './helpers/servers/hostile.js';
import { syntheticPosts } from './helpers/servers/synthetic-posts.js';
import { startFakeXApi, type FakeTweet } from './helpers/servers/x-api.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const X_TOKEN = 'AAAAAAAAAAAAAAAAAAAAAxSecretBearer0123456789';
const HF_TOKEN = 'hf_SecretHubToken0123456789abcdefXYZ';
const TOKENS = [X_TOKEN, HF_TOKEN];
const COMMIT = 'd'.repeat(40);

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tweetsmith-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every regular file under `dir` (symlinks are the cache's pointers to blobs, which are read themselves). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    return stat.isDirectory() ? files(path) : stat.isFile() ? [path] : [];
  });
}

/** The tokens found in `text`, by name (a token's tail counts too: a truncated one still leaks). */
function leaks(text: string): string[] {
  return TOKENS.filter((token) => text.includes(token) || text.includes(token.slice(-16)));
}

/** Everything an error holds, causes and hidden properties included. */
function everything(err: unknown): string {
  return inspect(err, { depth: Infinity, showHidden: true, maxStringLength: Infinity, maxArrayLength: Infinity, getters: true });
}

async function privateBaseRepo(dir: string) {
  const base = join(dir, 'base');
  const model = await GPT2.init({ nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, { seed: 1, threads: 1 });
  await model.save(base);
  await model.dispose();
  const repoFiles: Record<string, Buffer> = {};
  for (const name of await readdir(base)) repoFiles[name] = await readFile(join(base, name));
  return { id: 'someone/private-tiny', commit: COMMIT, files: repoFiles, lfs: ['model.safetensors'], private: true };
}

test('a whole train run with both tokens set writes and prints neither', async (t) => {
  const dir = scratch(t);
  // Enough text to train on (6,000 characters of kept posts), in two pages.
  const pages: FakeTweet[][] = [0, 1].map((page) =>
    syntheticPosts('sampleuser', 160)
      .slice(page * 80, page * 80 + 80)
      .map((post, i) => ({ id: String(9000 - page * 80 - i), text: post.text, created_at: '2024-01-01T00:00:00.000Z' })),
  );
  const xApi = await startFakeXApi({ token: X_TOKEN, user: { id: '42', username: 'SampleUser', name: 'Sample User' }, pages });
  t.teardown(() => xApi.close());
  const hub = await startFakeHub({ repos: [await privateBaseRepo(dir)], token: HF_TOKEN });
  t.teardown(() => hub.close());

  const out = join(dir, 'bot');
  const hfHome = join(dir, 'hf-home');
  const env = {
    ...process.env,
    X_BEARER_TOKEN: X_TOKEN,
    TWEETSMITH_X_API_URL: xApi.url,
    HF_TOKEN,
    HF_ENDPOINT: hub.url,
    HF_HOME: hfHome,
  };
  const args = [cli, 'train', '@SampleUser', '--base', 'someone/private-tiny', '--out', out, '--max-steps', '2', '--threads', '1', '--samples', '1', '--seed', '1', '--valid-split', '0.1', '--json'];
  const { stdout, stderr } = await run(process.execPath, args, { env, cwd: dir, maxBuffer: 64 * 1024 * 1024 });

  // The tokens were really used: both services saw them, and the run finished.
  t.true(xApi.requests.length >= 3 && xApi.requests.every((r) => r.headers.authorization === `Bearer ${X_TOKEN}`));
  t.true(hub.requests.some((r) => r.headers.authorization === `Bearer ${HF_TOKEN}`));
  t.true(existsSync(join(out, 'model.safetensors')) && existsSync(join(out, 'README.md')) && existsSync(join(out, 'run', 'report.html')));

  t.deepEqual(leaks(stdout), [], 'stdout');
  t.deepEqual(leaks(stderr), [], 'stderr');
  const written = [...files(dir)];
  t.true(written.length > 10);
  for (const path of written) t.deepEqual(leaks(readFileSync(path).toString('latin1')), [], path);
});

test('a train run that fails on the hub prints neither token', async (t) => {
  const dir = scratch(t);
  const hub = await startHostileHub('etag-path');
  t.teardown(() => hub.close());
  // Every address local: the X API URL points at a closed port, should the command ever get that far.
  const env = { ...process.env, X_BEARER_TOKEN: X_TOKEN, TWEETSMITH_X_API_URL: 'http://127.0.0.1:9', HF_TOKEN, HF_ENDPOINT: hub.url, HF_HOME: join(dir, 'hf') };
  const failed = await run(process.execPath, [cli, 'train', '@SampleUser', '--base', 'someone/model', '--out', join(dir, 'out')], { env, cwd: dir }).then(
    () => undefined,
    (err: { stdout: string; stderr: string; code: number }) => err,
  );
  t.truthy(failed);
  t.regex(failed!.stderr, /not a file hash/);
  t.deepEqual(leaks(failed!.stdout + failed!.stderr), []);
  for (const path of files(dir)) t.deepEqual(leaks(readFileSync(path).toString('latin1')), [], path);
});

test('no error object holds a token, causes included', async (t) => {
  const dir = scratch(t);
  const errors: Array<[string, unknown]> = [];
  const capture = async (label: string, work: Promise<unknown>) => {
    try {
      await work;
      t.fail(`${label} did not fail`);
    } catch (err) {
      errors.push([label, err]);
    }
  };
  const progress = captureProgress();

  // X: a body that is not JSON, a reply without end, a reset a day away, a server gone.
  for (const mode of ['not-json', 'endless-body', 'far-reset', 'bad-user-id'] as const) {
    const server = await startHostileXApi(mode, Date.now());
    await capture(`X ${mode}`, readSource('@SampleUser', { xBearerToken: X_TOKEN, xApiUrl: server.url, progress, maxJsonReplyBytes: 1 << 20 }));
    await server.close();
  }
  const xApi = await startFakeXApi({ token: 'another-token', user: { id: '1', username: 'u', name: 'u' }, pages: [] });
  await capture('X 401', readSource('@u', { xBearerToken: X_TOKEN, xApiUrl: xApi.url, progress }));
  await xApi.close();
  await capture('X gone', readSource('@u', { xBearerToken: X_TOKEN, xApiUrl: xApi.url, progress }));

  // The hub: a refused token, hostile headers, a download cut off halfway, a hub gone.
  const hub = await startFakeHub({ repos: [await privateBaseRepo(dir)], token: 'the-right-one' });
  const hubOptions = (cache: string) => ({ cacheDir: join(dir, cache), endpoint: hub.url, token: HF_TOKEN, env: {} });
  await capture('hub 401', resolveModel('someone/private-tiny', hubOptions('c1')));
  const goodHub = await startFakeHub({ repos: [await privateBaseRepo(dir)], token: HF_TOKEN });
  goodHub.cdnFault = 'cut';
  await capture('hub cut', resolveModel('someone/private-tiny', { ...hubOptions('c2'), endpoint: goodHub.url }));
  await goodHub.close();
  await hub.close();
  await capture('hub gone', resolveModel('someone/private-tiny', hubOptions('c3')));
  for (const mode of ['commit-path', 'no-size-endless'] as const) {
    const hostile = await startHostileHub(mode);
    await capture(`hub ${mode}`, resolveModel('org/model', { ...hubOptions(`c-${mode}`), endpoint: hostile.url }));
    await hostile.close();
  }

  t.is(errors.length, 11);
  for (const [label, err] of errors) {
    t.true(err instanceof Error, label);
    t.deepEqual(leaks(everything(err)), [], `${label}: ${everything(err).slice(0, 2000)}`);
    t.deepEqual(leaks(JSON.stringify(err, Object.getOwnPropertyNames(err as object))), [], label);
  }
  t.deepEqual(leaks(progress.text()), []);
});
