// engine-bf16-gemm's checks on the bf16 product's kernel for CPUs without
// AVX512-BF16 (each bf16 widened to f32, summed by vfmadd231ps), forced on a CPU
// that has it (TWEETSMITH_NO_AVX512BF16, read when the addon loads), so that both
// kernels are checked wherever the tests run. On a CPU without it, engine-bf16-gemm
// itself runs this kernel.
import test from 'ava';

process.env.TWEETSMITH_NO_AVX512BF16 = '1';
const { loadNative } = await import('../lib/engine/native.js');
const cpu = loadNative().buildInfo().cpu;
const forced = Boolean(cpu.avx512bf16 && cpu.bf16Gemm);
// (ava takes the tests declared while this file loads: the import declares them)
if (forced) await import('./engine-bf16-gemm.test.js');
if (forced) test('the widened kernel is the one that ran', (t) => t.false(cpu.bf16Dot));
else test.skip('this CPU has no AVX512-BF16 (engine-bf16-gemm checks the widened kernel), or no AVX-512', () => {});
