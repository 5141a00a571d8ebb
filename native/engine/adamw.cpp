#include "adamw.h"

#include "cpu_kernels.h"
#include "engine_error.h"

#include <cmath>

namespace tweetsmith {

namespace {

ggml_context * small_graph_context(size_t n_nodes) {
    ggml_init_params p = {ggml_tensor_overhead() * n_nodes * 4 + ggml_graph_overhead_custom(n_nodes * 4, false), nullptr, true};
    ggml_context * ctx = ggml_init(p);
    if (!ctx) throw EngineError("out of memory creating the optimizer graph");
    return ctx;
}

}  // namespace

AdamW::AdamW(GPT2Model & model, const AdamWConfig & config) : model_(model), config_(config) {
    if (!(config.beta1 >= 0 && config.beta1 < 1) || !(config.beta2 >= 0 && config.beta2 < 1))
        throw EngineError("AdamW betas must be in [0, 1)");
    if (!(config.eps > 0)) throw EngineError("AdamW eps must be positive");
    m_ = std::make_unique<ParameterSet>(model.config(), model.backend(), "adam_m");
    v_ = std::make_unique<ParameterSet>(model.config(), model.backend(), "adam_v");
    m_->set_zero();
    v_->set_zero();
    build_graphs();
}

AdamW::~AdamW() {
    norm_graph_.release();
    update_graph_.release();
}

void AdamW::build_graphs() {
    ParameterSet & p = model_.params();
    ParameterSet & g = model_.grads();
    const size_t n = p.entries().size();

    // Σg² of each parameter as per-thread partial sums, gathered into one small vector
    CachedGraph & ng = norm_graph_;
    ng.ctx = small_graph_context(n);
    ggml_tensor * sums = nullptr;
    for (const ParameterEntry & e : g.entries()) {
        ggml_tensor * args[] = {e.tensor};
        ggml_tensor * s = ggml_custom_4d(ng.ctx, GGML_TYPE_F32, cpu_kernels::kPartialSums, 1, 1, 1, args, 1,
                                         cpu_kernels::partial_sums_of_squares, cpu_kernels::kPartialSums, nullptr);
        sums = sums ? ggml_concat(ng.ctx, sums, s, 0) : s;
    }
    ng.output = sums;
    ggml_set_output(sums);
    ng.graph = ggml_new_graph_custom(ng.ctx, n * 4, false);
    ggml_build_forward_expand(ng.graph, sums);
    ng.allocr = ggml_gallocr_new(ggml_backend_get_default_buffer_type(model_.backend()));
    if (!ggml_gallocr_alloc_graph(ng.allocr, ng.graph)) throw EngineError("out of memory planning the optimizer");

    CachedGraph & ug = update_graph_;
    ug.ctx = small_graph_context(n);
    decay_params_ = ggml_new_tensor_1d(ug.ctx, GGML_TYPE_F32, 7);
    plain_params_ = ggml_new_tensor_1d(ug.ctx, GGML_TYPE_F32, 7);
    for (ggml_tensor * t : {decay_params_, plain_params_}) ggml_set_input(t);
    ug.graph = ggml_new_graph_custom(ug.ctx, n * 4, false);
    for (size_t i = 0; i < n; i++) {
        const ParameterEntry & e = p.entries()[i];
        ggml_set_param(e.tensor);
        // in place: the gradients are zeroed after the step anyway (a ggml_mul by a
        // one-element tensor would take ggml's slow broadcast path and a temporary copy)
        ggml_tensor * clipped = ggml_map_custom1_inplace(ug.ctx, g.entries()[i].tensor, cpu_kernels::scale_in_place,
                                                         GGML_N_TASKS_MAX, &clip_coef_);
        ggml_tensor * update = ggml_opt_step_adamw(ug.ctx, e.tensor, clipped, m_->entries()[i].tensor, v_->entries()[i].tensor,
                                                   e.weight_decay ? decay_params_ : plain_params_);
        ggml_build_forward_expand(ug.graph, update);
    }
    ug.allocr = ggml_gallocr_new(ggml_backend_get_default_buffer_type(model_.backend()));
    if (!ggml_gallocr_alloc_graph(ug.allocr, ug.graph)) throw EngineError("out of memory planning the optimizer");
}

double AdamW::grad_norm() {
    model_.compute(norm_graph_.graph);
    std::vector<float> sums(static_cast<size_t>(ggml_nelements(norm_graph_.output)));
    ggml_backend_tensor_get(norm_graph_.output, sums.data(), 0, sums.size() * sizeof(float));
    double total = 0.0;
    for (float s : sums) total += double(s);
    return std::sqrt(total);
}

AdamWStepResult AdamW::step(float lr) {
    if (!(lr >= 0.0f) || !std::isfinite(lr)) throw EngineError("learning rate must be a finite number >= 0");
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
    ggml_backend_tensor_set(decay_params_, decay, 0, sizeof(decay));
    ggml_backend_tensor_set(plain_params_, plain, 0, sizeof(plain));
    model_.compute(update_graph_.graph, /*cancellable*/ false);
    model_.zero_grads();
    return result;
}

}  // namespace tweetsmith
