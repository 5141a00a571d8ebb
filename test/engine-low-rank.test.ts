// The CPU's products over a LoRA adapter's rank (native/engine/low_rank_product.cpp),
// which LoRA's B·h and Aᵀ·dh take, and the outer products its gradients sum,
// against a reference summed in f64 here: every
// operand layout (a factor stored as is, or seen through a transposed view),
// results added in place or written fresh, row counts that are not multiples of
// the kernel's 128-row blocks, column counts under and over the thread count.
import test from 'ava';
import { loadNative } from '../lib/engine/native.js';
import { seededUniform } from './helpers/random.js';

const addon = loadNative();

interface Case {
  m: number;
  n: number;
  r: number;
  aTransposed: boolean;
  into: boolean;
  threads: number;
}

// Σ_k term(k) in f64, and Σ|term(k)|: the sum, and the scale of an f32 sum's rounding
function sumOf(n: number, term: (k: number) => number): { sum: number; size: number } {
  let sum = 0;
  let size = 0;
  for (let k = 0; k < n; k++) {
    const x = term(k);
    sum += x;
    size += Math.abs(x);
  }
  return { sum, size };
}

function check(t: import('ava').ExecutionContext, c: Case): void {
  const next = seededUniform(c.m * 31 + c.n * 7 + c.r);
  const A = Float32Array.from({ length: c.m * c.r }, () => next() * 4);
  const b = Float32Array.from({ length: c.n * c.r }, () => next() * 4);
  const into = c.into ? Float32Array.from({ length: c.m * c.n }, () => next() * 100) : undefined;
  const scale = 2.5;
  // element (i, k) of A is A[i·r + k]; stored transposed, at [k·m + i]
  const a = c.aTransposed ? Float32Array.from({ length: c.m * c.r }, (_, x) => A[(x % c.m) * c.r + Math.floor(x / c.m)]) : A;
  const got = addon.lowRankProductCheck({ a, b, m: c.m, n: c.n, r: c.r, aTransposed: c.aTransposed, into, scale, threads: c.threads });
  if (!got) return t.fail(`declined ${JSON.stringify(c)}`);
  let worst = 0;
  for (let j = 0; j < c.n; j++)
    for (let i = 0; i < c.m; i++) {
      const { sum, size } = sumOf(c.r, (k) => A[i * c.r + k] * b[j * c.r + k]);
      const base = into ? into[j * c.m + i] : 0;
      const want = base + scale * sum;
      // f32 rounding of r products and sums, and of the addition into `into`
      const bound = 1e-6 * (scale * size * (c.r + 2) + Math.abs(base)) + 1e-30;
      worst = Math.max(worst, Math.abs(got[j * c.m + i] - want) / bound);
    }
  t.true(worst <= 1, `${JSON.stringify(c)}: error ${worst.toFixed(2)}× the f32 bound`);
}

test('the rank-r product equals the sum computed in f64, in every layout and thread split', (t) => {
  for (const [m, n, r] of [
    [768, 1024, 8],
    [3072, 37, 8],
    [2304, 1, 16],
    [129, 5, 1],
    [1, 3, 64],
    [300, 130, 7],
  ])
    for (const aTransposed of [false, true])
      for (const into of [false, true])
        for (const threads of [1, 2, 3]) check(t, { m, n, r, aTransposed, into, threads });
});

test('a rank past 64 is declined: the graph then takes ggml’s product', (t) => {
  const r = 65;
  t.is(addon.lowRankProductCheck({ a: new Float32Array(2 * r), b: new Float32Array(3 * r), m: 2, n: 3, r }), null);
});

// LoRA's gradients dA = dh·x_inᵀ and dB = s·dy·hᵀ: sums over the tokens of outer
// products, one side a rank wide, read in place.
test('the rank-r outer products equal the sums computed in f64, either side the narrow one, at tile edges and thread splits', (t) => {
  for (const [ma, mb, n] of [
    [3072, 8, 1024],
    [8, 768, 300],
    [37, 5, 17],
    [4, 4, 1],
    [64, 130, 33],
    [17, 16, 40],
  ])
    for (const threads of [1, 2, 3]) {
      const next = seededUniform(ma * 13 + mb * 7 + n);
      const a = Float32Array.from({ length: ma * n }, () => next() * 4);
      const b = Float32Array.from({ length: mb * n }, () => next() * 4);
      const scale = 0.75;
      const got = addon.lowRankOuterProductsCheck({ a, b, ma, mb, n, scale, threads });
      if (!got) return t.fail(`declined ${ma}×${mb}`);
      let worst = 0;
      for (let j = 0; j < mb; j++)
        for (let i = 0; i < ma; i++) {
          const { sum, size } = sumOf(n, (k) => a[k * ma + i] * b[k * mb + j]);
          // f32 rounding of n products and a running sum of them
          const bound = 1e-6 * scale * size * (n + 2) + 1e-30;
          worst = Math.max(worst, Math.abs(got[j * ma + i] - scale * sum) / bound);
        }
      t.true(worst <= 1, `${ma}×${mb}×${n}, ${threads} threads: error ${worst.toFixed(3)}× the f32 bound`);
    }
  t.is(addon.lowRankOuterProductsCheck({ a: new Float32Array(65 * 2), b: new Float32Array(66 * 2), ma: 65, mb: 66, n: 2 }), null);
  return undefined;
});
