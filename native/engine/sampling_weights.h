// The matrices GPT-2 multiplies by while it samples, in the number format the
// caller picked: f32 (the parameters themselves, no copy), f16, bf16 or q8_0
// (converted once, and kept by the model for the next generation: GPT2Model::sampling_weights).
//
// Why: a decode step multiplies every weight by only a few tokens (one per
// sequence), so it is bound by reading the weights from memory. Half the bytes
// per weight (f16/bf16) or about a quarter (q8_0: 34 bytes per 32 weights) makes
// each step that much shorter. Biases, LayerNorms and the embedding lookups stay
// f32; ggml converts the activations to the weights' format inside each product.
// On a CPU with AVX512-VNNI the q8_0 matrices are packed for q8_decode.h's product.
#pragma once
#include "gpt2_model.h"

#include <string>
#include <vector>

namespace tweetsmith {

// "f32", "f16", "bf16", "q8_0"; throws for anything else.
ggml_type sampling_weight_type(const std::string & name);

struct SamplingLayerMatrices {
    ggml_tensor * attn_qkv_w;
    ggml_tensor * attn_proj_w;
    ggml_tensor * mlp_fc_w;
    ggml_tensor * mlp_proj_w;
};

class SamplingWeights {
public:
    SamplingWeights(GPT2Model & model, ggml_type type);
    ~SamplingWeights();
    SamplingWeights(const SamplingWeights &) = delete;
    SamplingWeights & operator=(const SamplingWeights &) = delete;

    ggml_tensor * output;  // the output layer (tied to wte) [C, V]
    std::vector<SamplingLayerMatrices> h;
    // q8_0 packed for q8_decode.h's product (the CPU path on AVX512-VNNI): the
    // matrices are q8_decode's I8 tensors, multiplied through q8_decode::mul_mat
    bool packed() const { return packed_; }
    ggml_type type() const { return type_; }

private:
    ggml_type type_;
    bool packed_ = false;
    ggml_context * ctx_ = nullptr;
    ggml_backend_buffer_t buffer_ = nullptr;
};

}  // namespace tweetsmith
