// The optimizer step, as PyTorch's torch.optim.AdamW after
// torch.nn.utils.clip_grad_norm_ (what Hugging Face's Trainer runs):
//   g ← g · min(1, max_norm / (‖g‖₂ + 1e-6))      over all parameters together
//   θ ← θ · (1 - lr·wd)                            decoupled decay, matrices and embeddings only
//   m ← β₁m + (1-β₁)g,  v ← β₂v + (1-β₂)g²
//   θ ← θ - lr · (m / (1-β₁ᵗ)) / (√(v / (1-β₂ᵗ)) + ε)
// The update itself is ggml's GGML_OP_OPT_STEP_ADAMW (the same formula), run as
// one graph over every parameter; the norm is a second, smaller graph.
// With LoRA (GPT2Model::enable_lora before the optimizer is made) the same runs
// over the adapters only, with moments of their size.
#pragma once
#include "gpt2_model.h"

namespace tweetsmith {

struct AdamWConfig {
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.0f;
    float max_grad_norm = 1.0f;  // <= 0: no clipping
};

struct AdamWStepResult {
    double grad_norm;  // before clipping
    double clip_coef;  // what the gradients were multiplied by (1 when not clipped)
};

class AdamW {
public:
    AdamW(GPT2Model & model, const AdamWConfig & config);
    ~AdamW();
    AdamW(const AdamW &) = delete;
    AdamW & operator=(const AdamW &) = delete;

    // Updates the model's parameters from its accumulated gradients, then zeroes them.
    AdamWStepResult step(float lr);
    int64_t steps_taken() const { return t_; }
    // The moments, for checkpoints (of the base parameters; with LoRA, lora_moment).
    ParameterSet & first_moment();
    ParameterSet & second_moment();
    LoraSet * lora_moment(int which) { return which == 0 ? lm_.get() : lv_.get(); }
    void set_steps_taken(int64_t t) { t_ = t; }

private:
    void build_graphs();
    double grad_norm();

    GPT2Model & model_;
    AdamWConfig config_;
    int64_t t_ = 0;
    std::unique_ptr<ParameterSet> m_, v_;
    std::unique_ptr<LoraSet> lm_, lv_;
    const LoraSet * trains_ = nullptr;  // the adapters this optimizer was made for (null: the base)
    CachedGraph norm_graph_;       // output: partial sums of g² of every parameter
    CachedGraph update_graph_;
    float clip_coef_ = 1.0f;                // the CPU's clipping reads it when the update graph runs
    ggml_tensor * clip_tensor_ = nullptr;   // input [1]: the same, for the portable path
    ggml_tensor * decay_params_ = nullptr;  // input [7]: lr, β₁, β₂, ε, wd, 1/(1-β₁ᵗ), 1/(1-β₂ᵗ)
    ggml_tensor * plain_params_ = nullptr;  // the same with wd = 0
};

}  // namespace tweetsmith
