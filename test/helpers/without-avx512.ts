// Imported first by a test file, before anything loads the addon: the engine then
// acts as on a CPU without AVX-512 (TWEETSMITH_NO_AVX512, read when the addon first
// asks which kernels run).
process.env.TWEETSMITH_NO_AVX512 = '1';
