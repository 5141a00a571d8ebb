// Publishing a model folder to the hub with pushToHub and `tweetsmith push`,
// against a stand-in for the hub's upload API on 127.0.0.1
// (test/helpers/servers/hub-upload.ts) driven by the real @huggingface/hub
// client: every file arrives byte for byte (small ones inline in the commit,
// the weights through LFS), the repository is created when missing, and each
// way of failing says what happened without the token anywhere.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { GPT2 } from '../lib/engine/gpt2.js';
import { presetConfig } from '../lib/model/config.js';
import { PushError, pushToHub, type PushOptions } from '../lib/index.js';
import { startFakeUploadHub, type FakeUploadHub, type FakeUploadHubOptions } from './helpers/servers/hub-upload.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'hf_aliceWriteTOKENthatMustNeverBePrinted';
const BOB_TOKEN = 'hf_bobWriteTOKENthatMustNeverBePrinted';
const READ_TOKEN = 'hf_aliceReadTOKENthatMustNeverBePrinted';
const ACCOUNTS: FakeUploadHubOptions['accounts'] = {
  [TOKEN]: { name: 'alice', orgs: ['alice-lab'] },
  [BOB_TOKEN]: { name: 'bob' },
  [READ_TOKEN]: { name: 'alice', role: 'read' },
};

let modelDir: string;
/** Every file of the model folder, relative path → bytes, as written before any push. */
let original: Map<string, Buffer>;
let originalHashes: Record<string, string>;
/** The files that make the model, sorted: what init-model wrote, and the card. */
let MODEL_FILES: string[];

async function listFiles(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function readAll(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const rel of await listFiles(dir)) files.set(rel, await readFile(join(dir, rel)));
  return files;
}

/** Each file's sha256: what ava compares (its deepEqual on megabytes of Buffer takes minutes). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const [rel, bytes] of await readAll(dir)) hashes[rel] = createHash('sha256').update(bytes).digest('hex');
  return hashes;
}

test.before(async () => {
  // A real model folder: a tiny GPT-2 as init-model writes it (its weights, ~13 MB, go through LFS),
  // with a card, a run record, and a file of the user's that is not part of the model.
  const root = await mkdtemp(join(tmpdir(), 'tweetsmith-push-'));
  modelDir = join(root, 'alice-bot');
  const model = await GPT2.init(presetConfig('tiny'), { seed: 1, threads: 1 });
  await model.save(modelDir);
  await model.dispose();
  await writeFile(join(modelDir, 'README.md'), '---\nlicense: mit\n---\n# alice-bot\n');
  await mkdir(join(modelDir, 'run'));
  await writeFile(join(modelDir, 'run', 'metrics.jsonl'), '{"step":1,"loss":4.2}\n');
  await writeFile(join(modelDir, 'run', 'report.html'), '<!doctype html><title>run</title>\n');
  await writeFile(join(modelDir, 'notes.txt'), 'my own notes\n');
  original = await readAll(modelDir);
  originalHashes = await snapshot(modelDir);
  // the output marker (.tweetsmith-output.json) is tweetsmith's own bookkeeping: it stays at home
  MODEL_FILES = [...original.keys()].filter((path) => path !== 'notes.txt' && path !== '.tweetsmith-output.json' && !path.startsWith('run/'));
});

test.after.always(async () => {
  if (modelDir) await rm(join(modelDir, '..'), { recursive: true, force: true });
});

async function hub(t: ExecutionContext, options: Partial<FakeUploadHubOptions> = {}): Promise<FakeUploadHub> {
  const server = await startFakeUploadHub({ accounts: ACCOUNTS, ...options });
  t.teardown(() => server.close());
  return server;
}

/** Options that point at the fake hub and read no real environment. */
function opts(server: FakeUploadHub, extra: Partial<PushOptions> = {}): PushOptions {
  return { repo: 'alice/bot', token: TOKEN, env: { HF_ENDPOINT: server.url, HF_HOME: '/nonexistent' }, ...extra };
}

/** Everything an error object carries, however it is printed or serialised, its causes included. */
function everythingIn(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String(e), inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e, Object.getOwnPropertyNames(e)));
  }
  return parts.join('\n');
}

function assertNoToken(t: ExecutionContext, text: string, where: string): void {
  for (const token of [TOKEN, BOB_TOKEN, READ_TOKEN, 'TOKENthatMustNever']) t.false(text.includes(token), `the token appears in ${where}`);
}

async function rejection(t: ExecutionContext, promise: Promise<unknown>): Promise<PushError> {
  const err = await t.throwsAsync(promise, { instanceOf: PushError });
  assertNoToken(t, everythingIn(err), 'the error');
  return err as PushError;
}


test('every file arrives byte-identical: small ones inline in the commit, the weights through LFS; the repo is created', async (t) => {
  const server = await hub(t);
  const result = await pushToHub(modelDir, opts(server));

  t.is(result.url, `${server.url}/alice/bot`);
  t.is(result.repo, 'alice/bot');
  t.true(result.created);
  const pushed = [...MODEL_FILES, 'run/metrics.jsonl', 'run/report.html'].sort();
  t.deepEqual(result.files.map((f) => f.path).sort(), pushed);
  t.deepEqual(result.leftOut, ['notes.txt']);
  for (const path of pushed) {
    const stored = server.file('alice/bot', path);
    t.truthy(stored, `${path} is on the hub`);
    t.true(stored!.content.equals(original.get(path)!), `${path} arrived byte-identical`);
    t.is(stored!.lfs, path === 'model.safetensors', `${path} ${path === 'model.safetensors' ? 'through LFS' : 'inline'}`);
  }
  t.is(server.file('alice/bot', 'notes.txt'), undefined, "the user's own file stays at home");

  t.is(server.commits.length, 1, 'one commit');
  t.is(server.commits[0].summary, 'Upload alice-bot with tweetsmith');
  t.is(result.commit.oid, server.commits[0].oid);
  t.true(server.commits[0].operations.includes('lfsFile model.safetensors'));
  t.is(server.lfsUploads.length, 1);
  // The library offered xet; this hub did not take it, so the plain LFS path ran.
  t.true(server.batchTransfers[0].includes('basic'));
  // The signed LFS upload URL gets no token; the hub's API does.
  t.false(server.withToken().some((line) => line.startsWith('PUT ')));
  t.true(server.withToken().some((line) => line.startsWith('POST /api/models/alice/bot/commit/')));
  assertNoToken(t, server.bodies(), 'a request body');
  t.deepEqual(await snapshot(modelDir), originalHashes, 'the model folder is untouched');
});

test('a second push is safe: the repo exists (409), the weights are not sent again, a new commit is made', async (t) => {
  const server = await hub(t);
  await pushToHub(modelDir, opts(server));
  const again = await pushToHub(modelDir, opts(server, { message: 'again' }));
  t.false(again.created);
  t.is(server.lfsUploads.length, 1, 'the hub already had the weights');
  t.is(server.commits.length, 2);
  t.is(server.commits[1].summary, 'again');
  t.true(server.file('alice/bot', 'model.safetensors')!.content.equals(original.get('model.safetensors')!));
});

test('--private creates a private repo; --revision commits to a new branch; --no-run leaves run/ out; NAME alone goes under the account', async (t) => {
  const server = await hub(t);
  const result = await pushToHub(modelDir, opts(server, { repo: 'bot', private: true, revision: 'v1', includeRun: false }));
  t.is(result.repo, 'alice/bot');
  t.is(result.revision, 'v1');
  t.is(server.repos.get('alice/bot')!.visibility, 'private');
  t.deepEqual([...server.repos.get('alice/bot')!.branches.get('v1')!.keys()].sort(), MODEL_FILES);
  t.deepEqual([...server.repos.get('alice/bot')!.branches.get('main')!.keys()], [], 'main is untouched');
  t.deepEqual(result.leftOut, ['notes.txt', 'run/']);
  // An organisation the account belongs to is a namespace it may create in.
  const org = await pushToHub(modelDir, opts(server, { repo: 'alice-lab/bot', includeRun: false }));
  t.true(org.created);
});

test('401: the hub refuses the token, and nothing is uploaded', async (t) => {
  const server = await hub(t);
  const err = await rejection(t, pushToHub(modelDir, opts(server, { token: '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' })));
  t.is(err.code, 'unauthorized');
  t.is(err.status, 401);
  t.regex(err.message, /refused the token as invalid or expired \(the hub said: Invalid credentials in Authorization header\); make a token with write access at http:\/\/127\.0\.0\.1:\d+\/settings\/tokens/);
  t.deepEqual(server.log(), ['GET /api/whoami-v2'], 'nothing was sent after the token was refused');
  t.false(err.message.includes('expiredTOKEN'));
});

test('a repo that exists and belongs to someone else: refused, and its files are untouched', async (t) => {
  const server = await hub(t, { repos: [{ id: 'bob/bot', files: { 'README.md': "bob's card" } }] });
  const err = await rejection(t, pushToHub(modelDir, opts(server, { repo: 'bob/bot' })));
  t.is(err.code, 'forbidden');
  t.is(err.status, 403);
  t.regex(err.message, /^bob\/bot belongs to someone else: the token's account, alice \(organisations: alice-lab\) may not write to it/);
  t.regex(err.message, /--repo alice\/bot/);
  t.is(server.commits.length, 0);
  t.is(server.lfsUploads.length, 0);
  t.is(server.file('bob/bot', 'README.md')!.content.toString(), "bob's card");

  // A namespace that is someone else's, with no such repo yet: cannot be created there.
  const missing = await rejection(t, pushToHub(modelDir, opts(server, { repo: 'bob/new-bot' })));
  t.is(missing.code, 'forbidden');
  t.regex(missing.message, /the namespace "bob" belongs to someone else: the token's account, alice .* may not create repositories there/);
  t.false(server.repos.has('bob/new-bot'));

  // A private repo of someone else's reads as missing (the hub does not reveal it), and is refused the same way.
  const hidden = await hub(t, { repos: [{ id: 'bob/secret', private: true }] });
  const secret = await rejection(t, pushToHub(modelDir, opts(hidden, { repo: 'bob/secret' })));
  t.is(secret.code, 'forbidden');
});

test('the connection cut mid-upload: says nothing was committed and that re-running is safe; the rerun completes', async (t) => {
  const server = await hub(t);
  server.cut = 'lfs-upload';
  const err = await rejection(t, pushToHub(modelDir, opts(server)));
  t.is(err.code, 'connection-cut');
  t.regex(err.message, /broke while uploading the large files \(.+\): no file had finished uploading; nothing was committed, so alice\/bot is as it was/);
  t.regex(err.message, /Running the same command again is safe/);
  t.is(server.commits.length, 0);
  t.deepEqual(await snapshot(modelDir), originalHashes, 'the model folder is untouched');

  const rerun = await pushToHub(modelDir, opts(server));
  t.false(rerun.created);
  for (const path of MODEL_FILES) t.true(server.file('alice/bot', path)!.content.equals(original.get(path)!), path);

  // Cut while committing: the large file had arrived; whether the commit landed is unknown.
  server.cut = 'commit';
  const late = await rejection(t, pushToHub(modelDir, opts(server, { repo: 'alice/other' })));
  t.is(late.code, 'connection-cut');
  t.regex(late.message, /while the hub was committing the files .*the commit may or may not have been made \(look at http:\/\/127\.0\.0\.1:\d+\/alice\/other\/commits\)/);
});

test('an unreachable hub: a clear error, nothing uploaded', async (t) => {
  const server = await hub(t);
  const url = server.url;
  await server.close();
  const err = await rejection(t, pushToHub(modelDir, { repo: 'alice/bot', token: TOKEN, endpoint: url, env: {} }));
  t.is(err.code, 'unreachable');
  t.regex(err.message, /^cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); nothing was uploaded/);
});

test('bad inputs: each a clear error naming the file or option, before any request', async (t) => {
  const server = await hub(t);
  const scratch = await mkdtemp(join(tmpdir(), 'tweetsmith-push-bad-'));
  t.teardown(() => rm(scratch, { recursive: true, force: true }));
  const cases: [string, Partial<PushOptions>, string, RegExp][] = [];
  const noConfig = join(scratch, 'empty');
  await mkdir(noConfig);
  cases.push([noConfig, {}, 'bad-model', /empty\/config\.json: missing; a model directory needs config\.json/]);
  cases.push([join(scratch, 'nope'), {}, 'bad-model', /nope: no such model folder/]);
  const truncated = join(scratch, 'truncated');
  await cp(modelDir, truncated, { recursive: true });
  await truncate(join(truncated, 'model.safetensors'), 1000);
  cases.push([truncated, {}, 'bad-model', /truncated\/model\.safetensors: .*runs past the end of the file \(truncated\?\); not a model's weights, so nothing was uploaded/]);
  const noWeights = join(scratch, 'no-weights');
  await cp(modelDir, noWeights, { recursive: true });
  await rm(join(noWeights, 'model.safetensors'));
  cases.push([noWeights, {}, 'bad-model', /no-weights\/model\.safetensors: missing/]);
  cases.push([modelDir, { repo: 'alice/../bob' }, 'bad-repo', /"alice\/\.\.\/bob" is not a hub repository id: --repo takes USER\/NAME/]);
  cases.push([modelDir, { repo: 'a/b/c' }, 'bad-repo', /is not a hub repository id/]);
  cases.push([modelDir, { revision: '../main' }, 'bad-repo', /"\.\.\/main" is not a branch name/]);
  cases.push([modelDir, { token: undefined }, 'no-token', /needs an access token: make a token with write access at http:\/\/127\.0\.0\.1:\d+\/settings\/tokens and pass it in HF_TOKEN or with --token-file FILE/]);
  cases.push([modelDir, { token: 'abcTOKENthatMustNeverBePrinted' }, 'no-token', /not a Hugging Face access token \(those start with "hf_"\)/]);
  cases.push([modelDir, { token: undefined, tokenFile: join(scratch, 'missing-token') }, 'no-token', /missing-token: cannot read the token file \(ENOENT\)/]);
  for (const [dir, extra, code, message] of cases) {
    const err = await rejection(t, pushToHub(dir, opts(server, extra)));
    t.is(err.code as string, code, `${dir} ${JSON.stringify(extra)}`);
    t.regex(err.message, message);
  }
  t.deepEqual(server.log(), [], 'no request for any of them');

  const readOnly = await rejection(t, pushToHub(modelDir, opts(server, { token: READ_TOKEN })));
  t.is(readOnly.code, 'read-only-token');
  t.regex(readOnly.message, /may only read; make a token with write access/);
});

test('the token comes from HF_TOKEN or a token file, and HF_ENDPOINT names the hub', async (t) => {
  const server = await hub(t);
  const home = await mkdtemp(join(tmpdir(), 'tweetsmith-push-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const fromEnv = await pushToHub(modelDir, { repo: 'alice/env', env: { HF_TOKEN: TOKEN, HF_ENDPOINT: `${server.url}/`, HF_HOME: home } });
  t.is(fromEnv.url, `${server.url}/alice/env`);
  const tokenFile = join(home, 'my-token');
  await writeFile(tokenFile, `${BOB_TOKEN}\n`);
  const fromFile = await pushToHub(modelDir, { repo: 'file-bot', tokenFile, env: { HF_TOKEN: TOKEN, HF_ENDPOINT: server.url, HF_HOME: home } });
  t.is(fromFile.repo, 'bob/file-bot', 'the token file wins over HF_TOKEN');
  t.deepEqual(await readdir(home), ['my-token'], 'nothing written');
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tweetsmith(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'tweetsmith.js'), ...args],
      { cwd: ROOT, env: { ...process.env, HF_TOKEN: '', HF_HOME: '/nonexistent', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('tweetsmith push: --json prints one JSON document; without it the URL on stdout; failures exit 1 with the message, never the token', async (t) => {
  const server = await hub(t, { repos: [{ id: 'bob/bot' }] });
  const env = { HF_TOKEN: TOKEN, HF_ENDPOINT: server.url };

  const json = await tweetsmith(['push', modelDir, '--repo', 'alice/cli-bot', '--json', '--no-run', '--message', 'from the CLI'], env);
  t.is(json.code, 0, json.stderr);
  t.is(json.stdout.trim().split('\n').length, 1, 'nothing else on stdout');
  const result = JSON.parse(json.stdout);
  t.like(result, { repo: 'alice/cli-bot', url: `${server.url}/alice/cli-bot`, revision: 'main', created: true, leftOut: ['notes.txt', 'run/'] });
  t.deepEqual(result.files.map((f: { path: string }) => f.path).sort(), MODEL_FILES);
  t.is(server.commits.at(-1)!.summary, 'from the CLI');

  const plain = await tweetsmith(['push', modelDir, '--repo', 'alice/cli-bot', '--private'], env);
  t.is(plain.code, 0, plain.stderr);
  t.is(plain.stdout, `${server.url}/alice/cli-bot\n`);
  t.regex(plain.stderr, /pushing to http:\/\/127\.0\.0\.1:\d+\/alice\/cli-bot/);
  t.regex(plain.stderr, new RegExp(`pushed ${MODEL_FILES.length + 2} files \\(\\d+\\.\\d MB\\) to alice/cli-bot, commit [0-9a-f]{8}`));
  t.regex(plain.stderr, /left out \(not model files\): notes\.txt/);

  const refused = await tweetsmith(['push', modelDir, '--repo', 'alice/cli-bot'], { ...env, HF_TOKEN: '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' });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /tweetsmith: alice\/cli-bot: the hub refused the token as invalid or expired/);
  t.is(refused.stdout, '');

  const someoneElses = await tweetsmith(['push', modelDir, '--repo', 'bob/bot', '--token-file', '/nonexistent/token'], env);
  t.is(someoneElses.code, 1);
  t.regex(someoneElses.stderr, /\/nonexistent\/token: cannot read the token file/);

  const help = await tweetsmith(['push', '--help'], env);
  t.regex(help.stdout, /--repo <user\/name>/);
  for (const run of [json, plain, refused, someoneElses, help]) assertNoToken(t, run.stdout + run.stderr, 'the CLI output');
  t.true((await stat(modelDir)).isDirectory());
});

test('a LoRA adapter folder (PEFT layout) is pushed as one: adapter_config.json and adapter_model.safetensors, with its card', async (t) => {
  const server = await hub(t);
  const root = await mkdtemp(join(tmpdir(), 'tweetsmith-push-adapter-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const adapterDir = join(root, 'alice-lora');
  const model = await GPT2.load(modelDir, { threads: 1 });
  model.addLora({ rank: 2, seed: 3 });
  await model.save(adapterDir);
  await model.dispose();
  await writeFile(join(adapterDir, 'README.md'), '---\nlibrary_name: peft\n---\n# alice-lora\n');
  const files = await readAll(adapterDir);

  const result = await pushToHub(adapterDir, opts(server, { repo: 'alice/bot-lora' }));
  const paths = result.files.map((f) => f.path).sort();
  t.true(paths.includes('adapter_config.json') && paths.includes('adapter_model.safetensors') && paths.includes('README.md'));
  t.false(paths.includes('config.json'), 'an adapter has no config.json of its own');
  for (const path of paths) t.true(server.file('alice/bot-lora', path)!.content.equals(files.get(path)!), `${path} arrived byte-identical`);

  await rm(join(adapterDir, 'adapter_model.safetensors'));
  const missing = await rejection(t, pushToHub(adapterDir, opts(server, { repo: 'alice/bot-lora' })));
  t.regex(missing.message, /adapter_model\.safetensors: missing/);
});
