// Which x86 instruction sets the engine's own CPU kernels may use, checked once at
// run time (the code is compiled for them whatever the build's baseline), and the
// environment variables that turn them off to test or time the other paths on any
// machine.
#pragma once

namespace tweetsmith::cpu_features {

// Whether the environment variable `name` is set to something other than "" or "0".
bool env_off(const char * name);
// AVX-512 F, BW, VL and DQ, unless TWEETSMITH_NO_AVX512=1, which makes every kernel
// act as on a CPU without AVX-512 (AVX2 at most: most laptop and desktop CPUs).
bool avx512();
// AVX2 and FMA (Haswell, 2013, and later), the AVX2 kernels' need.
bool avx2_fma();

}  // namespace tweetsmith::cpu_features
