// The engine as it runs on CPUs without AVX-512 (most laptop and desktop CPUs: Intel's
// since Alder Lake, AMD's before Zen 4), forced on any CPU (TWEETSMITH_NO_AVX512=1):
// fp32's products and fused attention on the f32 product's AVX2 kernels, mixed
// precision's products on ggml's, no q8_0 decode kernel. engine-bf16-gemm's f32
// checks and the fused attention's run here that way, engine-parity's training
// against PyTorch in engine-avx2-parity (a file of its own: it reads its fixture
// before it declares its tests). On a CPU without AVX-512 they repeat those files.
import './helpers/without-avx512.js';
import test from 'ava';
import { loadNative } from '../lib/engine/native.js';
import './engine-bf16-gemm.test.js';
import './engine-fused-attention.test.js';

const cpu = loadNative().buildInfo().cpu;

test('the AVX2 kernels are the ones that ran, and no AVX-512 kernel', (t) => {
  t.false(cpu.bf16Gemm);
  t.false(cpu.q8Decode);
  if (cpu.avx2 && cpu.fma) t.is(cpu.f32Gemm, 'avx2');
  else t.is(cpu.f32Gemm, null);
});
