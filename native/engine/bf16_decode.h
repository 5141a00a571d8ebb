// The product of stored bf16 weights with the few columns of a decode step, on
// CPUs with AVX512-BF16: W [K, N] (N rows of K, ggml's row-major bf16, as sampling
// converts them) times x [K, cols] → y [N, cols], a bias per row added.
//
// Why: a decode step multiplies every weight by one token per sequence, so it
// should take as long as reading the weights once. ggml's bf16 product makes one
// dot product per (row, column) pair, and the packed product (bf16_gemm.h) would
// pack all the weights again for every step. Here the weights are read in place,
// two rows at a time, 64 bytes of each per vdpbf16ps against every column (up to
// 12, converted to bf16 once per step) while they sit in registers; each sum is
// reduced once at the end. At GPT-2 124M's shapes with 10 sequences ggml's ran at
// ~14 GB/s of weights (op profile of `bench --only generate-10x160 --weights bf16`,
// 2026-11-30).
//
// The numbers are bf16 products summed in f32, as ggml's bf16 product (its
// activations rounded to bf16 too); only the order of the additions differs.
#pragma once
#include "ops.h"

#include <ggml.h>

#include <cstdint>
#include <vector>

namespace tweetsmith {

// ggml_mul_mat(w, x) (+ o.bias) where w is a stored BF16 matrix (contiguous rows,
// not a view) and x F32 [K, cols] with contiguous columns, on the CPU's kernel. Null
// where it cannot run (no AVX512-BF16, other types or layouts, o.into, a scale, a
// causal mode): the caller then takes ggml's product.
ggml_tensor * bf16_decode_product(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x, const ProductOptions & o);

// For tests: y[c·n + i] = Σ_k W(i, k)·x[c·k + k'] (+ bias[i]) through the graph node
// on `threads` threads, W(i, k) = w[i·k + k'] rounded to bf16 first. Empty where the
// kernel cannot run on this CPU.
std::vector<float> bf16_decode_check(const float * w, const float * x, const float * bias, int64_t n, int64_t k, int64_t cols,
                                     int threads);

}  // namespace tweetsmith
