// The pieces of GPT-2's math that ggml's CPU backend lacks or does not do
// exactly, written as ggml custom operations (they run inside a ggml graph, on
// ggml's thread pool: each call gets its thread index `ith` of `nth`).
//
// Why custom operations: ggml's automatic backward pass has no rule for
// LayerNorm (GGML_OP_NORM) nor for GELU, and its CPU GELU reads a float16 table,
// which is not the exact tanh formula Hugging Face's "gelu_new" computes. Rather
// than patch ggml's autodiff, tweetsmith writes GPT-2's backward pass by hand, the
// way llm.c does: each layer's backward beside its forward (see gpt2_layers.h),
// mostly with ggml's own operations, plus these kernels for the exact closed forms:
//   d/dx LayerNorm:   dx = rstd · (g - mean(g) - x̂ · mean(g·x̂)),  g = dy·w
//   d/dx gelu_new:    0.5(1+t) + 0.5·x·(1-t²)·√(2/π)·(1 + 3·0.044715·x²),  t = tanh(√(2/π)(x + 0.044715x³))
//   d/dlogits CE:     (softmax(logits) - onehot(target)) · scale
// They are fp32 with double accumulators where rows are summed.
#pragma once
#include <ggml.h>

namespace tweetsmith::cpu_kernels {

// dst = gelu_new(a), elementwise.                                    (ggml_map_custom1)
void gelu_forward(ggml_tensor * dst, const ggml_tensor * a, int ith, int nth, void * userdata);

// dst = dy · gelu_new'(x), elementwise; a = dy, b = x.               (ggml_map_custom2)
void gelu_backward(ggml_tensor * dst, const ggml_tensor * dy, const ggml_tensor * x, int ith, int nth, void * userdata);

// dst[C, rows] = d/dx of LayerNorm(x)·w + b; src = {dy, x, w};
// userdata: const float * epsilon. Mean and rstd are recomputed from x.  (ggml_custom_4d)
void layernorm_backward(ggml_tensor * dst, int ith, int nth, void * userdata);

// dst[rows] = logsumexp(logits_row) - logits_row[target] (0 where target < 0);
// src = {logits [V, rows] (rows may be strided), targets I32 [rows]}. (ggml_custom_4d)
void cross_entropy_forward(ggml_tensor * dst, int ith, int nth, void * userdata);

// dst[Vp, rows] = (softmax(logits_row) - onehot(target)) · scale, zero in the
// padding columns V..Vp-1 and in rows where target < 0; src = {logits [V, rows] (strided),
// targets, per-row losses (only to order it after the forward)}; userdata:
// const float * scale, read when the graph runs.                     (ggml_custom_4d)
// In place (ggml_custom_inplace over the padded [Vp, rows] product whose first V rows
// are the logits) dst's own source comes first and those three follow it.
void cross_entropy_backward(ggml_tensor * dst, int ith, int nth, void * userdata);

// In place on the embedding gradient [C, V]: row tokens[i] += dx[:, i];
// src = {grad, dx [C, rows], tokens I32 [rows]}. Threads split the C columns,
// so repeated tokens never race.                                     (ggml_custom_inplace)
void embedding_backward(ggml_tensor * dst, int ith, int nth, void * userdata);

// dst[C] = Σ over rows of src[C, rows]: a bias or LayerNorm gradient, summed
// over the tokens; threads split the C columns. src = {x}.           (ggml_custom_4d)
void column_sums(ggml_tensor * dst, int ith, int nth, void * userdata);

// dst[kPartialSums]: thread ith writes the sum of squares of its share of src to
// dst[ith] (thread 0 zeroes the slots of tasks that do not exist); the caller adds
// the slots. src = {x}.                                              (ggml_custom_4d)
constexpr int kPartialSums = 64;

// dst[C, Vp] = src[C, V] followed by Vp - V zero rows, in src's type. src = {x}.   (ggml_custom_4d)
void pad_rows(ggml_tensor * dst, int ith, int nth, void * userdata);

// dst[ne1, ne0, ne2, ne3] = the transpose of each [ne0, ne1] slice of the contiguous
// src, in cache-sized tiles split over the threads (ggml's generic copy of a
// transposed view walks one element at a time). src = {x}; f32 → f32, f32 → bf16
// (rounded to nearest even) or bf16 → bf16.                          (ggml_custom_4d)
void transpose_copy(ggml_tensor * dst, int ith, int nth, void * userdata);
// One AdamW step, in place on the parameter w (dst), with ggml_opt_step_adamw's math
// and gradient g times *coef (the clipping), in one pass: m, v and w updated.
// src = {w, g, m, v, params F32[7]: lr, β1, β2, eps, weight decay, 1/(1-β1ᵗ),
// 1/(1-β2ᵗ)}; userdata: const float * coef, read when the graph runs; threads split
// the elements in whole cache lines.                         (ggml_custom_inplace)
void adamw_step(ggml_tensor * dst, int ith, int nth, void * userdata);

// Attention of t new tokens per sequence over a KV cache, for sampling:
// dst [C, t, B] = softmax(q·Kᵀ/√hs over positions ≤ the query's)·V per head, after
// writing the new tokens' keys and values into the caches at [n_past, n_past + t).
// src = {qkv [3C, t, B], k_cache [hs, L, H, B], v_cache [hs, L, H, B]};
// userdata: const int64_t * n_past. Threads split the (sequence, head) pairs, each
// writing and then reading only its own slice of the caches, so no thread waits
// for another. (ggml's mul_mat would do one call per key for the few dozen
// numbers of a head, where the call costs more than the arithmetic.)
// The caches may be f16 (a converted weight format's sampling: half the bytes read
// per step) where cached_attention_takes_f16(head size), else f32.
void cached_attention(ggml_tensor * dst, int ith, int nth, void * userdata);
bool cached_attention_takes_f16(int64_t head_size);

void partial_sums_of_squares(ggml_tensor * dst, int ith, int nth, void * userdata);

}  // namespace tweetsmith::cpu_kernels
