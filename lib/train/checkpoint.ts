// A training checkpoint: everything needed to continue a run and end with exactly
// the weights an uninterrupted run gives — the fp32 weights, AdamW's two moments
// and step count, the posts the dataset was built from (network sources are not
// fetched again), and the run's settings and metrics so far. It lives beside the
// output directory (DIR.checkpoint) and is written atomically.
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UserPosts } from '../data/index.js';
import type { GPT2 } from '../engine/gpt2.js';
import type { Trainer } from '../engine/trainer.js';
import { writeDirAtomically } from '../model/model-dir.js';
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
  await writeDirAtomically(dir, async (tmp) => {
    await model.save(tmp);
    await trainer.saveState(join(tmp, 'adam_m.safetensors'), join(tmp, 'adam_v.safetensors'));
    await writeFile(join(tmp, 'users.json'), JSON.stringify(users));
    await writeFile(join(tmp, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  });
}

export async function readCheckpoint(dir: string): Promise<{ state: CheckpointState; users: UserPosts[] }> {
  if (!existsSync(join(dir, 'state.json'))) {
    throw new Error(`no checkpoint to resume at ${dir} (a run writes one when it is interrupted with Ctrl-C or SIGTERM, or every --checkpoint-every steps)`);
  }
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as CheckpointState;
  if (state.version !== CHECKPOINT_VERSION) throw new Error(`${dir}: checkpoint version ${state.version} is not one this tweetsmith reads (${CHECKPOINT_VERSION})`);
  const users = JSON.parse(await readFile(join(dir, 'users.json'), 'utf8')) as UserPosts[];
  return { state, users };
}

export async function loadOptimizerState(dir: string, trainer: Trainer, steps: number): Promise<void> {
  await trainer.loadState(join(dir, 'adam_m.safetensors'), join(dir, 'adam_v.safetensors'), steps);
}

export async function removeCheckpoint(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
