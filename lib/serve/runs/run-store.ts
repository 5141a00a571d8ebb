// A run's folder on disk (WORKDIR/runs/<id>/):
//   run.json       the RunState, replaced whole (temporary file, fsync, rename) at each write
//   request.json   what the run trains on: the sources and base as the worker reads them
//                  (upload paths, hub ids), the options, the labels; written once
//   events.jsonl   every train() event, one JSON line each, appended as it comes
//   worker.log     the training child's stdout and stderr
//   base/          the random-init tiny model, for base 'tiny'
//   model/         train()'s `out`; model.checkpoint/ beside it is train()'s checkpoint
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateOutput } from '../../fs/safe-output.js';
import { syncPath } from '../../fs/sync.js';
import { checkpointDir } from '../../train/checkpoint.js';
import { CHECKPOINT_FILES } from '../../train/checkpoint-files.js';
import type { TrainEvent } from '../../train/train.js';
import { isRunId } from './run-id.js';
import type { RunOptions } from './run-options.js';
import { RUN_MODEL_DIR, type RunState } from './run-state.js';

export const RUNS_DIR = 'runs';

/** What a run trains on, as the worker needs it (request.json). */
export interface StoredRequest {
  /** network source strings, or absolute paths of files inside the work dir */
  sources: string[];
  /** a hub id, an absolute model folder inside the work dir, or 'tiny' */
  base: string;
  options: RunOptions;
  labels: { sources: string[]; base: string };
}

export class RunFiles {
  constructor(readonly dir: string) {}

  get state(): string {
    return join(this.dir, 'run.json');
  }
  get request(): string {
    return join(this.dir, 'request.json');
  }
  get events(): string {
    return join(this.dir, 'events.jsonl');
  }
  get log(): string {
    return join(this.dir, 'worker.log');
  }
  get tinyBase(): string {
    return join(this.dir, 'base');
  }
  get model(): string {
    return join(this.dir, RUN_MODEL_DIR);
  }
  get checkpoint(): string {
    return checkpointDir(this.model);
  }

  /** Whether train() left a checkpoint to resume from (or its set-aside copy, mid-replacement). */
  async hasCheckpoint(): Promise<boolean> {
    return existsSync(join(await locateOutput(this.checkpoint), CHECKPOINT_FILES.state));
  }

  /** The state replaced whole: a crash leaves the old run.json or the new one, never half of one. */
  async writeState(state: RunState): Promise<void> {
    const temp = `${this.state}.tmp-${process.pid}`;
    await writeFile(temp, JSON.stringify(state, null, 1) + '\n');
    await syncPath(temp);
    await rename(temp, this.state);
  }

  async writeRequest(request: StoredRequest): Promise<void> {
    const temp = `${this.request}.tmp-${process.pid}`;
    await writeFile(temp, JSON.stringify(request, null, 1) + '\n');
    await syncPath(temp);
    await rename(temp, this.request);
  }

  async readRequest(): Promise<StoredRequest> {
    return JSON.parse(await readFile(this.request, 'utf8')) as StoredRequest;
  }

  /**
   * Appends one event. Synchronous on purpose: the file always holds every
   * event sent so far, so a reader that subscribes right after reading it
   * misses none and sees none twice.
   */
  appendEvent(event: TrainEvent): void {
    appendFileSync(this.events, JSON.stringify(event) + '\n');
  }

  /** The events so far; a line cut short by a crash mid-append is skipped. Synchronous for the reason above. */
  readEvents(): TrainEvent[] {
    let text: string;
    try {
      text = readFileSync(this.events, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const events: TrainEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as TrainEvent);
      } catch {
        // the last line of a server killed mid-write
      }
    }
    return events;
  }
}

/**
 * The runs found in WORKDIR/runs: each folder named like a run id with a
 * readable run.json. Folders that are not runs, and runs whose run.json cannot
 * be read, are left alone and reported to `skip`.
 */
export async function readRuns(runsDir: string, skip: (name: string, why: string) => void): Promise<RunState[]> {
  await mkdir(runsDir, { recursive: true });
  const states: RunState[] = [];
  for (const entry of await readdir(runsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !isRunId(entry.name)) continue;
    const files = new RunFiles(join(runsDir, entry.name));
    // temporary files of a server killed mid-write (the rename never came)
    for (const name of await readdir(files.dir)) {
      if (/^(run|request)\.json\.tmp-\d+$/.test(name)) await rm(join(files.dir, name), { force: true });
    }
    try {
      const state = JSON.parse(await readFile(files.state, 'utf8')) as RunState;
      if (state.id !== entry.name) throw new Error(`its run.json names run ${state.id}`);
      states.push(state);
    } catch (err) {
      skip(entry.name, (err as Error).message);
    }
  }
  return states;
}
