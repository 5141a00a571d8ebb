// Calls the raw addon (loadNative()) with wrong arguments, one probe at a time, and
// prints a JSON line per probe: {"probe", "outcome": "threw" | "returned", "error"}.
// Run in a child process by test/native-arguments.test.ts: a probe that crashes the
// process is the last "start" line printed, and the test names it.
import { loadNative } from '../../lib/engine/native.ts';

const { Model, AdamW, Generator } = loadNative();
const TINY = { nLayer: 1, nHead: 1, nEmbd: 8, nPositions: 8, vocabSize: 16 };
const tokens = new Int32Array([1, 2, 3, 4]);

const model = new Model(TINY, 1, {});
await model.initRandom(1);
const adamw = new AdamW(model, {});
const generator = new Generator(model, new Int32Array([1]), { n: 1, maxLength: 4, minLength: 0, temperature: 1, topP: 1, topK: 0, seed: 1, eosTokenId: 0 });

// Each probe must throw (synchronously, or by rejecting) an Error, except MUST_SUCCEED below.
const probes = {
  // the class of an object argument
  'AdamW over a plain object': () => new AdamW({}, {}),
  'AdamW over an AdamW': () => new AdamW(adamw, {}),
  'AdamW over a Generator': () => new AdamW(generator, {}),
  'Generator over an AdamW': () => new Generator(adamw, new Int32Array([1]), {}),
  'AdamW over an object with Model.prototype': () => new AdamW(Object.create(Model.prototype), {}),
  'a Model method called on an AdamW': () => Model.prototype.logits.call(adamw, tokens),
  'a Model method called on a plain object': () => Model.prototype.zeroGrads.call({}),
  // thread counts
  'new Model with 1e9 threads': () => new Model(TINY, 1e9, {}),
  'new Model with 0 threads': () => new Model(TINY, 0, {}),
  'new Model with 1.5 threads': () => new Model(TINY, 1.5, {}),
  'new Model with NaN threads': () => new Model(TINY, NaN, {}),
  'setThreads(100000), then a forward pass': async () => {
    model.setThreads(100000);
    await model.logits(tokens);
  },
  'setThreads(2**32 + 1)': () => model.setThreads(2 ** 32 + 1),
  // shapes
  'n_layer 1e300': () => new Model({ ...TINY, nLayer: 1e300 }, 1, {}),
  'n_embd 2^40': () => new Model({ ...TINY, nEmbd: 2 ** 40 }, 1, {}),
  'n_embd 2^31, n_head 2^31': () => new Model({ ...TINY, nEmbd: 2 ** 31, nHead: 2 ** 31 }, 1, {}),
  'vocab 2^24, n_embd 2^16 (weights larger than memory)': () => new Model({ ...TINY, nEmbd: 2 ** 16, nHead: 1, vocabSize: 2 ** 24 }, 1, {}),
  'options that are not an object': () => new Model(TINY, 1, 42),
  // sizes that multiply past 2^63
  'forwardBackward T=4, B=2^62 (T·B wraps to 0)': () => model.forwardBackward(new Int32Array(0), 4, 2 ** 62, 1),
  'loss T=2^32, B=2^32': () => model.loss(new Int32Array(0), 2 ** 32, 2 ** 32),
  'forwardBackward with T=NaN': () => model.forwardBackward(tokens, NaN, 1, 1),
  'cachedLogits with a promptLength of 2^53': () => model.cachedLogits(tokens, 2 ** 53),
  // activations and caches larger than the machine: refused before a graph or cache is allocated
  'a forward pass whose attention needs terabytes': async () => {
    const long = new Model({ nLayer: 1, nHead: 8, nEmbd: 8, nPositions: 2 ** 20, vocabSize: 16 }, 1, {});
    try {
      await long.initRandom(1);
      await long.logits(new Int32Array(2 ** 20));
    } finally {
      long.dispose();
    }
  },
  'a KV cache of 4096 sequences of 2^20 tokens': async () => {
    const long = new Model({ nLayer: 1, nHead: 8, nEmbd: 8, nPositions: 2 ** 20, vocabSize: 16 }, 1, {});
    try {
      await long.initRandom(1);
      const g = new Generator(long, new Int32Array([1]), { n: 4096, maxLength: 2 ** 20 });
      await g.step();
    } finally {
      long.dispose();
    }
  },
  // typed arrays and strings
  'logits of a Float32Array': () => model.logits(new Float32Array(4)),
  'logits of an array': () => model.logits([1, 2, 3]),
  'writeTensor with an Int32Array': () => model.writeTensor('wte.weight', new Int32Array(8 * 16)),
  'writeTensor with too few values': () => model.writeTensor('wte.weight', new Float32Array(3)),
  'readTensors(5)': () => model.readTensors(5),
  'readTensors("moments")': () => model.readTensors('moments'),
  'load(42)': () => model.load(42),
  'loss with weights 42': () => model.loss(tokens, 2, 2, 42),
  'initRandom("seed")': () => model.initRandom('seed'),
  'initRandom(-1)': () => model.initRandom(-1),
  // optimizer and sampler options
  'AdamW step with lr "x"': () => adamw.step('x'),
  'AdamW loadState with steps 1e300': () => adamw.loadState('/nonexistent-m', '/nonexistent-v', 1e300),
  'Generator with n = 1e12': () => new Generator(model, new Int32Array([1]), { n: 1e12 }),
  'Generator with seed 1e300': () => new Generator(model, new Int32Array([1]), { seed: 1e300 }),
  'Generator with temperature NaN': () => new Generator(model, new Int32Array([1]), { temperature: NaN }),
  'Generator with maxLength 2^40': () => new Generator(model, new Int32Array([1]), { maxLength: 2 ** 40 }),
};

// Each of these must succeed: sizes that grow with n_layer (a graph's capacity, its
// context) are computed from it, not fixed.
// (at 32 positions ggml's graph allocator ran out of free blocks, native/patches/0003)
async function deepModel(portable, positions = 8) {
  const deep = new Model({ nLayer: 400, nHead: 1, nEmbd: 8, nPositions: positions, vocabSize: 16 }, 1, { portable });
  try {
    await deep.initRandom(1);
    const loss = await deep.forwardBackward(new Int32Array(positions).fill(3), positions, 1, 1);
    if (!Number.isFinite(loss)) throw new Error(`loss ${loss}`);
    const g = new Generator(deep, new Int32Array([1]), { n: 2, maxLength: 4, minLength: 0, temperature: 1, topP: 1, topK: 0, seed: 1, eosTokenId: 0 });
    while (!g.done) await g.step();
  } finally {
    deep.dispose();
  }
}
const mustSucceed = {
  'a 400-layer model trains and samples': () => deepModel(false),
  'a 400-layer model trains and samples (portable graphs)': () => deepModel(true),
  'a 400-layer model at 32 positions trains and samples': () => deepModel(false, 32),
};
Object.assign(probes, mustSucceed);
const MUST_SUCCEED = Object.keys(mustSucceed);

const only = process.argv[2];
for (const [probe, run] of Object.entries(probes)) {
  if (only && probe !== only) continue;
  process.stdout.write(JSON.stringify({ probe, start: true }) + '\n');
  let line;
  try {
    await run();
    line = { probe, outcome: 'returned' };
  } catch (err) {
    line = { probe, outcome: 'threw', isError: err instanceof Error, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}
model.dispose();
process.stdout.write(JSON.stringify({ done: true, mustSucceed: MUST_SUCCEED }) + '\n');
