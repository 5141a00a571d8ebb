// `tweetsmith serve` against hostile requests, on 127.0.0.1: path traversal in
// every route (raw and %-encoded `..`, upload ids, run ids, file names, static
// assets), sources and bases outside the work dir (paths, links, URLs), options
// outside the allow-list or out of range, oversized uploads (413, the partial
// file removed), cross-origin POSTs and DNS-rebinding hosts (403), generation
// bounds, tokens that never reach a response (the network sources and the hub
// are local servers that echo the token back), and a server killed mid-run
// (SIGKILL) whose run comes back 'interrupted' and resumes to the end.
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../lib/serve/server.js';
import { answeredBodies, call, eventStream, multipart, startServeProcess, upload, type Answer } from './helpers/serve-client.js';
import { startLocalServer, type LocalServer } from './helpers/servers/local-server.js';

const root = join(import.meta.dirname, '..');
const posts = readFileSync(join(root, 'demo', 'posts.txt'));
const X_TOKEN = 'xtoken-SERVE-SECRET-4a7c91';
const HF_TOKEN = 'hf_SERVESECRETtoken8d2e';
const CAP = 64 * 1024;

let server: RunningServer;
let echo: LocalServer;
let base: string; // holds the work dir, and files beside it that no request may reach
let work: string;
let uploadId: string;
let failedRun: string;

test.before(async () => {
  // every network source and the hub are this server, which answers with the token it was sent
  echo = await startLocalServer((_url, request) => ({ status: 500, body: { detail: `you sent ${request.headers.authorization ?? 'nothing'}` } }));
  process.env.X_BEARER_TOKEN = X_TOKEN;
  process.env.HF_TOKEN = HF_TOKEN;
  process.env.TWEETSMITH_X_API_URL = echo.url;
  process.env.HF_ENDPOINT = echo.url;
  base = mkdtempSync(join(tmpdir(), 'tweetsmith-serve-security-'));
  process.env.HF_HOME = join(base, 'hf-home');
  work = join(base, 'work');
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET outside the work dir\n');
  mkdirSync(join(base, 'outside-model'));
  writeFileSync(join(base, 'outside-model', 'config.json'), '{}');
  const publicDir = join(base, 'public');
  mkdirSync(publicDir);
  writeFileSync(join(publicDir, 'index.html'), '<!doctype html><title>page</title>');
  server = await startServer({ dir: work, port: 0, threads: 1, maxUploadBytes: CAP, publicDir });
  const answer = await upload(server.port, 'posts.txt', posts.subarray(0, 20_000));
  uploadId = answer.json.id;
});

test.after.always(async () => {
  await server?.close();
  await echo?.close();
});

const runCount = async () => (await call(server.port, 'GET', '/api/runs')).json.runs.length as number;
const uploadDirs = () => (existsSync(join(work, 'uploads')) ? readdirSync(join(work, 'uploads')).sort() : []);

function refused(t: { is: Function; true: Function; false: Function }, answer: Answer, status: number | number[], what: string) {
  const statuses = Array.isArray(status) ? status : [status];
  t.true(statuses.includes(answer.status), `${what}: ${answer.status} ${answer.text.slice(0, 200)}`);
  t.is(typeof answer.json?.error, 'string', `${what}: answers { error }`);
  t.false(answer.text.includes('TOP SECRET') || answer.text.includes('root:x:0') || answer.text.includes('"devDependencies"'), `${what}: leaks nothing`);
}

test.serial('a run from a network source fails with the token nowhere in its state or events', async (t) => {
  const created = await call(server.port, 'POST', '/api/runs', { json: { sources: ['@someone'], base: 'tiny', options: { maxSteps: 2 } } });
  t.is(created.status, 200, created.text);
  failedRun = created.json.id;
  const events = await eventStream(server.port, `/api/runs/${failedRun}/events`);
  const end = await events.until((e) => e.event === 'status' && ['failed', 'done'].includes(e.data.run.status));
  events.close();
  t.is(end.data.run.status, 'failed');
  t.regex(end.data.run.error, /HTTP 500/);
  t.true(echo.requests.some((r) => r.headers.authorization === `Bearer ${X_TOKEN}`), 'the token was sent to the source, and echoed back');

  const hub = await call(server.port, 'POST', '/api/runs', { json: { sources: [uploadId], base: 'someone/some-model', options: { maxSteps: 2 } } });
  t.is(hub.status, 200, hub.text);
  const hubEvents = await eventStream(server.port, `/api/runs/${hub.json.id}/events`);
  const hubEnd = await hubEvents.until((e) => e.event === 'status' && ['failed', 'done'].includes(e.data.run.status));
  hubEvents.close();
  t.is(hubEnd.data.run.status, 'failed');
  t.true(echo.requests.some((r) => r.headers.authorization === `Bearer ${HF_TOKEN}`), 'the hub token was sent to the hub');
  for (const id of [failedRun, hub.json.id]) {
    await call(server.port, 'GET', `/api/runs/${id}`);
    const replay = await eventStream(server.port, `/api/runs/${id}/events`);
    await replay.until((e) => e.event === 'status');
    replay.close();
  }
  await call(server.port, 'GET', '/api/runs');
});

test.serial('path traversal in run ids, file names and downloads is refused', async (t) => {
  const id = failedRun;
  const paths = [
    '/api/runs/..%2f..%2fetc%2fpasswd',
    '/api/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/api/runs/../../etc/passwd',
    '/api/runs/..%2f..%2fpackage.json/events',
    '/api/runs/..%2f..%2f/files/README.md',
    '/api/runs/..%2f..%2f/download',
    '/api/runs/..%5c..%5csecret.txt',
    `/api/runs/${id}/files/..%2frequest.json`,
    `/api/runs/${id}/files/..%2f..%2f..%2fsecret.txt`,
    `/api/runs/${id}/files/%2e%2e%2frun.json`,
    `/api/runs/${id}/files/run%2freport.html`,
    `/api/runs/${id}/files/model.safetensors`,
    `/api/runs/${id}/files/..`,
    `/api/runs/${id}/files/../../../../etc/passwd`,
    `/api/runs/${id}%2f..%2f..%2f..%2fsecret.txt/files/README.md`,
    `/api/runs/${id}/download?format=..%2f..%2fsecret.txt`,
    '/..%2fsecret.txt',
    '/%2e%2e/secret.txt',
    '/../secret.txt',
    '/%2e%2e%2f%2e%2e%2fpackage.json',
  ];
  for (const path of paths) {
    const answer = await call(server.port, 'GET', path);
    refused(t, answer, [400, 403, 404], path);
  }
  for (const path of ['/api/runs/..%2f..%2fx/stop', '/api/runs/..%2f..%2fx/resume', `/api/runs/${id}%2f..%2f..%2f/resume`]) {
    refused(t, await call(server.port, 'POST', path), [400, 404], path);
  }
  refused(t, await call(server.port, 'POST', '/api/generate', { json: { run: '../../secret' } }), 404, 'generate run');
});

test.serial('an upload keeps only a safe basename, inside its own folder; other kinds and fields are refused', async (t) => {
  const cases: [string, string][] = [
    ['../../evil.txt', 'evil.txt'],
    ['..\\..\\win.txt', 'win.txt'],
    ['.hidden.txt', 'hidden.txt'],
    ['/etc/passwd.txt', 'passwd.txt'],
    ['a%2f..%2fb.csv', 'a_2f.._2fb.csv'],
  ];
  for (const [sent, kept] of cases) {
    const answer = await upload(server.port, sent, Buffer.from('hello world\n'));
    t.is(answer.status, 200, answer.text);
    t.is(answer.json.name, kept);
    t.deepEqual(readdirSync(join(work, 'uploads', answer.json.id)), [kept]);
  }
  t.false(existsSync(join(work, 'evil.txt')) || existsSync(join(base, 'evil.txt')) || existsSync(join(work, 'uploads', 'evil.txt')));

  const before = uploadDirs();
  refused(t, await upload(server.port, 'photo.exe', Buffer.from('MZ')), 400, 'an .exe');
  refused(t, await upload(server.port, 'posts.txt', Buffer.from('x'), 'other'), 400, 'another field');
  refused(t, await call(server.port, 'POST', '/api/uploads', { json: { file: 'x' } }), 400, 'not multipart');
  const boundary = '----field-first';
  const fieldFirst = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n../../x\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="posts.txt"\r\n\r\nhello\r\n--${boundary}--\r\n`,
  );
  refused(t, await call(server.port, 'POST', '/api/uploads', { body: fieldFirst, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }), 400, 'a field before the file');
  t.deepEqual(uploadDirs(), before, 'nothing written');
});

test.serial('an upload past the cap is answered 413 and leaves nothing behind', async (t) => {
  const before = uploadDirs();
  const big = Buffer.alloc(CAP * 3, 'a');
  refused(t, await upload(server.port, 'big.txt', big), 413, 'announced length');
  t.regex((await upload(server.port, 'big.txt', big)).json.error, /cap of 64 KB/);

  // without Content-Length (chunked): the cap is met while the file streams in
  const form = multipart('file', 'big.txt', big);
  const chunked = await new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/uploads', agent: false, headers: { ...form.headers, origin: `http://127.0.0.1:${server.port}`, 'transfer-encoding': 'chunked' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), text, json: JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    for (let i = 0; i < form.body.length; i += 16 * 1024) req.write(form.body.subarray(i, i + 16 * 1024));
    req.end();
  });
  refused(t, chunked, 413, 'chunked');
  t.deepEqual(uploadDirs(), before, 'no partial file is left');
  // a file just under the cap is taken
  t.is((await upload(server.port, 'fits.txt', Buffer.alloc(CAP - 1, 'b'))).status, 200);
});

test.serial('sources and bases outside the work dir are refused; a file inside it is taken', async (t) => {
  symlinkSync(join(base, 'secret.txt'), join(work, 'link-out.txt'));
  symlinkSync(join(base, 'outside-model'), join(work, 'model-link'));
  const count = await runCount();
  const badSources = [
    '../secret.txt',
    join(base, 'secret.txt'),
    '/etc/passwd',
    'uploads/../../secret.txt',
    `uploads/${uploadId}/../../../secret.txt`,
    'link-out.txt',
    'file:///etc/passwd',
    'http://127.0.0.1:1/posts.txt',
    '..%2fsecret.txt',
    'ffffffffffffffff',
    'FFFFFFFFFFFFFFFF',
    '',
    'nobody',
  ];
  for (const source of badSources) {
    refused(t, await call(server.port, 'POST', '/api/runs', { json: { sources: [source], base: 'tiny' } }), 400, `source ${source}`);
  }
  refused(t, await call(server.port, 'POST', '/api/runs', { json: { sources: [uploadId, 42], base: 'tiny' } }), 400, 'a number');
  refused(t, await call(server.port, 'POST', '/api/runs', { json: { sources: [uploadId, uploadId, uploadId, uploadId], base: 'tiny' } }), 400, 'four sources');
  const badBases = ['../outside-model', join(base, 'outside-model'), '/tmp', '..', 'model-link', 'a/../../outside-model', 'http://127.0.0.1:1/gpt2', '20991231-000000-abcd', 'x--y'];
  for (const b of badBases) {
    refused(t, await call(server.port, 'POST', '/api/runs', { json: { sources: [uploadId], base: b } }), [400, 404], `base ${b}`);
  }
  t.is(await runCount(), count, 'no run was created');

  const inside = await call(server.port, 'POST', '/api/runs', { json: { sources: [`uploads/${uploadId}/posts.txt`], base: 'tiny', options: { maxSteps: 1 } } });
  t.is(inside.status, 200, inside.text);
  t.deepEqual(inside.json.run.request.sources, [`uploads/${uploadId}/posts.txt`]);
  t.is((await call(server.port, 'POST', `/api/runs/${inside.json.id}/stop`)).status, 200);
});

test.serial('options outside the allow-list, of the wrong type or out of range are refused, named', async (t) => {
  const count = await runCount();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ out: '/tmp/x' }, /options\.out/],
    [{ resume: true }, /options\.resume/],
    [{ force: true }, /options\.force/],
    [{ threads: 64 }, /options\.threads/],
    [{ sourceOptions: {} }, /options\.sourceOptions/],
    [{ hub: { endpoint: 'http://x' } }, /options\.hub/],
    [{ baseIsRandom: true }, /options\.baseIsRandom/],
    [{ lr: 'fast' }, /options\.lr/],
    [{ epochs: 0 }, /options\.epochs/],
    [{ epochs: 1.5 }, /options\.epochs/],
    [{ lr: -1 }, /options\.lr/],
    [{ schedule: 'nope' }, /options\.schedule/],
    [{ warmup: 1 }, /options\.warmup/],
    [{ validSplit: 1.5 }, /options\.validSplit/],
    [{ batchSize: 1e9 }, /options\.batchSize/],
    [{ blockSize: 1 }, /options\.blockSize/],
    [{ samples: 5000 }, /options\.samples/],
    [{ seed: -1 }, /options\.seed/],
    [{ precision: 'fp64' }, /options\.precision/],
    [{ device: 'tpu' }, /options\.device/],
    [{ lora: { rank: 0 } }, /options\.lora/],
    [{ lora: { targets: ['wte'] } }, /options\.lora/],
    [{ lora: { path: '/tmp' } }, /options\.lora\.path/],
  ];
  for (const [options, message] of cases) {
    const answer = await call(server.port, 'POST', '/api/runs', { json: { sources: [uploadId], base: 'tiny', options } });
    refused(t, answer, 400, JSON.stringify(options));
    t.regex(answer.json.error, message);
  }
  refused(t, await call(server.port, 'POST', '/api/runs', { json: { sources: [uploadId], base: 'tiny', out: '/tmp/x' } }), 400, 'a top-level out');
  refused(t, await call(server.port, 'POST', '/api/runs', { body: '{not json', headers: { 'content-type': 'application/json' } }), 400, 'bad JSON');
  t.is(await runCount(), count);
});

test.serial('generation bounds are checked', async (t) => {
  const cases = [{ n: 0 }, { n: 1000 }, { temperature: -1 }, { temperature: 1e6 }, { topP: 0 }, { topP: 1.5 }, { maxLength: 1 }, { prompt: 42 }, { prompt: 'x'.repeat(100_000) }, { seed: -1 }, { weights: 'q8_0' }];
  for (const fields of cases) {
    refused(t, await call(server.port, 'POST', '/api/generate', { json: { run: failedRun, ...fields } }), 400, JSON.stringify(fields).slice(0, 60));
  }
  refused(t, await call(server.port, 'POST', '/api/generate', { json: { run: failedRun } }), 409, 'a run without a model');
});

test.serial('POSTs from another origin are refused (403); so is a host that is not loopback', async (t) => {
  const count = await runCount();
  const before = uploadDirs();
  const body = { sources: [uploadId], base: 'tiny', options: { maxSteps: 1 } };
  refused(t, await call(server.port, 'POST', '/api/runs', { json: body, origin: 'http://evil.example' }), 403, 'Origin evil');
  refused(t, await call(server.port, 'POST', '/api/runs', { json: body, origin: `http://127.0.0.1:${server.port + 1}` }), 403, 'another port');
  refused(t, await call(server.port, 'POST', '/api/runs', { json: body, origin: 'null' }), 403, 'Origin null');
  refused(t, await call(server.port, 'POST', '/api/runs', { json: body, origin: null, headers: { 'sec-fetch-site': 'cross-site' } }), 403, 'Sec-Fetch-Site cross-site');
  refused(t, await call(server.port, 'POST', '/api/runs', { json: body, origin: null, headers: { 'sec-fetch-site': 'same-site' } }), 403, 'Sec-Fetch-Site same-site');
  const form = multipart('file', 'posts.txt', posts.subarray(0, 100));
  refused(t, await call(server.port, 'POST', '/api/uploads', { body: form.body, headers: form.headers, origin: 'http://evil.example' }), 403, 'upload');
  refused(t, await call(server.port, 'POST', `/api/runs/${failedRun}/resume`, { origin: 'http://evil.example' }), 403, 'resume');
  refused(t, await call(server.port, 'POST', '/api/generate', { json: { run: failedRun }, origin: 'http://evil.example' }), 403, 'generate');
  // DNS rebinding: evil.example resolving to 127.0.0.1 sends its own name as Host
  refused(t, await call(server.port, 'GET', '/api/runs', { headers: { host: `evil.example:${server.port}` } }), 403, 'Host evil');
  t.is(await runCount(), count);
  t.deepEqual(uploadDirs(), before);

  // the page's own origin, by any loopback name, is accepted; no answer carries CORS headers
  const own = await call(server.port, 'POST', `/api/runs/${failedRun}/stop`, { origin: `http://localhost:${server.port}` });
  t.is(own.status, 409, own.text);
  for (const answer of [own, await call(server.port, 'GET', '/api/health', { headers: { origin: 'http://evil.example' } })]) {
    t.is(answer.headers['access-control-allow-origin'], undefined);
  }
});

test.serial('X_BEARER_TOKEN and HF_TOKEN appear in no answer of this file', (t) => {
  t.true(answeredBodies.length > 50);
  for (const body of answeredBodies) {
    t.false(body.includes(X_TOKEN) || body.includes(HF_TOKEN), body.slice(0, 300));
  }
});

test.serial('a server killed mid-run (SIGKILL) shows the run interrupted on restart, and resume completes it', async (t) => {
  const dir = join(base, 'killed');
  const server = await startServeProcess(['--port', '0', '--dir', dir, '--threads', '1', '--checkpoint-every', '2'], (fn) => t.teardown(fn));
  const { url, port, child } = server;
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const up = await upload(port, 'posts.txt', posts.subarray(0, 20_000));
  t.is(up.status, 200, up.text);
  const created = await call(port, 'POST', '/api/runs', { json: { sources: [up.json.id], base: 'tiny', options: { maxSteps: 24, blockSize: 32, samples: 1, seed: 2 } } });
  t.is(created.status, 200, created.text);
  const id = created.json.id;
  const events = await eventStream(port, `/api/runs/${id}/events`);
  await events.until((e) => e.event === 'train' && e.data.event.type === 'checkpoint');
  child.kill('SIGKILL');
  await server.exited;
  events.close();

  const restarted = await startServer({ dir, port: 0, threads: 1 });
  t.teardown(() => restarted.close());
  const state = await call(restarted.port, 'GET', `/api/runs/${id}`);
  t.is(state.json.status, 'interrupted', state.text);
  t.true(state.json.resumable);
  const resumed = await call(restarted.port, 'POST', `/api/runs/${id}/resume`);
  t.is(resumed.status, 200, resumed.text);
  const watch = await eventStream(restarted.port, `/api/runs/${id}/events`);
  const end = await watch.until((e) => e.event === 'status' && !['queued', 'running'].includes(e.data.run.status));
  watch.close();
  t.is(end.data.run.status, 'done', end.data.run.error);
  t.is(end.data.run.progress.step, 24);
  t.is(end.data.run.metrics.at(-1).step, 24);
  t.is(end.data.run.samples.length, 1);
});
