// GPT-2 over a KV cache, for sampling: a prompt in one pass, then a few new
// tokens at a time, each step attending to everything cached so far. A graph is
// built and planned once per step shape (the prompt's, then one token's) and run
// again for every later step of that shape: what changes per step (n_past, and
// on the portable path the cache rows and the causal mask) is read when it runs.
#pragma once
#include "gpt2_model.h"
#include "ops.h"

#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace tweetsmith {

class SamplingWeights;

class Decoder {
public:
    // What to add after the logits [V, B] of each sequence's last position, e.g. a
    // node that chooses tokens on the CPU's threads; its result becomes the output.
    using Head = std::function<ggml_tensor *(Ops & ops, ggml_tensor * logits)>;

    // Caches for `n_sequences` sequences of up to `max_length` tokens, multiplying by `weights`.
    Decoder(GPT2Model & model, int64_t n_sequences, int64_t max_length, const SamplingWeights & weights);
    ~Decoder();
    Decoder(const Decoder &) = delete;
    Decoder & operator=(const Decoder &) = delete;

    // Runs the next t tokens of each sequence (tokens [B][t]) and returns the graph's
    // output, still on the device: the logits [V, t, B] of every new position with
    // `all_positions`, otherwise of each sequence's last one [V, B] (or `head`'s node).
    // A given (t, all_positions) must always come with the same head.
    ggml_tensor * run(const int32_t * tokens, int64_t t, bool all_positions, const Head & head = nullptr);
    int64_t n_past() const { return n_past_; }

private:
    struct StepGraph {
        CachedGraph g;
        DecodeInputs in;
    };
    StepGraph & graph_for(int64_t t, bool all_positions, const Head & head);

    GPT2Model & model_;
    const SamplingWeights & weights_;
    int64_t n_sequences_, max_length_;
    int64_t n_past_ = 0;  // tokens in the caches; the CPU's attention reads it when a graph runs
    ggml_context * cache_ctx_ = nullptr;
    ggml_backend_buffer_t cache_buffer_ = nullptr;
    std::vector<KVCacheLayer> cache_;
    std::map<std::pair<int64_t, bool>, std::unique_ptr<StepGraph>> graphs_;
};

}  // namespace tweetsmith
