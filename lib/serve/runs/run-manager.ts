// The server's training runs: one trains at a time, in a child process
// (run-worker.ts), the others wait in a queue. Each run lives in its folder
// under WORKDIR/runs (run-store.ts) and survives a server restart: a run that
// was training when the server went away comes back 'interrupted', resumable
// from its newest checkpoint, and a queued one is queued again.
//
// Listeners get every status change with the whole state, and every train()
// event as the child sent it, paths made relative to the run (run-paths.ts).
// Late listeners read the events so far with replay(), or pass
// `{ replay: true }` to subscribe().
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { processIsAlive } from '../../fs/process-alive.js';
import { isRepoId } from '../../hub/repo-id.js';
import { parseSourceString } from '../../sources/index.js';
import type { TrainEvent } from '../../train/train.js';
import { ServeError } from '../serve-error.js';
import { checkRunId, newRunId } from './run-id.js';
import { checkRunOptions, type RunOptions } from './run-options.js';
import { PathHider } from './run-paths.js';
import { applyTrainEvent, clearTrainFields, RUN_MODEL_DIR, type RunEvent, type RunState, type RunStatus } from './run-state.js';
import { readRuns, RunFiles, RUNS_DIR, type StoredRequest } from './run-store.js';
import { TINY_BASE } from './tiny-base.js';
import { defaultWorkerEntry, startWorker } from './worker-process.js';
import type { FromWorker } from './worker-messages.js';

export { ALLOWED_RUN_OPTIONS, checkRunOptions, type RunOptions } from './run-options.js';
export { RUN_ID_PATTERN, isRunId } from './run-id.js';
export type { RunEvent, RunState, RunStatus } from './run-state.js';

/**
 * A checkpoint every this many optimizer steps, so that a killed server loses
 * little. In steps because train() counts them so. At 50, gpt2 on 2 cores
 * (about 7 s a 1024-token step) loses at most about 6 minutes, and the
 * checkpoint's write (weights and AdamW's two moments, 1.5 GB for gpt2) costs
 * about 1% of the time between two; the demo's tiny model writes 40 MB every
 * few seconds. Used until SERVE_DEFAULTS (lib/defaults.ts) holds it.
 */
export const DEFAULT_CHECKPOINT_EVERY = 50;

/** How long open() waits for the child of a killed server to write its checkpoint and exit. */
const ORPHAN_WAIT_MS = 60_000;
/** How long close() waits for the training child to checkpoint, before it kills it. */
const CLOSE_WAIT_MS = 120_000;
const WORKER_PID_FILE = 'worker.pid';

/** What the client asked for, after the HTTP layer checked and resolved it. */
export interface RunRequest {
  /** 1–3 entries: network source strings ('@handle', 'bsky:…', 'mastodon:…') or absolute paths of files inside WORKDIR/uploads */
  sources: string[];
  /** a hub id ('gpt2'), an absolute model folder path inside WORKDIR, or 'tiny' (a random-init tiny GPT-2: the offline demo) */
  base: string;
  /** the allow-listed train() options only (see ALLOWED_RUN_OPTIONS) */
  options: RunOptions;
  /** how the page shows the sources and base (upload names instead of paths); default: the names of paths, the strings otherwise */
  labels?: { sources: string[]; base: string };
}

export interface RunManagerOptions {
  /** CPU threads of the training child (default: all cores) */
  threads?: number;
  /** train()'s checkpointEvery, in steps (default DEFAULT_CHECKPOINT_EVERY) */
  checkpointEvery?: number;
  /** the worker module to fork (default: run-worker beside this module, .js or .ts as this one) */
  workerEntry?: string;
}

/** The run in training: its child and how its end is to be read. */
interface ActiveRun {
  id: string;
  child: ChildProcess;
  files: RunFiles;
  hider: PathHider;
  /** train() sent 'start': a stop message ends it with a checkpoint (before, the child is ended) */
  training: boolean;
  /** why the server is ending it: a user's stop, or the server closing */
  ending?: 'stop' | 'close';
  outcome?: Extract<FromWorker, { type: 'result' | 'error' }>;
  exited: Promise<void>;
}

type Listener = (e: RunEvent) => void;

export class RunManager {
  private readonly states = new Map<string, RunState>();
  private readonly queue: string[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly writes = new Map<string, Promise<void>>();
  private active?: ActiveRun;
  private starting = false;
  private closed = false;
  private readonly threads: number;
  private readonly checkpointEvery: number;
  private readonly workerEntry: string;

  private constructor(
    readonly workDir: string,
    options: RunManagerOptions,
  ) {
    this.threads = options.threads ?? availableParallelism();
    this.checkpointEvery = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    this.workerEntry = options.workerEntry ?? defaultWorkerEntry();
    for (const [name, value] of [['threads', this.threads], ['checkpointEvery', this.checkpointEvery]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new Error(`RunManager: ${name} must be a positive integer, got ${value}`);
    }
  }

  /**
   * Opens the work dir (made if missing) and the runs in it: a run left
   * 'running' by a server that is gone becomes 'interrupted' (resumable when
   * its checkpoint exists), once its child, if still alive, has written its
   * checkpoint and exited; 'queued' runs are queued again, oldest first.
   */
  static async open(workDir: string, options: RunManagerOptions = {}): Promise<RunManager> {
    await mkdir(join(resolve(workDir), RUNS_DIR), { recursive: true });
    const manager = new RunManager(realpathSync(resolve(workDir)), options);
    const skipped = (name: string, why: string) => process.stderr.write(`tweetsmith serve: skipping ${join(RUNS_DIR, name)}: ${why}\n`);
    const states = await readRuns(join(manager.workDir, RUNS_DIR), skipped);
    for (const state of states.sort(byAge)) {
      manager.states.set(state.id, state);
      if (state.status === 'running') await manager.recoverInterrupted(state);
      else if (state.status === 'queued') manager.queue.push(state.id);
    }
    manager.schedule();
    return manager;
  }

  /** Checks the request and queues a run for it. */
  async create(request: RunRequest): Promise<RunState> {
    this.assertOpen();
    const stored = this.checkRequest(request);
    let id = newRunId();
    while (existsSync(this.runDir(id))) id = newRunId();
    const files = new RunFiles(this.runDir(id));
    await mkdir(files.dir);
    await files.writeRequest(stored);
    const state: RunState = {
      id,
      status: 'queued',
      createdAt: new Date().toISOString(),
      request: { sources: stored.labels.sources, base: stored.labels.base, options: stored.options },
      metrics: [],
      validation: [],
      samples: [],
      resumable: false,
    };
    this.states.set(id, state);
    this.queue.push(id);
    await this.changed(state);
    this.schedule();
    return structuredClone(state);
  }

  /** Every run, newest first. */
  list(): RunState[] {
    return [...this.states.values()].sort(byAge).reverse().map((s) => structuredClone(s));
  }

  /** The run's state; ServeError(404) for an id that names no run. */
  get(id: string): RunState {
    return structuredClone(this.state(id));
  }

  /**
   * Calls `listener` with the run's events from now on; with `replay`, first
   * (synchronously, so that nothing is missed or repeated) with the train()
   * events so far. Returns the function that unsubscribes.
   */
  subscribe(id: string, listener: Listener, options: { replay?: boolean } = {}): () => void {
    this.state(id);
    if (options.replay) for (const event of this.files(id).readEvents()) listener({ type: 'train', event });
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  /**
   * The train() events so far (events.jsonl). It is read synchronously: a
   * caller that subscribes right after `await replay(id)` misses no event and
   * sees none twice.
   */
  async replay(id: string): Promise<TrainEvent[]> {
    this.state(id);
    return this.files(id).readEvents();
  }

  /** A queued run is stopped at once; a running one after its current step, with a checkpoint. */
  async stop(id: string): Promise<RunState> {
    const state = this.state(id);
    if (state.status === 'queued') {
      // out of the queue; one being started sees the status and does not start
      const queued = this.queue.indexOf(id);
      if (queued >= 0) this.queue.splice(queued, 1);
      state.status = 'stopped';
      state.endedAt = new Date().toISOString();
      await this.changed(state);
      return structuredClone(state);
    }
    const active = this.active;
    if (state.status !== 'running' || active?.id !== id) {
      throw new ServeError(409, `run ${id} is ${state.status}: only a queued or running run can be stopped`);
    }
    this.end(active, 'stop');
    await active.exited;
    return structuredClone(this.state(id));
  }

  /**
   * Queues a stopped, interrupted or failed run again: it continues from its
   * checkpoint when it has one (train()'s `resume`), and starts over when it has
   * none (stopped while queued, or before its first checkpoint).
   */
  async resume(id: string): Promise<RunState> {
    this.assertOpen();
    const state = this.state(id);
    if (state.status !== 'stopped' && state.status !== 'interrupted' && state.status !== 'failed') {
      throw new ServeError(409, `run ${id} is ${state.status}: only a stopped, interrupted or failed run can be resumed`);
    }
    state.status = 'queued';
    delete state.endedAt;
    delete state.error;
    this.queue.push(id);
    await this.changed(state);
    this.schedule();
    return structuredClone(state);
  }

  /** WORKDIR/runs/<id>, absolute. */
  runDir(id: string): string {
    return join(this.workDir, RUNS_DIR, checkRunId(id));
  }

  /** The run's model folder, absolute, once its weights are written. */
  modelDir(id: string): string | undefined {
    const state = this.state(id);
    const dir = join(this.runDir(id), RUN_MODEL_DIR);
    return state.model && existsSync(dir) ? dir : undefined;
  }

  /**
   * Server shutdown: the training child stops with a checkpoint (the run
   * becomes 'interrupted'); queued runs stay queued for the next server.
   */
  async close(): Promise<void> {
    this.closed = true;
    const active = this.active;
    if (active) {
      this.end(active, 'close');
      const timer = setTimeout(() => active.child.kill('SIGKILL'), CLOSE_WAIT_MS);
      await active.exited;
      clearTimeout(timer);
    }
    await Promise.all(this.writes.values());
  }

  // ------------------------------------------------------------ the queue

  /** Starts the next queued run when none trains (on the next turn, so that a creator can subscribe first). */
  private schedule(): void {
    setImmediate(() => {
      if (this.closed || this.active || this.starting) return;
      const id = this.queue.shift();
      if (!id) return;
      this.starting = true;
      this.start(id)
        .catch((err: Error) => this.failBeforeStart(id, err))
        .finally(() => {
          this.starting = false;
          this.schedule();
        });
    });
  }

  private async start(id: string): Promise<void> {
    const state = this.state(id);
    const files = this.files(id);
    const request = await files.readRequest();
    const resume = await files.hasCheckpoint();
    if (state.status !== 'queued' || this.closed) return; // stopped meanwhile, or the server closing
    state.status = 'running';
    state.startedAt = new Date().toISOString();
    delete state.endedAt;
    delete state.error;
    let exited!: () => void;
    const active: ActiveRun = {
      id,
      files,
      hider: new PathHider(files.dir, this.workDir, request.labels.base),
      training: false,
      exited: new Promise<void>((resolve) => (exited = resolve)),
      child: undefined as unknown as ChildProcess,
    };
    const job = { type: 'start' as const, runDir: files.dir, request, resume, threads: this.threads, checkpointEvery: this.checkpointEvery };
    active.child = startWorker(this.workerEntry, files.log, files.dir, job, {
      message: (m) => this.onWorkerMessage(active, m),
      exit: (code, signal) => void this.onWorkerExit(active, code, signal).finally(exited),
    });
    this.active = active;
    const running = this.changed(state); // listeners hear 'running' before any event of the child's
    if (active.child.pid !== undefined) await writeFile(join(files.dir, WORKER_PID_FILE), `${active.child.pid}\n`);
    await running;
  }

  /** Ends the active run: with a checkpoint once train() runs; before that there is nothing to keep, and the child is ended. */
  private end(active: ActiveRun, why: 'stop' | 'close'): void {
    active.ending ??= why;
    if (active.training) active.child.send({ type: 'stop' }, () => undefined);
    else active.child.kill('SIGTERM');
  }

  private onWorkerMessage(active: ActiveRun, message: FromWorker): void {
    if (message.type !== 'event') {
      active.outcome = message;
      return;
    }
    const state = this.state(active.id);
    const event = active.hider.event(message.event);
    active.files.appendEvent(event);
    applyTrainEvent(state, event);
    if (event.type === 'start') {
      active.training = true;
      if (active.ending) active.child.send({ type: 'stop' }, () => undefined);
    }
    this.emit(active.id, { type: 'train', event });
    // run.json follows the milestones; the steps between are in events.jsonl
    if (event.type !== 'step' && event.type !== 'download') this.persist(state);
  }

  private async onWorkerExit(active: ActiveRun, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    const state = this.state(active.id);
    const outcome = active.outcome;
    let status: RunStatus;
    if (outcome?.type === 'result') {
      status = !outcome.interrupted ? 'done' : active.ending === 'close' ? 'interrupted' : 'stopped';
    } else if (outcome?.type === 'error') {
      status = 'failed';
      state.error = active.hider.text(outcome.message);
    } else if (active.ending) {
      status = active.ending === 'close' ? 'interrupted' : 'stopped';
    } else {
      status = 'failed';
      state.error = active.hider.text(silentExitMessage(code, signal, active.files.log));
    }
    state.status = status;
    state.endedAt = new Date().toISOString();
    state.resumable = status !== 'done' && (await active.files.hasCheckpoint());
    await rm(join(active.files.dir, WORKER_PID_FILE), { force: true });
    this.active = undefined;
    await this.changed(state);
    this.schedule();
  }

  /** A run whose child could not be started (its request.json unreadable, fork failing) fails with the reason. */
  private async failBeforeStart(id: string, err: Error): Promise<void> {
    const state = this.states.get(id);
    if (!state) return;
    state.status = 'failed';
    state.error = `the run could not start: ${err.message}`;
    state.endedAt = new Date().toISOString();
    await this.changed(state);
  }

  // ------------------------------------------------------------ restart

  /** A run the last server left 'running': wait for its child, if alive, then mark it interrupted with the state its events say. */
  private async recoverInterrupted(state: RunState): Promise<void> {
    const files = this.files(state.id);
    const pidFile = join(files.dir, WORKER_PID_FILE);
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : NaN;
    // the old child saw its IPC channel close and is writing its checkpoint
    for (const until = Date.now() + ORPHAN_WAIT_MS; Number.isInteger(pid) && pid > 0 && processIsAlive(pid) && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await rm(pidFile, { force: true });
    // the state from the events (run.json follows the milestones only)
    clearTrainFields(state);
    state.resumable = false;
    for (const event of files.readEvents()) applyTrainEvent(state, event);
    state.status = 'interrupted';
    state.endedAt = new Date().toISOString();
    state.resumable = await files.hasCheckpoint();
    await this.changed(state);
  }

  // ------------------------------------------------------------ state

  private state(id: string): RunState {
    const state = this.states.get(checkRunId(id));
    if (!state) throw new ServeError(404, `no run ${id} in this work dir`);
    return state;
  }

  private files(id: string): RunFiles {
    return new RunFiles(this.runDir(id));
  }

  private assertOpen(): void {
    if (this.closed) throw new ServeError(503, 'the server is shutting down');
  }

  /** A status change: written to run.json, then sent to the run's listeners. */
  private async changed(state: RunState): Promise<void> {
    const written = this.persist(state);
    this.emit(state.id, { type: 'status', run: structuredClone(state) });
    await written;
  }

  /** Writes run.json, one write at a time per run, in the order asked. A failed write is reported, not thrown: the run goes on. */
  private persist(state: RunState): Promise<void> {
    const snapshot = structuredClone(state);
    const files = this.files(state.id);
    const previous = this.writes.get(state.id) ?? Promise.resolve();
    const next = previous
      .then(() => files.writeState(snapshot))
      .catch((err: Error) => {
        process.stderr.write(`tweetsmith serve: could not write ${join(RUNS_DIR, state.id, 'run.json')}: ${err.message}\n`);
      });
    this.writes.set(state.id, next);
    void next.then(() => {
      if (this.writes.get(state.id) === next) this.writes.delete(state.id);
    });
    return next;
  }

  private emit(id: string, event: RunEvent): void {
    for (const listener of this.listeners.get(id) ?? []) {
      try {
        listener(event);
      } catch {
        // one listener's failure (a closed connection) is not the run's
      }
    }
  }

  // ------------------------------------------------------------ requests

  /** The request as the worker will read it, or ServeError(400) naming what is wrong. */
  private checkRequest(request: RunRequest): StoredRequest {
    if (typeof request !== 'object' || request === null) throw new ServeError(400, 'a run needs { sources, base, options }');
    const { sources, base } = request;
    if (!Array.isArray(sources) || sources.length < 1 || sources.length > 3 || !sources.every((s) => typeof s === 'string' && s.length > 0)) {
      throw new ServeError(400, 'sources must be 1 to 3 source strings (@handle, bsky:…, mastodon:…) or uploads');
    }
    for (const source of sources) this.checkSource(source);
    if (typeof base !== 'string' || !base) throw new ServeError(400, "base must be a hub id (gpt2), a model folder in the work dir, or 'tiny'");
    if (base !== TINY_BASE) {
      if (isAbsolute(base)) this.assertInside(base, 'base');
      else if (!isRepoId(base)) throw new ServeError(400, `base "${base.slice(0, 100)}" is not a hub id (like gpt2 or openai-community/gpt2), a model folder in the work dir, or 'tiny'`);
    }
    const options = checkRunOptions(request.options);
    const labels = request.labels ?? { sources: sources.map(label), base: label(base) };
    if (!Array.isArray(labels.sources) || labels.sources.length !== sources.length || typeof labels.base !== 'string') {
      throw new ServeError(400, 'labels must name each source and the base');
    }
    return { sources, base, options, labels: { sources: labels.sources.map(String).map(label), base: label(labels.base) } };
  }

  /** A network source string, or a file inside the work dir: never a relative path (the server's folder) or one outside. */
  private checkSource(source: string): void {
    if (isAbsolute(source)) return this.assertInside(source, 'source');
    let kind;
    try {
      kind = parseSourceString(source).kind;
    } catch (err) {
      throw new ServeError(400, (err as Error).message);
    }
    if (kind !== 'x-api' && kind !== 'bluesky' && kind !== 'mastodon') {
      throw new ServeError(400, `source "${source.slice(0, 100)}" is neither @handle, bsky:… or mastodon:…, nor an upload`);
    }
  }

  private assertInside(path: string, what: string): void {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      throw new ServeError(400, `the ${what} ${basename(path)} does not exist in the work dir`);
    }
    const inside = relative(this.workDir, real);
    if (!inside || inside.startsWith('..') || isAbsolute(inside)) throw new ServeError(400, `the ${what} must be inside the work dir`);
  }
}

/** How the page names a source or base given as a path: its file name; other strings as they are. */
function label(value: string): string {
  return isAbsolute(value) ? basename(value) : value;
}

function byAge(a: RunState, b: RunState): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Why a child that reported nothing ended: its exit code or signal, and what it
 * last said in worker.log (Node's own fatal errors go there: the error's line,
 * not its stack). SIGKILL, when the server did not send it, is most often the
 * system out of memory.
 */
function silentExitMessage(code: number | null, signal: NodeJS.Signals | null, logFile: string): string {
  const how = signal ? `was killed (${signal}${signal === 'SIGKILL' ? ': the system may have run out of memory' : ''})` : `exited with code ${code}`;
  let lines: string[] = [];
  try {
    lines = readFileSync(logFile, 'utf8').split('\n').map((l) => l.trimEnd()).filter(Boolean);
  } catch {
    // no log: nothing to add
  }
  const error = [...lines].reverse().find((l) => /^(\w*Error\b|FATAL ERROR)/.test(l));
  const last = (error ?? lines.at(-1) ?? '').replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '').slice(0, 300);
  return `the training process ${how} before it reported a result${last ? `; it last said: ${last}` : ''}`;
}
