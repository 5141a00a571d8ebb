#include "parameter_set.h"

#include "engine_error.h"

#include <atomic>

namespace tweetsmith {

ggml_type base_weight_type(const std::string & name) {
    if (name == "f32") return GGML_TYPE_F32;
    if (name == "bf16") return GGML_TYPE_BF16;
    if (name == "f16") return GGML_TYPE_F16;
    throw EngineError("unknown base weight type '" + name + "' (use f32, bf16 or f16)");
}

ParameterSet::ParameterSet(const GPT2Config & c, ggml_backend_buffer_type_t buft, const char * label, ggml_type matrix_type)
    : matrix_type_(matrix_type) {
    touched();
    if (matrix_type != GGML_TYPE_F32 && matrix_type != GGML_TYPE_BF16 && matrix_type != GGML_TYPE_F16)
        throw EngineError(std::string("the block matrices cannot be stored as ") + ggml_type_name(matrix_type) + " (use f32, bf16 or f16)");
    const size_t n_tensors = 4 + 12 * size_t(c.n_layer);
    ggml_init_params params = {ggml_tensor_overhead() * n_tensors, nullptr, /*no_alloc*/ true};
    ctx_ = ggml_init(params);
    if (!ctx_) throw EngineError("out of memory creating the parameter context");

    const int64_t C = c.n_embd;
    auto vec = [&](int64_t n) { return ggml_new_tensor_1d(ctx_, GGML_TYPE_F32, n); };
    auto mat = [&](int64_t in, int64_t out) { return ggml_new_tensor_2d(ctx_, GGML_TYPE_F32, in, out); };
    auto block = [&](int64_t in, int64_t out) { return ggml_new_tensor_2d(ctx_, matrix_type, in, out); };
    auto add = [&](ggml_tensor * t, const std::string & name, std::vector<int64_t> hf_shape, bool conv1d, bool decay, bool residual) {
        ggml_format_name(t, "%s.%s", label, name.c_str());
        const bool ln_weight = name.rfind("ln_", 0) == 0 || name.find(".ln_") != std::string::npos;
        const bool is_weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
        entries_.push_back({name, t, std::move(hf_shape), conv1d, decay, residual, ln_weight && is_weight});
    };

    wte = mat(C, c.vocab_size);
    wpe = mat(C, c.n_positions);
    add(wte, "wte.weight", {c.vocab_size, C}, false, true, false);
    add(wpe, "wpe.weight", {c.n_positions, C}, false, true, false);
    h.resize(size_t(c.n_layer));
    for (int64_t l = 0; l < c.n_layer; l++) {
        LayerTensors & L = h[size_t(l)];
        const std::string p = "h." + std::to_string(l) + ".";
        L.ln_1_w = vec(C);            add(L.ln_1_w, p + "ln_1.weight", {C}, false, false, false);
        L.ln_1_b = vec(C);            add(L.ln_1_b, p + "ln_1.bias", {C}, false, false, false);
        L.attn_qkv_w = block(C, 3 * C); add(L.attn_qkv_w, p + "attn.c_attn.weight", {C, 3 * C}, true, true, false);
        L.attn_qkv_b = vec(3 * C);    add(L.attn_qkv_b, p + "attn.c_attn.bias", {3 * C}, false, false, false);
        L.attn_proj_w = block(C, C);    add(L.attn_proj_w, p + "attn.c_proj.weight", {C, C}, true, true, true);
        L.attn_proj_b = vec(C);       add(L.attn_proj_b, p + "attn.c_proj.bias", {C}, false, false, false);
        L.ln_2_w = vec(C);            add(L.ln_2_w, p + "ln_2.weight", {C}, false, false, false);
        L.ln_2_b = vec(C);            add(L.ln_2_b, p + "ln_2.bias", {C}, false, false, false);
        L.mlp_fc_w = block(C, 4 * C);   add(L.mlp_fc_w, p + "mlp.c_fc.weight", {C, 4 * C}, true, true, false);
        L.mlp_fc_b = vec(4 * C);      add(L.mlp_fc_b, p + "mlp.c_fc.bias", {4 * C}, false, false, false);
        L.mlp_proj_w = block(4 * C, C); add(L.mlp_proj_w, p + "mlp.c_proj.weight", {4 * C, C}, true, true, true);
        L.mlp_proj_b = vec(C);        add(L.mlp_proj_b, p + "mlp.c_proj.bias", {C}, false, false, false);
    }
    ln_f_w = vec(C);
    ln_f_b = vec(C);
    add(ln_f_w, "ln_f.weight", {C}, false, false, false);
    add(ln_f_b, "ln_f.bias", {C}, false, false, false);

    buffer_ = ggml_backend_alloc_ctx_tensors_from_buft(ctx_, buft);
    if (!buffer_) {
        // what the tensors needed (ggml_get_mem_size would be the metadata context's size, not theirs)
        size_t wanted = 0;
        for (const ParameterEntry & e : entries_) wanted += ggml_nbytes(e.tensor);
        ggml_free(ctx_);
        throw EngineError(std::string("out of memory allocating the model's ") + label + " (" +
                          std::to_string(wanted / (1 << 20)) + " MiB)");
    }
}

ParameterSet::~ParameterSet() {
    if (buffer_) ggml_backend_buffer_free(buffer_);
    if (ctx_) ggml_free(ctx_);
}

const ParameterEntry * ParameterSet::find(const std::string & name) const {
    for (const auto & e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

size_t ParameterSet::element_count() const {
    size_t n = 0;
    for (const auto & e : entries_) n += size_t(ggml_nelements(e.tensor));
    return n;
}

size_t ParameterSet::bytes() const { return ggml_backend_buffer_get_size(buffer_); }

void ParameterSet::set_zero() {
    touched();
    ggml_backend_buffer_clear(buffer_, 0);
}

void ParameterSet::touched() {
    static std::atomic<uint64_t> next{1};
    stamp_ = next++;
}

void ParameterSet::copy_from(const ParameterSet & from) {
    touched();
    for (size_t i = 0; i < entries_.size(); i++) {
        const std::vector<float> values = read_values(from.entries_[i].tensor);
        write_values(entries_[i].tensor, values.data());
    }
}

// F32 as it is; BF16 rounded to nearest even and F16 as ggml converts them (its
// type traits' reference conversions, the ones ggml_cpy uses on the CPU)
std::vector<float> ParameterSet::read_values(const ggml_tensor * t) {
    const size_t n = size_t(ggml_nelements(t));
    std::vector<float> values(n);
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_get(t, values.data(), 0, n * sizeof(float));
        return values;
    }
    std::vector<uint8_t> raw(ggml_nbytes(t));
    ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
    ggml_get_type_traits(t->type)->to_float(raw.data(), values.data(), int64_t(n));
    return values;
}

void ParameterSet::write_values(ggml_tensor * t, const float * data) {
    const size_t n = size_t(ggml_nelements(t));
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_set(t, data, 0, n * sizeof(float));
        return;
    }
    std::vector<uint8_t> raw(ggml_nbytes(t));
    ggml_get_type_traits(t->type)->from_float_ref(data, raw.data(), int64_t(n));
    ggml_backend_tensor_set(t, raw.data(), 0, raw.size());
}

std::vector<float> ParameterSet::read_hf_layout(const ParameterEntry & e) const {
    const size_t n = size_t(ggml_nelements(e.tensor));
    std::vector<float> ours = read_values(e.tensor);
    if (!e.conv1d_weight) return ours;
    const int64_t in = e.tensor->ne[0], out = e.tensor->ne[1];
    std::vector<float> hf(n);
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++) hf[size_t(i * out + o)] = ours[size_t(o * in + i)];
    return hf;
}

void ParameterSet::write_hf_layout(const ParameterEntry & e, const float * data) {
    touched();
    const size_t n = size_t(ggml_nelements(e.tensor));
    if (!e.conv1d_weight) {
        write_values(e.tensor, data);
        return;
    }
    const int64_t in = e.tensor->ne[0], out = e.tensor->ne[1];
    std::vector<float> ours(n);
    for (int64_t o = 0; o < out; o++)
        for (int64_t i = 0; i < in; i++) ours[size_t(o * in + i)] = data[size_t(i * out + o)];
    write_values(e.tensor, ours.data());
}

}  // namespace tweetsmith
