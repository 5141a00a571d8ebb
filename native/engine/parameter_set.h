// GPT-2's parameters as ggml tensors, and the one place that knows how they are
// named and laid out in a Hugging Face checkpoint.
//
// Weights are kept as ggml wants them for y = W·x (ggml_mul_mat): ne = [in, out],
// i.e. row-major [out][in]. Hugging Face's Conv1D stores [in][out], so the four
// Conv1D weights are transposed on load and save, here and nowhere else.
// The same struct holds the parameters, their gradients and AdamW's two moments,
// so one loop over `entries()` walks any of them (as llm.c does).
//
// The block matrices (c_attn, attn.c_proj, c_fc, mlp.c_proj of every layer: the
// bulk of the parameters) may be stored as BF16 or F16 instead (`matrix_type`):
// LoRA's frozen base, at half the memory. The embeddings (wte is also the output
// layer, and the embedding lookup reads it), LayerNorms and biases stay F32.
// Every read and write here converts, so the rest of the engine sees f32 values.
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
    // Allocates every tensor (uninitialised) in a buffer of `buft` (the model's device's);
    // the block matrices in `matrix_type` (F32, BF16 or F16).
    ParameterSet(const GPT2Config & config, ggml_backend_buffer_type_t buft, const char * label,
                 ggml_type matrix_type = GGML_TYPE_F32);
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
    ggml_type matrix_type() const { return matrix_type_; }
    // the bytes its buffer holds (what the set costs in memory)
    size_t bytes() const;
    void set_zero();
    // every value of `from` (any matrix type) into this set, converted to this set's types
    void copy_from(const ParameterSet & from);

    // Host copies in the checkpoint's layout (Conv1D weights as [in][out]).
    std::vector<float> read_hf_layout(const ParameterEntry & e) const;
    void write_hf_layout(const ParameterEntry & e, const float * data);
    // Host copies in ggml's layout (ne order), f32 whatever the tensor's type.
    static std::vector<float> read_values(const ggml_tensor * t);
    static void write_values(ggml_tensor * t, const float * data);

    // Identifies the values this set holds: unique among every set's, and renewed
    // by each write through this class and by touched() (a graph that updated
    // them in place, such as AdamW's). What keeps a converted copy of the values
    // across calls (GPT2Model's sampling weights) compares it.
    uint64_t stamp() const { return stamp_; }
    void touched();

private:
    uint64_t stamp_ = 0;
    ggml_context * ctx_ = nullptr;
    ggml_backend_buffer_t buffer_ = nullptr;
    std::vector<ParameterEntry> entries_;
    ggml_type matrix_type_;
};

// F32, BF16 or F16 (a frozen base's storage); throws for anything else.
ggml_type base_weight_type(const std::string & name);

}  // namespace tweetsmith
