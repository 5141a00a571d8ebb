// The backward pass against finite differences of the engine's own loss, on a
// few entries of every kind of parameter (independent of the PyTorch fixtures).
import test from 'ava';
import { join } from 'node:path';
import { GPT2 } from '../lib/index.js';
import { centralDifference, probedEntries } from './helpers/finite-difference.js';

const fixture = join(import.meta.dirname, 'fixtures', 'torch-tiny');
const TOKENS = [38, 32, 94, 55, 2, 21, 10, 12, 47, 30, 0, 100, 38, 58];
const KINDS = [
  'wte.weight', 'wpe.weight', 'h.0.ln_1.weight', 'h.0.ln_1.bias', 'h.0.attn.c_attn.weight', 'h.0.attn.c_attn.bias',
  'h.1.attn.c_proj.weight', 'h.1.attn.c_proj.bias', 'h.1.ln_2.weight', 'h.1.ln_2.bias', 'h.1.mlp.c_fc.weight',
  'h.1.mlp.c_fc.bias', 'h.0.mlp.c_proj.weight', 'h.0.mlp.c_proj.bias', 'ln_f.weight', 'ln_f.bias',
];

test('gradients agree with central finite differences for every kind of parameter', async (t) => {
  const model = await GPT2.load(fixture, { threads: 2 });
  const { grads } = await model.lossAndGrads(TOKENS);
  const params = await model.parameters();
  const h = 1e-2; // fp32 losses carry ~1e-7 of noise; a larger step keeps it out of the quotient
  let worst = 0;
  let checked = 0;
  for (const name of KINDS) {
    const g = grads[name];
    for (const i of probedEntries(g)) {
      const numeric = await centralDifference(params[name].slice(), i, h, (v) => model.setParameter(name, v), async () => (await model.lossAndGrads(TOKENS)).loss);
      const error = Math.abs(numeric - g[i]);
      const allowed = 5e-3 * Math.abs(g[i]) + 5e-5;
      worst = Math.max(worst, error / Math.max(Math.abs(g[i]), 1e-3));
      checked++;
      t.true(error <= allowed, `${name}[${i}]: analytic ${g[i]}, numeric ${numeric}`);
    }
  }
  t.log(`${checked} entries checked, worst error ${worst.toExponential(2)} relative to the gradient`);
  await model.dispose();
});
