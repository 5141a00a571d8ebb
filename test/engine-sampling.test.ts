// Sampling semantics (top-k, top-p, min/max length, temperature, seeds) on a model
// whose next-token distribution the test controls, and the KV cache against
// full forward passes.
import test from 'ava';
import { collectTokens, GPT2 } from '../lib/index.js';
import { difference } from './helpers/compare.js';
import { modelWithLogits, softmax } from './helpers/controlled-model.js';

// token 0 is end-of-text; probabilities 0.05 / 0.5 / 0.3 / 0.15 (after normalisation)
const PROBS = [0.05, 0.5, 0.3, 0.15];
const LOGITS = PROBS.map(Math.log);

async function sampleCounts(model: GPT2, options: Parameters<GPT2['generate']>[1]) {
  const counts = new Map<number, number>();
  const sequences = await collectTokens(model.generate([0], options), options!.n ?? 1);
  for (const s of sequences) for (const tok of s) counts.set(tok, (counts.get(tok) ?? 0) + 1);
  return { counts, sequences };
}

test('the controlled model has the distribution the test wrote', async (t) => {
  const model = await modelWithLogits(LOGITS);
  const logits = await model.logits([1, 2, 3]);
  for (let pos = 0; pos < 3; pos++) {
    const p = softmax(Array.from(logits.subarray(pos * 4, pos * 4 + 4)));
    p.forEach((x, i) => t.true(Math.abs(x - PROBS[i]) < 1e-5));
  }
  await model.dispose();
});

test('plain sampling follows the distribution; min length keeps end-of-text out', async (t) => {
  const model = await modelWithLogits(LOGITS);
  const { counts, sequences } = await sampleCounts(model, { n: 200, maxLength: 21, minLength: 21, topP: 1, seed: 11 });
  const total = 200 * 20;
  t.is(counts.get(0) ?? 0, 0, 'no end-of-text before min length');
  t.is(sequences.reduce((s, q) => s + q.length, 0), total);
  // without token 0 the rest renormalise to 0.5/0.95, 0.3/0.95, 0.15/0.95
  for (const tok of [1, 2, 3]) {
    const want = PROBS[tok] / 0.95;
    const got = (counts.get(tok) ?? 0) / total;
    t.true(Math.abs(got - want) < 0.03, `token ${tok}: ${got} vs ${want}`);
  }
  await model.dispose();
});

test('end-of-text appears only from min length on, and ends its sequence', async (t) => {
  const model = await modelWithLogits([Math.log(0.6), Math.log(0.4)]); // end-of-text is likely
  const minLength = 6;
  let ended = 0;
  for await (const e of model.generate([1], { n: 100, maxLength: 30, minLength, topP: 1, seed: 5 })) {
    if (e.token === 0) {
      t.true(e.position >= minLength, `end-of-text at position ${e.position}`);
      ended++;
    }
  }
  t.true(ended > 90);
  const sequences = await collectTokens(model.generate([1], { n: 50, maxLength: 30, minLength, topP: 1, seed: 6 }), 50);
  for (const s of sequences) {
    const eos = s.indexOf(0);
    if (eos >= 0) t.is(eos, s.length - 1, 'nothing follows end-of-text');
    t.true(s.length <= 29);
  }
  await model.dispose();
});

test('top-k keeps the k most likely tokens', async (t) => {
  const model = await modelWithLogits(LOGITS);
  const { counts } = await sampleCounts(model, { n: 100, maxLength: 20, minLength: 20, topK: 2, topP: 1, seed: 3 });
  t.deepEqual([...counts.keys()].sort(), [1, 2]);
  const share = (counts.get(1) ?? 0) / ((counts.get(1) ?? 0) + (counts.get(2) ?? 0));
  t.true(Math.abs(share - 0.5 / 0.8) < 0.04, `token 1 share ${share}`);
  await model.dispose();
});

test("top-p keeps the most likely tokens whose mass before them is under p, as HF's TopPLogitsWarper", async (t) => {
  const model = await modelWithLogits([Math.log(0.01), ...LOGITS.slice(1).map((l, i) => Math.log([0.5, 0.3, 0.19][i]))]);
  // sorted: 0.5, 0.3, 0.19, 0.01. p=0.75 keeps {0.5, 0.3}; p=0.85 also keeps 0.19; p=0.4 keeps the top one only
  for (const [topP, keep] of [[0.75, [1, 2]], [0.85, [1, 2, 3]], [0.4, [1]]] as const) {
    const { counts } = await sampleCounts(model, { n: 100, maxLength: 15, minLength: 15, topP, seed: 9 });
    t.deepEqual([...counts.keys()].sort(), [...keep], `top-p ${topP}`);
  }
  await model.dispose();
});

test('top-p over many tokens keeps exactly the set HF keeps', async (t) => {
  // 200 tokens with distinct logits; end-of-text (token 0) is masked by min length
  const logits = Array.from({ length: 200 }, (_, i) => -0.04 * i + 0.3 * Math.sin(i));
  const model = await modelWithLogits(logits);
  const topP = 0.6;
  const candidates = logits.map((l, i) => ({ i, p: Math.exp(l) })).filter((x) => x.i !== 0).sort((a, b) => b.p - a.p);
  const total = candidates.reduce((s, x) => s + x.p, 0);
  const kept = new Set<number>();
  let before = 0;
  for (const x of candidates) {
    if (kept.size > 0 && before >= topP * total) break;
    kept.add(x.i);
    before += x.p;
  }
  const { counts } = await sampleCounts(model, { n: 150, maxLength: 31, minLength: 31, topP, seed: 4 });
  for (const tok of counts.keys()) t.true(kept.has(tok), `token ${tok} is outside the top-p set`);
  t.true(counts.size >= kept.size * 0.9, `${counts.size} of ${kept.size} kept tokens were drawn`);
  await model.dispose();
});

test('temperature 0 takes the most likely token; a temperature sharpens or flattens', async (t) => {
  const model = await modelWithLogits(LOGITS);
  const greedy = await sampleCounts(model, { n: 5, maxLength: 10, minLength: 0, temperature: 0 });
  t.deepEqual([...greedy.counts.keys()], [1]);
  const cold = await sampleCounts(model, { n: 100, maxLength: 11, minLength: 11, temperature: 0.25, topP: 1, seed: 1 });
  const hot = await sampleCounts(model, { n: 100, maxLength: 11, minLength: 11, temperature: 4, topP: 1, seed: 1 });
  t.true((cold.counts.get(1) ?? 0) > (hot.counts.get(1) ?? 0) * 1.5);
  await model.dispose();
});

test('the same seed gives the same tokens; another seed others', async (t) => {
  const model = await GPT2.init({ nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 64, vocabSize: 300 }, { seed: 1, threads: 2 });
  const options = { n: 4, maxLength: 40, minLength: 40, seed: 1234 };
  const a = await collectTokens(model.generate([5, 6], options), 4);
  const b = await collectTokens(model.generate([5, 6], options), 4);
  const c = await collectTokens(model.generate([5, 6], { ...options, seed: 99 }), 4);
  t.deepEqual(a, b);
  t.notDeepEqual(a, c);
  await model.dispose();
});

test('the KV cache gives what full forward passes give (greedy decoding, batched)', async (t) => {
  const model = await GPT2.init({ nLayer: 2, nHead: 3, nEmbd: 48, nPositions: 64, vocabSize: 211 }, { seed: 2, threads: 2 });
  // make the distribution peaky so greedy choices are far from ties
  const params = await model.parameters();
  await model.setParameter('wte.weight', params['wte.weight'].map((x) => x * 40));
  const prompt = [3, 17, 42];
  const [cached, ...others] = await collectTokens(model.generate(prompt, { n: 3, maxLength: 30, minLength: 30, temperature: 0 }), 3);
  for (const o of others) t.deepEqual(o, cached, 'every sequence of the batch sees the same prompt');
  const full = [...prompt];
  for (let i = 0; i < cached.length; i++) {
    const logits = await model.logits(full);
    const row = logits.subarray((full.length - 1) * 211, full.length * 211);
    full.push(row.indexOf(Math.max(...row)));
  }
  t.deepEqual(cached, full.slice(prompt.length));
  await model.dispose();
});

test('bad sampling options are clear errors', async (t) => {
  const model = await modelWithLogits(LOGITS);
  await t.throwsAsync(collectTokens(model.generate([1], { maxLength: 100 }), 1), { message: /longer than the model's context \(64/ });
  await t.throwsAsync(collectTokens(model.generate([1, 2, 3], { maxLength: 3 }), 1), { message: /leaves no room/ });
  await t.throwsAsync(collectTokens(model.generate([9], { maxLength: 10 }), 1), { message: /outside the vocabulary/ });
  await t.throwsAsync(collectTokens(model.generate([1], { maxLength: 10, topP: 0 }), 1), { message: /top-p/ });
  // the default max length (160) is cut to a smaller model's context instead of failing
  const [s] = await collectTokens(model.generate([1], { minLength: 100, seed: 1 }), 1);
  t.is(s.length, 63);
  await model.dispose();
});

test("cached decoding gives the full forward pass's logits at every position", async (t) => {
  const model = await GPT2.init({ nLayer: 2, nHead: 2, nEmbd: 32, nPositions: 40, vocabSize: 300 }, { seed: 4, threads: 2 });
  const tokens = Array.from({ length: 24 }, (_, i) => (i * 97 + 5) % 300);
  const full = await model.logits(tokens);
  // a prompt of 1 (then 23 single steps) and of 7 (then 17)
  for (const promptLength of [1, 7]) {
    const cached = await model.cachedLogits(tokens, promptLength);
    let worst = 0;
    for (let p = 0; p < tokens.length; p++) {
      const row = (a: Float32Array) => a.subarray(p * 300, (p + 1) * 300);
      const d = difference(row(cached), row(full));
      t.true(d.relative <= 1e-5, `prompt ${promptLength}, position ${p}: relative difference ${d.relative}`);
      worst = Math.max(worst, d.relative);
    }
    t.log(`${model.device}${model.deviceInfo().portable ? ' (portable path)' : ''}, prompt ${promptLength}: worst position's relative difference ${worst.toExponential(2)}`);
  }
  await t.throwsAsync(model.cachedLogits(tokens, 0), { message: /prompt length/ });
  await model.dispose();
});
