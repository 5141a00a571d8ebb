// `tweetsmith serve`'s HTTP API, route by route, against a real server on
// 127.0.0.1 (port 0) training the demo's tiny model for a few steps: health and
// defaults, the page, uploads (the demo archive zipped, and a text file), a run
// created, watched over SSE by two clients at once (the same events), a second
// run queued behind it, its state when done, generation as JSON and as SSE,
// the card and the report, and the model folder downloaded as .zip and .tar.gz
// that unpack to the model's own files.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract as extractTar } from 'tar';
import { openPromise } from 'yauzl';
import { LORA_DEFAULTS, SAMPLING_DEFAULTS, TRAIN_DEFAULTS } from '../lib/defaults.js';
import { REPORT_CSP } from '../lib/report/report-html.js';
import { ALLOWED_RUN_OPTIONS } from '../lib/serve/runs/run-manager.js';
import { startServer, type RunningServer } from '../lib/serve/server.js';
import { readPackageVersion } from '../lib/version.js';
import { call, eventStream, filesUnder, upload, zipFolder, type EventStreamClient, type SseEvent } from './helpers/serve-client.js';

const root = join(import.meta.dirname, '..');
const MAX_UPLOAD = 4 * 1024 * 1024;

let server: RunningServer;
let publicDir: string;

test.before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tweetsmith-serve-api-'));
  publicDir = join(dir, 'public');
  mkdirSync(publicDir);
  writeFileSync(join(publicDir, 'index.html'), '<!doctype html><title>tweetsmith</title><script type="module" src="app.js"></script>');
  writeFileSync(join(publicDir, 'app.js'), 'export {};\n');
  server = await startServer({ dir: join(dir, 'work'), port: 0, threads: 1, maxUploadBytes: MAX_UPLOAD, publicDir });
});

test.after.always(async () => {
  await server?.close();
});

const finished = (e: SseEvent) => e.event === 'status' && !['queued', 'running'].includes(e.data.run.status);
const trainEvents = (client: EventStreamClient) => client.events.filter((e) => e.event === 'train').map((e) => e.data.event);

test.serial('health answers the version; defaults are the library\'s', async (t) => {
  const health = await call(server.port, 'GET', '/api/health');
  t.is(health.status, 200);
  t.deepEqual(health.json, { ok: true, version: readPackageVersion() });

  const defaults = await call(server.port, 'GET', '/api/defaults');
  t.is(defaults.status, 200);
  t.deepEqual(defaults.json.options, [...ALLOWED_RUN_OPTIONS]);
  t.is(defaults.json.train.epochs, TRAIN_DEFAULTS.epochs);
  t.is(defaults.json.train.lr, TRAIN_DEFAULTS.lr);
  t.is(defaults.json.train.validSplit, TRAIN_DEFAULTS.validSplit);
  t.false('beta1' in defaults.json.train, 'only the settings a run may change');
  t.deepEqual(defaults.json.sampling, { ...SAMPLING_DEFAULTS });
  t.deepEqual(defaults.json.lora, { ...LORA_DEFAULTS, targets: [...LORA_DEFAULTS.targets] });
  t.is(defaults.json.maxUploadBytes, MAX_UPLOAD);
});

test.serial('the page is served at / with its CSP; an unbuilt page says how to build it', async (t) => {
  const page = await call(server.port, 'GET', '/');
  t.is(page.status, 200);
  t.is(page.text, readFileSync(join(publicDir, 'index.html'), 'utf8'));
  t.regex(String(page.headers['content-security-policy']), /default-src 'self'/);
  t.is((await call(server.port, 'GET', '/app.js')).text, 'export {};\n');

  const bare = await startServer({ dir: mkdtempSync(join(tmpdir(), 'tweetsmith-serve-bare-')), port: 0, publicDir: join(publicDir, 'missing') });
  try {
    const fallback = await call(bare.port, 'GET', '/');
    t.is(fallback.status, 200);
    t.regex(fallback.text, /npm run build:ts/);
  } finally {
    await bare.close();
  }
});

let archiveUpload: { id: string; name: string; bytes: number };
let postsUpload: { id: string; name: string; bytes: number };

test.serial('uploads are streamed to the work dir: the demo archive zipped, and a text file', async (t) => {
  const zip = await zipFolder(join(root, 'demo', 'archive'));
  const answer = await upload(server.port, 'twitter-archive.zip', zip);
  t.is(answer.status, 200, answer.text);
  archiveUpload = answer.json;
  t.regex(archiveUpload.id, /^[0-9a-f]{16}$/);
  t.is(archiveUpload.name, 'twitter-archive.zip');
  t.is(archiveUpload.bytes, zip.length);
  t.true(readFileSync(join(server.workDir, 'uploads', archiveUpload.id, 'twitter-archive.zip')).equals(zip));

  const posts = readFileSync(join(root, 'demo', 'posts.txt'));
  const second = await upload(server.port, 'my posts.txt', posts);
  t.is(second.status, 200, second.text);
  postsUpload = second.json;
  t.not(postsUpload.id, archiveUpload.id);
  t.is(postsUpload.name, 'my posts.txt');
  t.is(postsUpload.bytes, posts.length);
});

let runA: string;
let runB: string;

test.serial('a run trains with its events streamed to two clients alike; a second run waits in the queue', async (t) => {
  const created = await call(server.port, 'POST', '/api/runs', {
    json: { sources: [archiveUpload.id], base: 'tiny', options: { maxSteps: 8, blockSize: 32, samples: 2, seed: 3, validSplit: 0.1 } },
  });
  t.is(created.status, 200, created.text);
  runA = created.json.id;
  t.regex(runA, /^\d{8}-\d{6}-[0-9a-f]{4}$/);
  const first = await eventStream(server.port, `/api/runs/${runA}/events`);
  const second = await eventStream(server.port, `/api/runs/${runA}/events`);
  t.teardown(() => (first.close(), second.close()));

  const queued = await call(server.port, 'POST', '/api/runs', {
    json: { sources: [postsUpload.id], base: 'tiny', options: { maxSteps: 3, blockSize: 32, samples: 1, seed: 4 } },
  });
  t.is(queued.status, 200, queued.text);
  runB = queued.json.id;

  await first.until((e) => e.event === 'train' && e.data.event.type === 'step');
  const whileATrains = await call(server.port, 'GET', `/api/runs/${runB}`);
  t.is(whileATrains.json.status, 'queued', 'one run trains at a time');
  t.is((await call(server.port, 'GET', `/api/runs/${runA}`)).json.status, 'running');

  const done = await first.until(finished);
  await second.until(finished);
  t.is(done.data.run.status, 'done', done.data.run.error);
  const events = trainEvents(first);
  t.deepEqual(trainEvents(second), events, 'both clients saw the same events');
  t.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.row.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  for (const type of ['device', 'dataset', 'start', 'validation', 'weights', 'samples', 'saved']) t.truthy(events.find((e) => e.type === type), type);

  // a client that connects after the run is done is shown the same run
  const late = await eventStream(server.port, `/api/runs/${runA}/events`);
  await late.until((e) => e.event === 'status');
  late.close();
  t.deepEqual(trainEvents(late), events);
  t.is(late.events.at(-1)!.data.run.status, 'done');
});

test.serial('a finished run\'s state: counts, metrics, samples, the model folder, no server path', async (t) => {
  const state = await call(server.port, 'GET', `/api/runs/${runA}`);
  t.is(state.status, 200);
  const run = state.json;
  t.is(run.id, runA);
  t.is(run.status, 'done');
  t.deepEqual(run.request.sources, ['twitter-archive.zip']);
  t.is(run.request.base, 'tiny');
  t.true(run.dataset.stats.users[0].kept > 0);
  t.is(run.metrics.length, 8);
  t.is(run.progress.step, 8);
  t.is(run.samples.length, 2);
  t.is(run.model, 'model');
  t.false(state.text.includes(server.workDir), 'no absolute path of the server');

  const list = await call(server.port, 'GET', '/api/runs');
  t.deepEqual(list.json.runs.map((r: { id: string }) => r.id), [runB, runA], 'newest first');
});

test.serial('generate answers JSON samples; the same seed gives the same posts', async (t) => {
  const body = { run: runA, prompt: 'The lighthouse', n: 2, maxLength: 24, seed: 5, temperature: 1, topP: 0.95 };
  const answer = await call(server.port, 'POST', '/api/generate', { json: body });
  t.is(answer.status, 200, answer.text);
  t.is(answer.json.samples.length, 2);
  for (const sample of answer.json.samples) t.true(sample.startsWith('The lighthouse'), sample);
  const again = await call(server.port, 'POST', '/api/generate', { json: body });
  t.deepEqual(again.json.samples, answer.json.samples);
});

test.serial('generate streams tokens over SSE, then the same samples as JSON', async (t) => {
  const body = { run: runA, prompt: 'The lighthouse', n: 2, maxLength: 24, seed: 5 };
  const json = await call(server.port, 'POST', '/api/generate', { json: body });
  const stream = await eventStream(server.port, '/api/generate', body);
  await stream.ended;
  const tokens = stream.events.filter((e) => e.event === 'token');
  t.true(tokens.some((e) => e.data.sequence === 0) && tokens.some((e) => e.data.sequence === 1));
  // the deltas add up to the text so far
  const seq0 = tokens.filter((e) => e.data.sequence === 0);
  t.is('The lighthouse' + seq0.map((e) => e.data.delta).join(''), seq0.at(-1)!.data.text);
  t.is(stream.events.filter((e) => e.event === 'sample').length, 2);
  const done = stream.events.at(-1)!;
  t.is(done.event, 'done');
  t.deepEqual(done.data.samples, json.json.samples);
});

test.serial('the model card and the report, the report with its CSP', async (t) => {
  const card = await call(server.port, 'GET', `/api/runs/${runA}/files/README.md`);
  t.is(card.status, 200);
  t.is(card.text, readFileSync(join(server.workDir, 'runs', runA, 'model', 'README.md'), 'utf8'));
  t.regex(String(card.headers['content-type']), /^text\/plain/);

  const report = await call(server.port, 'GET', `/api/runs/${runA}/files/report.html`);
  t.is(report.status, 200);
  t.regex(String(report.headers['content-type']), /^text\/html/);
  t.is(report.headers['content-security-policy'], REPORT_CSP);
  t.true(report.text.includes(`content="${REPORT_CSP}"`));
});

test.serial('the model folder downloads as .zip and .tar.gz, each unpacking to the model\'s files', async (t) => {
  const modelDir = join(server.workDir, 'runs', runA, 'model');
  const expected = filesUnder(modelDir);
  t.true(expected.includes('model.safetensors') && expected.includes('README.md') && expected.includes('run/report.html'));

  const zip = await call(server.port, 'GET', `/api/runs/${runA}/download?format=zip`);
  t.is(zip.status, 200);
  t.is(zip.headers['content-disposition'], `attachment; filename="tweetsmith-${runA}.zip"`);
  const entries = await unzip(zip.body);
  t.deepEqual([...entries.keys()].sort(), expected.map((f) => `tweetsmith-${runA}/${f}`));
  // Buffer.equals: ava's deepEqual walks a 13 MB buffer for minutes
  for (const f of expected) t.true(entries.get(`tweetsmith-${runA}/${f}`)?.equals(readFileSync(join(modelDir, f))), f);

  const tgz = await call(server.port, 'GET', `/api/runs/${runA}/download?format=tar.gz`);
  t.is(tgz.status, 200);
  t.is(tgz.headers['content-disposition'], `attachment; filename="tweetsmith-${runA}.tar.gz"`);
  const out = mkdtempSync(join(tmpdir(), 'tweetsmith-serve-tgz-'));
  writeFileSync(join(out, 'model.tar.gz'), tgz.body);
  await extractTar({ file: join(out, 'model.tar.gz'), cwd: out });
  const unpacked = join(out, `tweetsmith-${runA}`);
  t.deepEqual(filesUnder(unpacked), expected);
  for (const f of expected) t.true(readFileSync(join(unpacked, f)).equals(readFileSync(join(modelDir, f))), f);
});

test.serial('the queued run then trains; stop and resume answer with the state', async (t) => {
  const watch = await eventStream(server.port, `/api/runs/${runB}/events`);
  t.teardown(() => watch.close());
  const done = await watch.until(finished);
  t.is(done.data.run.status, 'done', done.data.run.error);
  t.true(done.data.run.startedAt >= (await call(server.port, 'GET', `/api/runs/${runA}`)).json.endedAt);

  // a run stopped while queued is 'stopped' at once; resume queues it again
  const c = await call(server.port, 'POST', '/api/runs', { json: { sources: [postsUpload.id], base: `runs/${runA}/model`, options: { maxSteps: 2, blockSize: 32, samples: 0 } } });
  t.is(c.status, 200, c.text);
  t.is(c.json.run.request.base, `runs/${runA}/model`);
  const stopped = await call(server.port, 'POST', `/api/runs/${c.json.id}/stop`);
  t.is(stopped.status, 200, stopped.text);
  t.true(['stopped', 'done'].includes(stopped.json.status));
  if (stopped.json.status === 'stopped') {
    const resumed = await call(server.port, 'POST', `/api/runs/${c.json.id}/resume`);
    t.is(resumed.status, 200, resumed.text);
    t.is(resumed.json.status, 'queued');
    const again = await call(server.port, 'POST', `/api/runs/${c.json.id}/stop`);
    t.is(again.status, 200, again.text);
  }
  const conflict = await call(server.port, 'POST', `/api/runs/${runA}/resume`);
  t.is(conflict.status, 409);
  t.regex(conflict.json.error, /done/);
});

/** The zip's files by name (read with yauzl, as tweetsmith reads archives). */
async function unzip(buffer: Buffer): Promise<Map<string, Buffer>> {
  const path = join(mkdtempSync(join(tmpdir(), 'tweetsmith-serve-zip-')), 'model.zip');
  writeFileSync(path, buffer);
  const zip = await openPromise(path);
  const files = new Map<string, Buffer>();
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      files.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return files;
}

test.serial('generation answers while another run trains: the training run keeps running', async (t) => {
  const long = await call(server.port, 'POST', '/api/runs', {
    json: { sources: [postsUpload.id], base: 'tiny', options: { maxSteps: 5000, blockSize: 32, samples: 0, seed: 6 } },
  });
  t.is(long.status, 200, long.text);
  const watch = await eventStream(server.port, `/api/runs/${long.json.id}/events`);
  t.teardown(() => watch.close());
  await watch.until((e) => e.event === 'train' && e.data.event.type === 'step');
  const stepsBefore = (await call(server.port, 'GET', `/api/runs/${long.json.id}`)).json.progress.step;

  const answer = await call(server.port, 'POST', '/api/generate', { json: { run: runA, prompt: 'The lighthouse', n: 2, maxLength: 24, seed: 7 } });
  t.is(answer.status, 200, answer.text);
  t.is(answer.json.samples.length, 2);

  // the run trained on in its own process while the server sampled
  await watch.until((e) => e.event === 'train' && e.data.event.type === 'step' && e.data.event.row.step > stepsBefore + 1);
  const during = await call(server.port, 'GET', `/api/runs/${long.json.id}`);
  t.is(during.json.status, 'running');
  const stopped = await call(server.port, 'POST', `/api/runs/${long.json.id}/stop`);
  t.is(stopped.status, 200, stopped.text);
  const end = await watch.until(finished);
  t.is(end.data.run.status, 'stopped');
});
