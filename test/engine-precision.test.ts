// The engine's faster number formats against its exact fp32: mixed bf16 training
// (bf16 matrix products, fp32 master weights) and the converted weights sampling
// can use (f16, bf16, q8_0). Each must stay close to fp32, and each must differ
// from it (or the faster path was not taken).
import test from 'ava';
import { collectTokens, GPT2, SAMPLING_WEIGHTS } from '../lib/index.js';
import { relativeL2 } from './helpers/compare.js';

// n_embd and the token count are multiples of 32, as the bf16 fast path needs
const SHAPE = { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 64, vocabSize: 300 };

// sequences with structure a model can learn quickly: each one counts upwards
// from its own start with its own stride
function batch(step: number, rows = 4, T = 64): number[][] {
  return Array.from({ length: rows }, (_, r) => {
    const start = (step * 37 + r * 101) % 300, stride = 1 + ((step + r) % 3);
    return Array.from({ length: T }, (_, i) => (start + i * stride) % 300);
  });
}

// 64 tokens: ggml's bf16 product; 200 (not a multiple of any tile), with a longer
// context: the CPU's own bf16 kernels (native/engine/bf16_gemm.h) where the CPU has
// AVX512-BF16, which take products of 128 columns and more
for (const [T, shape] of [
  [64, SHAPE],
  [200, { ...SHAPE, nPositions: 256 }],
] as const) {
  test(`mixed bf16: the loss and every gradient stay within bf16 rounding of fp32 (${T} tokens)`, async (t) => {
    const exact = await GPT2.init(shape, { seed: 3, threads: 2 });
    const mixed = await GPT2.init(shape, { seed: 3, threads: 2, precision: 'bf16' });
    t.is(mixed.precision, 'bf16');
    const tokens = batch(0, 1, T)[0];
    const a = await exact.lossAndGrads(tokens);
    const b = await mixed.lossAndGrads(tokens);
    t.true(Math.abs(a.loss - b.loss) / a.loss < 1e-3, `loss ${b.loss} vs ${a.loss}`);
    t.not(a.loss, b.loss, 'bf16 products round differently from fp32');
    let worst = 0;
    for (const name of Object.keys(a.grads)) {
      const err = relativeL2(b.grads[name], a.grads[name]);
      worst = Math.max(worst, err);
      t.true(err < 3e-2, `${name}: relative error ${err}`);
    }
    t.log(`worst gradient relative L2 error ${worst.toExponential(2)}; loss ${a.loss} vs ${b.loss}`);
    await exact.dispose();
    await mixed.dispose();
  });
}

// with LoRA too: the adapters' term joins c_fc's output (and every other
// target's) after the bf16 product and its bias
for (const lora of [undefined, { rank: 4, alpha: 8, seed: 3 }]) {
  test(`mixed bf16 training follows the fp32 loss curve${lora ? ' (LoRA)' : ''}`, async (t) => {
    const curves: number[][] = [];
    for (const precision of ['fp32', 'bf16'] as const) {
      const model = await GPT2.init(SHAPE, { seed: 5, threads: 2, precision });
      const trainer = model.trainer({ lr: 3e-3, weightDecay: 0.01, lora });
      const losses: number[] = [];
      for (let s = 0; s < 40; s++) losses.push(await trainer.step(batch(s)));
      curves.push(losses);
      await model.dispose();
    }
    const [fp32, bf16] = curves;
    t.true(fp32[39] < fp32[0] - (lora ? 0.1 : 1), `it learns: ${fp32[0]} → ${fp32[39]}`);
    const worst = Math.max(...fp32.map((l, i) => Math.abs(l - bf16[i]) / l));
    t.log(`loss ${fp32[0].toFixed(3)} → fp32 ${fp32[39].toFixed(4)}, bf16 ${bf16[39].toFixed(4)}; worst relative gap ${worst.toExponential(2)}`);
    t.true(worst < 5e-3, `the curves part by ${worst}`);
    t.not(fp32[39], bf16[39], 'bf16 products round differently from fp32');
  });
}

test('precision can be switched and is checked', async (t) => {
  const model = await GPT2.init(SHAPE, { seed: 3, threads: 1 });
  const tokens = batch(1, 1);
  const fp32 = await model.loss(tokens);
  await model.setPrecision('bf16');
  const bf16 = await model.loss(tokens);
  await model.setPrecision('fp32');
  t.is(await model.loss(tokens), fp32, 'back to exactly the fp32 loss');
  t.not(bf16, fp32);
  // @ts-expect-error a wrong name
  await t.throwsAsync(model.setPrecision('fp8'), { message: /unknown precision "fp8"/ });
  // @ts-expect-error a wrong name
  await t.throwsAsync(GPT2.init(SHAPE, { precision: 'half' }), { message: /unknown precision/ });
  await model.dispose();
});

test('converted sampling weights: loss close to f32, generation runs and is seeded', async (t) => {
  const model = await GPT2.init(SHAPE, { seed: 4, threads: 2 });
  const trainer = model.trainer({ lr: 3e-3 });
  for (let s = 0; s < 20; s++) await trainer.step(batch(s));
  const heldOut = batch(100);
  const f32 = await model.loss(heldOut);
  t.is(await model.loss(heldOut, { weights: 'f32' }), f32);
  // bound: bf16 keeps 8 significant bits, f16 11, q8_0 about 8 per block of 32
  const bounds = { f16: 1e-4, bf16: 1e-3, q8_0: 1e-3 } as const;
  for (const weights of SAMPLING_WEIGHTS.filter((w) => w !== 'f32')) {
    const loss = await model.loss(heldOut, { weights });
    const rel = Math.abs(loss - f32) / f32;
    t.log(`${weights}: loss ${loss.toFixed(5)} vs f32 ${f32.toFixed(5)} (relative ${rel.toExponential(2)})`);
    t.true(rel < bounds[weights], `${weights}: ${rel}`);
    t.not(loss, f32, `${weights} is not the f32 computation`);
    const options = { n: 3, maxLength: 40, minLength: 40, seed: 9, weights };
    const first = await collectTokens(model.generate([1, 2, 3], options), 3);
    t.deepEqual(await collectTokens(model.generate([1, 2, 3], options), 3), first, 'the same seed, the same tokens');
    for (const s of first) {
      t.is(s.length, 37);
      t.true(s.every((tok) => tok >= 0 && tok < SHAPE.vocabSize));
    }
  }
  // @ts-expect-error a wrong name
  await t.throwsAsync(collectTokens(model.generate([1], { weights: 'q4' }), 1), { message: /unknown weight format 'q4'/ });
  await model.dispose();
});

test('greedy decoding with bf16 and q8_0 weights mostly agrees with f32 on a trained model', async (t) => {
  const model = await GPT2.init(SHAPE, { seed: 6, threads: 2 });
  const trainer = model.trainer({ lr: 3e-3 });
  for (let s = 0; s < 30; s++) await trainer.step(batch(s));
  const greedy = (weights: 'f32' | 'bf16' | 'q8_0') =>
    collectTokens(model.generate([5, 6, 7], { n: 1, maxLength: 30, minLength: 30, temperature: 0, weights }), 1);
  const [reference] = await greedy('f32');
  for (const weights of ['bf16', 'q8_0'] as const) {
    const [tokens] = await greedy(weights);
    const same = tokens.filter((tok, i) => tok === reference[i]).length;
    t.log(`${weights}: ${same}/${reference.length} greedy tokens as f32`);
    t.true(same >= reference.length * 0.8, `${weights}: only ${same} of ${reference.length}`);
  }
  await model.dispose();
});

test('q8_0 needs rows in whole blocks of 32: a clear error, not a crash', async (t) => {
  const model = await GPT2.init({ ...SHAPE, nEmbd: 48, nHead: 3 }, { seed: 1, threads: 1 });
  await t.throwsAsync(collectTokens(model.generate([1, 2], { n: 2, maxLength: 8, weights: 'q8_0' }), 2), {
    message: /q8_0 weights need n_embd to be a multiple of 32; this model's is 48/,
  });
  await t.throwsAsync(model.loss(batch(0, 1), { weights: 'q8_0' }), { message: /multiple of 32/ });
  // bf16 has no blocks, and the mixed-precision path takes any length (here 37 tokens)
  const [s] = await collectTokens(model.generate([1, 2], { n: 1, maxLength: 8, minLength: 8, weights: 'bf16', seed: 2 }), 1);
  t.is(s.length, 6);
  await model.setPrecision('bf16');
  const { loss } = await model.lossAndGrads(batch(0, 1, 37)[0]);
  t.true(Number.isFinite(loss));
  await model.dispose();
});
