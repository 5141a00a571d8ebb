// GPT-2's forward and backward graphs, built once for every use: training,
// logits, loss and cached decoding (ggml's examples/gpt-2/main-backend.cpp is the
// model: one graph with n_past serves the prompt and each decode step), on every
// backend (ops.h). transformer_block is the one place a block is written.
#pragma once
#include "gpt2_config.h"
#include "gpt2_layers.h"
#include "ops.h"
#include "parameter_set.h"

#include <array>
#include <vector>

namespace tweetsmith {

class SamplingWeights;

struct ForwardOptions {
    // F32, or BF16 to multiply by bf16 copies of the weights (made in the graph,
    // from the f32 parameters, every time it runs). Matrices stored as BF16 or F16
    // (a frozen LoRA base) are multiplied in their own type either way.
    ggml_type matmul_type = GGML_TYPE_F32;
    // multiply by these matrices instead (forward only; see sampling_weights.h)
    const SamplingWeights * converted = nullptr;
    // training and scoring: the output layer over Ops::output_weights (padded on the
    // CPU, faster for many tokens); otherwise over wte as it is
    bool output_weights = false;
    // decoding: the caches the new tokens' keys and values go into (one per layer)
    const std::vector<KVCacheLayer> * cache = nullptr;
    const DecodeInputs * decode = nullptr;
    // only each sequence's last position reaches the output layer (sampling)
    bool last_position_only = false;
    // LoRA adapters beside the four linear layers of each block, and while training
    // with dropout their masks (per layer: c_attn, attn.c_proj, c_fc, mlp.c_proj)
    const LoraSet * lora = nullptr;
    const std::vector<std::array<ggml_tensor *, 4>> * lora_dropout = nullptr;
};

struct ForwardResult {
    ggml_tensor * logits;          // [V, T, B] (or [V, B] with only the last position); strided when padded
    ggml_tensor * w_out;           // the output layer's weights as multiplied
    ggml_tensor * final_norm_out;  // [C, T, B]
    LayerNormSaved ln_f;
    struct Layer {
        // the weights as multiplied: the parameters, their bf16 copies, or converted ones
        ggml_tensor * w_qkv, * w_attn_proj, * w_fc, * w_mlp_proj;
        LayerNormSaved ln_1, ln_2;
        ggml_tensor * ln_1_out, * qkv, * attn_out, * x_mid, * ln_2_out, * fc, * fc_gelu;
        AttentionSaved attn;
        // the adapters (empty where there is none) in the order of the four linear layers
        std::array<LoraApplied, 4> lora;
        std::array<LoraSaved, 4> lora_saved;
    };
    std::vector<Layer> layers;
};

ForwardResult gpt2_forward(Ops & ops, const GPT2Config & c, ParameterSet & p, ggml_tensor * tokens, ggml_tensor * positions,
                           const ForwardOptions & options);

// The backward pass, last layer first; parameter gradients go into `g`. With
// LoRA `g` is null: the base is frozen, none of its gradient products are built,
// and the adapters' gradients go into `lora_grads`.
void gpt2_backward(Ops & ops, GradSink & sink, const GPT2Config & c, ParameterSet & p, ParameterSet * g, LoraSet * lora_grads,
                   const ForwardResult & f, ggml_tensor * dlogits, ggml_tensor * tokens);

}  // namespace tweetsmith
