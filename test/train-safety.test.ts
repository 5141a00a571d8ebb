// The trained model is saved first: whatever fails after training (here: a
// tokenizer that cannot decode what the model samples) leaves the weights on
// disk, and an error during training leaves a checkpoint that --resume
// continues to the weights of an uninterrupted run. Serial: one test swaps a
// Trainer method to inject the error.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2 } from '../lib/engine/gpt2.js';
import { Trainer } from '../lib/engine/trainer.js';
import { readCheckpoint } from '../lib/train/checkpoint.js';
import { train, type TrainOptions } from '../lib/train/train.js';
import { BYTE_TO_CHAR } from '../lib/tokenizer/byte-level.js';

const root = join(import.meta.dirname, '..');
const archive = join(root, 'demo', 'archive');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-train-safety-'));

async function smallBase(dir: string): Promise<string> {
  const base = join(dir, 'base');
  const model = await GPT2.init({ nLayer: 1, nHead: 2, nEmbd: 32, nPositions: 32 }, { seed: 1, threads: 2 });
  await model.save(base);
  await model.dispose();
  return base;
}

const options = (base: string, out: string): TrainOptions => ({
  sources: [archive], base, out, maxSteps: 6, seed: 3, lr: 1e-3, threads: 2, samples: 0, blockSize: 16,
});

test.serial('an error after training (a tokenizer that cannot decode a sampled id) loses nothing: the weights are already saved', async (t) => {
  const dir = scratch();
  const base = await smallBase(dir);
  // a byte-level tokenizer of 257 tokens for a model of GPT-2's 50,257 outputs: training
  // works, but the samples hold ids the tokenizer cannot decode
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) await rm(join(base, f));
  const vocab = Object.fromEntries([...BYTE_TO_CHAR.map((c, i) => [c, i] as const), ['<|endoftext|>', 256] as const]);
  await writeFile(join(base, 'vocab.json'), JSON.stringify(vocab));
  await writeFile(join(base, 'merges.txt'), '#version: 0.2\n');
  const out = join(dir, 'bot');
  const err = await t.throwsAsync(train({ ...options(base, out), samples: 4 }).result);
  t.regex(err!.message, /the trained model is saved in .*bot, but finishing its samples, card or run record failed/);
  t.regex(err!.message, /not in the vocabulary/);
  const model = await GPT2.load(out, { threads: 1 });
  t.is(model.config.nEmbd, 32);
  await model.dispose();
  t.true(existsSync(join(out, 'vocab.json')), 'its own tokenizer files beside it');
  t.false(existsSync(`${out}.checkpoint`));
});

test.serial('an error during training leaves a checkpoint; --resume ends with the weights of an uninterrupted run', async (t) => {
  const dir = scratch();
  const base = await smallBase(dir);
  const straight = join(dir, 'straight');
  await train(options(base, straight)).result;

  const out = join(dir, 'bot');
  const step = Trainer.prototype.stepWithStats;
  let calls = 0;
  Trainer.prototype.stepWithStats = function (this: Trainer, ...args: Parameters<Trainer['stepWithStats']>) {
    if (++calls === 4) return Promise.reject(new Error('injected: the device went away'));
    return step.apply(this, args);
  };
  try {
    const err = await t.throwsAsync(train(options(base, out)).result);
    t.regex(err!.message, /injected: the device went away/);
    t.regex(err!.message, /the 3 steps done are kept in the checkpoint .*bot\.checkpoint: run the same command with --resume/);
  } finally {
    Trainer.prototype.stepWithStats = step;
  }
  t.false(existsSync(out));
  t.is((await readCheckpoint(`${out}.checkpoint`)).state.step, 3);

  const resumed = await train({ ...options(base, out), resume: true }).result;
  t.is(resumed.summary.metrics.length, 6);
  t.true(readFileSync(join(straight, 'model.safetensors')).equals(readFileSync(join(out, 'model.safetensors'))), 'bit-identical weights');
});
