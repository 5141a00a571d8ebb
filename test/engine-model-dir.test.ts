// Model directories: init-model writes one that loads back bit-identical, and bad
// files fail with errors that name the file and the tensor.
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GPT2 } from '../lib/index.js';
import { readSafetensors, writeSafetensors } from '../lib/model/safetensors.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const fixture = join(import.meta.dirname, 'fixtures', 'torch-tiny');
const scratch = () => mkdtempSync(join(tmpdir(), 'tweetsmith-test-'));

test('init-model writes a model dir that loads back bit-identical and generates 10 sequences at once', async (t) => {
  const out = join(scratch(), 'm');
  const { stdout } = await run(process.execPath, [join(root, 'bin', 'tweetsmith.js'), 'init-model', '--size', 'tiny', '--out', out, '--seed', '7', '--json']);
  const summary = JSON.parse(stdout);
  t.is(summary.config.nLayer, 2);
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'tokenizer_config.json']) {
    t.true(existsSync(join(out, f)), f);
  }
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  t.deepEqual(config.task_specific_params['text-generation'], {
    do_sample: true, min_length: 10, max_length: 160, temperature: 1.0, top_p: 0.95, prefix: '<|endoftext|>',
  });

  const fresh = await GPT2.init('tiny', { seed: 7, threads: 2 });
  const loaded = await GPT2.load(out, { threads: 2 });
  const a = await fresh.parameters();
  const b = await loaded.parameters();
  t.deepEqual(Object.keys(b), Object.keys(a));
  for (const name of Object.keys(a)) t.true(Buffer.from(a[name].buffer).equals(Buffer.from(b[name].buffer)), name);
  // the file itself holds the hub's names and layouts: Conv1D [in, out], no lm_head
  const file = await readSafetensors(join(out, 'model.safetensors'));
  t.deepEqual(file.get('h.0.attn.c_attn.weight')!.shape, [64, 192]);
  t.deepEqual(file.get('h.1.mlp.c_proj.weight')!.shape, [256, 64]);
  t.false(file.has('lm_head.weight'));

  const seen = new Set<number>();
  let events = 0;
  for await (const e of loaded.generate([50256], { n: 10, maxLength: 12, seed: 1 })) {
    seen.add(e.sequence);
    events++;
  }
  t.deepEqual([...seen].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.true(events >= 10 * 9, `${events} tokens`); // min length 10 > max length: no early stop
  await fresh.dispose();
  await loaded.dispose();
});

test('init statistics follow Hugging Face: N(0, 0.02), residual projections scaled, LayerNorm 1/0, biases 0', async (t) => {
  const model = await GPT2.init({ nLayer: 8, nHead: 4, nEmbd: 128, nPositions: 64, vocabSize: 2000 }, { seed: 3, threads: 2 });
  const p = await model.parameters();
  const std = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
  t.true(Math.abs(std(p['wte.weight']) - 0.02) < 0.0005);
  t.true(Math.abs(std(p['h.3.attn.c_attn.weight']) - 0.02) < 0.0005);
  t.true(Math.abs(std(p['h.3.attn.c_proj.weight']) - 0.02 / Math.sqrt(16)) < 0.0002);
  t.true(Math.abs(std(p['h.3.mlp.c_proj.weight']) - 0.02 / Math.sqrt(16)) < 0.0002);
  t.true(p['h.0.ln_1.weight'].every((x) => x === 1));
  t.true(p['ln_f.bias'].every((x) => x === 0));
  t.true(p['h.2.mlp.c_fc.bias'].every((x) => x === 0));
  const again = await GPT2.init({ nLayer: 8, nHead: 4, nEmbd: 128, nPositions: 64, vocabSize: 2000 }, { seed: 3, threads: 1 });
  t.deepEqual((await again.parameters())['h.5.mlp.c_fc.weight'], p['h.5.mlp.c_fc.weight']);
  await model.dispose();
  await again.dispose();
});

test('weights stored as F16 or BF16, or with the transformer. prefix, load', async (t) => {
  const reference = await GPT2.load(fixture, { threads: 2 });
  const tokens = [1, 5, 9, 33, 100, 7];
  const want = await reference.logits(tokens);
  const tensors = await readSafetensors(join(fixture, 'model.safetensors'));
  for (const [dtype, prefix, tolerance] of [['F32', 'transformer.', 0], ['F16', '', 0.02], ['BF16', 'transformer.', 0.1]] as const) {
    const dir = scratch();
    copyFileSync(join(fixture, 'config.json'), join(dir, 'config.json'));
    const renamed = new Map([...tensors].map(([k, v]) => [prefix + k, v]));
    await writeSafetensors(join(dir, 'model.safetensors'), renamed, dtype);
    const m = await GPT2.load(dir, { threads: 2 });
    const got = await m.logits(tokens);
    const worst = got.reduce((w, x, i) => Math.max(w, Math.abs(x - want[i])), 0);
    t.true(worst <= tolerance, `${dtype}: logits differ by ${worst}`);
    await m.dispose();
  }
  await reference.dispose();
});

test('a truncated or inconsistent model file is a clear error naming the file and tensor', async (t) => {
  const copy = () => {
    const dir = scratch();
    cpSync(fixture, dir, { recursive: true });
    return dir;
  };
  const truncated = copy();
  const file = join(truncated, 'model.safetensors');
  truncateSync(file, statSync(file).size - 1000);
  const e1 = await t.throwsAsync(GPT2.load(truncated));
  t.regex(e1!.message, /model\.safetensors: tensor \S+: data .* beyond/);

  const wrongShape = copy();
  const config = JSON.parse(readFileSync(join(wrongShape, 'config.json'), 'utf8'));
  writeFileSync(join(wrongShape, 'config.json'), JSON.stringify({ ...config, vocab_size: 102 }));
  const e2 = await t.throwsAsync(GPT2.load(wrongShape));
  t.regex(e2!.message, /model\.safetensors: tensor wte\.weight has shape \[101, 36\] but config\.json implies \[102, 36\]/);

  const missing = copy();
  const tensors = await readSafetensors(join(missing, 'model.safetensors'));
  tensors.delete('h.1.mlp.c_fc.bias');
  await writeSafetensors(join(missing, 'model.safetensors'), tensors);
  const e3 = await t.throwsAsync(GPT2.load(missing));
  t.regex(e3!.message, /tensor h\.1\.mlp\.c_fc\.bias is missing/);

  const garbage = copy();
  writeFileSync(join(garbage, 'model.safetensors'), 'not a model');
  const e4 = await t.throwsAsync(GPT2.load(garbage));
  t.regex(e4!.message, /model\.safetensors: not a safetensors file/);

  const noConfig = scratch();
  const e5 = await t.throwsAsync(GPT2.load(noConfig));
  t.regex(e5!.message, /config\.json: missing/);
});

test('save writes the dir atomically and what it writes loads back the same', async (t) => {
  const model = await GPT2.load(fixture, { threads: 2 });
  const out = join(scratch(), 'saved');
  await model.save(out);
  const again = await GPT2.load(out, { threads: 2 });
  const a = await model.parameters();
  const b = await again.parameters();
  for (const name of Object.keys(a)) t.deepEqual(b[name], a[name], name);
  const before = await model.logits([3, 4, 5]);
  t.deepEqual(await again.logits([3, 4, 5]), before);
  await model.dispose();
  await again.dispose();
});
