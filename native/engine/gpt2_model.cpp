#include "gpt2_model.h"

#include "decoder.h"
#include "engine_error.h"
#include "gpt2_graph.h"
#include "grad_sink.h"
#include "limits.h"
#include "rng.h"
#include "safetensors.h"
#include "sampling_weights.h"

#include <cmath>
#include <cstdio>
#include <numeric>

namespace tweetsmith {

namespace {

// The capacity of a training, loss or logits graph: its nodes, and the tensors of
// its context. Everything but the embeddings, the final LayerNorm and the loss is
// per layer, so the capacity grows with n_layer; a fixed one made ggml abort
// (GGML_ASSERT: the graph or its context is full) on a deep model. Measured: a
// layer adds at most about 220 nodes and 250 tensors (training in bf16 on the
// portable path); the budget is twice that. Bounded: n_layer <= limits::kMaxLayers.
size_t graph_nodes(const GPT2Config & c) { return 512 * size_t(c.n_layer) + 2048; }

std::string gib(int64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
    return text;
}

}  // namespace

GPT2Model::GPT2Model(const GPT2Config & config, int n_threads, const std::string & device, bool portable)
    : config_(config), n_threads_(n_threads) {
    config_.validate();
    if (n_threads < 1 || n_threads > limits::kMaxThreads)
        throw EngineError("threads must be between 1 and " + std::to_string(limits::kMaxThreads) + ", got " + std::to_string(n_threads));
    device_ = std::make_unique<ComputeDevice>(device, n_threads, portable);
    // Before allocating: weights that cannot fit in the device's memory are an error
    // now, not an allocation that the system grants lazily and kills the process for later.
    check_weight_copies(1, "its weights alone");
    auto turn = device_->exclusive();
    params_ = std::make_unique<ParameterSet>(config_, buffer_type(), "param");
}

GPT2Model::~GPT2Model() {
    sampling_weights_.reset();
    release_graphs();
    lora_grads_.reset();
    lora_.reset();
    grads_.reset();
    params_.reset();
    device_.reset();
}

void GPT2Model::set_threads(int n_threads) {
    device_->set_threads(n_threads);
    n_threads_ = n_threads;
}

void GPT2Model::release_graphs() {
    logits_graph_.release();
    train_graph_.release();
    loss_graph_.release();
}

void GPT2Model::set_precision(Precision precision) {
    if (precision == precision_) return;
    precision_ = precision;
    release_graphs();  // built for the other precision
}

ggml_type GPT2Model::matmul_type() const { return precision_ == Precision::kMixedBF16 ? GGML_TYPE_BF16 : GGML_TYPE_F32; }

void GPT2Model::compute(CachedGraph & g, bool cancellable) {
    const ggml_status status = device_->compute(g, cancellable ? &cancel_requested_ : nullptr);
    if (!cancellable && status == GGML_STATUS_SUCCESS) return;
    // a device stopped by a cancel request reports success: the request says it
    if (status == GGML_STATUS_ABORTED || cancel_requested_.exchange(false)) throw CancelledError();
    if (status != GGML_STATUS_SUCCESS) throw EngineError(std::string("ggml graph failed: ") + ggml_status_to_string(status));
}

// ---------------------------------------------------------------- build

void GPT2Model::init_random(uint64_t seed) {
    Rng rng(seed);
    const double std_base = 0.02;
    const double std_residual = 0.02 / std::sqrt(2.0 * double(config_.n_layer));
    std::vector<float> values;
    for (const ParameterEntry & e : params_->entries()) {
        values.assign(size_t(ggml_nelements(e.tensor)), 0.0f);
        if (e.layer_norm_weight) std::fill(values.begin(), values.end(), 1.0f);
        else if (e.tensor->ne[1] > 1) {  // a matrix or an embedding
            const double std = e.residual_projection ? std_residual : std_base;
            for (float & v : values) v = float(rng.normal() * std);
        }
        params_->write_hf_layout(e, values.data());
    }
}

void GPT2Model::load(const std::string & path) { load_safetensors(path, *params_); }
void GPT2Model::save(const std::string & path) const { save_safetensors(path, *params_); }

void GPT2Model::check_tokens(const int32_t * tokens, int64_t n) const {
    for (int64_t i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= config_.vocab_size)
            throw EngineError("token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                              " is outside the vocabulary (0.." + std::to_string(config_.vocab_size - 1) + ")");
}

void GPT2Model::check_weight_copies(int copies, const std::string & what) const {
    // below 2^50 within the bounds of GPT2Config::validate: no overflow. The weights
    // themselves count at their stored size (a bf16 or f16 base: about half), the
    // other copies (gradients, moments) in f32.
    const int64_t f32_copy = config_.parameter_count() * int64_t(sizeof(float));
    const int64_t weights = params_ ? int64_t(params_->bytes()) : f32_copy;
    const int64_t bytes = weights + f32_copy * (copies - 1);
    const size_t memory = device_->description().memory_total;
    if (memory > 0 && uint64_t(bytes) > memory)
        throw EngineError("a GPT-2 with " + config_.describe() + " has " + std::to_string(config_.parameter_count()) + " parameters: " +
                          what + " need " + gib(bytes) + ", more than the " + gib(int64_t(memory)) + " of memory of " +
                          device_->description().name + " (" + device_->description().description + ")");
}

// A lower bound on what a forward pass over B·T tokens keeps: per layer and token
// the block's saved tensors (about 16 C) and the attention's scores and
// probabilities (2 H T), and the logits and their gradient (2 V); 4 bytes each.
// Lower, so that it refuses only what cannot run; checked, so that a batch whose
// attention alone passes 2^63 bytes is refused rather than wrapped to a small size.
void GPT2Model::check_activation_memory(int64_t T, int64_t B) const {
    using Size = std::optional<int64_t>;  // nothing: past 2^63
    auto mul = [](Size a, Size b) { return a && b ? limits::checked_mul(*a, *b) : Size(); };
    auto add = [](Size a, Size b) { return a && b ? limits::checked_add(*a, *b) : Size(); };
    const GPT2Config & c = config_;
    const Size per_layer = add(mul(16, c.n_embd), mul(mul(2, c.n_head), T));
    const Size per_token = add(mul(c.n_layer, per_layer), add(mul(2, c.vocab_size), mul(4, c.n_embd)));
    const Size bytes = mul(mul(per_token, mul(T, B)), int64_t(sizeof(float)));
    const size_t memory = device_->description().memory_total;
    if (!bytes || (memory > 0 && uint64_t(*bytes) > memory))
        throw EngineError(std::to_string(B) + " sequences of " + std::to_string(T) + " tokens need " +
                          (bytes ? gib(*bytes) : std::string("more than 2^63 bytes")) + " of activations, more than the " +
                          gib(int64_t(memory)) + " of memory of " + device_->description().name + "; use shorter or fewer sequences");
}

// ---------------------------------------------------------------- forward

namespace {

void make_inputs(ggml_context * ctx, CachedGraph & g, int64_t T, int64_t B) {
    g.T = T;
    g.B = B;
    g.tokens = ggml_new_tensor_2d(ctx, GGML_TYPE_I32, T, B);
    g.positions = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T);
    ggml_set_input(g.tokens);
    ggml_set_input(g.positions);
}

void set_inputs(CachedGraph & g, const int32_t * tokens) {
    ggml_backend_tensor_set(g.tokens, tokens, 0, size_t(g.T * g.B) * sizeof(int32_t));
    std::vector<int32_t> pos(static_cast<size_t>(g.T));
    std::iota(pos.begin(), pos.end(), 0);
    ggml_backend_tensor_set(g.positions, pos.data(), 0, pos.size() * sizeof(int32_t));
}

}  // namespace

void GPT2Model::build_logits_graph(int64_t T) {
    if (logits_graph_.graph && logits_graph_.T == T) return;
    logits_graph_.release();
    CachedGraph & g = logits_graph_;
    g.ctx = new_graph_context(graph_nodes(config_));
    make_inputs(g.ctx, g, T, 1);
    ForwardOptions options;
    options.matmul_type = matmul_type();
    options.lora = lora_.get();
    ForwardResult f = gpt2_forward(*ops(g.ctx), config_, *params_, g.tokens, g.positions, options);
    g.output = f.logits;
    ggml_set_output(g.output);
    g.graph = ggml_new_graph_custom(g.ctx, graph_nodes(config_), false);
    ggml_build_forward_expand(g.graph, g.output);
    plan(g);
}

std::vector<float> GPT2Model::logits(const int32_t * tokens, int64_t T) {
    if (T < 1 || T > config_.n_positions)
        throw EngineError("sequence length " + std::to_string(T) + " must be between 1 and n_positions (" +
                          std::to_string(config_.n_positions) + ")");
    check_tokens(tokens, T);
    check_activation_memory(T, 1);
    build_logits_graph(T);
    set_inputs(logits_graph_, tokens);
    compute(logits_graph_);
    std::vector<float> out(static_cast<size_t>(T * config_.vocab_size));
    ggml_backend_tensor_get(logits_graph_.output, out.data(), 0, out.size() * sizeof(float));
    return out;
}

std::vector<float> GPT2Model::cached_logits(const int32_t * tokens, int64_t T, int64_t prompt_length) {
    if (T < 1 || T > config_.n_positions)
        throw EngineError("sequence length " + std::to_string(T) + " must be between 1 and n_positions (" +
                          std::to_string(config_.n_positions) + ")");
    if (prompt_length < 1 || prompt_length > T) throw EngineError("the prompt length must be between 1 and the sequence length");
    check_tokens(tokens, T);
    SamplingWeights weights(*this, GGML_TYPE_F32);
    Decoder decoder(*this, 1, T, weights);
    const size_t V = size_t(config_.vocab_size);
    std::vector<float> out(size_t(T) * V);
    for (int64_t at = 0; at < T;) {
        const int64_t t = at == 0 ? prompt_length : 1;
        ggml_tensor * logits = decoder.run(tokens + at, t, /*all_positions*/ true);  // [V, t, 1]
        ggml_backend_tensor_get(logits, out.data() + size_t(at) * V, 0, size_t(t) * V * sizeof(float));
        at += t;
    }
    return out;
}

// ---------------------------------------------------------------- backward

ParameterSet & GPT2Model::grads() {
    if (!grads_) {
        if (base_type() != GGML_TYPE_F32)
            throw EngineError(std::string("this model's matrices are stored as ") + ggml_type_name(base_type()) +
                              " (a frozen LoRA base): training the whole model needs them in f32");
        check_weight_copies(2, "its weights and their gradients");
        grads_ = std::make_unique<ParameterSet>(config_, buffer_type(), "grad");
        grads_->set_zero();
    }
    return *grads_;
}

void GPT2Model::zero_grads() {
    if (lora_) lora_grads().set_zero();
    else grads().set_zero();
}

// ---------------------------------------------------------------- LoRA

void GPT2Model::enable_lora(const LoraConfig & config, uint64_t seed, ggml_type base_type) {
    if (lora_) throw EngineError("this model already has LoRA adapters");
    auto lora = std::make_unique<LoraSet>(config_, config, buffer_type(), "lora");
    lora->init_random(seed);
    // the base in its new storage before anything changes: a failure leaves the model as it was
    std::unique_ptr<ParameterSet> converted = params_as(base_type);
    release_graphs();
    lora_ = std::move(lora);
    lora_grads_.reset();
    grads_.reset();  // the base is frozen: its gradients are never computed again
    lora_seed_ = seed;
    dropout_runs_ = 0;
    if (converted) replace_params(std::move(converted));
}

void GPT2Model::set_base_type(ggml_type type) {
    if (type != GGML_TYPE_F32 && !lora_)
        throw EngineError(std::string("only a frozen LoRA base can be stored as ") + ggml_type_name(type) + "; add adapters first");
    if (auto converted = params_as(type)) replace_params(std::move(converted));
}

// Both copies exist while the values are converted (about 1.5 times the weights
// for a moment); replace_params frees the old one. (The caller holds the device's turn.)
std::unique_ptr<ParameterSet> GPT2Model::params_as(ggml_type type) const {
    if (type == base_type()) return nullptr;
    auto converted = std::make_unique<ParameterSet>(config_, device_->buffer_type(), "param", type);
    converted->copy_from(*params_);
    return converted;
}

void GPT2Model::replace_params(std::unique_ptr<ParameterSet> converted) {
    release_graphs();  // they multiply by the old tensors
    sampling_weights_.reset();
    grads_.reset();
    params_ = std::move(converted);
    params_version_++;
}

LoraSet & GPT2Model::lora_grads() {
    if (!lora_) throw EngineError("this model has no LoRA adapters");
    if (!lora_grads_) {
        lora_grads_ = std::make_unique<LoraSet>(config_, lora_->config(), buffer_type(), "lora_grad");
        lora_grads_->set_zero();
    }
    return *lora_grads_;
}

void GPT2Model::merge_lora() {
    if (!lora_) throw EngineError("this model has no LoRA adapters to merge");
    set_base_type(GGML_TYPE_F32);  // merged in f32, and a merged model trains like any other
    const float s = lora_->config().scale();
    const int64_t r = lora_->config().rank;
    for (size_t l = 0; l < lora_->h.size(); l++) {
        const LoraLayer & a = lora_->h[l];
        const LayerTensors & w = params_->h[l];
        const std::pair<const LoraAdapter *, ggml_tensor *> pairs[4] = {
            {&a.attn_qkv, w.attn_qkv_w}, {&a.attn_proj, w.attn_proj_w}, {&a.mlp_fc, w.mlp_fc_w}, {&a.mlp_proj, w.mlp_proj_w}};
        for (const auto & [adapter, weight] : pairs) {
            if (!*adapter) continue;
            // W ne [in, out] is row-major [out][in], the transpose of Conv1D's stored
            // [in][out]: W[o][i] += s·Σ_k B[o][k]·A[k][i]
            const int64_t in = weight->ne[0], out = weight->ne[1];
            std::vector<float> W(size_t(in * out)), A(size_t(r * in)), B(size_t(out * r));
            ggml_backend_tensor_get(weight, W.data(), 0, W.size() * sizeof(float));
            ggml_backend_tensor_get(adapter->a, A.data(), 0, A.size() * sizeof(float));
            ggml_backend_tensor_get(adapter->b, B.data(), 0, B.size() * sizeof(float));
            for (int64_t o = 0; o < out; o++)
                for (int64_t i = 0; i < in; i++) {
                    double sum = 0.0;
                    for (int64_t k = 0; k < r; k++) sum += double(B[size_t(o * r + k)]) * double(A[size_t(k * in + i)]);
                    W[size_t(o * in + i)] += float(double(s) * sum);
                }
            ggml_backend_tensor_set(weight, W.data(), 0, W.size() * sizeof(float));
        }
    }
    params_->touched();
    release_graphs();
    lora_grads_.reset();
    lora_.reset();
}

// The loss graph (per-token losses of B sequences of T tokens) and, when
// `with_backward`, the backward pass that adds every gradient into grads().
void GPT2Model::build_loss_graph(LossGraph & lg, int64_t T, int64_t B, bool with_backward, const SamplingWeights * converted) {
    CachedGraph & g = lg.g;
    if (g.graph && g.T == T && g.B == B) return;
    lg.release();
    g.ctx = new_graph_context(graph_nodes(config_));
    make_inputs(g.ctx, g, T, B);
    std::unique_ptr<Ops> o = ops(g.ctx);
    lg.in = o->loss_inputs(T * B, with_backward, &grad_scale_);
    ForwardOptions options;
    options.matmul_type = matmul_type();
    options.output_weights = true;
    options.converted = converted;
    options.lora = lora_.get();
    if (lora_ && with_backward && lora_->config().dropout > 0) {
        // one mask per adapter over its input [in, T·B], filled with new draws each run
        for (const LoraLayer & a : lora_->h) {
            std::array<ggml_tensor *, 4> masks{};
            const LoraAdapter * adapters[4] = {&a.attn_qkv, &a.attn_proj, &a.mlp_fc, &a.mlp_proj};
            for (int i = 0; i < 4; i++) {
                if (!*adapters[i]) continue;
                masks[size_t(i)] = ggml_new_tensor_2d(g.ctx, GGML_TYPE_F32, adapters[i]->a->ne[0], T * B);
                ggml_set_input(masks[size_t(i)]);
            }
            lg.dropout.push_back(masks);
        }
        options.lora_dropout = &lg.dropout;
    }
    ForwardResult f = gpt2_forward(*o, config_, *params_, g.tokens, g.positions, options);
    const CrossEntropySaved ce = o->cross_entropy(f.logits, lg.in);
    g.output = ce.losses;
    ggml_set_output(g.output);
    g.graph = ggml_new_graph_custom(g.ctx, graph_nodes(config_), false);
    ggml_build_forward_expand(g.graph, g.output);
    if (with_backward) {
        ggml_tensor * dlogits = o->cross_entropy_backward(f.logits, ce, lg.in);
        GradSink sink{g.ctx, {}, {}};
        if (lora_) gpt2_backward(*o, sink, config_, *params_, nullptr, &lora_grads(), f, dlogits, g.tokens);
        else gpt2_backward(*o, sink, config_, *params_, &grads(), nullptr, f, dlogits, g.tokens);
        for (ggml_tensor * update : sink.updates) ggml_build_forward_expand(g.graph, update);
    }
    plan(g);
}

void GPT2Model::check_training_batch(const int32_t * tokens, int64_t T, int64_t B) const {
    if (T < 2 || T > config_.n_positions)
        throw EngineError("training sequences need between 2 and n_positions (" + std::to_string(config_.n_positions) +
                          ") tokens, got " + std::to_string(T));
    if (B < 1) throw EngineError("batch size must be at least 1");
    check_activation_memory(T, B);
    check_tokens(tokens, T * B);
}

// Sets the inputs (labels = inputs shifted by one; a sequence's last token
// predicts nothing), runs a graph whose output is the per-token losses, and
// returns their mean over the B·(T-1) predicted tokens.
double GPT2Model::run_loss_graph(LossGraph & lg, const int32_t * tokens) {
    CachedGraph & g = lg.g;
    const int64_t T = g.T, B = g.B, V = config_.vocab_size;
    set_inputs(g, tokens);
    std::vector<int32_t> targets(static_cast<size_t>(T * B));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) targets[size_t(b * T + t)] = t + 1 < T ? tokens[b * T + t + 1] : -1;
    if (lg.in.targets) ggml_backend_tensor_set(lg.in.targets, targets.data(), 0, targets.size() * sizeof(int32_t));
    if (lg.in.picks) {
        std::vector<int32_t> picks(targets.size());
        for (size_t r = 0; r < picks.size(); r++) picks[r] = int32_t(int64_t(r) * V + std::max(targets[r], 0));
        ggml_backend_tensor_set(lg.in.picks, picks.data(), 0, picks.size() * sizeof(int32_t));
    }
    if (lg.in.row_scale) {
        std::vector<float> scale(targets.size());
        for (size_t r = 0; r < scale.size(); r++) scale[r] = targets[r] < 0 ? 0.0f : grad_scale_;
        ggml_backend_tensor_set(lg.in.row_scale, scale.data(), 0, scale.size() * sizeof(float));
    }
    if (!lg.dropout.empty()) {
        // inverted dropout, as torch.nn.Dropout: kept inputs scaled by 1/(1-p)
        const double p = double(lora_->config().dropout);
        const float kept = float(1.0 / (1.0 - p));
        // this pass's own stream: the same seed and pass give the same masks, resumed or not
        Rng rng(lora_seed_ ^ (0xD1B54A32D192ED03ull * (dropout_runs_++ + 1)));
        std::vector<float> mask;
        for (const auto & masks : lg.dropout)
            for (ggml_tensor * m : masks) {
                if (!m) continue;
                mask.resize(size_t(ggml_nelements(m)));
                for (float & v : mask) v = rng.uniform() < p ? 0.0f : kept;
                ggml_backend_tensor_set(m, mask.data(), 0, mask.size() * sizeof(float));
            }
    }
    compute(g);
    std::vector<float> losses(targets.size());
    ggml_backend_tensor_get(g.output, losses.data(), 0, losses.size() * sizeof(float));
    double sum = 0.0;
    for (size_t r = 0; r < losses.size(); r++)
        if (targets[r] >= 0) sum += losses[r];
    return sum / double(B * (T - 1));
}

double GPT2Model::forward_backward(const int32_t * tokens, int64_t T, int64_t B, double scale) {
    check_training_batch(tokens, T, B);
    // training needs the memory more than a conversion of values it has since changed
    if (sampling_weights_ && sampling_stamp_ != params_->stamp()) sampling_weights_.reset();
    build_loss_graph(train_graph_, T, B, /*with_backward*/ true);
    grad_scale_ = float(scale / double(B * (T - 1)));
    return run_loss_graph(train_graph_, tokens);
}

double GPT2Model::loss(const int32_t * tokens, int64_t T, int64_t B, ggml_type weights) {
    check_training_batch(tokens, T, B);
    if (weights == GGML_TYPE_F32) {
        build_loss_graph(loss_graph_, T, B, /*with_backward*/ false);
        return run_loss_graph(loss_graph_, tokens);
    }
    // an evaluation of converted weights: planned for this call only
    const std::shared_ptr<const SamplingWeights> converted = sampling_weights(weights);
    LossGraph g;
    build_loss_graph(g, T, B, /*with_backward*/ false, converted.get());
    return run_loss_graph(g, tokens);
}

std::shared_ptr<const SamplingWeights> GPT2Model::sampling_weights(ggml_type type) {
    if (sampling_weights_ && sampling_weights_->type() == type && sampling_stamp_ == params_->stamp()) return sampling_weights_;
    sampling_weights_.reset();  // its memory back before the next conversion takes more
    sampling_weights_ = std::make_shared<const SamplingWeights>(*this, type);
    sampling_stamp_ = params_->stamp();
    return sampling_weights_;
}

}  // namespace tweetsmith
