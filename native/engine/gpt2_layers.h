// GPT-2's layers as ggml graph builders, each forward beside its backward
// (llm.c's shape: the forward returns what the backward needs, named for what it is).
// Activations are ggml tensors [features, tokens...] (ne0 = features).
// Backward functions return the input gradient and add the parameter gradients
// into the gradient tensors they are given (persistent, accumulated in place);
// a null gradient tensor means a frozen parameter, whose gradient is not computed.
// Every layer builds with plain ggml operations and the backend's Ops (ops.h).
#pragma once
#include "gpt2_config.h"
#include "lora_set.h"
#include "ops.h"

#include <ggml.h>

namespace tweetsmith {

struct GradSink;  // collects "grad += contribution" nodes, in order

// ---------------------------------------------------------------- embedding
// x = wte[tokens] + wpe[positions]; tokens I32 [T, B], positions I32 [T].
ggml_tensor * embedding_forward(Ops & ops, ggml_tensor * wte, ggml_tensor * wpe, ggml_tensor * tokens, ggml_tensor * positions);
void embedding_backward(Ops & ops, GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte, ggml_tensor * dwpe);

// ---------------------------------------------------------------- layernorm
ggml_tensor * layernorm_forward(Ops & ops, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps, LayerNormSaved * saved);
ggml_tensor * layernorm_backward(Ops & ops, GradSink & sink, ggml_tensor * dy, const LayerNormSaved & saved, ggml_tensor * w,
                                 const float * eps, ggml_tensor * dw, ggml_tensor * db);

// ---------------------------------------------------------------- linear (HF Conv1D)
// y = W·x + b, W ne = [in, out]. W is the weight as multiplied: the f32 parameter,
// or its bf16 copy in mixed precision; the backward's products then run in bf16
// too (f32 results), and dw (f32) gets the gradient.
//
// With a LoRA adapter (lora_set.h) y += scale · B·A·(x ⊙ mask), where the mask is
// the dropout's (kept inputs scaled by 1/(1-p)), absent when not training or p = 0.
// The adapter's products stay f32 whatever W's type.
struct LoraApplied {
    LoraAdapter w;
    float scale = 0.0f;
    ggml_tensor * mask = nullptr;  // [in, all tokens] or null
    explicit operator bool() const { return bool(w); }
};
struct LoraSaved {
    ggml_tensor * x_in = nullptr;  // the adapter's input after dropout [in, N]
    ggml_tensor * h = nullptr;     // A·x_in [r, N]
};
ggml_tensor * linear_forward(Ops & ops, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, const LoraApplied * lora = nullptr,
                             LoraSaved * saved = nullptr);
// dw == nullptr: W is frozen, and its gradient product is skipped (LoRA training);
// dx still flows through W. With an adapter, `dlora` (when given) gets dA and dB.
ggml_tensor * linear_backward(Ops & ops, GradSink & sink, ggml_tensor * dy, ggml_tensor * x, ggml_tensor * w, ggml_tensor * dw,
                              ggml_tensor * db, const LoraApplied * lora = nullptr, const LoraSaved * saved = nullptr,
                              const LoraAdapter * dlora = nullptr);

// ---------------------------------------------------------------- causal self-attention
// qkv [3C, T, B] → y [C, T, B]: softmax(q·kᵀ/√hs + causal mask)·v per head.
struct AttentionSaved {
    ggml_tensor * q;      // [hs, T, H, B]
    ggml_tensor * k;      // [hs, T, H, B]
    ggml_tensor * v;      // [hs, T, H, B]
    ggml_tensor * probs;  // [T_k, T_q, H, B]
    ggml_type type = GGML_TYPE_F32;  // the products' operand type
    ggml_tensor * qkv = nullptr;     // where the attention was fused (Ops::fused_attention), what it read
    FusedAttention fused;            // and its node; q, k, v and probs are then null
};
// `type`: the products' operand type (F32, or BF16 in mixed precision: where the
// backend fuses the attention, as the CPU does, one node does it all; elsewhere q,
// k and v are kept in bf16 and the softmax and its backward stay f32).
ggml_tensor * attention_forward(Ops & ops, ggml_tensor * qkv, int64_t n_head, ggml_type type, AttentionSaved * saved);
ggml_tensor * attention_backward(Ops & ops, ggml_tensor * dy, const AttentionSaved & saved, int64_t n_head);

// ---------------------------------------------------------------- output layer (tied to wte)
// logits [V, rows] = w · x without a padded copy of w (for inference, where the few
// tokens make the product memory-bound): on the CPU the rows up to the last
// multiple of 16 take ggml's fast path, the remaining few the plain dot products.
// w [C, V] in any format.
ggml_tensor * output_logits(Ops & ops, ggml_tensor * w, ggml_tensor * x);
// logits [V, rows] (a strided view when w_out is padded) = w_out · x, where w_out is
// Ops::output_weights(wte): wte itself, or on the CPU wte padded with zero rows.
ggml_tensor * lm_head_forward(Ops & ops, ggml_tensor * x, ggml_tensor * w_out, int64_t vocab_size);
// backward from dlogits [w_out rows, rows]
ggml_tensor * lm_head_backward(Ops & ops, GradSink & sink, ggml_tensor * dlogits, ggml_tensor * x, ggml_tensor * w_out,
                               ggml_tensor * dwte);

}  // namespace tweetsmith
