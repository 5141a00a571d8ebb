// A GPT-2 on a ggml backend: its parameters and gradients, and the graphs that
// run it. Lifecycle, top to bottom (as in llm.c): build (init_random or
// load) → forward → zero_grads → forward_backward → (AdamW, see adamw.h) → save.
#pragma once
#include "gpt2_config.h"
#include "parameter_set.h"

#include <ggml-alloc.h>
#include <ggml-backend.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tweetsmith {

// One graph with its allocator and inputs, kept while its shape stays the same,
// so a training loop builds and plans its graph once.
struct CachedGraph {
    ggml_context * ctx = nullptr;
    ggml_cgraph * graph = nullptr;
    ggml_gallocr_t allocr = nullptr;
    int64_t T = 0, B = 0;
    ggml_tensor * tokens = nullptr;     // I32 [T, B]
    ggml_tensor * positions = nullptr;  // I32 [T]
    ggml_tensor * targets = nullptr;    // I32 [T·B]
    ggml_tensor * output = nullptr;     // logits [V, T, B], or per-token losses [T·B]
    void release();
    ~CachedGraph() { release(); }
};

// How the graphs multiply matrices. kFP32: exact fp32 throughout (what the parity
// tests pin). kMixedBF16: the matrix products of the linear layers and the output
// layer, forward and backward, take bf16 copies of their operands (made in the graph
// each step, rounded to nearest even) and accumulate in f32; the parameters, their
// gradients, AdamW's moments, LayerNorm, GELU, attention and the loss stay f32.
enum class Precision { kFP32, kMixedBF16 };

class GPT2Model {
public:
    GPT2Model(const GPT2Config & config, int n_threads);
    ~GPT2Model();
    GPT2Model(const GPT2Model &) = delete;
    GPT2Model & operator=(const GPT2Model &) = delete;

    const GPT2Config & config() const { return config_; }
    ParameterSet & params() { return *params_; }
    ggml_backend_t backend() { return backend_; }

    // Hugging Face's GPT-2 initialisation: N(0, 0.02) for matrices and embeddings,
    // N(0, 0.02/√(2·n_layer)) for the two residual projections, LayerNorm 1 and 0, biases 0.
    void init_random(uint64_t seed);
    void load(const std::string & safetensors_path);
    void save(const std::string & safetensors_path) const;

    // logits [T][vocab] for one sequence of T tokens.
    std::vector<float> logits(const int32_t * tokens, int64_t T);

    // For B sequences of T tokens each (labels = inputs shifted by one), returns
    // the mean loss over the B·(T-1) predicted tokens and adds the gradient of
    // `scale` × that mean loss into grads() (scale = 1/accumulation steps).
    double forward_backward(const int32_t * tokens, int64_t T, int64_t B, double scale);
    // The same mean loss without the backward pass (for validation); with `weights`
    // other than F32, computed with the matrices converted as for sampling (to
    // measure what f16, bf16 or q8_0 cost in perplexity).
    double loss(const int32_t * tokens, int64_t T, int64_t B, ggml_type weights = GGML_TYPE_F32);
    ParameterSet & grads();
    void zero_grads();

    void set_precision(Precision precision);

    void set_threads(int n_threads);
    int threads() const { return n_threads_; }
    // Asks the running computation to stop; it throws CancelledError.
    void cancel() { cancel_requested_ = true; }
    // Forgets an old cancel request; called when a new call is queued.
    void clear_cancel() { cancel_requested_ = false; }
    // Runs a graph on the backend; throws CancelledError when cancel() was called
    // (only between a graph's nodes, and never in a graph that is not `cancellable`,
    // such as an optimizer update that must not stop halfway).
    void compute(ggml_cgraph * graph, bool cancellable = true);

private:
    void check_tokens(const int32_t * tokens, int64_t n) const;
    ggml_type matmul_type() const;
    void build_logits_graph(int64_t T);
    void build_loss_graph(CachedGraph & g, int64_t T, int64_t B, bool with_backward,
                          const class SamplingWeights * converted = nullptr);
    void check_training_batch(const int32_t * tokens, int64_t T, int64_t B) const;
    double run_loss_graph(CachedGraph & g, const int32_t * tokens);

    GPT2Config config_;
    int n_threads_;
    Precision precision_ = Precision::kFP32;
    ggml_backend_t backend_ = nullptr;
    std::unique_ptr<ParameterSet> params_;
    std::unique_ptr<ParameterSet> grads_;
    CachedGraph logits_graph_;
    CachedGraph train_graph_;
    CachedGraph loss_graph_;
    float grad_scale_ = 1.0f;  // read by the cross-entropy backward when the train graph runs
    std::atomic<bool> cancel_requested_{false};
};

}  // namespace tweetsmith
