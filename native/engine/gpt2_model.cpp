#include "gpt2_model.h"

#include "engine_error.h"
#include "gpt2_layers.h"
#include "grad_sink.h"
#include "rng.h"
#include "safetensors.h"
#include "sampling_weights.h"

#include <ggml-cpu.h>

#include <cmath>
#include <numeric>

namespace tweetsmith {

namespace {

constexpr size_t kMaxGraphNodes = 32768;

ggml_context * new_graph_context() {
    ggml_init_params p = {ggml_tensor_overhead() * kMaxGraphNodes + ggml_graph_overhead_custom(kMaxGraphNodes, false), nullptr,
                          /*no_alloc*/ true};
    ggml_context * ctx = ggml_init(p);
    if (!ctx) throw EngineError("out of memory creating a graph");
    return ctx;
}

bool abort_requested(void * data) { return static_cast<std::atomic<bool> *>(data)->load(); }

}  // namespace

void CachedGraph::release() {
    if (allocr) ggml_gallocr_free(allocr);
    if (ctx) ggml_free(ctx);
    *this = CachedGraph{};
}

GPT2Model::GPT2Model(const GPT2Config & config, int n_threads) : config_(config), n_threads_(n_threads) {
    config_.validate();
    backend_ = ggml_backend_cpu_init();
    if (!backend_) throw EngineError("could not start ggml's CPU backend");
    set_threads(n_threads);
    ggml_backend_cpu_set_abort_callback(backend_, abort_requested, &cancel_requested_);
    params_ = std::make_unique<ParameterSet>(config_, backend_, "param");
}

GPT2Model::~GPT2Model() {
    logits_graph_.release();
    train_graph_.release();
    loss_graph_.release();
    grads_.reset();
    params_.reset();
    if (backend_) ggml_backend_free(backend_);
}

void GPT2Model::set_threads(int n_threads) {
    if (n_threads < 1) throw EngineError("threads must be at least 1");
    n_threads_ = n_threads;
    ggml_backend_cpu_set_n_threads(backend_, n_threads);
}

void GPT2Model::set_precision(Precision precision) {
    if (precision == precision_) return;
    precision_ = precision;
    logits_graph_.release();  // built for the other precision
    train_graph_.release();
    loss_graph_.release();
}

ggml_type GPT2Model::matmul_type() const { return precision_ == Precision::kMixedBF16 ? GGML_TYPE_BF16 : GGML_TYPE_F32; }

void GPT2Model::compute(ggml_cgraph * graph, bool cancellable) {
    if (!cancellable) ggml_backend_cpu_set_abort_callback(backend_, nullptr, nullptr);
    const ggml_status status = ggml_backend_graph_compute(backend_, graph);
    if (!cancellable) {
        ggml_backend_cpu_set_abort_callback(backend_, abort_requested, &cancel_requested_);
        if (status == GGML_STATUS_SUCCESS) return;
    }
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

// ---------------------------------------------------------------- forward

namespace {

struct ForwardResult {
    ggml_tensor * logits;          // [V, T, B], or with a padded output layer [V, T·B] strided
    ggml_tensor * wte_padded;      // the output layer's padded weights (nullptr when not padded)
    ggml_tensor * final_norm_out;  // [C, T, B]
    ggml_tensor * embedded;        // the residual stream's start [C, T, B]
    LayerNormSaved ln_f;
    struct Layer {
        ggml_tensor * x_in;  // residual stream entering the block
        // the weights as multiplied: the parameters, or their bf16 copies in mixed precision
        ggml_tensor * w_qkv, * w_attn_proj, * w_fc, * w_mlp_proj;
        LayerNormSaved ln_1, ln_2;
        ggml_tensor * ln_1_out, * qkv, * attn_out, * x_mid, * ln_2_out, * fc, * fc_gelu;
        AttentionSaved attn;
    };
    std::vector<Layer> layers;
};

// `pad_output`: compute the output layer over a padded vocabulary (faster for
// many tokens; see pad_vocab). Logits for the caller to read come unpadded.
// `matmul_type`: F32, or BF16 to multiply by bf16 copies of the weights (made in
// the graph, from the f32 parameters, every time it runs). `converted`: multiply
// by these matrices instead (forward only; see sampling_weights.h).
ForwardResult gpt2_forward(ggml_context * ctx, const GPT2Config & c, ParameterSet & p, ggml_tensor * tokens,
                           ggml_tensor * positions, bool pad_output, ggml_type matmul_type,
                           const SamplingWeights * converted = nullptr) {
    ForwardResult r;
    r.wte_padded = nullptr;
    const float eps = c.layer_norm_epsilon;
    auto as_multiplied = [&](ggml_tensor * w) { return w->type == matmul_type ? w : ggml_cast(ctx, w, matmul_type); };
    if (converted) pad_output = false;  // the converted output matrix is multiplied as it is
    ggml_tensor * x = r.embedded = embedding_forward(ctx, p.wte, p.wpe, tokens, positions);
    r.layers.resize(p.h.size());
    for (size_t l = 0; l < p.h.size(); l++) {
        const LayerTensors & w = p.h[l];
        ForwardResult::Layer & L = r.layers[l];
        L.x_in = x;
        if (converted) {
            const SamplingLayerMatrices & m = converted->h[l];
            L.w_qkv = m.attn_qkv_w, L.w_attn_proj = m.attn_proj_w, L.w_fc = m.mlp_fc_w, L.w_mlp_proj = m.mlp_proj_w;
        } else {
            L.w_qkv = as_multiplied(w.attn_qkv_w);
            L.w_attn_proj = as_multiplied(w.attn_proj_w);
            L.w_fc = as_multiplied(w.mlp_fc_w);
            L.w_mlp_proj = as_multiplied(w.mlp_proj_w);
        }
        L.ln_1_out = layernorm_forward(ctx, x, w.ln_1_w, w.ln_1_b, eps, &L.ln_1);
        L.qkv = linear_forward(ctx, L.ln_1_out, L.w_qkv, w.attn_qkv_b);
        L.attn_out = attention_forward(ctx, L.qkv, c.n_head, converted ? GGML_TYPE_F32 : matmul_type, &L.attn);
        L.x_mid = ggml_add(ctx, x, linear_forward(ctx, L.attn_out, L.w_attn_proj, w.attn_proj_b));
        L.ln_2_out = layernorm_forward(ctx, L.x_mid, w.ln_2_w, w.ln_2_b, eps, &L.ln_2);
        L.fc = linear_forward(ctx, L.ln_2_out, L.w_fc, w.mlp_fc_b);
        L.fc_gelu = gelu_forward(ctx, L.fc);
        x = ggml_add(ctx, L.x_mid, linear_forward(ctx, L.fc_gelu, L.w_mlp_proj, w.mlp_proj_b));
    }
    r.final_norm_out = layernorm_forward(ctx, x, p.ln_f_w, p.ln_f_b, eps, &r.ln_f);
    // the output layer is tied to wte
    if (pad_output) {
        r.wte_padded = pad_vocab(ctx, as_multiplied(p.wte));
        r.logits = lm_head_forward(ctx, r.final_norm_out, r.wte_padded, c.vocab_size);
    } else {
        r.logits = output_logits(ctx, converted ? converted->output : as_multiplied(p.wte), r.final_norm_out);
    }
    return r;
}

// The backward pass, last layer first; parameter gradients go into `g`.
void gpt2_backward(ggml_context * ctx, GradSink & sink, const GPT2Config & c, ParameterSet & p, ParameterSet & g,
                   const ForwardResult & f, ggml_tensor * dlogits, ggml_tensor * tokens) {
    const float * eps = &c.layer_norm_epsilon;
    ggml_tensor * dx = lm_head_backward(ctx, sink, dlogits, f.final_norm_out, f.wte_padded, g.wte);
    dx = layernorm_backward(ctx, sink, dx, f.ln_f, p.ln_f_w, eps, g.ln_f_w, g.ln_f_b);
    for (size_t l = p.h.size(); l-- > 0;) {
        const LayerTensors & w = p.h[l];
        const LayerTensors & dw = g.h[l];
        const ForwardResult::Layer & L = f.layers[l];
        // x_out = x_mid + mlp(ln_2(x_mid))
        ggml_tensor * d = linear_backward(ctx, sink, dx, L.fc_gelu, L.w_mlp_proj, dw.mlp_proj_w, dw.mlp_proj_b);
        d = gelu_backward(ctx, d, L.fc);
        d = linear_backward(ctx, sink, d, L.ln_2_out, L.w_fc, dw.mlp_fc_w, dw.mlp_fc_b);
        d = layernorm_backward(ctx, sink, d, L.ln_2, w.ln_2_w, eps, dw.ln_2_w, dw.ln_2_b);
        ggml_tensor * dx_mid = ggml_add(ctx, dx, d);
        // x_mid = x_in + attn(ln_1(x_in))
        d = linear_backward(ctx, sink, dx_mid, L.attn_out, L.w_attn_proj, dw.attn_proj_w, dw.attn_proj_b);
        d = attention_backward(ctx, d, L.attn, c.n_head);
        d = linear_backward(ctx, sink, d, L.ln_1_out, L.w_qkv, dw.attn_qkv_w, dw.attn_qkv_b);
        d = layernorm_backward(ctx, sink, d, L.ln_1, w.ln_1_w, eps, dw.ln_1_w, dw.ln_1_b);
        dx = ggml_add(ctx, dx_mid, d);
    }
    embedding_backward(ctx, sink, dx, tokens, g.wte, g.wpe);
}

void make_inputs(ggml_context * ctx, CachedGraph & g, int64_t T, int64_t B) {
    g.T = T;
    g.B = B;
    g.tokens = ggml_new_tensor_2d(ctx, GGML_TYPE_I32, T, B);
    g.positions = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T);
    ggml_set_input(g.tokens);
    ggml_set_input(g.positions);
}

void plan(CachedGraph & g, ggml_backend_t backend) {
    g.allocr = ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend));
    if (!ggml_gallocr_alloc_graph(g.allocr, g.graph)) throw EngineError("out of memory allocating the compute graph");
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
    g.ctx = new_graph_context();
    make_inputs(g.ctx, g, T, 1);
    ForwardResult f = gpt2_forward(g.ctx, config_, *params_, g.tokens, g.positions, /*pad_output*/ false, matmul_type());
    g.output = f.logits;
    ggml_set_output(g.output);
    g.graph = ggml_new_graph_custom(g.ctx, kMaxGraphNodes, false);
    ggml_build_forward_expand(g.graph, g.output);
    plan(g, backend_);
}

std::vector<float> GPT2Model::logits(const int32_t * tokens, int64_t T) {
    if (T < 1 || T > config_.n_positions)
        throw EngineError("sequence length " + std::to_string(T) + " must be between 1 and n_positions (" +
                          std::to_string(config_.n_positions) + ")");
    check_tokens(tokens, T);
    build_logits_graph(T);
    set_inputs(logits_graph_, tokens);
    compute(logits_graph_.graph);
    std::vector<float> out(static_cast<size_t>(T * config_.vocab_size));
    ggml_backend_tensor_get(logits_graph_.output, out.data(), 0, out.size() * sizeof(float));
    return out;
}

// ---------------------------------------------------------------- backward

ParameterSet & GPT2Model::grads() {
    if (!grads_) {
        grads_ = std::make_unique<ParameterSet>(config_, backend_, "grad");
        grads_->set_zero();
    }
    return *grads_;
}

void GPT2Model::zero_grads() { grads().set_zero(); }

// The loss graph (per-token losses of B sequences of T tokens) and, when
// `with_backward`, the backward pass that adds every gradient into grads().
void GPT2Model::build_loss_graph(CachedGraph & g, int64_t T, int64_t B, bool with_backward, const SamplingWeights * converted) {
    if (g.graph && g.T == T && g.B == B) return;
    g.release();
    g.ctx = new_graph_context();
    make_inputs(g.ctx, g, T, B);
    g.targets = ggml_new_tensor_1d(g.ctx, GGML_TYPE_I32, T * B);
    ggml_set_input(g.targets);
    ForwardResult f = gpt2_forward(g.ctx, config_, *params_, g.tokens, g.positions, /*pad_output*/ true, matmul_type(), converted);
    g.output = cross_entropy_forward(g.ctx, f.logits, g.targets);
    ggml_set_output(g.output);
    g.graph = ggml_new_graph_custom(g.ctx, kMaxGraphNodes, false);
    ggml_build_forward_expand(g.graph, g.output);
    if (with_backward) {
        ggml_tensor * dlogits = cross_entropy_backward(g.ctx, f.logits, g.targets, g.output, &grad_scale_);
        GradSink sink{g.ctx, {}, {}};
        gpt2_backward(g.ctx, sink, config_, *params_, grads(), f, dlogits, g.tokens);
        for (ggml_tensor * update : sink.updates) ggml_build_forward_expand(g.graph, update);
    }
    plan(g, backend_);
}

void GPT2Model::check_training_batch(const int32_t * tokens, int64_t T, int64_t B) const {
    if (T < 2 || T > config_.n_positions)
        throw EngineError("training sequences need between 2 and n_positions (" + std::to_string(config_.n_positions) +
                          ") tokens, got " + std::to_string(T));
    if (B < 1) throw EngineError("batch size must be at least 1");
    check_tokens(tokens, T * B);
}

// Sets the inputs (labels = inputs shifted by one; a sequence's last token
// predicts nothing), runs a graph whose output is the per-token losses, and
// returns their mean over the B·(T-1) predicted tokens.
double GPT2Model::run_loss_graph(CachedGraph & g, const int32_t * tokens) {
    const int64_t T = g.T, B = g.B;
    set_inputs(g, tokens);
    std::vector<int32_t> targets(static_cast<size_t>(T * B));
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) targets[size_t(b * T + t)] = t + 1 < T ? tokens[b * T + t + 1] : -1;
    ggml_backend_tensor_set(g.targets, targets.data(), 0, targets.size() * sizeof(int32_t));
    compute(g.graph);
    std::vector<float> losses(targets.size());
    ggml_backend_tensor_get(g.output, losses.data(), 0, losses.size() * sizeof(float));
    double sum = 0.0;
    for (float v : losses) sum += v;
    return sum / double(B * (T - 1));
}

double GPT2Model::forward_backward(const int32_t * tokens, int64_t T, int64_t B, double scale) {
    check_training_batch(tokens, T, B);
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
    // an evaluation of converted weights: converted and planned for this call only
    SamplingWeights converted(*this, weights);
    CachedGraph g;
    build_loss_graph(g, T, B, /*with_backward*/ false, &converted);
    return run_loss_graph(g, tokens);
}

}  // namespace tweetsmith
