#include "lora_set.h"

#include "engine_error.h"
#include "rng.h"

#include <cmath>

namespace tweetsmith {

void LoraConfig::validate() const {
    if (rank < 1) throw EngineError("LoRA rank must be at least 1, got " + std::to_string(rank));
    if (!(alpha > 0) || !std::isfinite(alpha)) throw EngineError("LoRA alpha must be a positive number");
    if (!(dropout >= 0 && dropout < 1)) throw EngineError("LoRA dropout must be in [0, 1)");
    if (targets == 0 || (targets & ~uint32_t(0xF)) != 0)
        throw EngineError("LoRA needs at least one target among c_attn, c_proj (attention), c_fc, c_proj (MLP)");
}

LoraSet::LoraSet(const GPT2Config & c, const LoraConfig & config, ggml_backend_buffer_type_t buft, const char * label)
    : config_(config) {
    config_.validate();
    // a rank past the model's width adds parameters and no expressiveness (B·A is at
    // most n_embd-ranked); bounding it also bounds the adapters' memory by the weights'
    if (config_.rank > c.n_embd)
        throw EngineError("LoRA rank " + std::to_string(config_.rank) + " is larger than the model's width (n_embd " + std::to_string(c.n_embd) + "); choose a rank of at most " + std::to_string(c.n_embd));
    const size_t n_tensors = 8 * size_t(c.n_layer);
    ggml_init_params params = {ggml_tensor_overhead() * n_tensors, nullptr, /*no_alloc*/ true};
    ctx_ = ggml_init(params);
    if (!ctx_) throw EngineError("out of memory creating the LoRA context");
    const int64_t C = c.n_embd, r = config_.rank;
    auto adapter = [&](LoraAdapter & ad, uint32_t target, const std::string & module, int64_t in, int64_t out) {
        if (!(config_.targets & target)) return;
        ad.a = ggml_new_tensor_2d(ctx_, GGML_TYPE_F32, in, r);
        ad.b = ggml_new_tensor_2d(ctx_, GGML_TYPE_F32, r, out);
        ggml_format_name(ad.a, "%s.%s.A", label, module.c_str());
        ggml_format_name(ad.b, "%s.%s.B", label, module.c_str());
        // HF's Trainer decays every weight that is not a bias or a LayerNorm: A and B included
        entries_.push_back({module + ".lora_A.weight", ad.a, {r, in}, false, true, false, false});
        entries_.push_back({module + ".lora_B.weight", ad.b, {out, r}, false, true, false, false});
    };
    h.resize(size_t(c.n_layer));
    for (int64_t l = 0; l < c.n_layer; l++) {
        LoraLayer & L = h[size_t(l)];
        const std::string p = "h." + std::to_string(l) + ".";
        adapter(L.attn_qkv, kLoraAttnQkv, p + "attn.c_attn", C, 3 * C);
        adapter(L.attn_proj, kLoraAttnProj, p + "attn.c_proj", C, C);
        adapter(L.mlp_fc, kLoraMlpFc, p + "mlp.c_fc", C, 4 * C);
        adapter(L.mlp_proj, kLoraMlpProj, p + "mlp.c_proj", 4 * C, C);
    }
    buffer_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, buft);
    if (!buffer_) {
        ggml_free(ctx_);
        throw EngineError(std::string("out of memory allocating the LoRA ") + label);
    }
}

LoraSet::~LoraSet() {
    if (buffer_) ggml_backend_buffer_free(buffer_);
    if (ctx_) ggml_free(ctx_);
}

const ParameterEntry * LoraSet::find(const std::string & name) const {
    for (const auto & e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

void LoraSet::set_zero() { ggml_backend_buffer_clear(buffer_, 0); }

void LoraSet::init_random(uint64_t seed) {
    Rng rng(seed);
    std::vector<float> values;
    for (const ParameterEntry & e : entries_) {
        values.assign(size_t(ggml_nelements(e.tensor)), 0.0f);
        const bool is_a = e.name.find(".lora_A.") != std::string::npos;
        if (is_a) {
            const double bound = 1.0 / std::sqrt(double(e.tensor->ne[0]));  // fan_in = in
            for (float & v : values) v = float((2.0 * rng.uniform() - 1.0) * bound);
        }
        write(e, values.data());
    }
}

std::vector<float> LoraSet::read(const ParameterEntry & e) const {
    std::vector<float> out(size_t(ggml_nelements(e.tensor)));
    ggml_backend_tensor_get(e.tensor, out.data(), 0, out.size() * sizeof(float));
    return out;
}

void LoraSet::write(const ParameterEntry & e, const float * data) {
    ggml_backend_tensor_set(e.tensor, data, 0, size_t(ggml_nelements(e.tensor)) * sizeof(float));
}

}  // namespace tweetsmith
