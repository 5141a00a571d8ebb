// LoRA's frozen base stored as bf16 or f16 (LoraOptions.baseType): the block
// matrices take half the memory, every product with them runs in their type, and
// everything that reads the base (logits, loss, gradients of A and B, cached
// decoding, sampling, merging) still works. Runs on the CPU's fast path and, with
// TWEETSMITH_PORTABLE=1, on the portable graphs the GPUs use.
import test from 'ava';
import { collectTokens, GPT2, type LoraBaseType } from '../lib/index.js';
import { difference, relativeL2 } from './helpers/compare.js';

// n_embd a multiple of 32 (q8_0 and the bf16 kernels' panels); 200 tokens reach the
// CPU's own bf16 kernels (128 columns and more), 64 ggml's products
const SHAPE = { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 256, vocabSize: 300 };
const LORA = { rank: 4, alpha: 8, seed: 3 };
// the block matrices' weights: c_attn 3C², attn.c_proj C², c_fc 4C², mlp.c_proj 4C² per layer
const BLOCK_WEIGHTS = SHAPE.nLayer * 12 * SHAPE.nEmbd * SHAPE.nEmbd;

function tokens(T: number, offset = 0): number[] {
  return Array.from({ length: T }, (_, i) => (offset + i * 7 + ((i * i) % 13)) % SHAPE.vocabSize);
}

// A model with adapters whose B is not zero (a fresh B is, and then dA is exactly 0
// and the adapters change nothing): the same values on every model built here.
async function adapted(baseType: LoraBaseType, precision: 'fp32' | 'bf16' = 'fp32'): Promise<GPT2> {
  const model = await GPT2.init(SHAPE, { seed: 5, threads: 2, precision });
  model.addLora({ ...LORA, baseType });
  for (const [name, values] of Object.entries(await model.loraParameters())) {
    if (!name.endsWith('.lora_B.weight')) continue;
    await model.setLoraParameter(name, values.map((_, i) => 0.05 * Math.sin(i * 0.37 + name.length)));
  }
  return model;
}

// Bounds: a bf16 base multiplies with bf16 operands (8 significant bits: relative
// rounding 2^-9 per operand), an f16 base with f16 ones (11 bits: 2^-12), f32
// accumulation either way. Over two layers that leaves the loss within about 1e-3
// (bf16) and 1e-4 (f16) of f32, and the gradients of A and B within bf16's 3e-2
// (mixed precision's bound, test/engine-precision.test.ts) or f16's 8 times less.
const BOUNDS = {
  bf16: { logits: 2e-2, loss: 1e-3, grads: 3e-2 },
  f16: { logits: 3e-3, loss: 1.5e-4, grads: 4e-3 },
} as const;

for (const baseType of ['bf16', 'f16'] as const) {
  for (const T of [64, 200]) {
    test(`a ${baseType} base: logits, loss and the gradients of A and B stay close to the f32 base's, in half the memory (${T} tokens)`, async (t) => {
      const exact = await adapted('f32');
      const narrow = await adapted(baseType);
      t.is(exact.weightsInfo().baseType, 'f32');
      t.is(narrow.weightsInfo().baseType, baseType);
      // the block matrices take 2 bytes a weight instead of 4: the buffer shrinks by that (up to alignment)
      const saved = exact.weightsInfo().bytes - narrow.weightsInfo().bytes;
      t.true(saved >= 2 * BLOCK_WEIGHTS && saved < 2 * BLOCK_WEIGHTS + 4096, `saved ${saved} bytes, expected about ${2 * BLOCK_WEIGHTS}`);

      const input = tokens(T);
      const logits = difference(await narrow.logits(input), await exact.logits(input));
      t.true(logits.relative < BOUNDS[baseType].logits, `logits: ${logits.relative}`);
      t.true(logits.maxAbs > 0, `the ${baseType} products are not the f32 ones`);
      const a = await exact.lossAndGrads(input);
      const b = await narrow.lossAndGrads(input);
      const lossError = Math.abs(a.loss - b.loss) / a.loss;
      t.true(lossError < BOUNDS[baseType].loss, `loss ${b.loss} vs ${a.loss}`);
      t.deepEqual(Object.keys(b.grads).sort(), Object.keys(a.grads).sort());
      let worst = 0;
      for (const name of Object.keys(a.grads)) {
        const err = relativeL2(b.grads[name], a.grads[name]);
        worst = Math.max(worst, err);
        t.true(err < BOUNDS[baseType].grads, `${name}: relative error ${err}`);
      }
      t.log(`${baseType}, ${T} tokens: logits ${logits.relative.toExponential(2)}, loss ${lossError.toExponential(2)}, worst gradient ${worst.toExponential(2)}, ${saved} bytes saved`);
      await Promise.all([exact.dispose(), narrow.dispose()]);
    });
  }
}

// Mixed precision rounds every weight to bf16 (nearest even) before each product,
// and a bf16 base is that same rounding done once: the products see the same
// numbers, so the loss and the gradients are the same to the bit.
for (const T of [64, 200]) {
  test(`mixed precision: a bf16 base gives the f32 base's loss and gradients of A and B bit for bit (${T} tokens)`, async (t) => {
    const exact = await adapted('f32', 'bf16');
    const narrow = await adapted('bf16', 'bf16');
    const input = tokens(T, 3);
    const a = await exact.lossAndGrads(input);
    const b = await narrow.lossAndGrads(input);
    t.is(b.loss, a.loss);
    for (const name of Object.keys(a.grads)) t.deepEqual(b.grads[name], a.grads[name], name);
    t.deepEqual(await narrow.logits(input), await exact.logits(input));
    await Promise.all([exact.dispose(), narrow.dispose()]);
  });
}

test('the default base follows the precision: bf16 under mixed precision, f32 under fp32', async (t) => {
  for (const [precision, expected] of [['fp32', 'f32'], ['bf16', 'bf16']] as const) {
    const model = await GPT2.init(SHAPE, { seed: 1, threads: 2, precision });
    model.addLora({ rank: 2 });
    t.is(model.weightsInfo().baseType, expected, precision);
    await model.dispose();
  }
});

test('a bad base type is a clear error, and changes nothing', async (t) => {
  const model = await GPT2.init(SHAPE, { seed: 1, threads: 2 });
  // @ts-expect-error a wrong name
  t.throws(() => model.addLora({ baseType: 'q8_0' }), { message: /LoRA base type must be one of f32, bf16, f16, got "q8_0"/ });
  t.is(model.lora, undefined, 'nothing was added');
  t.is(model.weightsInfo().baseType, 'f32');
  await model.dispose();
});

test('training with a bf16 base updates only the adapters; cached decoding and sampling read the bf16 base', async (t) => {
  const model = await adapted('bf16');
  const before = await model.parameters();
  const trainer = model.trainer({ lr: 1e-2 });
  const losses: number[] = [];
  for (let i = 0; i < 6; i++) losses.push(await trainer.step(tokens(64)));
  t.true(losses[5] < losses[0] - 0.05, `losses ${losses.join(', ')}`);
  const after = await model.parameters();
  for (const [name, values] of Object.entries(before)) t.deepEqual(after[name], values, `${name} is frozen`);
  const input = tokens(24);
  const full = await model.logits(input);
  // the same logits, on the CPU to f32's rounding as this trained model amplifies it: the
  // adapters this test trains put one position at 6.7e-5 of the largest logit and the
  // others at ~1e-7, with the forward passes on any of this engine's products, or on the
  // previous engine's, which puts another at 1.1e-4. A GPU's matrix-vector product (a decode step's) may read the
  // activations in f32 where its matrix product rounds them to bf16 (Vulkan's does):
  // there, within the bf16 base's own bound.
  const cached = difference(await model.cachedLogits(input, 5), full);
  const bound = model.deviceInfo().backend === 'cpu' ? 2e-4 : BOUNDS.bf16.logits;
  t.log(`cached vs full logits on ${model.deviceInfo().backend}: ${cached.relative.toExponential(2)}`);
  t.true(cached.relative <= bound, `cached decoding computes the same logits: ${cached.relative}`);
  for (const weights of ['f32', 'f16', 'bf16', 'q8_0'] as const) {
    const options = { n: 2, maxLength: 20, minLength: 20, seed: 9, weights };
    const first = await collectTokens(model.generate([1, 2, 3], options), 2);
    t.deepEqual(await collectTokens(model.generate([1, 2, 3], options), 2), first, `${weights}: the same seed, the same tokens`);
    for (const s of first) t.true(s.length === 17 && s.every((tok) => tok >= 0 && tok < SHAPE.vocabSize), weights);
    const loss = await model.loss([input], { weights });
    t.true(Number.isFinite(loss), `${weights}: loss ${loss}`);
  }
  await model.dispose();
});

test('sampling with bf16 weights is the same from a bf16 base as from an f32 one (the same bf16 matrices, reused)', async (t) => {
  const exact = await adapted('f32');
  const narrow = await adapted('bf16');
  const options = { n: 3, maxLength: 30, minLength: 30, seed: 4, weights: 'bf16' as const };
  t.deepEqual(await collectTokens(narrow.generate([5, 6, 7], options), 3), await collectTokens(exact.generate([5, 6, 7], options), 3));
  await Promise.all([exact.dispose(), narrow.dispose()]);
});

test('merging into a bf16 base gives a whole f32 model that computes the adapter model\'s logits', async (t) => {
  const narrow = await adapted('bf16');
  const exact = await adapted('f32');
  const input = tokens(64);
  const adapterLogits = await narrow.logits(input);
  await narrow.mergeLora();
  await exact.mergeLora();
  t.is(narrow.lora, undefined);
  t.deepEqual(narrow.weightsInfo(), exact.weightsInfo(), 'an f32 model of the full size again');
  // each merged weight is the f32 one's up to bf16's rounding of the base (2^-9 relative), the adapters' term alike
  const merged = await narrow.parameters();
  const reference = await exact.parameters();
  for (const [name, values] of Object.entries(reference)) {
    const d = difference(merged[name], values);
    t.true(d.relative <= 2 ** -8, `${name}: ${d.relative}`);
  }
  // the merged model multiplies in f32, the adapter model in bf16: apart by the activations' rounding
  const d = difference(await narrow.logits(input), adapterLogits);
  t.log(`merged (f32) vs bf16-base adapter logits: ${d.relative.toExponential(2)}`);
  t.true(d.relative < BOUNDS.bf16.logits, `merged vs adapter: ${d.relative}`);
  // and a merged model trains like any other
  const trainer = narrow.trainer({ lr: 1e-3 });
  t.true(Number.isFinite(await trainer.step(input)));
  await Promise.all([exact.dispose(), narrow.dispose()]);
});

test('a generation under way when the base is narrowed stops with a clear error, not a read of freed weights', async (t) => {
  const model = await GPT2.init(SHAPE, { seed: 2, threads: 2 });
  const stream = model.generate([1, 2, 3], { n: 1, maxLength: 30, minLength: 30, seed: 1 });
  t.false((await stream.next()).done);
  model.addLora({ rank: 2, baseType: 'bf16' });
  await t.throwsAsync(collectTokens(stream, 1), { message: /the model's weights were replaced \(LoRA adapters added or merged\) while this generation ran; start a new one/ });
  t.is((await collectTokens(model.generate([1, 2, 3], { n: 1, maxLength: 12, minLength: 12, seed: 1 }), 1))[0].length, 9, 'a new one runs');
  await model.dispose();
});
