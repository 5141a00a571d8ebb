// The run manager of `tweetsmith serve`: real training runs of the demo's tiny
// model in child processes, a few steps each, on the demo's posts as an upload.
// A run goes queued → running → done; a second waits behind the first; stop
// checkpoints and resume finishes; a killed server's run comes back
// interrupted and resumes; a killed child fails with a short reason; the
// events replayed are those the listeners saw; ids, sources and options from
// the browser are checked.
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunManager, type RunEvent, type RunRequest, type RunState } from '../lib/serve/runs/run-manager.js';
import { ServeError } from '../lib/serve/serve-error.js';
import { PathHider } from '../lib/serve/runs/run-paths.js';
import { startFakeHub } from './helpers/servers/hub.js';
import { syntheticPosts } from './helpers/servers/synthetic-posts.js';
import { startFakeXApi, type FakeTweet } from './helpers/servers/x-api.js';
import { processIsAlive } from '../lib/fs/process-alive.js';
import type { TrainEvent } from '../lib/train/train.js';
import { GPT2 } from '../lib/engine/gpt2.js';

const root = join(import.meta.dirname, '..');
const posts = join(root, 'demo', 'posts.txt');

/** A work dir with the demo's posts uploaded, as the HTTP layer leaves an upload. */
function workDir(): { dir: string; upload: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tweetsmith-serve-runs-'));
  const upload = join(dir, 'uploads', '0123456789abcdef', 'posts.txt');
  mkdirSync(join(upload, '..'), { recursive: true });
  copyFileSync(posts, upload);
  return { dir, upload };
}

/** A short run of the tiny model: small blocks, few steps. */
function tinyRun(upload: string, options: RunRequest['options'] = {}): RunRequest {
  return {
    sources: [upload],
    base: 'tiny',
    options: { maxSteps: 6, blockSize: 32, seed: 7, validSplit: 0.1, samples: 2, ...options },
    labels: { sources: ['posts.txt'], base: 'tiny' },
  };
}

/**
 * For the runs that stop, resume and die: a smaller model than the demo's,
 * placed in the work dir as a user would place one (its checkpoints are half
 * the size, and no run has to make its base). Made once, copied per work dir.
 */
let smallModel: Promise<string> | undefined;
async function smallBase(dir: string): Promise<string> {
  smallModel ??= (async () => {
    const made = join(mkdtempSync(join(tmpdir(), 'tweetsmith-serve-runs-base-')), 'small');
    const model = await GPT2.init({ nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 32 }, { seed: 1, threads: 1 });
    await model.save(made);
    await model.dispose();
    return made;
  })();
  const base = join(dir, 'models', 'small');
  cpSync(await smallModel, base, { recursive: true });
  return base;
}

/** A run of `steps` steps on the small base: nothing after training but the model. */
function smallRun(upload: string, base: string, steps: number): RunRequest {
  return {
    sources: [upload],
    base,
    options: { maxSteps: steps, blockSize: 16, seed: 7, lr: 1e-3, validSplit: 0, samples: 0 },
    labels: { sources: ['posts.txt'], base: 'models/small' },
  };
}

/** Resolves with the state once `done(state)` holds (checked now and at each status change). */
function until(manager: RunManager, id: string, done: (s: RunState) => boolean): Promise<RunState> {
  return new Promise((resolve) => {
    const check = (state: RunState) => {
      if (!done(state)) return false;
      unsubscribe();
      resolve(state);
      return true;
    };
    const unsubscribe = manager.subscribe(id, (e) => {
      if (e.type === 'status') check(e.run);
    });
    check(manager.get(id));
  });
}

const finished = (s: RunState) => s.status !== 'queued' && s.status !== 'running';

/** Whether a process has ended: gone, or a zombie no one reaped (an orphan's new parent may not). */
function hasExited(pid: number): boolean {
  if (!processIsAlive(pid)) return true;
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Every file under `dir`, deep. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every string in the value, deep. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

test.serial('a run goes queued → running → done with metrics and samples; a second waits behind it, a third stops while queued; replay equals what listeners saw', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 1 });
  t.teardown(() => manager.close());

  // listeners subscribe right after create: a run starts on a later turn, so they miss nothing
  const a = await manager.create(tinyRun(upload));
  const seen: RunEvent[] = [];
  const trainSeen: TrainEvent[] = [];
  let bWhenARan: string | undefined;
  manager.subscribe(a.id, (e) => {
    seen.push(e);
    if (e.type === 'train') trainSeen.push(e.event);
    if (e.type === 'train' && e.event.type === 'step') bWhenARan ??= manager.get(b.id).status;
  });
  const b = await manager.create(tinyRun(upload, { seed: 8, samples: 1, validSplit: 0 }));
  const statusesOfB: string[] = [];
  manager.subscribe(b.id, (e) => {
    if (e.type === 'status') statusesOfB.push(e.run.status);
  });
  const c = await manager.create(tinyRun(upload));
  t.is(a.status, 'queued');
  t.is(b.status, 'queued');
  const stoppedC = await manager.stop(c.id);
  t.is(stoppedC.status, 'stopped', 'a queued run stops at once');
  t.false(stoppedC.resumable);

  const doneA = await until(manager, a.id, finished);
  t.is(doneA.status, 'done', doneA.error);
  t.is(bWhenARan, 'queued', 'the second run waits while the first trains');
  t.deepEqual(
    seen.filter((e) => e.type === 'status').map((e) => (e as { run: RunState }).run.status),
    ['running', 'done'],
  );
  t.deepEqual(doneA.metrics.map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  t.is(doneA.progress?.step, 6);
  t.is(doneA.progress?.totalSteps, 6);
  t.is(doneA.samples.length, 2);
  t.is(doneA.model, 'model');
  t.false(doneA.resumable);
  t.truthy(doneA.dataset && doneA.dataset.stats.users[0].kept > 0);
  t.deepEqual(doneA.validation.map((v) => v.when), ['before', 'after']);
  t.is(doneA.device, 'CPU');
  t.deepEqual(doneA.request, { sources: ['posts.txt'], base: 'tiny', options: tinyRun(upload).options });
  t.true(existsSync(join(manager.modelDir(a.id)!, 'model.safetensors')));
  t.true(existsSync(join(manager.modelDir(a.id)!, 'README.md')));
  t.regex(readFileSync(join(manager.modelDir(a.id)!, 'README.md'), 'utf8'), /random initialisation/);

  // replay: exactly the train() events the listener saw, in order
  t.deepEqual(await manager.replay(a.id), trainSeen);
  t.deepEqual(trainSeen.filter((e) => e.type === 'step').length, 6);
  // with { replay: true } a late listener gets the same, then live events
  const late: TrainEvent[] = [];
  manager.subscribe(a.id, (e) => e.type === 'train' && late.push(e.event), { replay: true })();
  t.deepEqual(late, trainSeen);

  // no absolute path of the server's reaches the state or the events
  for (const s of [...strings(doneA), ...strings(trainSeen), readFileSync(join(dir, 'runs', a.id, 'events.jsonl'), 'utf8')]) {
    t.false(s.includes(dir) || s.includes(tmpdir() + '/'), s);
  }
  t.is(trainSeen.find((e) => e.type === 'weights')?.type === 'weights' && (trainSeen.find((e) => e.type === 'weights') as { dir: string }).dir, 'model');

  const doneB = await until(manager, b.id, finished);
  t.is(doneB.status, 'done', doneB.error);
  t.deepEqual(statusesOfB, ['running', 'done']);
  t.true(doneB.startedAt! >= doneA.endedAt!, 'the second run started after the first ended');
  t.is(doneB.samples.length, 1);
  t.deepEqual(manager.list().map((s) => s.id), [c.id, b.id, a.id], 'newest first');
  t.is(manager.get(c.id).status, 'stopped', 'the stopped run never started');
  t.deepEqual(await manager.replay(c.id), []);
  t.false(existsSync(join(dir, 'runs', c.id, 'worker.log')));

  // run.json on disk is the state
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'runs', a.id, 'run.json'), 'utf8')), JSON.parse(JSON.stringify(doneA)));
});

/** Resolves at the first train() event of the run for which `match` holds (the events so far included). */
function when(manager: RunManager, id: string, match: (e: TrainEvent) => boolean): Promise<TrainEvent> {
  return new Promise((resolve) => {
    let found = false;
    const off = manager.subscribe(id, (e) => {
      if (found || e.type !== 'train' || !match(e.event)) return;
      found = true;
      queueMicrotask(() => off());
      resolve(e.event);
    }, { replay: true });
  });
}

const steps = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

// Decision: a child killed by anything but the server (the system's OOM killer,
// kill -9) is 'failed', since the run did not end as anyone asked, with the
// reason in its error; it stays resumable from its newest periodic checkpoint.
test.serial('stop writes a checkpoint and resume continues; a child killed with SIGKILL fails with a short reason, resumable from its periodic checkpoint', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 1, checkpointEvery: 10 });
  t.teardown(() => manager.close());
  const run = await manager.create(smallRun(upload, await smallBase(dir), 60));
  await when(manager, run.id, (e) => e.type === 'step' && e.row.step >= 3);
  const stopped = await manager.stop(run.id);
  t.is(stopped.status, 'stopped', stopped.error);
  t.true(stopped.resumable);
  const at = stopped.metrics.length;
  t.true(at >= 3 && at < 60, `stopped at step ${at}`);
  t.deepEqual(stopped.metrics.map((r) => r.step), steps(at));
  t.true(existsSync(join(dir, 'runs', run.id, 'model.checkpoint', 'state.json')));
  t.false(existsSync(join(dir, 'runs', run.id, 'model')), 'no model before the run finishes');
  await t.throwsAsync(manager.stop(run.id), { instanceOf: ServeError, message: /stopped/ });

  // resumed; then killed from outside after a periodic checkpoint
  t.is((await manager.resume(run.id)).status, 'queued');
  const periodic = (await when(manager, run.id, (e) => e.type === 'checkpoint' && e.step > at)) as { step: number };
  process.kill(Number(readFileSync(join(dir, 'runs', run.id, 'worker.pid'), 'utf8')), 'SIGKILL');
  const failed = await until(manager, run.id, finished);
  t.is(failed.status, 'failed');
  t.regex(failed.error!, /killed \(SIGKILL/);
  t.false(failed.error!.includes(dir), failed.error);
  t.true(failed.resumable);

  t.is((await manager.resume(run.id)).status, 'queued');
  const done = await until(manager, run.id, finished);
  t.is(done.status, 'done', done.error);
  t.deepEqual(done.metrics.map((r) => r.step), steps(60), 'every step once');
  const starts = (await manager.replay(run.id)).filter((e) => e.type === 'start') as { startStep: number }[];
  t.deepEqual(starts.map((e) => e.startStep), [0, at, periodic.step]);
  t.false(existsSync(join(dir, 'runs', run.id, 'model.checkpoint')), 'a finished run leaves no checkpoint');
  t.false(done.resumable);
  await t.throwsAsync(manager.resume(run.id), { instanceOf: ServeError, message: /done/ });
});

// The server process killed with SIGKILL mid-run: its child sees the IPC channel
// close, checkpoints and exits; the next server finds the run 'running' with no
// child, shows it interrupted and resumable, and resume continues it. A server
// that closes cleanly leaves its run interrupted too, and the next finishes it.
test.serial('a server killed mid-run: the next one shows the run interrupted and resumable; after a clean close too; resume finishes it', async (t) => {
  const { dir, upload } = workDir();
  const base = await smallBase(dir);
  const managerUrl = pathToFileURL(join(root, 'lib', 'serve', 'runs', 'run-manager.ts')).href;
  const script = `
    const { RunManager } = await import(${JSON.stringify(managerUrl)});
    const manager = await RunManager.open(${JSON.stringify(dir)}, { threads: 1, checkpointEvery: 1000 });
    const run = await manager.create(${JSON.stringify(smallRun(upload, base, 60))});
    manager.subscribe(run.id, (e) => { if (e.type === 'train' && e.event.type === 'step') console.log('step', e.event.row.step); });
  `;
  const server = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => server.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (d: Buffer) => {
      if (/step ([3-9]|\d\d)/.test(d.toString())) resolve();
    });
    server.on('exit', () => reject(new Error(`the server exited first: ${stderr}`)));
  });
  server.kill('SIGKILL');
  await exited;

  const [id] = readdirSync(join(dir, 'runs'));
  t.is(JSON.parse(readFileSync(join(dir, 'runs', id, 'run.json'), 'utf8')).status, 'running', 'the killed server left it running');
  const orphan = Number(readFileSync(join(dir, 'runs', id, 'worker.pid'), 'utf8'));
  const manager = await RunManager.open(dir, { threads: 1 });
  t.teardown(() => manager.close());
  t.true(hasExited(orphan), 'open() waited for the orphaned child to checkpoint and exit');
  const found = manager.get(id);
  t.is(found.status, 'interrupted');
  t.true(found.resumable, 'the child wrote a checkpoint when its server went away');
  const at = found.metrics.length;
  t.true(at >= 3, 'the steps done before are shown');
  t.deepEqual(found.metrics.map((r) => r.step), steps(at), "every step to the checkpoint's, the undelivered ones from the checkpoint");
  t.false(existsSync(join(dir, 'runs', id, 'worker.pid')));

  // resumed, then the server closes (a clean shutdown): interrupted again, with a checkpoint
  await manager.resume(id);
  await when(manager, id, (e) => e.type === 'step' && e.row.step >= at + 2);
  await manager.close();
  const closed = manager.get(id);
  t.is(closed.status, 'interrupted');
  t.true(closed.resumable);
  await t.throwsAsync(manager.resume(id), { instanceOf: ServeError, message: /shutting down/ });

  const next = await RunManager.open(dir, { threads: 1 });
  t.teardown(() => next.close());
  t.is(next.get(id).status, 'interrupted');
  await next.resume(id);
  const done = await until(next, id, finished);
  t.is(done.status, 'done', done.error);
  t.deepEqual(done.metrics.map((r) => r.step), steps(60));
  t.true(existsSync(join(next.modelDir(id)!, 'model.safetensors')));
  const starts = (await next.replay(id)).filter((e) => e.type === 'start') as { startStep: number }[];
  t.is(starts.length, 3);
  t.is(starts[1].startStep, at);
});

test.serial("a queued run left by a closed server is queued again by the next; a run that cannot train fails with train()'s message: short, no stack, no server path; one stopped before its first step ends at once", async (t) => {
  const { dir } = workDir();
  const few = join(dir, 'uploads', 'fedcba9876543210', 'few.txt');
  mkdirSync(join(few, '..'), { recursive: true });
  writeFileSync(few, 'one post only, far too few to train on\n');
  const first = await RunManager.open(dir, { threads: 1 });
  const run = await first.create(tinyRun(few));
  await first.close(); // before the run could start
  t.is(first.get(run.id).status, 'queued');
  t.false(existsSync(join(dir, 'runs', run.id, 'worker.log')), 'it never started');

  const manager = await RunManager.open(dir, { threads: 1 });
  t.teardown(() => manager.close());
  const failed = await until(manager, run.id, finished);
  t.is(failed.status, 'failed');
  t.truthy(failed.error);
  t.regex(failed.error!, /post/);
  t.false(/\n\s+at /.test(failed.error!), failed.error);
  t.false(failed.error!.includes(dir), failed.error);
  t.true(failed.error!.length < 1000);
  t.false(failed.resumable);
  t.regex(readFileSync(join(dir, 'runs', run.id, 'worker.log'), 'utf8'), /failed: .*\n\s+at /, 'the stack is in worker.log');

  // resumed without a checkpoint it starts over; stopped before its first step, its child is ended at once
  t.is((await manager.resume(run.id)).status, 'queued');
  await until(manager, run.id, (s) => s.status === 'running');
  const stopped = await manager.stop(run.id);
  t.is(stopped.status, 'stopped');
  t.false(stopped.resumable);
  t.is(stopped.error, undefined);
});

test('ids, sources, bases and options from the browser are checked', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 1 });
  t.teardown(() => manager.close());
  const notFound = { instanceOf: ServeError, message: /no run/ };
  for (const id of ['../../etc', '20261130-015422-zzzz', '', '20261130-015422-abcd']) {
    t.throws(() => manager.get(id), notFound, id);
    await t.throwsAsync(manager.stop(id), notFound, id);
    await t.throwsAsync(manager.resume(id), notFound, id);
    t.throws(() => manager.subscribe(id, () => undefined), notFound, id);
    t.throws(() => manager.runDir(id), notFound, id);
  }
  const status = (e: unknown) => (e as ServeError).statusCode;
  const refused = async (request: Partial<RunRequest>, message: RegExp) => {
    const err = await t.throwsAsync(manager.create({ ...tinyRun(upload), ...request } as RunRequest), { instanceOf: ServeError, message });
    t.is(status(err), 400);
  };
  await refused({ sources: ['/etc/passwd'] }, /inside the work dir|does not exist/);
  await refused({ sources: [join(dir, '..')] }, /inside the work dir/);
  await refused({ sources: ['posts.txt'] }, /neither @handle/);
  await refused({ sources: [] }, /1 to 3/);
  await refused({ sources: [upload, upload, upload, upload] }, /1 to 3/);
  await refused({ base: '/tmp' }, /inside the work dir/);
  await refused({ base: '../model' }, /not a hub id/);
  await refused({ options: { out: '/tmp/x' } as never }, /options\.out is not a training setting/);
  await refused({ options: { resume: true } as never }, /options\.resume/);
  await refused({ options: { epochs: '4' } as never }, /options\.epochs must be a number/);
  await refused({ options: { lora: { rank: 4, base: 'x' } } as never }, /options\.lora\.base/);
  t.deepEqual(manager.list(), [], 'nothing was created');
  // one server per work dir
  await t.throwsAsync(RunManager.open(dir), { message: /in use by another tweetsmith serve/ });
  t.deepEqual(readdirSync(join(dir, 'runs')), ['server.pid'], 'no run folder');
});

// A run on an X account and a private hub base, both fake services on
// 127.0.0.1: the server's tokens reach the child through its environment, and
// no file of the run, nor its state or events, holds either.
test.serial('a run on @handle and a private hub base: the tokens reach the services, never a file of the run', async (t) => {
  const { dir } = workDir();
  const tokens = { X_BEARER_TOKEN: `AAAA${randomBytes(16).toString('hex')}`, HF_TOKEN: `hf_${randomBytes(16).toString('hex')}` };
  const pages: FakeTweet[][] = [0, 1].map((page) =>
    syntheticPosts('sampleuser', 160)
      .slice(page * 80, page * 80 + 80)
      .map((post, i) => ({ id: String(9000 - page * 80 - i), text: post.text, created_at: '2024-01-01T00:00:00.000Z' })),
  );
  const xApi = await startFakeXApi({ token: tokens.X_BEARER_TOKEN, user: { id: '42', username: 'SampleUser', name: 'Sample User' }, pages });
  t.teardown(() => xApi.close());
  const baseDir = join(mkdtempSync(join(tmpdir(), 'tweetsmith-serve-runs-hub-')), 'base');
  const model = await GPT2.init({ nLayer: 1, nHead: 2, nEmbd: 16, nPositions: 32 }, { seed: 1, threads: 1 });
  await model.save(baseDir);
  await model.dispose();
  const repoFiles: Record<string, Buffer> = {};
  for (const name of readdirSync(baseDir)) repoFiles[name] = readFileSync(join(baseDir, name));
  const hub = await startFakeHub({ repos: [{ id: 'someone/private-tiny', commit: 'd'.repeat(40), files: repoFiles, lfs: ['model.safetensors'], private: true }], token: tokens.HF_TOKEN });
  t.teardown(() => hub.close());

  // the server's environment, which the child inherits
  const env = { ...tokens, TWEETSMITH_X_API_URL: xApi.url, HF_ENDPOINT: hub.url, HF_HOME: join(dir, '..', `${basename(dir)}-hf-home`) };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  const manager = await RunManager.open(dir, { threads: 1 });
  t.teardown(async () => {
    await manager.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const run = await manager.create({ sources: ['@SampleUser'], base: 'someone/private-tiny', options: { maxSteps: 2, blockSize: 16, seed: 1, samples: 1, validSplit: 0 } });
  const done = await until(manager, run.id, finished);
  t.is(done.status, 'done', done.error);
  t.true(xApi.requests.length >= 3 && xApi.requests.every((r) => r.headers.authorization === `Bearer ${tokens.X_BEARER_TOKEN}`), 'the X API saw its token');
  t.true(hub.requests.some((r) => r.headers.authorization === `Bearer ${tokens.HF_TOKEN}`), 'the hub saw its token');
  t.deepEqual(done.request, { sources: ['@SampleUser'], base: 'someone/private-tiny', options: { maxSteps: 2, blockSize: 16, seed: 1, samples: 1, validSplit: 0 } });
  const events = await manager.replay(run.id);
  t.deepEqual(events.find((e) => e.type === 'base'), { type: 'base', dir: 'someone/private-tiny' }, 'the hub cache snapshot is named by the base, not its path');
  t.true(events.some((e) => e.type === 'download'));

  const written = filesUnder(join(dir, 'runs'));
  t.true(written.length > 10);
  for (const file of written) {
    const bytes = readFileSync(file);
    for (const token of Object.values(tokens)) t.is(bytes.indexOf(token.slice(-16)), -1, `${file} holds a token`);
  }
  for (const text of [JSON.stringify(done), JSON.stringify(events)]) {
    for (const token of Object.values(tokens)) t.false(text.includes(token.slice(-16)));
  }
});

test("train() events lose the server's paths: relative to the run inside the work dir, the base's label or ~ outside it", (t) => {
  const work = join(homedir(), 'projects', 'tweetsmith-runs');
  const runDir = join(work, 'runs', '20261130-015422-3fa9');
  const hide = new PathHider(runDir, work, 'gpt2');
  const snapshot = join(homedir(), '.cache', 'huggingface', 'hub', 'models--gpt2', 'snapshots', 'abc');
  t.deepEqual(hide.event({ type: 'base', dir: snapshot }), { type: 'base', dir: 'gpt2' }, 'a hub snapshot: the base as the page named it');
  t.deepEqual(hide.event({ type: 'base', dir: join(work, 'models', 'mine') }), { type: 'base', dir: '../../models/mine' });
  t.deepEqual(hide.event({ type: 'checkpoint', dir: join(runDir, 'model.checkpoint'), step: 5 }), { type: 'checkpoint', dir: 'model.checkpoint', step: 5 });
  t.deepEqual(hide.event({ type: 'weights', dir: join(runDir, 'model') }), { type: 'weights', dir: 'model' });
  t.deepEqual(hide.event({ type: 'saved', dir: join(runDir, 'model') }), { type: 'saved', dir: 'model' });
  const note = hide.event({ type: 'note', message: `the checkpoint ${join(runDir, 'model.checkpoint')} was left in place; see ${join(homedir(), 'x.txt')}` });
  t.deepEqual(note, { type: 'note', message: `the checkpoint model.checkpoint was left in place; see ~${sep}x.txt` });
  t.is(hide.text(`reading ${join(work, 'uploads', 'ab', 'posts.txt')}: no posts`), `reading ../../uploads/ab/posts.txt: no posts`);
  t.is(hide.path(runDir), '.');
});
