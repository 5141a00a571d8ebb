// LoRA adapters (Hu et al. 2021, as PEFT implements them): beside a frozen linear
// layer y = W·x + b, two small matrices A [r × in] and B [out × r] add
//   y += (alpha / r) · B·A·dropout(x)
// A starts as PEFT's kaiming_uniform(a=√5), i.e. U(-1/√in, 1/√in); B starts at 0,
// so a fresh adapter leaves the model unchanged. Only A and B train.
//
// The tensors are kept as ggml multiplies them and as PEFT stores them at once:
// A ne = [in, r] is row-major [r][in] (lora_A.weight, an nn.Linear(in, r)), and
// B ne = [r, out] is row-major [out][r] (lora_B.weight). GPT-2's Conv1D stores its
// own weight transposed ("fan_in_fan_out"), but the adapters are plain Linear
// weights: no transpose on load or save.
// The same struct holds the adapters, their gradients and AdamW's two moments.
#pragma once
#include "gpt2_config.h"
#include "parameter_set.h"

#include <ggml-backend.h>
#include <ggml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tweetsmith {

// Which of a block's four linear layers get an adapter (PEFT's target_modules).
enum LoraTarget : uint32_t {
    kLoraAttnQkv = 1u << 0,   // attn.c_attn
    kLoraAttnProj = 1u << 1,  // attn.c_proj
    kLoraMlpFc = 1u << 2,     // mlp.c_fc
    kLoraMlpProj = 1u << 3,   // mlp.c_proj
};

struct LoraConfig {
    int64_t rank = 8;
    float alpha = 16.0f;
    float dropout = 0.0f;  // on each adapter's input, while training only
    uint32_t targets = kLoraAttnQkv | kLoraAttnProj | kLoraMlpFc | kLoraMlpProj;
    void validate() const;
    float scale() const { return alpha / float(rank); }
};

struct LoraAdapter {
    ggml_tensor * a = nullptr;  // ne [in, r]
    ggml_tensor * b = nullptr;  // ne [r, out]
    explicit operator bool() const { return a != nullptr; }
};

// One block's adapters, in the order of LayerTensors' four matrices; empty where not targeted.
struct LoraLayer {
    LoraAdapter attn_qkv, attn_proj, mlp_fc, mlp_proj;
};

class LoraSet {
public:
    LoraSet(const GPT2Config & model, const LoraConfig & config, ggml_backend_buffer_type_t buft, const char * label);
    ~LoraSet();
    LoraSet(const LoraSet &) = delete;
    LoraSet & operator=(const LoraSet &) = delete;

    const LoraConfig & config() const { return config_; }
    std::vector<LoraLayer> h;

    // Named as PEFT names them without "base_model.model.transformer."
    // ("h.0.attn.c_attn.lora_A.weight"); hf_shape is PEFT's shape.
    const std::vector<ParameterEntry> & entries() const { return entries_; }
    const ParameterEntry * find(const std::string & name) const;
    void set_zero();
    void init_random(uint64_t seed);
    std::vector<float> read(const ParameterEntry & e) const;
    void write(const ParameterEntry & e, const float * data);

private:
    LoraConfig config_;
    ggml_context * ctx_ = nullptr;
    ggml_backend_buffer_t buffer_ = nullptr;
    std::vector<ParameterEntry> entries_;
};

}  // namespace tweetsmith
