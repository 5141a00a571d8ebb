// GPT-2's parameters as ggml tensors, and the one place that knows how they are
// named and laid out in a Hugging Face checkpoint.
//
// Weights are kept as ggml wants them for y = W·x (ggml_mul_mat): ne = [in, out],
// i.e. row-major [out][in]. Hugging Face's Conv1D stores [in][out], so the four
// Conv1D weights are transposed on load and save, here and nowhere else.
// The same struct holds the parameters, their gradients and AdamW's two moments,
// so one loop over `entries()` walks any of them (as llm.c does).
#pragma once
#include "gpt2_config.h"

#include <ggml-backend.h>
#include <ggml.h>

#include <string>
#include <vector>

namespace tweetsmith {

struct LayerTensors {
    ggml_tensor * ln_1_w;
    ggml_tensor * ln_1_b;
    ggml_tensor * attn_qkv_w;   // c_attn: [n_embd -> 3 n_embd]
    ggml_tensor * attn_qkv_b;
    ggml_tensor * attn_proj_w;  // attn.c_proj: [n_embd -> n_embd]
    ggml_tensor * attn_proj_b;
    ggml_tensor * ln_2_w;
    ggml_tensor * ln_2_b;
    ggml_tensor * mlp_fc_w;     // mlp.c_fc: [n_embd -> 4 n_embd]
    ggml_tensor * mlp_fc_b;
    ggml_tensor * mlp_proj_w;   // mlp.c_proj: [4 n_embd -> n_embd]
    ggml_tensor * mlp_proj_b;
};

// One named tensor, as a checkpoint sees it.
struct ParameterEntry {
    std::string name;               // Hugging Face name without "transformer."
    ggml_tensor * tensor;
    std::vector<int64_t> hf_shape;  // the shape in the safetensors file
    bool conv1d_weight;             // stored transposed in the file
    bool weight_decay;              // AdamW decays it (not biases, not LayerNorm), as HF's Trainer groups them
    bool residual_projection;       // initialised with std 0.02/sqrt(2 n_layer)
    bool layer_norm_weight;         // initialised to 1
};

class ParameterSet {
public:
    // Allocates every tensor (uninitialised) in a buffer of `buft` (the model's device's).
    ParameterSet(const GPT2Config & config, ggml_backend_buffer_type_t buft, const char * label);
    ~ParameterSet();
    ParameterSet(const ParameterSet &) = delete;
    ParameterSet & operator=(const ParameterSet &) = delete;

    ggml_tensor * wte;  // token embedding [vocab][n_embd], also the output layer (tied)
    ggml_tensor * wpe;  // position embedding [n_positions][n_embd]
    std::vector<LayerTensors> h;
    ggml_tensor * ln_f_w;
    ggml_tensor * ln_f_b;

    const std::vector<ParameterEntry> & entries() const { return entries_; }
    const ParameterEntry * find(const std::string & name) const;
    size_t element_count() const;
    void set_zero();

    // Host copies in the checkpoint's layout (Conv1D weights as [in][out]).
    std::vector<float> read_hf_layout(const ParameterEntry & e) const;
    void write_hf_layout(const ParameterEntry & e, const float * data);

private:
    ggml_context * ctx_ = nullptr;
    ggml_backend_buffer_t buffer_ = nullptr;
    std::vector<ParameterEntry> entries_;
};

}  // namespace tweetsmith
