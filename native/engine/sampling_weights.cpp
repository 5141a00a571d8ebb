#include "sampling_weights.h"

#include "engine_error.h"
#include "q8_decode.h"


namespace tweetsmith {

ggml_type sampling_weight_type(const std::string & name) {
    if (name == "f32") return GGML_TYPE_F32;
    if (name == "f16") return GGML_TYPE_F16;
    if (name == "bf16") return GGML_TYPE_BF16;
    if (name == "q8_0") return GGML_TYPE_Q8_0;
    throw EngineError("unknown weight format '" + name + "' (use f32, f16, bf16 or q8_0)");
}

SamplingWeights::SamplingWeights(GPT2Model & model, ggml_type type) : type_(type) {
    ParameterSet & p = model.params();
    if (type == GGML_TYPE_F32) {
        output = p.wte;
        for (const LayerTensors & w : p.h) h.push_back({w.attn_qkv_w, w.attn_proj_w, w.mlp_fc_w, w.mlp_proj_w});
        return;
    }

    const int64_t block = ggml_blck_size(type);
    if (model.config().n_embd % block != 0)
        throw EngineError(std::string(ggml_type_name(type)) + " weights need n_embd to be a multiple of " + std::to_string(block) +
                          "; this model's is " + std::to_string(model.config().n_embd) + " (use f16 or bf16)");

    // q8_0 on a CPU with AVX512-VNNI: packed for q8_decode's product (same numbers, read once per step)
    packed_ = type == GGML_TYPE_Q8_0 && !model.device().portable() && q8_decode::supported();

    // the copies, then one graph that converts every matrix into its copy on the backend's threads
    std::vector<std::pair<ggml_tensor *, ggml_tensor *>> conversions;  // {source, copy}
    const size_t n_matrices = 1 + 4 * p.h.size();
    ggml_init_params params = {ggml_tensor_overhead() * n_matrices, nullptr, true};
    ctx_ = ggml_init(params);
    auto copy_of = [&](ggml_tensor * source) {
        // a matrix stored in the wanted type already (a frozen LoRA base in bf16 or f16) is used as it is
        if (source->type == type && !packed_) return source;
        ggml_tensor * copy = packed_ ? q8_decode::new_packed(ctx_, source->ne[0], source->ne[1])
                                     : ggml_new_tensor_2d(ctx_, type, source->ne[0], source->ne[1]);
        conversions.push_back({source, copy});
        return copy;
    };
    output = copy_of(p.wte);
    for (const LayerTensors & w : p.h)
        h.push_back({copy_of(w.attn_qkv_w), copy_of(w.attn_proj_w), copy_of(w.mlp_fc_w), copy_of(w.mlp_proj_w)});
    buffer_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, model.buffer_type());
    if (!buffer_) {
        ggml_free(ctx_);
        throw EngineError(std::string("out of memory converting the weights to ") + ggml_type_name(type));
    }

    CachedGraph g;
    try {
        const size_t n_nodes = 3 * n_matrices;  // a copy each, and a widening of a narrower matrix
        g.ctx = new_graph_context(n_nodes);
        g.graph = ggml_new_graph_custom(g.ctx, n_nodes, false);
        for (auto & [stored, copy] : conversions) {
            // a matrix stored narrower (a frozen LoRA base) is widened to f32 first, in the
            // graph: the pack reads f32, and a GPU may lack the direct copy (Vulkan has no
            // bf16 to f16), which the scheduler can move to the CPU only for a new tensor
            ggml_tensor * source = stored->type == GGML_TYPE_F32 ? stored : ggml_cast(g.ctx, stored, GGML_TYPE_F32);
            if (!packed_) {
                ggml_build_forward_expand(g.graph, ggml_cpy(g.ctx, source, copy));
                continue;
            }
            // quantised to q8_0 as ggml_cpy does and packed, a group of rows at a time
            ggml_tensor * args[] = {source};
            ggml_build_forward_expand(g.graph, ggml_custom_inplace(g.ctx, copy, args, 1, q8_decode::pack_rows, GGML_N_TASKS_MAX, nullptr));
        }
        model.plan(g);
        model.compute(g, /*cancellable*/ false);
    } catch (...) {
        g.release();
        ggml_backend_buffer_free(buffer_);
        ggml_free(ctx_);
        throw;
    }
}

SamplingWeights::~SamplingWeights() {
    if (buffer_) ggml_backend_buffer_free(buffer_);
    if (ctx_) ggml_free(ctx_);
}

}  // namespace tweetsmith
