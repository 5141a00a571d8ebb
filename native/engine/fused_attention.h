// Causal self-attention for training on the CPU, fused: a block of queries at a
// time, per head, its scores, probabilities and their gradients live only in
// per-thread buffers that stay in the cache, as FlashAttention keeps them in a GPU's
// shared memory. The products are bf16_gemm's (AVX-512), with bf16 operands in mixed
// precision and f32 ones in fp32.
//
// Why: unfused, GPT-2's attention at 1×1024 writes each layer's [1024 × 1024 × 12]
// scores, probabilities and their gradients to memory and reads them back, with
// products whose other side is only a head (64) wide; its six products ran at
// ~170 GFLOP/s against ~600 for the layers' (op profile, 2026-11-30), and the saved
// probabilities held 24 MiB a layer (48 MiB in fp32: 576 MiB for GPT-2's 12).
//
// The backward pass recomputes the probabilities from the scores and each query's
// log-sum-exp, saved by the forward pass.
#pragma once
#include "ops.h"

#include <ggml.h>

#include <cstdint>
#include <vector>

namespace tweetsmith {

// qkv [3C, T, B] (f32, contiguous: q, k and v side by side, as the qkv product writes
// them) → softmax(q·kᵀ/√hs, causal)·v per head, with the products' operands (q, k,
// v, the probabilities, and in the backward dy and the scores' gradient) in `type`:
// rounded to bf16 (GGML_TYPE_BF16), or as they are (GGML_TYPE_F32). Empty (y null)
// where it cannot run: the CPU lacks AVX-512, or other types or shapes.
FusedAttention fused_attention(ggml_context * ctx, ggml_tensor * qkv, int64_t n_head, ggml_type type);

// dqkv [3C, T, B] from dy [C, T, B] (f32, contiguous) and the forward's qkv and node,
// in the forward's operand type.
ggml_tensor * fused_attention_backward(ggml_context * ctx, ggml_tensor * dy, ggml_tensor * qkv, const FusedAttention & forward,
                                       int64_t n_head);

// For tests: y [C·T·B] and dqkv [3C·T·B] for qkv and dy (f32, [3C, T, B] and [C, T, B])
// through the two graph nodes on `threads` threads, with f32 operands where `f32`
// (else bf16); empty where the kernels cannot run.
struct FusedAttentionCheck {
    std::vector<float> y, dqkv;
};
FusedAttentionCheck fused_attention_check(const float * qkv, const float * dy, int64_t C, int64_t T, int64_t B, int64_t n_head,
                                          int threads, bool f32);

}  // namespace tweetsmith
