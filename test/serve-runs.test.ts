// The run manager of `tweetsmith serve`: real training runs of the demo's tiny
// model in child processes, a few steps each, on the demo's posts as an upload.
// A run goes queued → running → done; a second waits behind the first; stop
// checkpoints and resume finishes; a killed server's run comes back
// interrupted and resumes; a killed child fails with a short reason; the
// events replayed are those the listeners saw; ids, sources and options from
// the browser are checked.
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunManager, type RunEvent, type RunRequest, type RunState } from '../lib/serve/runs/run-manager.js';
import { ServeError } from '../lib/serve/serve-error.js';
import type { TrainEvent } from '../lib/train/train.js';

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

/** Every string in the value, deep. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

test('a run goes queued → running → done with metrics and samples; a second run waits behind it; replay equals what listeners saw', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 2 });
  t.teardown(() => manager.close());

  // listeners subscribe right after create: a run starts on a later turn, so they miss nothing
  const a = await manager.create(tinyRun(upload));
  const seen: RunEvent[] = [];
  const trainSeen: TrainEvent[] = [];
  let bWhenARan: string | undefined;
  manager.subscribe(a.id, (e) => {
    seen.push(e);
    if (e.type === 'train') trainSeen.push(e.event);
    if (e.type === 'train' && e.event.type === 'step') bWhenARan ??= manager.list().find((s) => s.id !== a.id)?.status;
  });
  const b = await manager.create(tinyRun(upload, { seed: 8, samples: 1 }));
  const statusesOfB: string[] = [];
  manager.subscribe(b.id, (e) => {
    if (e.type === 'status') statusesOfB.push(e.run.status);
  });
  t.is(a.status, 'queued');
  t.is(b.status, 'queued');

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
  t.deepEqual(manager.list().map((s) => s.id), [b.id, a.id], 'newest first');

  // run.json on disk is the state
  t.deepEqual(JSON.parse(readFileSync(join(dir, 'runs', a.id, 'run.json'), 'utf8')), JSON.parse(JSON.stringify(doneA)));
});

test('stop writes a checkpoint; resume continues from it and finishes', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 2 });
  t.teardown(() => manager.close());
  const run = await manager.create(tinyRun(upload, { maxSteps: 300, samples: 1 }));
  await until(manager, run.id, (s) => (s.progress?.step ?? 0) >= 1 || finished(s));
  // progress reaches run.json at milestones only: wait for a step through the events
  await new Promise<void>((resolve) => {
    const off = manager.subscribe(run.id, (e) => {
      if (e.type === 'train' && e.event.type === 'step' && e.event.row.step >= 3) {
        off();
        resolve();
      }
    }, { replay: true });
  });
  const stopped = await manager.stop(run.id);
  t.is(stopped.status, 'stopped', stopped.error);
  t.true(stopped.resumable);
  const at = stopped.metrics.length;
  t.true(at >= 3 && at < 300, `stopped at step ${at}`);
  t.true(existsSync(join(dir, 'runs', run.id, 'model.checkpoint', 'state.json')));
  t.false(existsSync(join(dir, 'runs', run.id, 'model')), 'no model before the run finishes');
  await t.throwsAsync(manager.stop(run.id), { instanceOf: ServeError, message: /stopped/ });

  const queued = await manager.resume(run.id);
  t.is(queued.status, 'queued');
  const done = await until(manager, run.id, finished);
  t.is(done.status, 'done', done.error);
  t.deepEqual(done.metrics.map((r) => r.step), Array.from({ length: 300 }, (_, i) => i + 1), 'every step once');
  t.is(done.samples.length, 1);
  const starts = (await manager.replay(run.id)).filter((e) => e.type === 'start');
  t.deepEqual(starts.map((e) => (e as { startStep: number }).startStep), [0, at]);
  t.false(existsSync(join(dir, 'runs', run.id, 'model.checkpoint')), 'a finished run leaves no checkpoint');
  await t.throwsAsync(manager.resume(run.id), { instanceOf: ServeError, message: /done/ });
});

test('a queued run stops at once and never trains', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 2 });
  t.teardown(() => manager.close());
  const first = await manager.create(tinyRun(upload, { samples: 0 }));
  const second = await manager.create(tinyRun(upload, { samples: 0 }));
  const stopped = await manager.stop(second.id);
  t.is(stopped.status, 'stopped');
  t.false(stopped.resumable);
  t.is((await until(manager, first.id, finished)).status, 'done');
  await new Promise((r) => setTimeout(r, 300));
  t.is(manager.get(second.id).status, 'stopped');
  t.deepEqual(await manager.replay(second.id), []);
});

// The server process killed with SIGKILL mid-run: its child sees the IPC channel
// close, checkpoints and exits; the next server finds the run 'running' with no
// child, shows it interrupted and resumable, and resume finishes it.
test('a server killed mid-run: the next one shows the run interrupted and resumable, and resume finishes it', async (t) => {
  const { dir, upload } = workDir();
  const managerUrl = pathToFileURL(join(root, 'lib', 'serve', 'runs', 'run-manager.ts')).href;
  const script = `
    const { RunManager } = await import(${JSON.stringify(managerUrl)});
    const manager = await RunManager.open(${JSON.stringify(dir)}, { threads: 2, checkpointEvery: 1000 });
    const run = await manager.create(${JSON.stringify(tinyRun(upload, { maxSteps: 300, samples: 1 }))});
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
  const manager = await RunManager.open(dir, { threads: 2 });
  t.teardown(() => manager.close());
  const found = manager.get(id);
  t.is(found.status, 'interrupted');
  t.true(found.resumable, 'the child wrote a checkpoint when its server went away');
  t.true(found.metrics.length >= 3, 'the steps done before are shown (from the events)');
  t.false(existsSync(join(dir, 'runs', id, 'worker.pid')));

  await manager.resume(id);
  const done = await until(manager, id, finished);
  t.is(done.status, 'done', done.error);
  t.deepEqual(done.metrics.map((r) => r.step), Array.from({ length: 300 }, (_, i) => i + 1));
  t.true(existsSync(join(manager.modelDir(id)!, 'model.safetensors')));
});

// Decision: a child killed by anything but the server (the system's OOM killer,
// kill -9) is 'failed', since the run did not end as anyone asked, with the
// reason in its error; it stays resumable from its newest periodic checkpoint.
test('a child killed with SIGKILL mid-run: failed with a short reason, resumable from its periodic checkpoint', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 2, checkpointEvery: 2 });
  t.teardown(() => manager.close());
  const run = await manager.create(tinyRun(upload, { maxSteps: 300, samples: 0 }));
  await new Promise<void>((resolve) => {
    const off = manager.subscribe(run.id, (e) => {
      if (e.type === 'train' && e.event.type === 'checkpoint' && e.event.step >= 4) {
        off();
        resolve();
      }
    });
  });
  const pid = Number(readFileSync(join(dir, 'runs', run.id, 'worker.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  const failed = await until(manager, run.id, finished);
  t.is(failed.status, 'failed');
  t.regex(failed.error!, /killed \(SIGKILL/);
  t.false(failed.error!.includes(dir), failed.error);
  t.true(failed.resumable);

  await manager.resume(run.id);
  const done = await until(manager, run.id, finished);
  t.is(done.status, 'done', done.error);
  t.is(done.metrics.length, 300);
});

test("a run that cannot train fails with train()'s message: short, no stack, no server path", async (t) => {
  const { dir } = workDir();
  const few = join(dir, 'uploads', 'fedcba9876543210', 'few.txt');
  mkdirSync(join(few, '..'), { recursive: true });
  writeFileSync(few, 'one post only, far too few to train on\n');
  const manager = await RunManager.open(dir, { threads: 2 });
  t.teardown(() => manager.close());
  const run = await manager.create(tinyRun(few));
  const failed = await until(manager, run.id, finished);
  t.is(failed.status, 'failed');
  t.truthy(failed.error);
  t.false(/\n\s+at /.test(failed.error!), failed.error);
  t.false(failed.error!.includes(dir), failed.error);
  t.true(failed.error!.length < 1000);
  t.regex(readFileSync(join(dir, 'runs', run.id, 'worker.log'), 'utf8'), /failed: .*\n\s+at /, 'the stack is in worker.log');
});

test('ids, sources, bases and options from the browser are checked', async (t) => {
  const { dir, upload } = workDir();
  const manager = await RunManager.open(dir, { threads: 2 });
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
  t.deepEqual(readdirSync(join(dir, 'runs')), []);
});
