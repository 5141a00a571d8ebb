// What the kill -9 test (kill-safety.test.ts) writes: a model, a dataset and a
// checkpoint, each in two versions (seed 1 and 2), through the library's writers.
import { GPT2 } from '../../lib/engine/gpt2.js';
import { buildDataset } from '../../lib/data/dataset.js';
import { writeDatasetDir } from '../../lib/data/dataset-dir.js';
import { CHECKPOINT_VERSION, writeCheckpoint, type CheckpointState } from '../../lib/train/checkpoint.js';
import { TRAIN_DEFAULTS } from '../../lib/defaults.js';
import { join } from 'node:path';
import { syntheticPosts } from './servers/synthetic-posts.js';

/**
 * The shape both versions share: small, so a cycle is quick (with a vocabulary
 * that is not GPT-2's, save writes no tokenizer files: that is tested elsewhere).
 */
export const KILL_TEST_SHAPE = { nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 16, vocabSize: 300 };

/** Byte ids: buildDataset needs only `encode`, and GPT-2's tables take seconds to load. */
const byteTokenizer = { encode: (text: string) => [...Buffer.from(text, 'utf8')] };
/** The version's seed: the model's initialisation, the dataset's shuffle, the checkpoint's step. */
export const KILL_TEST_VERSIONS = [1, 2];

export async function writeVersion(dir: string, version: number, models: Map<number, GPT2>): Promise<void> {
  const model = models.get(version)!;
  await model.save(join(dir, 'model'));
  const posts = syntheticPosts('alice', 120);
  const dataset = await buildDataset({ users: [{ handle: 'alice', posts }], tokenizer: byteTokenizer, seed: version, blockSize: 16, validSplit: 0.1, epochs: 1 });
  await writeDatasetDir(join(dir, 'dataset'), posts, dataset);
  const trainer = model.trainer({});
  const d = TRAIN_DEFAULTS;
  const state: CheckpointState = {
    version: CHECKPOINT_VERSION,
    step: version, // tells the versions apart
    totalSteps: 10,
    hyperparameters: {
      epochs: 1, learningRate: d.lr, schedule: d.schedule, warmup: d.warmup, batchSize: 1, gradAccum: 1, blockSize: 16, steps: 10, seed: version,
      beta1: d.beta1, beta2: d.beta2, eps: d.eps, weightDecay: d.weightDecay, maxGradNorm: d.maxGradNorm, threads: 1, device: 'CPU',
    },
    sources: ['alice.jsonl'], baseModel: 'tiny', baseIsRandom: true, metrics: [], trainSeconds: 0, startedAt: new Date(0).toISOString(),
  };
  await writeCheckpoint(join(dir, 'model.checkpoint'), model, trainer, [{ handle: 'alice', sources: ['alice.jsonl'], posts }], state);
}

export async function versionModels(): Promise<Map<number, GPT2>> {
  const models = new Map<number, GPT2>();
  for (const v of KILL_TEST_VERSIONS) models.set(v, await GPT2.init(KILL_TEST_SHAPE, { seed: v, threads: 1 }));
  return models;
}

