// LoRA against PyTorch (the fixtures scripts/reference/make_lora_fixtures.py wrote:
// two adapters in PEFT's layout over torch-tiny), against finite differences, and
// what training, saving, loading and merging an adapter must keep.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPT2 } from '../lib/index.js';
import { readSafetensors } from '../lib/model/safetensors.js';
import { difference } from './helpers/compare.js';
import { centralDifference, probedEntries } from './helpers/finite-difference.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const base = join(fixtures, 'torch-tiny');
const CONFIGS = ['r4-all', 'r2-attn'];
const TOLERANCE = 1e-4;
const tokens: number[] = JSON.parse(readFileSync(join(fixtures, 'torch-tiny', 'case.json'), 'utf8')).tokens;

async function expectedFor(config: string) {
  const dir = join(fixtures, 'torch-lora', config);
  const expected = await readSafetensors(join(dir, 'expected.safetensors'));
  const ref = (name: string) => {
    const t = expected.get(name);
    if (!t) throw new Error(`${config}/expected.safetensors has no ${name}`);
    return t.data;
  };
  return { dir, expected, ref };
}

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tweetsmith-lora-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

for (const config of CONFIGS) {
  test(`${config}: logits, loss and the gradients of every A and B match PyTorch`, async (t) => {
    const { dir, expected, ref } = await expectedFor(config);
    const model = await GPT2.load(dir, { threads: 2 });
    t.truthy(model.lora);
    const logits = difference(await model.logits(tokens), ref('logits'));
    t.true(logits.relative <= TOLERANCE, `logits: ${logits.relative}`);
    const { loss, grads } = await model.lossAndGrads(tokens);
    const lossError = Math.abs(loss - ref('loss')[0]) / ref('loss')[0];
    t.true(lossError <= TOLERANCE, `loss ${loss} vs ${ref('loss')[0]}`);
    const names = Object.keys(grads);
    t.deepEqual(names.sort(), [...expected.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)).sort());
    let worst = 0;
    for (const name of names) {
      const d = difference(grads[name], ref(`grad.${name}`));
      worst = Math.max(worst, d.relative);
      t.true(d.relative <= TOLERANCE, `${name}: relative error ${d.relative}`);
    }
    t.log(`${config}: logits ${logits.relative.toExponential(2)}, loss ${lossError.toExponential(2)}, worst of ${names.length} gradients ${worst.toExponential(2)}`);
    await model.dispose();
  });

  test(`${config}: the merged model computes the adapter model's logits`, async (t) => {
    const { dir, ref } = await expectedFor(config);
    const model = await GPT2.load(dir, { threads: 2 });
    const withAdapter = await model.logits(tokens);
    await model.mergeLora();
    t.is(model.lora, undefined);
    const merged = await model.logits(tokens);
    const d = difference(merged, withAdapter);
    t.log(`${config}: merged vs adapter logits ${d.relative.toExponential(2)}`);
    t.true(d.relative <= 1e-5, `merged vs adapter: ${d.relative}`);
    t.true(difference(merged, ref('merged_logits')).relative <= TOLERANCE);
    await model.dispose();
  });
}

test('A and B gradients agree with central finite differences of the engine loss', async (t) => {
  const model = await GPT2.load(join(fixtures, 'torch-lora', 'r4-all'), { threads: 2 });
  const { grads } = await model.lossAndGrads(tokens);
  const params = await model.loraParameters();
  const h = 1e-2;
  let checked = 0;
  for (const name of ['h.0.attn.c_attn.lora_A.weight', 'h.0.attn.c_attn.lora_B.weight', 'h.1.attn.c_proj.lora_A.weight',
    'h.0.mlp.c_fc.lora_B.weight', 'h.1.mlp.c_proj.lora_A.weight', 'h.1.mlp.c_proj.lora_B.weight']) {
    const g = grads[name];
    for (const i of probedEntries(g)) {
      const numeric = await centralDifference(params[name].slice(), i, h, (v) => model.setLoraParameter(name, v), async () => (await model.lossAndGrads(tokens)).loss);
      t.true(Math.abs(numeric - g[i]) <= 5e-3 * Math.abs(g[i]) + 5e-5, `${name}[${i}]: analytic ${g[i]}, numeric ${numeric}`);
      checked++;
    }
  }
  t.is(checked, 12);
  await model.dispose();
});

test('the cached decoding sampling uses sees the adapters too', async (t) => {
  const model = await GPT2.load(join(fixtures, 'torch-lora', 'r4-all'), { threads: 2 });
  const full = await model.logits(tokens);
  const cached = await model.cachedLogits(tokens, 5);
  t.true(difference(cached, full).relative <= 1e-5);
  await model.dispose();
});

test('LoRA training updates only the adapters; the saved adapter is PEFT-shaped and loads back to the same logits', async (t) => {
  const out = await scratch(t);
  const model = await GPT2.load(base, { threads: 2 });
  const before = await model.parameters();
  const logits0 = await model.logits(tokens);
  const trainer = model.trainer({ lora: { rank: 4, alpha: 8, targets: ['c_attn', 'c_fc'], seed: 3 } });
  // B starts at zero: a fresh adapter leaves the model unchanged
  t.true(difference(await model.logits(tokens), logits0).maxAbs === 0);
  const losses: number[] = [];
  for (let i = 0; i < 8; i++) losses.push(await trainer.step(tokens, { lr: 1e-2 }));
  t.true(losses[7] < losses[0] - 0.05, `losses ${losses.join(', ')}`);
  const after = await model.parameters();
  for (const [name, values] of Object.entries(before)) t.deepEqual(after[name], values, `${name} is frozen`);

  const trained = await model.logits(tokens);
  const dir = join(out, 'adapter');
  await model.save(dir, { base: '../torch-tiny-copy' });
  await cp(base, join(out, 'torch-tiny-copy'), { recursive: true });
  t.false(existsSync(join(dir, 'model.safetensors')));
  const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
  t.like(cfg, { peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, lora_dropout: 0, fan_in_fan_out: true, bias: 'none', base_model_name_or_path: '../torch-tiny-copy' });
  t.deepEqual(cfg.target_modules, ['c_attn', 'c_fc']);
  const saved = await readSafetensors(join(dir, 'adapter_model.safetensors'));
  const C = model.config.nEmbd;
  t.deepEqual(saved.get('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight')?.shape, [4, C]);
  t.deepEqual(saved.get('base_model.model.transformer.h.0.attn.c_attn.lora_B.weight')?.shape, [3 * C, 4]);
  t.deepEqual(saved.get('base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight')?.shape, [4 * C, 4]);
  t.is(saved.size, 2 * 2 * model.config.nLayer);
  await model.dispose();

  const reloaded = await GPT2.load(dir, { threads: 2 });
  t.deepEqual(reloaded.lora?.targets, ['c_attn', 'c_fc']);
  t.true(difference(await reloaded.logits(tokens), trained).relative <= 1e-6);
  await reloaded.dispose();
});

test('LoRA dropout is seeded: the same seed trains to the same losses, and dropout changes them', async (t) => {
  async function run(dropout: number, seed: number) {
    const model = await GPT2.load(base, { threads: 2 });
    const trainer = model.trainer({ lora: { rank: 2, dropout, seed } });
    const losses = [];
    for (let i = 0; i < 3; i++) losses.push(await trainer.step(tokens, { lr: 1e-2 }));
    await model.dispose();
    return losses;
  }
  const a = await run(0.3, 7);
  t.deepEqual(await run(0.3, 7), a);
  t.notDeepEqual(await run(0, 7), a);
});

test('adapters PEFT options tweetsmith cannot apply, or tensors that do not fit, are clear errors', async (t) => {
  const out = await scratch(t);
  const dir = join(out, 'bad');
  await cp(join(fixtures, 'torch-lora', 'r2-attn'), dir, { recursive: true });
  await rm(join(dir, 'expected.safetensors'));
  const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
  cfg.base_model_name_or_path = base;
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, use_dora: true }));
  await t.throwsAsync(GPT2.load(dir), { message: /adapter_config\.json: DoRA/ });
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 3 }));
  await t.throwsAsync(GPT2.load(dir), { message: /adapter_model\.safetensors: tensor base_model\.model\.transformer\.h\.0\.attn\.c_attn\.lora_A\.weight has shape \[2, 36\]/ });
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: ['c_attn', 'c_fc'] }));
  await t.throwsAsync(GPT2.load(dir), { message: /tensor\(s\) missing/ });
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, target_modules: ['q_proj'] }));
  await t.throwsAsync(GPT2.load(dir), { message: /"q_proj" is not a GPT-2 module/ });
  // a rank past the model's width: refused before anything is allocated
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 50 }));
  await t.throwsAsync(GPT2.load(dir), { message: /LoRA rank 50 is larger than the model's width/ });
});
