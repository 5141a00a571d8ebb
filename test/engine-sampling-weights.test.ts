// The sampling weights a model keeps between generations (GPT2Model::sampling_weights)
// and the memory a generation gives back when it ends (Generator.release()).
//
// A model converts its matrices to the sampling format (f16, bf16, q8_0) once and
// keeps them for the next call. Whatever changes the parameters afterwards must
// renew them: samples then equal those of a fresh model holding the same values.
import test from 'ava';
import { collectTokens, GPT2, type SamplingWeights } from '../lib/index.js';

const CONFIG = { nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 64, vocabSize: 96 };
const PROMPT = [1, 2, 3];
const FORMATS: SamplingWeights[] = ['f16', 'bf16', 'q8_0'];
const batch = [Array.from({ length: 32 }, (_, i) => (i * 7) % 96), Array.from({ length: 32 }, (_, i) => (i * 11 + 5) % 96)];

async function sample(model: GPT2, weights: SamplingWeights): Promise<number[][]> {
  return collectTokens(model.generate(PROMPT, { n: 4, maxLength: 24, minLength: 24, seed: 9, topP: 1, weights }), 4);
}

/** a model converted afresh: a new one holding `model`'s present parameter values */
async function freshCopy(model: GPT2): Promise<GPT2> {
  const copy = await GPT2.init(CONFIG, { seed: 77, threads: 2 });
  for (const [name, values] of Object.entries(await model.parameters())) await copy.setParameter(name, values);
  return copy;
}

for (const weights of FORMATS) {
  test(`${weights}: the kept weights are renewed after an optimizer step and after setParameter`, async (t) => {
    const model = await GPT2.init(CONFIG, { seed: 1, threads: 2 });
    const first = await sample(model, weights);
    t.deepEqual(await sample(model, weights), first, 'the same weights and seed give the same tokens again');

    await model.trainer({ lr: 1e-2 }).step(batch);
    const afterStep = await sample(model, weights);
    t.notDeepEqual(afterStep, first, 'the step changed the samples (else this test could not fail)');
    const stepped = await freshCopy(model);
    t.deepEqual(afterStep, await sample(stepped, weights), 'samples after the step are those of its new values');
    await stepped.dispose();

    const other = await GPT2.init(CONFIG, { seed: 2, threads: 2 });
    await model.setParameter('wte.weight', (await other.parameters())['wte.weight']);
    await other.dispose();
    const afterSet = await sample(model, weights);
    t.notDeepEqual(afterSet, afterStep);
    const set = await freshCopy(model);
    t.deepEqual(afterSet, await sample(set, weights), 'samples after setParameter are those of the new values');
    await set.dispose();
    await model.dispose();
  });
}

test('q8_0: the kept weights are renewed when LoRA adapters are merged into the base', async (t) => {
  const model = await GPT2.init(CONFIG, { seed: 1, threads: 2 });
  const plain = await sample(model, 'q8_0'); // converted and kept: the frozen base's values
  const trainer = model.trainer({ lora: { rank: 4, alpha: 8, seed: 3 } });
  for (let i = 0; i < 3; i++) await trainer.step(batch, { lr: 5e-2 });
  await model.mergeLora();
  const merged = await sample(model, 'q8_0');
  t.notDeepEqual(merged, plain, 'the merged adapters changed the samples (else this test could not fail)');
  const copy = await freshCopy(model);
  t.deepEqual(merged, await sample(copy, 'q8_0'), 'samples after the merge are those of the merged values');
  await copy.dispose();
  await model.dispose();
});

test('a generation stopped early by its consumer, or finished, gives its KV cache back at once', async (t) => {
  // 2 layers × 32 sequences × 1024 positions × 256 × f32 × (K, V): 128 MiB of cache a call
  const model = await GPT2.init({ nLayer: 2, nHead: 4, nEmbd: 256, nPositions: 1024, vocabSize: 512 }, { seed: 1, threads: 2 });
  if (model.deviceInfo().backend !== 'cpu') {
    // a GPU's memory is not the process's; and its buffers go back to a pool, not the system
    t.pass('the cache lives on a GPU here');
    return model.dispose();
  }
  const cacheMiB = (2 * 2 * 32 * 1024 * 256 * 4) / 2 ** 20;
  const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
  const stopEarly = async () => {
    for await (const _ of model.generate([1], { n: 32, maxLength: 1024, minLength: 2, seed: 1 })) break;
  };
  await stopEarly();
  const before = rssMiB();
  for (let i = 0; i < 8; i++) await stopEarly();
  await collectTokens(model.generate([1], { n: 32, maxLength: 3, minLength: 3, seed: 1 }), 32);
  const grown = rssMiB() - before;
  // kept until garbage collection, the eight caches would add 1 GiB
  t.true(grown < cacheMiB, `resident memory grew by ${grown.toFixed(0)} MiB over 8 stopped generations (one cache: ${cacheMiB} MiB)`);
  await model.dispose();
});
