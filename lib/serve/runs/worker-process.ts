// Starts a run's training child. The one place that knows how: the compiled
// worker (dist/serve/runs/run-worker.js) when the package runs from dist/, the
// TypeScript source under tsx when it runs from lib/ (the tests, a checkout
// without a build); whichever this module itself was loaded as.
import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './worker-messages.js';

const here = fileURLToPath(import.meta.url);

/** The worker module beside this one: run-worker.js in dist/, run-worker.ts in lib/. */
export function defaultWorkerEntry(): string {
  return fileURLToPath(new URL(`./run-worker${extname(here)}`, import.meta.url));
}

/**
 * TypeScript runs under tsx (a devDependency, there whenever the sources are),
 * named by its resolved URL since the child starts in the run's folder;
 * compiled JavaScript runs as it is.
 */
function execArgvFor(entry: string): string[] {
  return extname(entry) === '.ts' ? ['--import', import.meta.resolve('tsx')] : [];
}

export interface WorkerHandlers {
  message: (message: FromWorker) => void;
  /** the child is gone; `code`/`signal` as Node reports them */
  exit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/**
 * Forks the worker in `cwd` (the run's folder: a hub id never resolves against
 * the server's folder) with its stdout and stderr appended to `logFile`, and
 * sends it the job. The child's environment is the server's: it needs HF_TOKEN
 * or X_BEARER_TOKEN to fetch what the run names, and writes neither anywhere.
 * `exit` comes after the last message: once the child is gone and its IPC
 * channel read to the end.
 */
export function startWorker(entry: string, logFile: string, cwd: string, job: Extract<ToWorker, { type: 'start' }>, handlers: WorkerHandlers): ChildProcess {
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = fork(entry, [], { cwd, execArgv: execArgvFor(entry), stdio: ['ignore', log, log, 'ipc'], serialization: 'advanced' });
  } finally {
    closeSync(log); // the child holds its own copy
  }
  child.on('message', (m: FromWorker) => handlers.message(m));
  const disconnected = new Promise<void>((resolve) => (child.connected ? child.once('disconnect', resolve) : resolve()));
  child.once('exit', (code, signal) => {
    // the channel closes when the child dies; the wait is a guard, not a delay
    const guard = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    void Promise.race([disconnected, guard]).then(() => handlers.exit(code, signal));
  });
  // a failed spawn emits 'error' and then 'exit'; a send to a child that just died errors too
  child.on('error', () => undefined);
  child.send(job);
  return child;
}
