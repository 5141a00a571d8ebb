// q8_0 sampling's packed product (native/engine/q8_decode.h) on its own: ragged
// shapes (rows not in whole groups of 16, blocks an odd count), 1 to 16 columns
// and a prompt-sized batch, against an fp32 reference on the dequantised weights
// and against ggml's own q8_0 product of the same weights.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { loadNative } from '../lib/engine/native.js';
import { seededUniform } from './helpers/random.js';

const addon = loadNative();

// seeded values in [-1, 1), a few of them large so that blocks have different scales
function values(n: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * next() * (i % 37 === 0 ? 8 : 1);
  return out;
}

// y[c][n] = Σ_k W[n][k]·x[c][k] in doubles, and the bound on what quantising x to
// q8_0 can change: each x moves by at most half its block's step d = max|x|/127,
// plus the fp16 rounding of d (2^-11 relative) times 127 steps.
function reference(w: Float32Array, x: Float32Array, K: number, N: number, cols: number) {
  const y = new Float64Array(N * cols), bound = new Float64Array(N * cols);
  for (let c = 0; c < cols; c++) {
    const step = new Float64Array(K / 32);
    for (let b = 0; b < K / 32; b++) {
      let max = 0;
      for (let k = 0; k < 32; k++) max = Math.max(max, Math.abs(x[c * K + b * 32 + k]));
      step[b] = max / 127;
    }
    for (let n = 0; n < N; n++) {
      let sum = 0, err = 0, mag = 0;
      for (let k = 0; k < K; k++) {
        const p = w[n * K + k] * x[c * K + k];
        sum += p;
        mag += Math.abs(p);
        err += Math.abs(w[n * K + k]) * step[k >> 5] * (0.5 + 127 * 2 ** -11);
      }
      y[c * N + n] = sum;
      bound[c * N + n] = err * 1.01 + mag * 1e-5 + 1e-6;  // plus float32 rounding of the sums
    }
  }
  return { y, bound };
}

const cpuHasVnni = () => existsSync('/proc/cpuinfo') && /\bavx512_vnni\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

test('the packed product runs wherever the CPU has AVX512-VNNI, and buildInfo says so', (t) => {
  const r = addon.q8ProductCheck(values(64 * 16, 1), values(64, 2), 64, 16, 1, 1);
  t.is(r.packed, addon.buildInfo().cpu.q8Decode);
  if (existsSync('/proc/cpuinfo')) t.is(r.packed, cpuHasVnni(), 'Linux: /proc/cpuinfo says whether the CPU has AVX512-VNNI');
  else t.pass();
});

// [K, N]: whole groups, a ragged tail (N % 16), fewer rows than a group, an odd block count
const SHAPES: [number, number][] = [[64, 48], [96, 37], [32, 5], [160, 50], [768, 33]];
for (const [K, N] of SHAPES) {
  test(`K ${K}, N ${N}: 1..16 columns and 40 match the fp32 reference within q8_0's rounding of x, and ggml's q8_0 product`, (t) => {
    const w = values(K * N, K * 7 + N);
    for (const cols of [...Array.from({ length: 16 }, (_, i) => i + 1), 40]) {
      const x = values(K * cols, 1000 + cols);
      for (const threads of [1, 3]) {
        const r = addon.q8ProductCheck(w, x, K, N, cols, threads);
        const ref = reference(r.weights, x, K, N, cols);
        const ours = r.packedProduct ?? r.ggmlProduct;
        let worstRef = 0, worstGgml = 0;
        for (let i = 0; i < N * cols; i++) {
          worstRef = Math.max(worstRef, Math.abs(ours[i] - ref.y[i]) / ref.bound[i]);
          // the same integer sums and scales as ggml's: only the order of the float additions differs
          const scale = Math.abs(r.ggmlProduct[i]) + ref.bound[i];
          worstGgml = Math.max(worstGgml, Math.abs(ours[i] - r.ggmlProduct[i]) / scale);
        }
        t.true(worstRef <= 1, `cols ${cols}, threads ${threads}: error ${worstRef.toFixed(3)} of the bound`);
        t.true(worstGgml < 1e-5, `cols ${cols}, threads ${threads}: ${worstGgml} from ggml's product`);
      }
    }
  });
}

test('bad arguments are refused with a message, not a crash', (t) => {
  t.throws(() => addon.q8ProductCheck(new Float32Array(40 * 2), new Float32Array(40), 40, 2, 1, 1), { message: /K in \[32, 65536\]|multiple of 32/ });
  t.throws(() => addon.q8ProductCheck(new Float32Array(64), new Float32Array(64), 64, 2, 1, 1), { message: /N·K/ });
});
