// LoRA through the pipeline: `train --lora` writes a PEFT adapter (the base left
// as it was), `generate` and GPT2.load take the adapter folder, `merge` folds it
// into a whole model, and an interrupted LoRA run resumes to the same adapter.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GPT2, type TrainOptions } from '../lib/index.js';
import { difference } from './helpers/compare.js';
import { smallBase as makeSmallBase } from './helpers/small-base.js';
import { straightAndResumed } from './helpers/straight-and-resumed.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const cli = join(root, 'bin', 'tweetsmith.js');
const archive = join(root, 'demo', 'archive');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-lora-train-'));
const PROMPT = [50256, 464, 19776, 318];

const smallBase = () => makeSmallBase(scratch());

test('train --lora writes a PEFT adapter and leaves the base alone; generate and merge take the adapter', async (t) => {
  const base = await smallBase();
  const baseWeights = readFileSync(join(base, 'model.safetensors'));
  const out = join(scratch(), 'adapter');
  await run(process.execPath, [cli, 'train', archive, '--base', base, '--out', out, '--lora', '--lora-rank', '4', '--lora-alpha', '8',
    '--lora-targets', 'c_attn,mlp.c_proj', '--max-steps', '4', '--seed', '3', '--lr', '1e-2', '--threads', '2', '--samples', '1', '--json']);
  t.true(readFileSync(join(base, 'model.safetensors')).equals(baseWeights), 'the base is untouched');
  for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'vocab.json', 'README.md', 'run/report.html']) t.true(existsSync(join(out, f)), f);
  t.false(existsSync(join(out, 'model.safetensors')));
  const config = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
  t.like(config, { peft_type: 'LORA', r: 4, lora_alpha: 8, base_model_name_or_path: base, fan_in_fan_out: true });
  t.deepEqual(config.target_modules, ['c_attn', 'mlp.c_proj']);
  const card = readFileSync(join(out, 'README.md'), 'utf8');
  t.regex(card, /\*\*LoRA adapter\.\*\*/);
  t.regex(card, /library_name: peft/);
  t.regex(card, /- gpt2\n- lora\n- peft\nwidget:/, 'the tags stay one YAML list');

  const gen = JSON.parse((await run(process.execPath, [cli, 'generate', '--model', out, 'The tide', '-n', '2', '--seed', '5', '--max-length', '16', '--json'])).stdout);
  t.is(gen.samples.length, 2);

  // the adapter changed the model, and the merged model computes what the adapter model does
  const adapted = await GPT2.load(out, { threads: 2 });
  const plain = await GPT2.load(base, { threads: 2 });
  const logits = await adapted.logits(PROMPT);
  t.true(difference(logits, await plain.logits(PROMPT)).maxAbs > 1e-4);
  await Promise.all([adapted.dispose(), plain.dispose()]);

  const merged = join(scratch(), 'merged');
  await run(process.execPath, [cli, 'merge', out, '--out', merged]);
  t.true(existsSync(join(merged, 'model.safetensors')));
  t.true(existsSync(join(merged, 'run', 'report.html')));
  const whole = await GPT2.load(merged, { threads: 2 });
  t.is(whole.lora, undefined);
  t.true(difference(await whole.logits(PROMPT), logits).relative <= 1e-5);
  await whole.dispose();
});

test('merge refuses an --out that holds something else, or is its own input', async (t) => {
  const base = await smallBase();
  const model = await GPT2.load(base, { threads: 2 });
  model.addLora({ rank: 2 });
  const adapter = join(scratch(), 'adapter');
  await model.save(adapter);
  await model.dispose();
  const occupied = join(scratch(), 'photos');
  await mkdir(occupied);
  await writeFile(join(occupied, 'holiday.jpg'), 'not a model');
  const refused = await t.throwsAsync(run(process.execPath, [cli, 'merge', adapter, '--out', occupied]));
  t.regex(String((refused as { stderr?: string }).stderr), /photos holds \S*holiday\.jpg, which tweetsmith did not write/);
  t.is(readFileSync(join(occupied, 'holiday.jpg'), 'utf8'), 'not a model');
  const self = await t.throwsAsync(run(process.execPath, [cli, 'merge', adapter, '--out', adapter]));
  t.regex(String((self as { stderr?: string }).stderr), /is also an input/);
  t.true(existsSync(join(adapter, 'adapter_model.safetensors')));
});

test('an interrupted LoRA run resumes to the adapter of an uninterrupted one', async (t) => {
  const base = await smallBase();
  const common = (out: string): TrainOptions => ({
    sources: [archive], base, out, maxSteps: 5, seed: 4, lr: 1e-2, threads: 2, samples: 0, lora: { rank: 2, dropout: 0.1 },
  });
  const { straight, resumed, interrupted, second } = await straightAndResumed(common, scratch);
  t.true(interrupted.interrupted);
  t.false(second.interrupted);
  t.true(readFileSync(join(straight, 'adapter_model.safetensors')).equals(readFileSync(join(resumed, 'adapter_model.safetensors'))));
});
