// Causal self-attention fused on the CPU (native/engine/fused_attention.cpp), forward
// and backward, against a reference computed in f64 here. In mixed precision the
// kernel's products take bf16 operands (q, k, v, dy, the probabilities and their
// gradient), so the reference rounds the same values to bf16 at the same places and
// sums everything else in f64: what is left is f32 accumulation and the odd value
// that rounds the other way. In fp32 nothing is rounded, and what is left is f32's.
// Shapes cross the kernel's query blocks (96 forward, 48 backward) and its 32-row
// panels, with heads narrower than a panel, two sequences, and 1 to 3 threads.
import test from 'ava';
import { loadNative } from '../lib/engine/native.js';
import { bf16 } from './helpers/bf16.js';
import { seededUniform } from './helpers/random.js';

const addon = loadNative();


interface Case {
  C: number;
  T: number;
  B: number;
  heads: number;
  threads: number;
}

// round: how the kernel rounds its products' operands (bf16, or not at all for f32)
function reference(c: Case, qkv: Float32Array, dy: Float32Array, round: (x: number) => number) {
  const { C, T, B, heads } = c;
  const hs = C / heads;
  const scale = 1 / Math.sqrt(hs);
  const y = new Float64Array(C * T * B);
  const dqkv = new Float64Array(3 * C * T * B);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++) {
      const at = (t: number, part: number, d: number) => (b * T + t) * 3 * C + part * C + h * hs + d;
      const q = (t: number, d: number) => round(qkv[at(t, 0, d)]);
      const k = (t: number, d: number) => round(qkv[at(t, 1, d)]);
      const v = (t: number, d: number) => round(qkv[at(t, 2, d)]);
      const g = (t: number, d: number) => round(dy[(b * T + t) * C + h * hs + d]);
      for (let i = 0; i < T; i++) {
        const s = Array.from({ length: i + 1 }, (_, j) => {
          let sum = 0;
          for (let d = 0; d < hs; d++) sum += q(i, d) * k(j, d);
          return sum * scale;
        });
        const top = Math.max(...s);
        const e = s.map((x) => Math.exp(x - top));
        const total = e.reduce((a, x) => a + x, 0);
        const p = e.map((x) => round(x / total));
        const out = new Float64Array(hs);
        for (let j = 0; j <= i; j++) for (let d = 0; d < hs; d++) out[d] += p[j] * v(j, d);
        for (let d = 0; d < hs; d++) y[(b * T + i) * C + h * hs + d] = out[d];
        // backward: dp = dy·v, ds = p·(dp - dy·y)/√hs, dq = Σ ds·k, dk += ds·q, dv += p·dy
        let D = 0;
        for (let d = 0; d < hs; d++) D += dy[(b * T + i) * C + h * hs + d] * out[d];
        for (let j = 0; j <= i; j++) {
          let dp = 0;
          for (let d = 0; d < hs; d++) dp += g(i, d) * v(j, d);
          const ds = round(scale * p[j] * (dp - D));
          for (let d = 0; d < hs; d++) {
            dqkv[at(i, 0, d)] += ds * k(j, d);
            dqkv[at(j, 1, d)] += ds * q(i, d);
            dqkv[at(j, 2, d)] += p[j] * g(i, d);
          }
        }
      }
    }
  return { y, dqkv };
}

// ‖got - want‖ / ‖want‖
function relativeError(got: Float32Array, want: Float64Array): number {
  let diff = 0;
  let size = 0;
  for (let i = 0; i < want.length; i++) {
    diff += (got[i] - want[i]) ** 2;
    size += want[i] ** 2;
  }
  return Math.sqrt(diff / size);
}

function check(t: import('ava').ExecutionContext, c: Case, f32 = false): void {
  const next = seededUniform(c.C * 131 + c.T * 17 + c.B * 5 + c.heads);
  const qkv = Float32Array.from({ length: 3 * c.C * c.T * c.B }, () => next() * 3);
  const dy = Float32Array.from({ length: c.C * c.T * c.B }, () => next());
  const got = addon.fusedAttentionCheck({ qkv, dy, C: c.C, T: c.T, B: c.B, heads: c.heads, threads: c.threads, f32 });
  if (!got) {
    t.log('this CPU lacks AVX-512 and AVX2: the fused attention does not run here');
    t.pass();
    return;
  }
  const want = reference(c, qkv, dy, f32 ? (x) => x : bf16);
  const yError = relativeError(got.y, want.y);
  const dError = relativeError(got.dqkv, want.dqkv);
  const what = `${f32 ? 'f32' : 'bf16'} ${JSON.stringify(c)}: y ${yError.toExponential(2)}, dqkv ${dError.toExponential(2)}`;
  t.log(what);
  // f32's bounds: a bf16 rounding anywhere would put the error near 1e-3
  t.true(f32 ? yError < 1e-6 && dError < 5e-6 : yError < 1e-5 && dError < 1e-3, what);
}

const CASES: Case[] = [
  { C: 128, T: 100, B: 1, heads: 2, threads: 2 },
  { C: 64, T: 200, B: 2, heads: 4, threads: 3 },
  { C: 96, T: 49, B: 1, heads: 1, threads: 1 },
  { C: 48, T: 1, B: 2, heads: 3, threads: 2 },
  { C: 128, T: 97, B: 1, heads: 2, threads: 1 },
];

test('fused attention forward and backward match the reference across blocks, panels, heads, sequences and threads', (t) => {
  for (const c of CASES) check(t, c);
});

test("fp32's fused attention (f32 operands) matches the unrounded reference in the same shapes", (t) => {
  for (const c of CASES) check(t, c, true);
});

// A NaN key (a diverged run) reaches the outputs of the queries that see it and no
// other: each row's vectors run on past the query's last key (vector_math.h's
// whole_lanes_end), over lanes that the causal mask set and the softmax masks.
test('a NaN key makes the outputs of the queries that see it NaN, and only those', (t) => {
  const c: Case = { C: 64, T: 100, B: 1, heads: 2, threads: 2 };
  const hs = c.C / c.heads;
  const poisoned = 40;
  for (const f32 of [true, false]) {
    const next = seededUniform(7);
    const qkv = Float32Array.from({ length: 3 * c.C * c.T }, () => next() * 3);
    const dy = Float32Array.from({ length: c.C * c.T }, () => next());
    qkv[poisoned * 3 * c.C + c.C + 5] = NaN; // head 0's key at token 40
    const got = addon.fusedAttentionCheck({ qkv, dy, C: c.C, T: c.T, B: c.B, heads: c.heads, threads: c.threads, f32 });
    if (!got) {
      t.log('this CPU lacks AVX-512 and AVX2: the fused attention does not run here');
      t.pass();
      return;
    }
    const rowNaN = (token: number, head: number) => got.y.subarray(token * c.C + head * hs, token * c.C + (head + 1) * hs).some(Number.isNaN);
    const wrong: string[] = [];
    for (let token = 0; token < c.T; token++) {
      if (rowNaN(token, 0) !== token >= poisoned) wrong.push(`head 0 token ${token}`);
      if (rowNaN(token, 1)) wrong.push(`head 1 token ${token}`);
    }
    t.deepEqual(wrong, [], `${f32 ? 'f32' : 'bf16'}: outputs NaN where they should not be, or not NaN where they should`);
  }
});
