// A GPT-2 whose next-token distribution is whatever the test says, at every
// position: every block's weights are zero (each block is the identity), and
// ln_f has weight 0 and bias e₀, so the final hidden state is e₀ whatever the
// input and logits[v] = wte[v][0]. Writing the wanted logits into column 0 of
// wte fixes the distribution.
import { GPT2 } from '../../lib/index.js';

export async function modelWithLogits(logits: number[]): Promise<GPT2> {
  const vocabSize = logits.length;
  const nEmbd = 8;
  const model = await GPT2.init({ nLayer: 1, nHead: 2, nEmbd, nPositions: 64, vocabSize, eosTokenId: 0, bosTokenId: 0 }, { threads: 2 });
  const params = await model.parameters();
  for (const [name, values] of Object.entries(params)) {
    const set = new Float32Array(values.length);
    if (name === 'wte.weight') {
      set.set(values);
      for (let v = 0; v < vocabSize; v++) set[v * nEmbd] = logits[v];
    } else if (name === 'ln_f.bias') {
      set[0] = 1;
    } else if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight')) {
      set.fill(1);
    }
    await model.setParameter(name, set);
  }
  return model;
}

export function softmax(logits: number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}
