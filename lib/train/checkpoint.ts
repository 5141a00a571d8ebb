// A training checkpoint: everything needed to continue a run and end with exactly
// the weights an uninterrupted run gives — the fp32 weights, AdamW's two moments
// and step count, the posts the dataset was built from (network sources are not
// fetched again), and the run's settings and metrics so far. It lives beside the
// output directory (DIR.checkpoint) and is written as every output folder is
// (lib/fs/safe-output.ts): staged, fsynced, renamed, so a crash while one
// checkpoint replaces another leaves one of the two to resume from.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UserPosts } from '../data/index.js';
import type { GPT2 } from '../engine/gpt2.js';
import type { Trainer } from '../engine/trainer.js';
import { locateOutput, removeOutputDir, writeOutputDir } from '../fs/safe-output.js';
import { CHECKPOINT_FILES } from './checkpoint-files.js';
import type { MetricRow, TrainHyperparameters } from './run-summary.js';

export const CHECKPOINT_VERSION = 1;

export interface CheckpointState {
  version: number;
  /** optimizer steps done */
  step: number;
  totalSteps: number;
  hyperparameters: TrainHyperparameters;
  sources: string[];
  baseModel: string;
  baseIsRandom: boolean;
  metrics: MetricRow[];
  validLossBefore?: number;
  trainSeconds: number;
  startedAt: string;
}

export function checkpointDir(out: string): string {
  return `${out.replace(/[\\/]+$/, '')}.checkpoint`;
}

export async function writeCheckpoint(dir: string, model: GPT2, trainer: Trainer, users: UserPosts[], state: CheckpointState): Promise<void> {
  await writeOutputDir(dir, 'checkpoint', {}, async (tmp) => {
    await model.writeFiles(tmp);
    await trainer.saveState(join(tmp, CHECKPOINT_FILES.adamM), join(tmp, CHECKPOINT_FILES.adamV));
    await writeFile(join(tmp, CHECKPOINT_FILES.users), JSON.stringify(users));
    await writeFile(join(tmp, CHECKPOINT_FILES.state), JSON.stringify(state, null, 2) + '\n');
  });
}

/**
 * Reads the checkpoint at `dir`, or at its set-aside copy while (or after a crash
 * while) a newer checkpoint was replacing it; `at` is the folder that was read.
 */
export async function readCheckpoint(dir: string): Promise<{ state: CheckpointState; users: UserPosts[]; at: string }> {
  const at = await locateOutput(dir);
  const stateFile = join(at, CHECKPOINT_FILES.state);
  if (!existsSync(stateFile)) {
    throw new Error(`no checkpoint to resume at ${dir} (a run writes one when it is interrupted with Ctrl-C or SIGTERM, by an error during training, or every --checkpoint-every steps)`);
  }
  const state = JSON.parse(await readFile(stateFile, 'utf8')) as CheckpointState;
  if (state.version !== CHECKPOINT_VERSION) throw new Error(`${dir}: checkpoint version ${state.version} is not one this tweetsmith reads (${CHECKPOINT_VERSION})`);
  const users = JSON.parse(await readFile(join(at, CHECKPOINT_FILES.users), 'utf8')) as UserPosts[];
  return { state, users, at };
}

export async function loadOptimizerState(dir: string, trainer: Trainer, steps: number): Promise<void> {
  await trainer.loadState(join(dir, CHECKPOINT_FILES.adamM), join(dir, CHECKPOINT_FILES.adamV), steps);
}

/** Removes a finished run's checkpoint; a folder holding anything else is left and named in the error. */
export async function removeCheckpoint(dir: string): Promise<void> {
  await removeOutputDir(dir, 'checkpoint');
}
