// A GPT-2 on a ggml device: its parameters and gradients, and the graphs that
// run it. Lifecycle, top to bottom (as in llm.c): build (init_random or
// load) → forward → zero_grads → forward_backward → (AdamW, see adamw.h) → save.
// Sampling runs over a KV cache (decoder.h, generator.h).
#pragma once
#include "device.h"
#include "gpt2_config.h"
#include "lora_set.h"
#include "ops.h"
#include "parameter_set.h"
#include "rng.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tweetsmith {

class SamplingWeights;

// How the graphs multiply matrices. kFP32: exact fp32 throughout (what the parity
// tests pin). kMixedBF16: the matrix products of the linear layers and the output
// layer, forward and backward, take bf16 copies of their operands (made in the graph
// each step, rounded to nearest even) and accumulate in f32; the parameters, their
// gradients, AdamW's moments, LayerNorm, GELU, attention and the loss stay f32.
enum class Precision { kFP32, kMixedBF16 };

// A loss graph and what its loss reads besides the tokens.
struct LossGraph {
    CachedGraph g;
    LossInputs in;
    // LoRA dropout's masks, one per adapter (null where a layer has none), set each run
    std::vector<std::array<ggml_tensor *, 4>> dropout;
    void release() {
        g.release();
        in = {};
        dropout.clear();
    }
};

class GPT2Model {
public:
    // `device`: a DeviceDescription name ("CPU", "Vulkan0", …); `portable`: the
    // standard-ops graphs even on the CPU (see device.h)
    GPT2Model(const GPT2Config & config, int n_threads, const std::string & device = "CPU", bool portable = false);
    ~GPT2Model();
    GPT2Model(const GPT2Model &) = delete;
    GPT2Model & operator=(const GPT2Model &) = delete;

    const GPT2Config & config() const { return config_; }
    ParameterSet & params() { return *params_; }
    ComputeDevice & device() { return *device_; }
    ggml_backend_t backend() { return device_->backend(); }
    // Where the model's tensors are allocated (see ComputeDevice::buffer_type).
    ggml_backend_buffer_type_t buffer_type() { return device_->buffer_type(); }
    // The operations to build this model's graphs with (the device's path, see ops.h).
    std::unique_ptr<Ops> ops(ggml_context * ctx) const { return make_ops(ctx, device_->portable()); }

    // Hugging Face's GPT-2 initialisation: N(0, 0.02) for matrices and embeddings,
    // N(0, 0.02/√(2·n_layer)) for the two residual projections, LayerNorm 1 and 0, biases 0.
    void init_random(uint64_t seed);
    void load(const std::string & safetensors_path);
    void save(const std::string & safetensors_path) const;

    // logits [T][vocab] for one sequence of T tokens.
    std::vector<float> logits(const int32_t * tokens, int64_t T);
    // The same logits computed the way sampling computes them: the first
    // `prompt_length` tokens in one pass over an empty KV cache, then one token at
    // a time (tests that decoding and the full forward pass agree).
    std::vector<float> cached_logits(const int32_t * tokens, int64_t T, int64_t prompt_length);

    // For B sequences of T tokens each (labels = inputs shifted by one), returns
    // the mean loss over the B·(T-1) predicted tokens and adds the gradient of
    // `scale` × that mean loss into grads() (scale = 1/accumulation steps).
    double forward_backward(const int32_t * tokens, int64_t T, int64_t B, double scale);
    // The same mean loss without the backward pass (for validation); with `weights`
    // other than F32, computed with the matrices converted as for sampling (to
    // measure what f16, bf16 or q8_0 cost in perplexity).
    double loss(const int32_t * tokens, int64_t T, int64_t B, ggml_type weights = GGML_TYPE_F32);
    ParameterSet & grads();
    // zeroes the gradients that train: the adapters' with LoRA, else every parameter's
    void zero_grads();

    // LoRA (lora_set.h): adds adapters (A random, B zero, from `seed`, which also
    // seeds the dropout) and freezes the base. From then on training updates only
    // the adapters, and every forward pass (logits, loss, sampling) includes them.
    // `base_type`: how the frozen base's block matrices are stored from then on
    // (see set_base_type).
    void enable_lora(const LoraConfig & config, uint64_t seed, ggml_type base_type = GGML_TYPE_F32);
    // The block matrices converted once to `type` (F32, BF16 rounded to nearest
    // even, or F16 as ggml converts) and the old copies freed: a BF16 or F16 base
    // halves the weights' memory. Every product with such a matrix then takes its
    // operands in its type (the activations rounded too, f32 accumulation), on every
    // path. Only a frozen base may be narrowed: full fine-tuning needs f32 weights.
    void set_base_type(ggml_type type);
    ggml_type base_type() const { return params_->matrix_type(); }
    // Counts the times params() was replaced by another set (set_base_type): what
    // holds its tensors across calls (a Generator's sampling weights) checks it.
    uint64_t params_version() const { return params_version_; }
    // The matrices sampling multiplies by, in `type` (sampling_weights.h). A
    // conversion is kept for the next call while the parameters' values stay as
    // they are (ParameterSet::stamp), so generating again (a server's requests,
    // one sampling call per prompt) skips it: about 0.7 s for 124M in q8_0 on 2
    // cores. It costs that copy's memory (none for F32) until the values change
    // or another type is asked for. (The caller holds the device's turn.)
    std::shared_ptr<const SamplingWeights> sampling_weights(ggml_type type);
    LoraSet * lora() { return lora_.get(); }
    LoraSet & lora_grads();
    // Training passes run with LoRA dropout so far: each pass's masks are drawn from
    // (seed, this count), so a resumed run sets it and draws the masks it would have.
    uint64_t dropout_runs() const { return dropout_runs_; }
    void set_dropout_runs(uint64_t n) { dropout_runs_ = n; }
    // A loaded adapter's dropout follows `seed` from here (enable_lora's seed otherwise).
    void set_dropout_seed(uint64_t seed) { lora_seed_ = seed; }
    // W ← W + (alpha/r)·B·A for every adapter, then drops the adapters: a plain model
    // again, computing the same function. A bf16 or f16 base is widened to f32
    // first and the sum taken in f32: the merged model is f32.
    void merge_lora();

    void set_precision(Precision precision);

    void set_threads(int n_threads);
    int threads() const { return n_threads_; }
    ggml_type matmul_type() const;
    // Asks the running computation to stop; it throws CancelledError.
    void cancel() { cancel_requested_ = true; }
    // Forgets an old cancel request; called when a new call is queued.
    void clear_cancel() { cancel_requested_ = false; }
    // Plans a built graph on the device (see ComputeDevice::plan).
    void plan(CachedGraph & g) { device_->plan(g); }
    // Runs a planned graph; throws CancelledError when cancel() was called (between
    // a graph's nodes; never in a graph that is not `cancellable`, such as an
    // optimizer update that must not stop halfway).
    void compute(CachedGraph & g, bool cancellable = true);
    void check_tokens(const int32_t * tokens, int64_t n) const;
    // Throws EngineError when B sequences of T tokens would need more memory for
    // their activations than the device has, or a size that does not fit in 63 bits
    // (checked before any graph for them is built; see limits.h).
    void check_activation_memory(int64_t T, int64_t B) const;
    // Throws EngineError when `copies` sets of weight-sized tensors (the parameters
    // and gradients: 2; with AdamW's moments: 4) cannot fit in the device's memory;
    // `what` says what would be allocated. Called before allocating them.
    void check_weight_copies(int copies, const std::string & what) const;

private:
    void build_logits_graph(int64_t T);
    void build_loss_graph(LossGraph & lg, int64_t T, int64_t B, bool with_backward,
                          const SamplingWeights * converted = nullptr);
    void check_training_batch(const int32_t * tokens, int64_t T, int64_t B) const;
    double run_loss_graph(LossGraph & lg, const int32_t * tokens);
    void release_graphs();
    // the parameters converted to `type` (null when they are stored so already), and installed
    std::unique_ptr<ParameterSet> params_as(ggml_type type) const;
    void replace_params(std::unique_ptr<ParameterSet> converted);

    GPT2Config config_;
    int n_threads_;
    Precision precision_ = Precision::kFP32;
    std::unique_ptr<ComputeDevice> device_;
    std::unique_ptr<ParameterSet> params_;
    std::unique_ptr<ParameterSet> grads_;
    std::unique_ptr<LoraSet> lora_;
    std::unique_ptr<LoraSet> lora_grads_;
    uint64_t lora_seed_ = 0;
    uint64_t params_version_ = 0;
    uint64_t dropout_runs_ = 0;
    CachedGraph logits_graph_;
    LossGraph train_graph_;
    LossGraph loss_graph_;
    float grad_scale_ = 1.0f;  // the CPU's cross-entropy backward reads it when the train graph runs
    std::atomic<bool> cancel_requested_{false};
    // after device_: freed before the device's backend
    std::shared_ptr<const SamplingWeights> sampling_weights_;
    uint64_t sampling_stamp_ = 0;  // params_->stamp() when sampling_weights_ was made
};

}  // namespace tweetsmith
