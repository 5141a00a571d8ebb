// The engine against PyTorch: logits, loss, every gradient and three AdamW steps
// on the fixture that scripts/reference/make_fixtures.py wrote (see its README).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2 } from '../lib/index.js';
import { readSafetensors } from '../lib/model/safetensors.js';
import { difference } from './helpers/compare.js';

const dir = join(import.meta.dirname, 'fixtures', 'torch-tiny');
const fixture = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const expected = await readSafetensors(join(dir, 'expected.safetensors'));
const TOLERANCE = 1e-4;

function ref(name: string): Float32Array {
  const t = expected.get(name);
  if (!t) throw new Error(`expected.safetensors has no ${name}`);
  return t.data;
}
// After three AdamW steps a few entries are ill-conditioned in ANY fp32
// implementation: AdamW divides each gradient by its own size, so an entry whose
// gradient is tiny (or exactly zero in exact arithmetic, as the key part of
// c_attn.bias, which the softmax cancels) turns fp32 rounding noise into a visible
// update. The fixture stores PyTorch's own fp32 result beside the fp64 truth; a
// tensor passes if it is within the tolerance, or no further from the truth than
// twice PyTorch's fp32 (see scripts/reference/README.md).
function step3Bound(name: string): number {
  return Math.max(TOLERANCE, 2 * difference(ref(`step3_f32.${name}`), ref(`step3.${name}`)).relative);
}

test('logits and loss match PyTorch', async (t) => {
  const model = await GPT2.load(dir, { threads: 2 });
  const logits = await model.logits(fixture.tokens);
  const d = difference(logits, ref('logits'));
  t.log(`logits: max relative error ${d.relative.toExponential(2)}`);
  t.true(d.relative <= TOLERANCE);
  const batchLoss = await model.loss(fixture.batch);
  t.true(Math.abs(batchLoss - fixture.step_losses[0]) / fixture.step_losses[0] <= TOLERANCE, `batch loss ${batchLoss}`);
  const { loss } = await model.lossAndGrads(fixture.tokens);
  const lossError = Math.abs(loss - fixture.loss) / fixture.loss;
  t.log(`loss ${loss} vs ${fixture.loss}: relative error ${lossError.toExponential(2)}`);
  t.true(lossError <= TOLERANCE);
  await model.dispose();
});

test('every gradient matches PyTorch', async (t) => {
  const model = await GPT2.load(dir, { threads: 2 });
  const { grads } = await model.lossAndGrads(fixture.tokens);
  const names = Object.keys(grads);
  t.is(names.length, [...expected.keys()].filter((k) => k.startsWith('grad.')).length);
  let worst = { name: '', relative: 0 };
  for (const name of names) {
    const d = difference(grads[name], ref(`grad.${name}`));
    if (d.relative > worst.relative) worst = { name, relative: d.relative };
    t.true(d.relative <= TOLERANCE, `${name}: relative error ${d.relative}`);
  }
  t.log(`worst gradient: ${worst.name}, max relative error ${worst.relative.toExponential(2)}`);
  await model.dispose();
});

test('three clipped AdamW steps with weight decay match PyTorch', async (t) => {
  const model = await GPT2.load(dir, { threads: 2 });
  const a = fixture.adamw;
  const trainer = model.trainer({ beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weight_decay, maxGradNorm: a.max_grad_norm });
  for (let step = 0; step < 3; step++) {
    const stats = await trainer.stepWithStats(fixture.batch, { lr: a.lrs[step] });
    t.true(Math.abs(stats.loss - fixture.step_losses[step]) / fixture.step_losses[step] <= TOLERANCE, `step ${step} loss ${stats.loss}`);
    t.true(Math.abs(stats.gradNorm - fixture.step_grad_norms[step]) / fixture.step_grad_norms[step] <= TOLERANCE, `step ${step} norm ${stats.gradNorm}`);
    t.true(stats.clipCoef < 1, 'clipping is active');
  }
  const params = await model.parameters();
  let worst = { name: '', relative: 0, maxAbs: 0 };
  const relaxed: string[] = [];
  for (const [name, values] of Object.entries(params)) {
    const d = difference(values, ref(`step3.${name}`));
    const bound = step3Bound(name);
    if (d.relative > worst.relative) worst = { name, ...d };
    if (d.relative > TOLERANCE) relaxed.push(`${name} ${d.relative.toExponential(2)} (PyTorch fp32 bound ${bound.toExponential(2)})`);
    t.true(d.relative <= bound, `${name}: relative error ${d.relative} (max abs ${d.maxAbs}), bound ${bound}`);
  }
  if (relaxed.length) t.log(`beyond ${TOLERANCE} but within PyTorch fp32's own error: ${relaxed.join('; ')}`);
  t.log(`worst weight after 3 steps: ${worst.name}, max relative error ${worst.relative.toExponential(2)} (abs ${worst.maxAbs.toExponential(2)})`);
  await model.dispose();
});

test('gradient accumulation over two micro-batches equals the batch of two', async (t) => {
  const a = fixture.adamw;
  const options = { beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weight_decay, maxGradNorm: a.max_grad_norm };
  const whole = await GPT2.load(dir, { threads: 2 });
  const split = await GPT2.load(dir, { threads: 2 });
  const l1 = await whole.trainer(options).step(fixture.batch, { lr: a.lrs[0] });
  const l2 = await split.trainer({ ...options, gradAccum: 2 }).step(fixture.batch, { lr: a.lrs[0] });
  t.true(Math.abs(l1 - l2) < 1e-6);
  const p1 = await whole.parameters();
  const p2 = await split.parameters();
  for (const name of Object.keys(p1)) t.true(difference(p2[name], p1[name]).relative <= step3Bound(name), name);
  await whole.dispose();
  await split.dispose();
});
