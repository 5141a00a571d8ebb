// The CPU's product of stored bf16 weights with a decode step's few columns
// (native/engine/bf16_decode.cpp), which sampling with bf16 weights takes on CPUs
// with AVX512-BF16, against sums in f64 of the same bf16-rounded weights and
// columns: f32 accumulation may differ from them only by f32 rounding. The shapes
// cross its edges: rows in pairs and groups of 16 split over the threads, 32 values
// of k per load (a ragged last one), and up to 12 columns per pass over the weights.
import test from 'ava';
import { loadNative } from '../lib/engine/native.js';
import { bf16 } from './helpers/bf16.js';
import { seededUniform } from './helpers/random.js';

const addon = loadNative();
const probe = addon.bf16DecodeCheck({ w: new Float32Array(1), x: new Float32Array(1), n: 1, k: 1, cols: 1 });
const onThisCpu = probe === null ? test.skip : test;
if (probe === null) console.log('this CPU lacks AVX512-BF16: the bf16 decode kernel tests are skipped');


onThisCpu('bf16 decode product: ragged rows, depths and column counts, with and without a bias, on 1 to 3 threads', (t) => {
  const shapes = [
    { n: 1, k: 1, cols: 1 },
    { n: 3, k: 33, cols: 2 },
    { n: 17, k: 64, cols: 12 },
    { n: 50, k: 100, cols: 13 },
    { n: 257, k: 768, cols: 10 },
    { n: 33, k: 95, cols: 25 },
  ];
  for (const { n, k, cols } of shapes) {
    for (const threads of [1, 2, 3]) {
      for (const withBias of [false, true]) {
        const next = seededUniform(n * 7919 + k * 31 + cols + threads);
        const w = Float32Array.from({ length: n * k }, () => next() * (1 + 8 * Math.abs(next())));
        const x = Float32Array.from({ length: cols * k }, () => next() * (1 + 8 * Math.abs(next())));
        const bias = withBias ? Float32Array.from({ length: n }, () => 10 * next()) : undefined;
        const y = addon.bf16DecodeCheck({ w, x, bias, n, k, cols, threads });
        if (!y) return t.fail('the kernel did not run');
        t.is(y.length, n * cols);
        let worst = 0;
        for (let c = 0; c < cols; c++) {
          for (let i = 0; i < n; i++) {
            let exact = bias ? bias[i] : 0, magnitude = Math.abs(exact);
            for (let kk = 0; kk < k; kk++) {
              const p = bf16(w[i * k + kk]) * bf16(x[c * k + kk]);
              exact += p;
              magnitude += Math.abs(p);
            }
            // f32 rounding of the running sums and of the final reduction over 16 lanes
            const bound = (k + 20) * 2 ** -24 * magnitude + 1e-30;
            worst = Math.max(worst, Math.abs(y[c * n + i] - exact) / bound);
          }
        }
        t.true(worst <= 1, `${n}×${k}, ${cols} columns, ${threads} threads, bias ${withBias}: ${worst.toFixed(2)}× the bound`);
      }
    }
  }
});
