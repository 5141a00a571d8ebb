// The choice of the frozen base's storage through the pipeline: train({ lora: {
// baseType } }) and `train --lora-base`, its default by precision, what the run
// record and card say, generation from the adapter, resuming, and the web API's
// options.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { collectTokens, GPT2, train, type TrainOptions } from '../lib/index.js';
import { checkOptions } from '../lib/serve/http/run-request.js';
import { smallBase as makeSmallBase } from './helpers/small-base.js';
import { straightAndResumed } from './helpers/straight-and-resumed.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const archive = join(root, 'demo', 'archive');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-lora-base-'));

const smallBase = () => makeSmallBase(scratch());

test('the base storage defaults by precision, and the run record and card say which was used', async (t) => {
  const base = await smallBase();
  const common = (out: string, precision: 'fp32' | 'bf16'): TrainOptions => ({
    sources: [archive], base, out, maxSteps: 1, seed: 2, threads: 2, samples: 0, precision, lora: { rank: 2 },
  });
  for (const [precision, expected] of [['fp32', 'f32'], ['bf16', 'bf16']] as const) {
    const out = join(scratch(), `adapter-${precision}`);
    const { summary } = await train(common(out, precision)).result;
    t.is(summary.hyperparameters.lora?.baseType, expected, precision);
    const record = JSON.parse(readFileSync(join(out, 'run', 'config.json'), 'utf8'));
    t.is(JSON.stringify(record).match(/"baseType":"(\w+)"/)?.[1], expected, 'the run record');
    t.regex(readFileSync(join(out, 'README.md'), 'utf8'), new RegExp(`the base's weights frozen, stored as ${expected}`), 'the card');
  }
});

test('an interrupted LoRA run with a bf16 base resumes to the adapter of an uninterrupted one; generation loads it', async (t) => {
  const base = await smallBase();
  const common = (out: string): TrainOptions => ({
    sources: [archive], base, out, maxSteps: 5, seed: 4, lr: 1e-2, threads: 2, samples: 0, lora: { rank: 2, dropout: 0.1, baseType: 'bf16' },
  });
  const { straight, resumed, interrupted, second } = await straightAndResumed(common, scratch);
  t.true(interrupted.interrupted);
  t.false(second.interrupted);
  t.is(second.summary.hyperparameters.lora?.baseType, 'bf16');
  // resumed on an f32 base, the last three steps' products would differ: the adapters would not be these
  t.true(readFileSync(join(straight, 'adapter_model.safetensors')).equals(readFileSync(join(resumed, 'adapter_model.safetensors'))));

  const model = await GPT2.load(straight, { threads: 2, loraBase: 'bf16' });
  t.is(model.weightsInfo().baseType, 'bf16');
  const samples = await collectTokens(model.generate([50256, 464], { n: 2, maxLength: 12, minLength: 12, seed: 1 }), 2);
  t.is(samples.length, 2);
  await model.dispose();
  const gen = JSON.parse((await run(process.execPath, [cli, 'generate', '--model', straight, 'The tide', '-n', '2', '--seed', '5', '--max-length', '16', '--json'])).stdout);
  t.is(gen.samples.length, 2);
});

test('--lora-base: a bad value and a missing --lora are clear errors; --help documents it', async (t) => {
  const base = await smallBase();
  const out = join(scratch(), 'never');
  const bad = await t.throwsAsync(run(process.execPath, [cli, 'train', archive, '--base', base, '--out', out, '--lora', '--lora-base', 'q8_0']));
  t.regex(String((bad as { stderr?: string }).stderr), /--lora-base <type>' argument 'q8_0' is invalid\. expected one of f32, bf16, f16/);
  const alone = await t.throwsAsync(run(process.execPath, [cli, 'train', archive, '--base', base, '--out', out, '--lora-base', 'bf16']));
  t.regex(String((alone as { stderr?: string }).stderr), /--lora-base applies to LoRA training only: add --lora/);
  const help = (await run(process.execPath, [cli, 'train', '--help'])).stdout;
  t.regex(help, /--lora-base <type>/);
  await t.throwsAsync(train({ sources: [archive], base, out, lora: { baseType: 'f8' as 'f16' } }).result, { message: /LoRA base type must be one of f32, bf16, f16, got "f8"/ });
});

test('the web API takes lora.baseType, checked', (t) => {
  t.deepEqual(checkOptions({ lora: { rank: 4, baseType: 'f16' } }), { lora: { rank: 4, baseType: 'f16' } });
  t.throws(() => checkOptions({ lora: { baseType: 16 } }), { message: /options\.lora\.baseType must be a string/ });
  t.throws(() => checkOptions({ lora: { baseType: 'q4' } }), { message: /options\.lora: LoRA base type must be one of f32, bf16, f16, got "q4"/ });
});
