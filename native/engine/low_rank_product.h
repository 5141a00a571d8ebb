// The CPU's products over a LoRA adapter's rank: B·h in the forward pass and Aᵀ·dh
// in the backward pass, whose contracted length is the rank, and the adapters'
// gradients dA and dB, sums over the tokens of outer products one rank wide
// (gpt2_layers.cpp).
//
// Why not ggml's: its CPU product takes its fast path (llamafile's tinyBLAS) only
// where the contracted length is a multiple of 16. A rank-8 adapter fell to one
// 8-long dot product per result element: 20 ms for c_fc's [3072 × 1024] result,
// ~1 s of a 2.8 s mixed-bf16 LoRA step of GPT-2 at 1×1024 (op profile,
// 2026-11-30). Here each result column is the sum of r columns of the factor,
// built in registers and written once, added in place where asked.
#pragma once
#include "ops.h"

#include <ggml.h>

#include <cstdint>
#include <vector>

namespace tweetsmith {

// The longest contraction taken here: LoRA's ranks are small.
constexpr int64_t kLowRankMax = 64;

// ggml_mul_mat(a, b) · o.scale in f32, added in place into o.into (a view of it
// returned) where given. a [r, m] is any 2-D f32 view (a transposed one too), b
// [r, n] a 2-D f32 tensor with contiguous columns, r ≤ kLowRankMax. Null for
// anything else (other types, shapes or batches, a bias, causal options): the
// caller then takes ggml's product.
ggml_tensor * low_rank_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, const ProductOptions & o);

// scale · Σ over tokens n of a[:, n] ⊗ b[:, n] → [a->ne[0], b->ne[0]] f32, where a
// [ma, N] and b [mb, N] are 2-D f32 with contiguous rows and one of ma and mb is at
// most kLowRankMax: LoRA's dA = dh·x_inᵀ and dB = s·dy·hᵀ, read in place (ggml's
// product contracts along ne0, so it wanted both sides transposed first). Null for
// anything else.
ggml_tensor * low_rank_outer_products(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, float scale);

// For tests: c[j·m + i] = into[j·m + i] + scale · Σ_k A(i, k) · b[j·r + k] through
// the graph node on `threads` threads, where A(i, k) = a[i·r + k] (a stored [r, m]),
// or a[k·m + i] when a_transposed (stored [m, r], seen through a transposed view);
// `into` may be null (then nothing is added). Empty where low_rank_product
// declines the shapes.
std::vector<float> low_rank_product_check(const float * a, const float * b, const float * into, int64_t m, int64_t n, int64_t r,
                                          bool a_transposed, float scale, int threads);

// For tests: c[j·ma + i] = scale · Σ_t a[t·ma + i] · b[t·mb + j] through the graph node
// on `threads` threads. Empty where low_rank_outer_products declines the shapes.
std::vector<float> low_rank_outer_products_check(const float * a, const float * b, int64_t ma, int64_t mb, int64_t n, float scale,
                                                 int threads);

}  // namespace tweetsmith
