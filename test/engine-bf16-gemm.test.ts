// The CPU's bf16 matrix product (native/engine/bf16_gemm.cpp), which mixed-precision
// training's products take on CPUs with AVX-512 or AVX2 (by vdpbf16ps where the CPU
// has AVX512-BF16, else widened to f32: engine-bf16-gemm-widened runs that kernel on
// CPUs that have it too, engine-avx2 the AVX2 kernels), against a reference computed
// here: the inputs rounded to bf16 (nearest even), the products summed in f64. Its
// f32 accumulation may differ from that only by f32 rounding of the running sums;
// shapes that are not multiples of the kernel's tiles (32 rows, 12 columns, blocks
// of 1,536 k and 240 columns) check its edges, every operand layout and thread split,
// and its two epilogues (a bias per row; adding into a matrix in place).
// The f32 product (fp32 training's) shares that code with f32 units: the same
// checks, against the unrounded inputs.
import test from 'ava';
import { loadNative } from '../lib/engine/native.js';
import { bf16 } from './helpers/bf16.js';
import { seededUniform } from './helpers/random.js';

const addon = loadNative();
const probe = addon.bf16ProductCheck({ a: new Float32Array(1), b: new Float32Array(1), m: 1, n: 1, k: 1 });
const onThisCpu = probe === null ? test.skip : test;
if (probe === null) console.log('this CPU lacks AVX-512 and AVX2: the bf16 kernel tests are skipped');
const probeF32 = addon.bf16ProductCheck({ a: new Float32Array(1), b: new Float32Array(1), m: 1, n: 1, k: 1, f32: true });
const withF32Kernels = probeF32 === null ? test.skip : test;
if (probeF32 === null) console.log('this CPU lacks AVX-512 and AVX2: the f32 kernel tests are skipped');


interface Case {
  m: number;
  n: number;
  k: number;
}

interface Layout {
  aTransposed: boolean;
  bTransposed: boolean;
  bBf16: boolean;
  threads: number;
  // c = into + A·B, in place (how gradients accumulate), or A·B + bias per row
  extra?: 'into' | 'bias';
  // causal attention's shapes (ProductOptions::Causal): 1: c(i, j) = fill for i > j,
  // the rest scaled; 2 / 3: B(j, k) is 0 for k > j / k < j, and the kernel may skip it
  causal?: 1 | 2 | 3;
  // the f32 product: no rounding to bf16
  f32?: boolean;
}

function check(t: import('ava').ExecutionContext, { m, n, k }: Case, layout: Layout) {
  const next = seededUniform(m * 7919 + n * 104729 + k);
  // values of mixed sizes, so that rounding to bf16 matters
  const A = Float32Array.from({ length: m * k }, () => next() * (1 + 8 * Math.abs(next())));
  const B = Float32Array.from({ length: n * k }, () => next() * (1 + 8 * Math.abs(next())));
  for (let j = 0; j < n; j++)
    for (let kk = 0; kk < k; kk++) if ((layout.causal === 2 && kk > j) || (layout.causal === 3 && kk < j)) B[j * k + kk] = 0;
  const scale = layout.causal === 1 ? 0.125 : 1;
  // element (i, kk) of A is A[i·k + kk]; stored transposed, at [kk·m + i]
  const store = (x: Float32Array, rows: number, transposed: boolean) => {
    if (!transposed) return x;
    const out = new Float32Array(x.length);
    for (let i = 0; i < rows; i++) for (let kk = 0; kk < k; kk++) out[kk * rows + i] = x[i * k + kk];
    return out;
  };
  const into = layout.extra === 'into' ? Float32Array.from({ length: m * n }, () => 100 * next()) : undefined;
  const bias = layout.extra === 'bias' ? Float32Array.from({ length: m }, () => 10 * next()) : undefined;
  const { extra, ...rest } = layout;
  const c = addon.bf16ProductCheck({
    a: store(A, m, layout.aTransposed),
    b: store(B, n, layout.bTransposed),
    m,
    n,
    k,
    ...rest,
    into,
    bias,
    scale,
    fill: -12345,
  });
  if (!c) return t.fail('the kernel did not run');
  t.is(c.length, m * n);
  const Ar = layout.f32 ? A : A.map(bf16), Br = layout.f32 ? B : B.map(bf16);
  let worst = 0, differsFromF32 = false;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      if (layout.causal === 1 && i > j) {
        if (c[j * m + i] !== -12345) worst = Infinity;
        continue;
      }
      const start = (into ? into[j * m + i] : 0) + (bias ? bias[i] : 0);
      let exact = start, magnitude = Math.abs(start), unrounded = start;
      for (let kk = 0; kk < k; kk++) {
        const p = Ar[i * k + kk] * Br[j * k + kk];
        exact += p;
        magnitude += Math.abs(p);
        unrounded += A[i * k + kk] * B[j * k + kk];
      }
      // f32 rounding of k running sums, each at most the sum of magnitudes
      const bound = (k + 2) * 2 ** -24 * magnitude + 1e-30;
      const err = Math.abs(c[j * m + i] - scale * exact);
      worst = Math.max(worst, err / (scale * bound));
      if (Math.abs(c[j * m + i] - scale * unrounded) > scale * bound) differsFromF32 = true;
    }
  }
  t.true(worst <= 1, `${m}×${n}×${k} ${JSON.stringify(layout)}: an error ${worst.toFixed(2)}× the f32 rounding bound`);
  // the inputs were rounded to bf16: on data of mixed magnitude, f32 inputs give other sums
  if (k >= 8 && !layout.causal && !layout.f32) t.true(differsFromF32, 'the product took bf16-rounded inputs');
}

const SHAPES: Case[] = [
  { m: 1, n: 1, k: 1 },
  { m: 33, n: 13, k: 5 },
  { m: 31, n: 25, k: 34 },
  { m: 64, n: 24, k: 256 },
  { m: 70, n: 250, k: 301 },
  { m: 96, n: 37, k: 768 },
  // past one block of k: the second block starts from the first's sums
  { m: 40, n: 30, k: 1601 },
];

onThisCpu('bf16 product: every layout of the operands, ragged shapes, one thread', (t) => {
  for (const shape of SHAPES)
    for (const aTransposed of [false, true])
      for (const bTransposed of [false, true]) check(t, shape, { aTransposed, bTransposed, bBf16: false, threads: 1 });
});

onThisCpu('bf16 product: bf16 operands in memory, and columns split over 2 and 3 threads', (t) => {
  for (const shape of SHAPES) {
    check(t, shape, { aTransposed: false, bTransposed: false, bBf16: true, threads: 2 });
    check(t, shape, { aTransposed: true, bTransposed: true, bBf16: true, threads: 3 });
    check(t, shape, { aTransposed: false, bTransposed: true, bBf16: false, threads: 3 });
  }
});

onThisCpu('bf16 product: added into a matrix in place, and with a bias per row', (t) => {
  for (const shape of SHAPES) {
    check(t, shape, { aTransposed: true, bTransposed: true, bBf16: false, threads: 2, extra: 'into' });
    check(t, shape, { aTransposed: false, bTransposed: false, bBf16: false, threads: 2, extra: 'bias' });
  }
});

onThisCpu("bf16 product: causal attention's shapes (masked above the diagonal and scaled; sums over k ≤ j or k ≥ j)", (t) => {
  for (const shape of [...SHAPES, { m: 300, n: 300, k: 64 }, { m: 64, n: 277, k: 277 }, { m: 33, n: 1550, k: 1550 }]) {
    check(t, shape, { aTransposed: false, bTransposed: false, bBf16: false, threads: 2, causal: 1 });
    check(t, shape, { aTransposed: true, bTransposed: false, bBf16: false, threads: 1, causal: 2 });
    check(t, shape, { aTransposed: true, bTransposed: true, bBf16: false, threads: 3, causal: 3 });
  }
});

withF32Kernels('f32 product: every layout, threads, both epilogues and the causal shapes, against unrounded inputs', (t) => {
  for (const shape of SHAPES) {
    for (const aTransposed of [false, true])
      for (const bTransposed of [false, true]) check(t, shape, { aTransposed, bTransposed, bBf16: false, threads: 1, f32: true });
    check(t, shape, { aTransposed: false, bTransposed: true, bBf16: false, threads: 3, f32: true });
    check(t, shape, { aTransposed: true, bTransposed: true, bBf16: false, threads: 2, extra: 'into', f32: true });
    check(t, shape, { aTransposed: false, bTransposed: false, bBf16: false, threads: 2, extra: 'bias', f32: true });
  }
  for (const shape of [{ m: 300, n: 300, k: 64 }, { m: 64, n: 277, k: 277 }, { m: 33, n: 1550, k: 1550 }]) {
    check(t, shape, { aTransposed: false, bTransposed: false, bBf16: false, threads: 2, causal: 1, f32: true });
    check(t, shape, { aTransposed: true, bTransposed: false, bBf16: false, threads: 1, causal: 2, f32: true });
    check(t, shape, { aTransposed: true, bTransposed: true, bBf16: false, threads: 3, causal: 3, f32: true });
  }
});
