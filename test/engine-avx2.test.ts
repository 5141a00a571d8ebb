// The engine as it runs on CPUs without AVX-512 (most laptop and desktop CPUs: Intel's
// since Alder Lake, AMD's before Zen 4), forced on any CPU (TWEETSMITH_NO_AVX512=1):
// the packed products' AVX2 kernels (f32, and bf16 widened to f32) and the fused
// attention on them, no q8_0 decode kernel. engine-bf16-gemm's checks, the fused
// attention's and engine-precision's (mixed precision against fp32) run here that
// way, engine-parity's training against PyTorch in engine-avx2-parity (a file of its
// own: it reads its fixture before it declares its tests). On a CPU without AVX-512
// they repeat those files.
import './helpers/without-avx512.js';
import test from 'ava';
import { loadNative } from '../lib/engine/native.js';
import './engine-bf16-gemm.test.js';
import './engine-fused-attention.test.js';
import './engine-precision.test.js';

const cpu = loadNative().buildInfo().cpu;

test('the AVX2 kernels are the ones that ran, and no AVX-512 kernel', (t) => {
  t.false(cpu.bf16Dot);
  t.false(cpu.q8Decode);
  const avx2 = Boolean(cpu.avx2 && cpu.fma);
  t.is(cpu.bf16Gemm, avx2);
  t.is(cpu.f32Gemm, avx2 ? 'avx2' : null);
});
