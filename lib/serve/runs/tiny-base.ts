// Base 'tiny': the offline demo's model, a tiny GPT-2 initialised from scratch
// inside the run's folder, made the way `tweetsmith demo` makes it (GPT2.init
// of the demo's preset, seed 0), and trained with the demo's learning rate
// and warm-up unless the request chose its own: a model that starts from
// nothing needs a larger rate than fine-tuning's default.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_SETTINGS } from '../../defaults.js';
import { GPT2 } from '../../engine/gpt2.js';
import { presetConfig } from '../../model/config.js';
import type { TrainOptions } from '../../train/train.js';

export const TINY_BASE = 'tiny';
const SEED = 0;

/** How the card and report name the base. */
export const TINY_BASE_LABEL = `${DEMO_SETTINGS.size} GPT-2, random initialisation (seed ${SEED})`;

/** Writes the random-init model at `dir` unless an earlier session of the run already did. */
export async function writeTinyBase(dir: string, threads: number): Promise<void> {
  if (existsSync(join(dir, 'model.safetensors'))) return;
  const model = await GPT2.init(presetConfig(DEMO_SETTINGS.size), { seed: SEED, threads });
  try {
    await model.save(dir);
  } finally {
    await model.dispose();
  }
}

/** The train() options the demo sets for a from-scratch model, for the request's options to override. */
export const TINY_TRAIN_DEFAULTS: Pick<TrainOptions, 'lr' | 'warmup' | 'baseIsRandom' | 'baseLabel'> = Object.freeze({
  lr: DEMO_SETTINGS.lr,
  warmup: DEMO_SETTINGS.warmup,
  baseIsRandom: true,
  baseLabel: TINY_BASE_LABEL,
});
