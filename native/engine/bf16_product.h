// The CPU's bf16 and f32 matrix products (bf16_gemm.h) as ggml graph nodes: a node
// that packs the first operand, shared by the threads, then the product itself.
#pragma once
#include "ops.h"

#include <ggml.h>

namespace tweetsmith {

// ggml_mul_mat(a, b) with both operands rounded to bf16 and f32 accumulation: the
// result is f32 [a->ne[1], b->ne[1], b->ne[2], b->ne[3]], with the epilogues `o` asks
// for (ops.h: a bias, in place into a tensor, a scale, causal attention's shapes). a
// and b may be any views (a transposed one too) of F32 or BF16 data, with a's batch
// the same as b's. Returns null where the kernels cannot run (the CPU lacks
// AVX-512, or other types or shapes): the caller then takes ggml's product.
ggml_tensor * bf16_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, const ProductOptions & o = {});

// The same product in f32 (fp32 training's), of f32 a and b, each sum in k's order;
// null where the CPU lacks AVX-512 or the operands are not f32.
ggml_tensor * f32_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, const ProductOptions & o = {});

}  // namespace tweetsmith

#include <cstdint>
#include <vector>

namespace tweetsmith {

// For tests: c[j·m + i] = Σ_k A(i, k)·B(j, k) through bf16_product's graph nodes on
// `threads` threads, where A(i, k) = a[i·k + k'] (or a[k'·m + i] when a_transposed:
// a transposed view) and B(j, k) likewise from b (bf16 in memory when b_bf16).
// With `bias` [m]: added to every column; with `into` [n·m]: the product is added
// into a copy of it in place; scale, causal (ProductOptions::Causal) and fill as
// ProductOptions has them. With f32: f32_product's instead (b_bf16 false). Empty
// where the kernels cannot run on this CPU.
std::vector<float> bf16_product_check(const float * a, const float * b, int64_t m, int64_t n, int64_t k, bool a_transposed,
                                      bool b_transposed, bool b_bf16, const float * bias, const float * into, float scale,
                                      int causal, float fill, int threads, bool f32 = false);

}  // namespace tweetsmith
