// Fetching a base model from the hub into huggingface_hub's cache layout,
// against a stand-in hub on 127.0.0.1 (test/helpers/servers/hub.ts): the
// layout byte for byte, what a filled cache saves, offline use, the
// environment variables, every way of failing, and the blob locks.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubError, hubCacheDir, resolveModel, type ResolveModelOptions } from '../lib/hub/index.js';
import { gitBlobSha1, sha256, startFakeHub, type FakeHub, type FakeHubOptions, type FakeHubRepo } from './helpers/servers/hub.js';

const COMMIT = 'a'.repeat(8) + '0123456789abcdef0123456789abcdef';
const NEXT_COMMIT = 'b'.repeat(8) + '0123456789abcdef0123456789abcdef';
const TOKEN = 'hf_testTOKENthatMustNeverBePrinted';

/** A tiny GPT-2-like repository: no generation_config.json nor special_tokens_map.json, weights in LFS. */
function gpt2Repo(id = 'openai-community/gpt2', extra: Partial<FakeHubRepo> = {}): FakeHubRepo {
  return {
    id,
    commit: COMMIT,
    files: {
      'config.json': JSON.stringify({ model_type: 'gpt2', n_layer: 2, n_head: 2, n_embd: 8, vocab_size: 50257 }),
      // Several network chunks, so progress reports more than once.
      'model.safetensors': randomBytes(300_000),
      'vocab.json': JSON.stringify({ '!': 0, '"': 1 }),
      'merges.txt': '#version: 0.2\nĠ t\n',
      'tokenizer.json': JSON.stringify({ version: '1.0' }),
      'tokenizer_config.json': JSON.stringify({ model_max_length: 1024 }),
    },
    lfs: ['model.safetensors'],
    ...extra,
  };
}

const PRESENT = ['config.json', 'merges.txt', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json'];

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-hub-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function hub(t: ExecutionContext, options: Partial<FakeHubOptions> = {}): Promise<FakeHub> {
  const server = await startFakeHub({ repos: [gpt2Repo()], ...options });
  t.teardown(() => server.close());
  return server;
}

/** Options that point everything at the fake hub and a temporary cache, and read no real environment. */
async function setup(t: ExecutionContext, hubOptions: Partial<FakeHubOptions> = {}) {
  const server = await hub(t, hubOptions);
  const home = await tempDir(t);
  const env: NodeJS.ProcessEnv = { HF_HOME: home, HF_ENDPOINT: server.url };
  return { server, home, cache: join(home, 'hub'), env, options: { env } satisfies ResolveModelOptions };
}

/** Every path under `dir`, sorted, a symlink shown with its target. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      const stat = lstatSync(join(dir, rel));
      if (stat.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(join(dir, rel))}`);
      else if (stat.isDirectory()) {
        out.push(`${rel}/`);
        walk(rel);
      } else out.push(rel);
    }
  };
  walk('');
  return out;
}

const gets = (server: FakeHub) => server.requests.filter((r) => r.method === 'GET').length;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('download into an empty cache: blobs by etag, relative symlinks, refs/main, .no_exist', async (t) => {
  const { server, cache, options } = await setup(t);
  const repo = server.repos[0]!;
  const events: { file: string; received: number; total?: number }[] = [];

  const dir = await resolveModel('openai-community/gpt2', { ...options, progress: (e) => events.push({ ...e }) });

  const root = join(cache, 'models--openai-community--gpt2');
  t.is(dir, join(root, 'snapshots', COMMIT));
  const etag = (file: string) => (repo.lfs?.includes(file) ? sha256(repo.files[file]!) : gitBlobSha1(repo.files[file]!));
  t.deepEqual(
    tree(root),
    [
      '.no_exist/',
      `.no_exist/${COMMIT}/`,
      `.no_exist/${COMMIT}/generation_config.json`,
      `.no_exist/${COMMIT}/special_tokens_map.json`,
      'blobs/',
      ...PRESENT.map((f) => `blobs/${etag(f)}`).sort(),
      'refs/',
      'refs/main',
      'snapshots/',
      `snapshots/${COMMIT}/`,
      ...PRESENT.map((f) => `snapshots/${COMMIT}/${f} -> ../../blobs/${etag(f)}`),
    ].sort(),
  );
  t.is(readFileSync(join(root, 'refs/main'), 'utf8'), COMMIT);
  t.is(readFileSync(join(root, '.no_exist', COMMIT, 'special_tokens_map.json'), 'utf8'), '');
  for (const file of PRESENT) t.deepEqual(readFileSync(join(dir, file)), Buffer.from(repo.files[file]!), file);
  // The lock folder is there, its locks released.
  t.deepEqual(readdirSync(join(cache, '.locks', 'models--openai-community--gpt2')), []);

  // config.json at main fixes the commit; everything else is asked for at that commit.
  t.deepEqual(server.log(), [
    'HEAD /openai-community/gpt2/resolve/main/config.json',
    'GET /openai-community/gpt2/resolve/main/config.json',
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/model.safetensors`,
    `GET /cdn/${etag('model.safetensors')}`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/generation_config.json`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/vocab.json`,
    `GET /openai-community/gpt2/resolve/${COMMIT}/vocab.json`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/merges.txt`,
    `GET /openai-community/gpt2/resolve/${COMMIT}/merges.txt`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/tokenizer.json`,
    `GET /openai-community/gpt2/resolve/${COMMIT}/tokenizer.json`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/tokenizer_config.json`,
    `GET /openai-community/gpt2/resolve/${COMMIT}/tokenizer_config.json`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/special_tokens_map.json`,
  ]);
  t.true(server.requests.every((r) => r.headers.authorization === undefined && r.headers['accept-encoding'] === 'identity'));
  t.regex(server.requests[0]!.headers['user-agent'] ?? '', /^tweetsmith\/\S+; node\//);

  const weights = events.filter((e) => e.file === 'model.safetensors');
  const size = repo.files['model.safetensors']!.length;
  t.true(weights.length > 2);
  t.deepEqual(weights[0], { file: 'model.safetensors', received: 0, total: size });
  t.deepEqual(weights.at(-1), { file: 'model.safetensors', received: size, total: size });
  t.true(weights.every((e, i) => i === 0 || e.received >= weights[i - 1]!.received));
});

test('a second resolve asks one HEAD and downloads nothing', async (t) => {
  const { server, options } = await setup(t);
  const first = await resolveModel('openai-community/gpt2', options);
  server.requests.length = 0;
  const second = await resolveModel('openai-community/gpt2', options);
  t.is(second, first);
  // The commit's files cannot change, and its absent files are remembered: only main is asked about.
  t.deepEqual(server.log(), ['HEAD /openai-community/gpt2/resolve/main/config.json']);
});

test('a new commit that keeps the weights links the old blob instead of downloading it', async (t) => {
  const { server, cache, options } = await setup(t);
  await resolveModel('openai-community/gpt2', options);
  const repo = server.repos[0]!;
  repo.commit = NEXT_COMMIT;
  repo.files['config.json'] = JSON.stringify({ model_type: 'gpt2', n_layer: 2, n_head: 2, n_embd: 8, changed: true });
  server.requests.length = 0;

  const dir = await resolveModel('openai-community/gpt2', options);
  const root = join(cache, 'models--openai-community--gpt2');
  t.is(dir, join(root, 'snapshots', NEXT_COMMIT));
  t.is(readFileSync(join(root, 'refs/main'), 'utf8'), NEXT_COMMIT);
  t.deepEqual(
    server.log().filter((l) => l.startsWith('GET')),
    ['GET /openai-community/gpt2/resolve/main/config.json'],
  );
  t.is(readlinkSync(join(dir, 'model.safetensors')), `../../blobs/${sha256(repo.files['model.safetensors']!)}`);
  t.true(existsSync(join(root, 'snapshots', COMMIT, 'config.json')), 'the old snapshot stays');
});

test('offline with a filled cache makes no request at all', async (t) => {
  const { server, options, env } = await setup(t);
  const online = await resolveModel('openai-community/gpt2', options);
  server.requests.length = 0;
  const noFetch = (() => {
    throw new Error('offline: no request may be made');
  }) as unknown as typeof fetch;

  t.is(await resolveModel('openai-community/gpt2', { env: { ...env, HF_HUB_OFFLINE: '1' }, fetch: noFetch }), online);
  t.is(await resolveModel('openai-community/gpt2', { env, offline: true, fetch: noFetch }), online);
  t.is(await resolveModel('openai-community/gpt2', { env: { ...env, TRANSFORMERS_OFFLINE: 'yes' }, fetch: noFetch }), online);
  // A commit id the cache holds needs no request even online.
  t.is(await resolveModel('openai-community/gpt2', { env, revision: COMMIT, fetch: noFetch }), online);
  t.deepEqual(server.requests, []);
});

test('offline with an empty cache, or one missing the weights, fails naming repo, cache and what is missing', async (t) => {
  const { options, env, cache } = await setup(t);
  const offlineEnv = { ...env, HF_HUB_OFFLINE: '1' };
  const empty = await t.throwsAsync(resolveModel('openai-community/gpt2', { env: offlineEnv }), { instanceOf: HubError });
  t.is(empty.code, 'not-cached');
  t.true(empty.message.includes('openai-community/gpt2'));
  t.true(empty.message.includes(cache));
  t.true(empty.message.includes('refs/main'));
  t.true(empty.message.includes('HF_HUB_OFFLINE'));
  t.true(empty.message.includes('--base DIR'));

  const dir = await resolveModel('openai-community/gpt2', options);
  await unlink(join(dir, 'model.safetensors'));
  const partial = await t.throwsAsync(resolveModel('openai-community/gpt2', { env, offline: true }), { instanceOf: HubError });
  t.true(partial.message.includes(`snapshots/${COMMIT}/model.safetensors`));
  t.true(partial.message.includes('the offline option'));
});

test('the cache directory: HF_HUB_CACHE, else $HF_HOME/hub, else XDG_CACHE_HOME, else ~/.cache', (t) => {
  t.is(hubCacheDir({ HF_HUB_CACHE: '/c/hub', HF_HOME: '/h', XDG_CACHE_HOME: '/x' }), '/c/hub');
  t.is(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/old/hub', HF_HOME: '/h' }), '/old/hub');
  t.is(hubCacheDir({ HF_HOME: '/h', XDG_CACHE_HOME: '/x' }), '/h/hub');
  t.is(hubCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/home/me' }), '/x/huggingface/hub');
  t.is(hubCacheDir({ HOME: '/home/me' }), '/home/me/.cache/huggingface/hub');
  t.is(hubCacheDir({ HF_HOME: '~/hf', HOME: '/home/me' }), '/home/me/hf/hub');
  t.is(hubCacheDir({ HF_HUB_CACHE: '', HF_HOME: '/h' }), '/h/hub', 'an empty variable counts as unset');
});

test('HF_HUB_CACHE wins over HF_HOME; HF_ENDPOINT is where requests go', async (t) => {
  const server = await hub(t);
  const home = await tempDir(t);
  const hubCache = join(await tempDir(t), 'elsewhere');
  const dir = await resolveModel('openai-community/gpt2', { env: { HF_HOME: home, HF_HUB_CACHE: hubCache, HF_ENDPOINT: `${server.url}/` } });
  t.is(dir, join(hubCache, 'models--openai-community--gpt2', 'snapshots', COMMIT));
  t.false(existsSync(join(home, 'hub')));
  t.true(server.requests.length > 0);
});

test('a private repository: 401 without a token, HF_TOKEN or $HF_HOME/token let it in, the token never shown', async (t) => {
  const { server, env, home } = await setup(t, {
    repos: [gpt2Repo('me/private-gpt2', { private: true })],
    token: TOKEN,
    separateCdn: true,
  });

  const anonymous = await t.throwsAsync(resolveModel('me/private-gpt2', { env }), { instanceOf: HubError });
  t.is(anonymous.code, 'unauthorized');
  t.regex(anonymous.message, /no such model on the hub: me\/private-gpt2, or it is private or gated/);
  t.true(anonymous.message.includes('HF_TOKEN'));

  const wrong = await t.throwsAsync(resolveModel('me/private-gpt2', { env: { ...env, HF_TOKEN: `${TOKEN}-revoked` } }), { instanceOf: HubError });
  t.is(wrong.code, 'unauthorized');
  t.regex(wrong.message, /refused the token/);
  for (const err of [anonymous, wrong]) {
    t.false(err.message.includes(TOKEN));
    t.false(String(err.stack).includes(TOKEN));
  }

  server.requests.length = 0;
  const dir = await resolveModel('me/private-gpt2', { env: { ...env, HF_TOKEN: TOKEN } });
  t.true(existsSync(join(dir, 'model.safetensors')));
  const toHub = server.requests.filter((r) => !r.url.startsWith('/cdn/'));
  const toCdn = server.requests.filter((r) => r.url.startsWith('/cdn/'));
  t.true(toHub.every((r) => r.headers.authorization === `Bearer ${TOKEN}`));
  t.is(toCdn.length, 1);
  t.is(toCdn[0]!.headers.authorization, undefined, 'the token stays with the hub, the CDN gets a signed URL');

  // The token `huggingface-cli login` saved, read from $HF_HOME/token.
  await writeFile(join(home, 'token'), `${TOKEN}\n`);
  server.requests.length = 0;
  t.is(await resolveModel('me/private-gpt2', { env }), dir);
  t.is(server.requests[0]!.headers.authorization, `Bearer ${TOKEN}`);
  // HF_TOKEN overrides the file.
  server.requests.length = 0;
  await t.throwsAsync(resolveModel('me/private-gpt2', { env: { ...env, HF_TOKEN: 'hf_other', HF_HUB_CACHE: join(home, 'other-cache') } }));
  t.is(server.requests[0]!.headers.authorization, 'Bearer hf_other');
});

test('a gated repository says to accept its conditions and set HF_TOKEN', async (t) => {
  const { env } = await setup(t, { repos: [gpt2Repo('corp/gated-gpt2', { gated: true })], token: TOKEN });
  const err = await t.throwsAsync(resolveModel('corp/gated-gpt2', { env }), { instanceOf: HubError });
  t.is(err.code, 'gated');
  t.true(err.message.includes('accept its conditions'));
  t.true(err.message.includes('HF_TOKEN'));
});

test('an unreachable endpoint: the clear message, or the cache when it has the model', async (t) => {
  const home = await tempDir(t);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const err = await t.throwsAsync(resolveModel('openai-community/gpt2', { env: { HF_HOME: home, HF_ENDPOINT: endpoint } }), {
    instanceOf: HubError,
  });
  t.is(err.code, 'unreachable');
  t.true(err.message.includes(`cannot reach ${endpoint} (`), err.message);
  t.regex(err.message, /ECONNREFUSED/);
  t.true(
    err.message.includes(
      'To train without the network: pass a local model directory with --base DIR, or fill the cache on a connected machine and set HF_HUB_OFFLINE=1',
    ),
  );

  // As huggingface_hub does: when the hub cannot be asked, what the cache holds will do.
  const { env } = await setup(t);
  const dir = await resolveModel('openai-community/gpt2', { env });
  t.is(await resolveModel('openai-community/gpt2', { env: { ...env, HF_ENDPOINT: endpoint } }), dir);
});

for (const fault of ['short', 'cut', 'corrupt'] as const) {
  test(`a ${fault} download fails and leaves no blob, and the next try succeeds`, async (t) => {
    const { server, cache, options } = await setup(t);
    server.cdnFault = fault;
    const err = await t.throwsAsync(resolveModel('openai-community/gpt2', options), { instanceOf: HubError });
    t.is(err.code, 'download-failed');
    t.regex(err.message, fault === 'corrupt' ? /does not match its sha256/ : /bytes/);
    t.true(err.message.includes('partial file was removed'));
    t.false(err.message.includes('X-Amz-Signature'), 'no signed URL in messages');

    const root = join(cache, 'models--openai-community--gpt2');
    const sha = sha256(server.repos[0]!.files['model.safetensors']!);
    t.deepEqual(readdirSync(join(root, 'blobs')), [gitBlobSha1(server.repos[0]!.files['config.json']!)]);
    t.false(existsSync(join(root, 'snapshots', COMMIT, 'model.safetensors')));
    t.false(existsSync(join(cache, '.locks', 'models--openai-community--gpt2', `${sha}.lock`)));

    server.cdnFault = undefined;
    const dir = await resolveModel('openai-community/gpt2', options);
    t.deepEqual(readFileSync(join(dir, 'model.safetensors')), Buffer.from(server.repos[0]!.files['model.safetensors']!));
  });
}

test('a local model directory is returned as is; a directory without config.json or a bad name is refused', async (t) => {
  const dir = await tempDir(t);
  const model = join(dir, 'my-model');
  await mkdir(model);
  const bare = await t.throwsAsync(resolveModel(model, { env: {} }), { instanceOf: HubError });
  t.regex(bare.message, /without config\.json/);
  await writeFile(join(model, 'config.json'), '{}');
  const noFetch = (() => {
    throw new Error('no request for a local directory');
  }) as unknown as typeof fetch;
  t.is(await resolveModel(model, { env: {}, fetch: noFetch }), model);

  const bad = await t.throwsAsync(resolveModel('./no/such/dir', { env: {}, fetch: noFetch }), { instanceOf: HubError });
  t.is(bad.code, 'bad-model-name');
  t.regex(bad.message, /no such model directory, and not a hub model id/);
  const badRevision = await t.throwsAsync(resolveModel('openai-community/gpt2', { env: {}, revision: '../../etc', fetch: noFetch }));
  t.regex(badRevision.message, /not a revision/);
});

test('gpt2 → openai-community/gpt2: the 307 is followed, the folder keeps the name asked for', async (t) => {
  const { server, cache, options } = await setup(t, { renamed: { gpt2: 'openai-community/gpt2' } });
  const dir = await resolveModel('gpt2', options);
  t.is(dir, join(cache, 'models--gpt2', 'snapshots', COMMIT));
  t.false(existsSync(join(cache, 'models--openai-community--gpt2')));
  t.is(readFileSync(join(cache, 'models--gpt2', 'refs', 'main'), 'utf8'), COMMIT);
  t.true(existsSync(join(cache, 'models--gpt2', '.no_exist', COMMIT, 'special_tokens_map.json')));
  t.deepEqual(server.log().slice(0, 5), [
    'HEAD /gpt2/resolve/main/config.json',
    'HEAD /openai-community/gpt2/resolve/main/config.json',
    'GET /openai-community/gpt2/resolve/main/config.json',
    `HEAD /gpt2/resolve/${COMMIT}/model.safetensors`,
    `HEAD /openai-community/gpt2/resolve/${COMMIT}/model.safetensors`,
  ]);
  t.deepEqual(readFileSync(join(dir, 'config.json')), Buffer.from(server.repos[0]!.files['config.json']!));
});

test('no such repository, revision or file; pytorch_model.bin only', async (t) => {
  const torchOnly = gpt2Repo('someone/old-gpt2');
  torchOnly.files['pytorch_model.bin'] = torchOnly.files['model.safetensors']!;
  delete torchOnly.files['model.safetensors'];
  const noConfig = gpt2Repo('someone/no-config');
  delete noConfig.files['config.json'];
  const { env } = await setup(t, { repos: [gpt2Repo(), torchOnly, noConfig], token: TOKEN });

  const missing = await t.throwsAsync(resolveModel('nobody/nothing', { env: { ...env, HF_TOKEN: TOKEN } }), { instanceOf: HubError });
  t.is(missing.code, 'not-found');
  t.is(missing.message, 'no such model on the hub: nobody/nothing');

  const revision = await t.throwsAsync(resolveModel('openai-community/gpt2', { env, revision: 'v9' }), { instanceOf: HubError });
  t.regex(revision.message, /no such model on the hub: openai-community\/gpt2 has no revision "v9"/);

  const config = await t.throwsAsync(resolveModel('someone/no-config', { env }), { instanceOf: HubError });
  t.regex(config.message, /no such model on the hub: someone\/no-config \(revision "main"\) has no config\.json/);

  const torch = await t.throwsAsync(resolveModel('someone/old-gpt2', { env }), { instanceOf: HubError });
  t.is(torch.code, 'no-safetensors');
  t.true(torch.message.includes('pytorch_model.bin'));
  t.true(torch.message.includes('safe_serialization=True'));
  t.true(torch.message.includes('--base DIR'));
});

test('a stale lock (Python-style, ten minutes old) or one left by a dead process is taken over', async (t) => {
  const { server, cache, options } = await setup(t);
  const locks = join(cache, '.locks', 'models--openai-community--gpt2');
  await mkdir(locks, { recursive: true });
  const configLock = join(locks, `${gitBlobSha1(server.repos[0]!.files['config.json']!)}.lock`);
  await writeFile(configLock, '');
  const old = new Date(Date.now() - 11 * 60 * 1000);
  await utimes(configLock, old, old);
  const weightsLock = join(locks, `${sha256(server.repos[0]!.files['model.safetensors']!)}.lock`);
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  await writeFile(weightsLock, JSON.stringify({ pid: dead, host: hostname(), id: 'crashed' }));

  // A lock judged live is waited for until it goes stale (ten minutes), so a
  // download that finishes at all within the minute took both locks over.
  // The bound is generous on purpose: this is not a speed test.
  const dir = await Promise.race([
    resolveModel('openai-community/gpt2', options),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the locks were waited for, not taken over')), 60_000).unref()),
  ]);
  t.true(existsSync(join(dir, 'model.safetensors')));
  t.deepEqual(readdirSync(locks), []);
});

test('a live lock is waited for, and the blob its holder wrote is used', async (t) => {
  const { server, cache, options } = await setup(t);
  const locks = join(cache, '.locks', 'models--openai-community--gpt2');
  await mkdir(locks, { recursive: true });
  const configLock = join(locks, `${gitBlobSha1(server.repos[0]!.files['config.json']!)}.lock`);
  await writeFile(configLock, '');
  const release = setTimeout(() => void unlink(configLock), 300);
  t.teardown(() => clearTimeout(release));

  const started = Date.now();
  await resolveModel('openai-community/gpt2', options);
  t.true(Date.now() - started >= 250, 'waited for the holder');
});

test('two resolves at once download each blob once', async (t) => {
  const { server, options } = await setup(t);
  const [a, b] = await Promise.all([resolveModel('openai-community/gpt2', options), resolveModel('openai-community/gpt2', options)]);
  t.is(a, b);
  t.is(server.log().filter((l) => l.startsWith('GET /cdn/')).length, 1);
  t.is(gets(server), PRESENT.length);
});
