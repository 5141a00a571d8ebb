#include "adamw.h"

#include "engine_error.h"

#include <cmath>

namespace tweetsmith {

AdamW::AdamW(GPT2Model & model, const AdamWConfig & config) : model_(model), config_(config) {
    if (!(config.beta1 >= 0 && config.beta1 < 1) || !(config.beta2 >= 0 && config.beta2 < 1))
        throw EngineError("AdamW betas must be in [0, 1)");
    if (!(config.eps > 0)) throw EngineError("AdamW eps must be positive");
    trains_ = model.lora();
    if (trains_) {
        lm_ = std::make_unique<LoraSet>(model.config(), trains_->config(), model.buffer_type(), "adam_m");
        lv_ = std::make_unique<LoraSet>(model.config(), trains_->config(), model.buffer_type(), "adam_v");
        lm_->set_zero();
        lv_->set_zero();
    } else {
        model.check_weight_copies(4, "its weights, gradients and AdamW's two moments");
        m_ = std::make_unique<ParameterSet>(model.config(), model.buffer_type(), "adam_m");
        v_ = std::make_unique<ParameterSet>(model.config(), model.buffer_type(), "adam_v");
        m_->set_zero();
        v_->set_zero();
    }
    build_graphs();
}

AdamW::~AdamW() {
    norm_graph_.release();
    update_graph_.release();
}

ParameterSet & AdamW::first_moment() {
    if (!m_) throw EngineError("this optimizer trains LoRA adapters; their moments are lora_moment(0)");
    return *m_;
}

ParameterSet & AdamW::second_moment() {
    if (!v_) throw EngineError("this optimizer trains LoRA adapters; their moments are lora_moment(1)");
    return *v_;
}

void AdamW::build_graphs() {
    // what trains: every parameter, or the adapters alone
    const auto & p = trains_ ? trains_->entries() : model_.params().entries();
    const auto & g = trains_ ? model_.lora_grads().entries() : model_.grads().entries();
    const auto & m = trains_ ? lm_->entries() : m_->entries();
    const auto & v = trains_ ? lv_->entries() : v_->entries();
    const size_t n = p.size();
    const size_t max_nodes = n * 4;

    // Σg² of each parameter as partial sums, gathered into one small vector
    CachedGraph & ng = norm_graph_;
    ng.ctx = new_graph_context(max_nodes);
    std::unique_ptr<Ops> norm_ops = model_.ops(ng.ctx);
    ggml_tensor * sums = nullptr;
    for (const ParameterEntry & e : g) {
        ggml_tensor * s = norm_ops->sum_of_squares(e.tensor);
        sums = sums ? ggml_concat(ng.ctx, sums, s, 0) : s;
    }
    ng.output = sums;
    ggml_set_output(sums);
    ng.graph = ggml_new_graph_custom(ng.ctx, max_nodes, false);
    ggml_build_forward_expand(ng.graph, sums);
    model_.plan(ng);

    CachedGraph & ug = update_graph_;
    ug.ctx = new_graph_context(max_nodes);
    std::unique_ptr<Ops> update_ops = model_.ops(ug.ctx);
    decay_params_ = ggml_new_tensor_1d(ug.ctx, GGML_TYPE_F32, 7);
    plain_params_ = ggml_new_tensor_1d(ug.ctx, GGML_TYPE_F32, 7);
    for (ggml_tensor * t : {decay_params_, plain_params_}) ggml_set_input(t);
    if (update_ops->portable()) {
        clip_tensor_ = ggml_new_tensor_1d(ug.ctx, GGML_TYPE_F32, 1);
        ggml_set_input(clip_tensor_);
    }
    ug.graph = ggml_new_graph_custom(ug.ctx, max_nodes, false);
    for (size_t i = 0; i < n; i++) {
        const ParameterEntry & e = p[i];
        ggml_set_param(e.tensor);
        ggml_tensor * update = update_ops->adamw_step(e.tensor, g[i].tensor, m[i].tensor, v[i].tensor,
                                                      e.weight_decay ? decay_params_ : plain_params_, clip_tensor_, &clip_coef_);
        ggml_build_forward_expand(ug.graph, update);
    }
    model_.plan(ug);
}

double AdamW::grad_norm() {
    model_.compute(norm_graph_);
    std::vector<float> sums(static_cast<size_t>(ggml_nelements(norm_graph_.output)));
    ggml_backend_tensor_get(norm_graph_.output, sums.data(), 0, sums.size() * sizeof(float));
    double total = 0.0;
    for (float s : sums) total += double(s);
    return std::sqrt(total);
}

AdamWStepResult AdamW::step(float lr) {
    if (!(lr >= 0.0f) || !std::isfinite(lr)) throw EngineError("learning rate must be a finite number >= 0");
    if (model_.lora() != trains_)
        throw EngineError(trains_ ? "the model's LoRA adapters were merged or replaced since this optimizer was made; make a new trainer"
                                  : "the model has LoRA adapters now; make a new trainer to train them");
    AdamWStepResult result;
    result.grad_norm = grad_norm();
    if (!std::isfinite(result.grad_norm))
        throw EngineError("the gradient norm is not finite (" + std::to_string(result.grad_norm) +
                          "); the step was skipped. Lower the learning rate or check the data.");
    result.clip_coef = 1.0;
    if (config_.max_grad_norm > 0) result.clip_coef = std::min(1.0, double(config_.max_grad_norm) / (result.grad_norm + 1e-6));

    t_++;
    const float coef = float(result.clip_coef);
    const float bc1 = float(1.0 / (1.0 - std::pow(double(config_.beta1), double(t_))));
    const float bc2 = float(1.0 / (1.0 - std::pow(double(config_.beta2), double(t_))));
    const float decay[7] = {lr, config_.beta1, config_.beta2, config_.eps, config_.weight_decay, bc1, bc2};
    const float plain[7] = {lr, config_.beta1, config_.beta2, config_.eps, 0.0f, bc1, bc2};
    clip_coef_ = coef;
    if (clip_tensor_) ggml_backend_tensor_set(clip_tensor_, &coef, 0, sizeof(coef));
    // a group with no member (LoRA's adapters are all decayed) is not in the graph, so not allocated
    if (decay_params_->buffer) ggml_backend_tensor_set(decay_params_, decay, 0, sizeof(decay));
    if (plain_params_->buffer) ggml_backend_tensor_set(plain_params_, plain, 0, sizeof(plain));
    model_.compute(update_graph_, /*cancellable*/ false);
    if (!trains_) model_.params().touched();  // the base's values changed (LoRA's base stays frozen)
    model_.zero_grads();
    return result;
}

}  // namespace tweetsmith
