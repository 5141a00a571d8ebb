// engine-parity (the engine's training against PyTorch) as on a CPU without AVX-512:
// see engine-avx2.
import './helpers/without-avx512.js';
import './engine-parity.test.js';
