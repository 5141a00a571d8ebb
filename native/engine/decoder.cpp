#include "decoder.h"

#include "cpu_kernels.h"
#include "engine_error.h"
#include "gpt2_graph.h"
#include "sampling_weights.h"

#include <limits>
#include <numeric>

namespace tweetsmith {

Decoder::Decoder(GPT2Model & model, int64_t n_sequences, int64_t max_length, const SamplingWeights & weights)
    : model_(model), weights_(weights), n_sequences_(n_sequences), max_length_(max_length) {
    const GPT2Config & c = model.config();
    ggml_init_params p = {ggml_tensor_overhead() * size_t(2 * c.n_layer), nullptr, true};
    cache_ctx_ = ggml_init(p);
    if (!cache_ctx_) throw EngineError("out of memory creating the KV cache");
    // f16 caches where the weights are converted anyway (their rounding is coarser than
    // f16's) and the CPU's attention reads them: half the bytes each step reads
    const bool f16 = weights.output != model.params().wte && !model.device().portable() &&
                     cpu_kernels::cached_attention_takes_f16(c.head_size());
    for (int64_t l = 0; l < c.n_layer; l++) {
        if (!f16) {
            cache_.push_back(new_kv_cache_layer(cache_ctx_, c.head_size(), max_length, c.n_head, n_sequences));
            continue;
        }
        cache_.push_back({ggml_new_tensor_4d(cache_ctx_, GGML_TYPE_F16, c.head_size(), max_length, c.n_head, n_sequences),
                          ggml_new_tensor_4d(cache_ctx_, GGML_TYPE_F16, c.head_size(), max_length, c.n_head, n_sequences)});
    }
    cache_buffer_ = ggml_backend_alloc_ctx_tensors_from_buft(cache_ctx_, model.buffer_type());
    if (!cache_buffer_) {
        ggml_free(cache_ctx_);
        throw EngineError("out of memory allocating the KV cache on " + model.device().description().name);
    }
    // the portable attention reads the whole cache (masked): unwritten rows must be finite
    ggml_backend_buffer_clear(cache_buffer_, 0);
}

Decoder::~Decoder() {
    graphs_.clear();
    if (cache_buffer_) ggml_backend_buffer_free(cache_buffer_);
    if (cache_ctx_) ggml_free(cache_ctx_);
}

Decoder::StepGraph & Decoder::graph_for(int64_t t, bool all_positions, const Head & head) {
    auto & slot = graphs_[{t, all_positions}];
    if (slot) return *slot;
    slot = std::make_unique<StepGraph>();
    StepGraph & s = *slot;
    CachedGraph & g = s.g;
    const GPT2Config & c = model_.config();
    // grows with n_layer (a layer adds about 50 nodes and 60 tensors on the portable
    // path, and LoRA about 20 more); twice that, so a deep model cannot fill it (ggml would abort)
    const size_t n_nodes = 128 * size_t(c.n_layer) + 256;
    g.ctx = new_graph_context(n_nodes);
    g.T = t;
    g.B = n_sequences_;
    g.tokens = ggml_new_tensor_2d(g.ctx, GGML_TYPE_I32, t, n_sequences_);
    g.positions = ggml_new_tensor_1d(g.ctx, GGML_TYPE_I32, t);
    ggml_set_input(g.tokens);
    ggml_set_input(g.positions);
    std::unique_ptr<Ops> ops = model_.ops(g.ctx);
    s.in = ops->decode_inputs(t, max_length_, &n_past_);
    ForwardOptions options;
    options.converted = &weights_;
    options.cache = &cache_;
    options.decode = &s.in;
    options.last_position_only = !all_positions;
    options.lora = model_.lora();
    ggml_tensor * logits = gpt2_forward(*ops, c, model_.params(), g.tokens, g.positions, options).logits;
    g.output = head && !all_positions ? head(*ops, logits) : logits;
    ggml_set_output(g.output);
    g.graph = ggml_new_graph_custom(g.ctx, n_nodes, false);
    ggml_build_forward_expand(g.graph, g.output);
    model_.plan(g);
    return s;
}

ggml_tensor * Decoder::run(const int32_t * tokens, int64_t t, bool all_positions, const Head & head) {
    if (t < 1 || n_past_ + t > max_length_)
        throw EngineError("the decoder's cache holds " + std::to_string(max_length_) + " tokens; " + std::to_string(n_past_) +
                          " are cached and " + std::to_string(t) + " more do not fit");
    model_.check_tokens(tokens, t * n_sequences_);
    StepGraph & s = graph_for(t, all_positions, head);
    ggml_backend_tensor_set(s.g.tokens, tokens, 0, size_t(t * n_sequences_) * sizeof(int32_t));
    std::vector<int32_t> positions(static_cast<size_t>(t));
    std::iota(positions.begin(), positions.end(), int32_t(n_past_));
    ggml_backend_tensor_set(s.g.positions, positions.data(), 0, positions.size() * sizeof(int32_t));
    if (s.in.rows) {
        std::vector<int64_t> rows(static_cast<size_t>(t));
        std::iota(rows.begin(), rows.end(), n_past_);
        ggml_backend_tensor_set(s.in.rows, rows.data(), 0, rows.size() * sizeof(int64_t));
    }
    if (s.in.mask) {
        // query i (at position n_past + i) sees the keys at positions ≤ its own
        const float hidden = -std::numeric_limits<float>::infinity();
        std::vector<float> mask(size_t(t * max_length_), hidden);
        for (int64_t i = 0; i < t; i++) std::fill_n(mask.begin() + i * max_length_, n_past_ + i + 1, 0.0f);
        ggml_backend_tensor_set(s.in.mask, mask.data(), 0, mask.size() * sizeof(float));
    }
    model_.compute(s.g);  // the CPU's attention reads n_past_ (the tokens cached before this step)
    n_past_ += t;
    return s.g.output;
}

}  // namespace tweetsmith
