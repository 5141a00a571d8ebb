// GPT-2's layers as ggml graph builders, each forward beside its backward
// (llm.c's shape: the forward returns what the backward needs, named for what it is).
// Activations are ggml tensors [features, tokens...] (ne0 = features).
// Backward functions return the input gradient and add the parameter gradients
// into the gradient tensors they are given (persistent, accumulated in place).
#pragma once
#include "gpt2_config.h"

#include <ggml.h>

namespace tweetsmith {

struct GradSink;  // collects "grad += contribution" nodes, in order

// ---------------------------------------------------------------- embedding
// x = wte[tokens] + wpe[positions]; tokens I32 [T, B], positions I32 [T].
ggml_tensor * embedding_forward(ggml_context * ctx, ggml_tensor * wte, ggml_tensor * wpe, ggml_tensor * tokens,
                                ggml_tensor * positions);
void embedding_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte,
                        ggml_tensor * dwpe);

// ---------------------------------------------------------------- layernorm
struct LayerNormSaved {
    ggml_tensor * x;     // the input
    ggml_tensor * xhat;  // (x - mean) · rstd
};
ggml_tensor * layernorm_forward(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps,
                                LayerNormSaved * saved);
ggml_tensor * layernorm_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dy, const LayerNormSaved & saved,
                                 ggml_tensor * w, const float * eps, ggml_tensor * dw, ggml_tensor * db);

// ---------------------------------------------------------------- linear (HF Conv1D)
// y = W·x + b, W ne = [in, out]. W is the weight as multiplied: the f32 parameter,
// or its bf16 copy in mixed precision; the backward's products then run in bf16
// too (f32 results), and dw (f32) gets the gradient.
ggml_tensor * linear_forward(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b);
ggml_tensor * linear_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dy, ggml_tensor * x, ggml_tensor * w,
                              ggml_tensor * dw, ggml_tensor * db);

// ---------------------------------------------------------------- gelu ("gelu_new", tanh form, exact)
ggml_tensor * gelu_forward(ggml_context * ctx, ggml_tensor * x);
ggml_tensor * gelu_backward(ggml_context * ctx, ggml_tensor * dy, ggml_tensor * x);

// ---------------------------------------------------------------- causal self-attention
// qkv [3C, T, B] → y [C, T, B]: softmax(q·kᵀ/√hs + causal mask)·v per head.
struct AttentionSaved {
    ggml_tensor * q;      // [hs, T, H, B]
    ggml_tensor * k;      // [hs, T, H, B]
    ggml_tensor * v;      // [hs, T, H, B]
    ggml_tensor * probs;  // [T_k, T_q, H, B]
};
// `type`: the products' operand type (F32, or BF16 in mixed precision: q, k and v
// are kept in bf16; the softmax and its backward stay f32).
ggml_tensor * attention_forward(ggml_context * ctx, ggml_tensor * qkv, int64_t n_head, ggml_type type, AttentionSaved * saved);
ggml_tensor * attention_backward(ggml_context * ctx, ggml_tensor * dy, const AttentionSaved & saved, int64_t n_head);

// The same attention for sampling: the t new tokens' keys and values are written
// into the caches at positions [n_past, n_past + t) and the queries attend to
// everything cached so far. k_cache, v_cache [hs, L, H, B]; *n_past is read when
// the graph runs.
ggml_tensor * attention_forward_cached(ggml_context * ctx, ggml_tensor * qkv, ggml_tensor * k_cache, ggml_tensor * v_cache,
                                       const int64_t * n_past);

// ---------------------------------------------------------------- cross-entropy over the vocabulary
// Per-row loss [rows] for logits [V, rows] and targets I32 [rows] (target < 0: ignored).
ggml_tensor * cross_entropy_forward(ggml_context * ctx, ggml_tensor * logits, ggml_tensor * targets);
// dlogits [Vp, rows], scaled by *scale when the graph runs, zero-padded from the
// vocabulary V to Vp = a multiple of 64: the output layer's backward contracts over
// the vocabulary, and ggml's fast matrix multiply needs that length in multiples of 16.
ggml_tensor * cross_entropy_backward(ggml_context * ctx, ggml_tensor * logits, ggml_tensor * targets,
                                     ggml_tensor * row_losses, const float * scale);

// ---------------------------------------------------------------- output layer (tied to wte)
// The vocabulary is padded to a multiple of 64 with zero rows of wte, because ggml's
// fast matrix multiply (llamafile's tinyBLAS) needs the first operand's row count in
// multiples of 4 and the contracted length in multiples of 16; both products of the
// output layer have the vocabulary there. The padded logits are never read.
int64_t padded_vocab(int64_t vocab_size);
// logits [V, rows] = w · x without a padded copy of w (for inference, where the few
// tokens make the product memory-bound): the rows up to the last multiple of 16 take
// the fast path, the remaining few the plain dot products. w [C, V] in any format.
ggml_tensor * output_logits(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x);
ggml_tensor * pad_vocab(ggml_context * ctx, ggml_tensor * wte);  // [C, V] → [C, Vp], in wte's type
// logits [V, rows] (a strided view into [Vp, rows]) = wte_padded · x
ggml_tensor * lm_head_forward(ggml_context * ctx, ggml_tensor * x, ggml_tensor * wte_padded, int64_t vocab_size);
// backward from padded dlogits [Vp, rows]
ggml_tensor * lm_head_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dlogits_padded, ggml_tensor * x,
                               ggml_tensor * wte_padded, ggml_tensor * dwte);

}  // namespace tweetsmith
