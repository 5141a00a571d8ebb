#include "gguf_export.h"

#include "engine_error.h"
#include "parameter_set.h"
#include "safetensors.h"

#include <ggml-backend.h>
#include <ggml.h>
#include <gguf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace tweetsmith {

namespace {

// llama.cpp's LLAMA_FTYPE numbers (general.file_type): what most of the weights are.
uint32_t file_type_number(GGUFWeightType t) {
    switch (t) {
        case GGUFWeightType::F32: return 0;   // LLAMA_FTYPE_ALL_F32
        case GGUFWeightType::F16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
        case GGUFWeightType::Q8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    }
    return 0;
}

ggml_type ggml_type_of(GGUFWeightType t) {
    switch (t) {
        case GGUFWeightType::F32: return GGML_TYPE_F32;
        case GGUFWeightType::F16: return GGML_TYPE_F16;
        case GGUFWeightType::Q8_0: return GGML_TYPE_Q8_0;
    }
    return GGML_TYPE_F32;
}

// One tensor of the file: its llama.cpp name, the parameter it comes from, and
// whether the converter keeps it in f32 whatever the file type.
struct GGUFTensorPlan {
    std::string name;
    const ggml_tensor * source;
    bool keep_f32;
};

// The names of llama.cpp's gpt2 architecture (gguf-py's TENSOR_NAMES, the
// loader's create_tensor calls in src/models/gpt2.cpp), in Hugging Face's
// parameter order. The parameters are held as ggml wants y = W·x, ne = [in,
// out]: exactly the layout the loader asks for ({n_embd, 3 n_embd} for
// attn_qkv, {n_ff, n_embd} for ffn_down), which is Hugging Face's Conv1D weight
// [in][out] transposed, as the converter's modify_tensors transposes it.
// No output.weight: GPT-2's output layer is tied to the token embedding, and the
// converter writes no lm_head (the gpt2 checkpoint has none); the loader's
// output tensor is optional and falls back to token_embd.weight.
std::vector<GGUFTensorPlan> tensor_plan(const ParameterSet & p) {
    // 1-D tensors (norms, biases) stay f32 ("most of the codebase that takes in
    // 1D tensors or norms only handles F32"), and so does the position embedding
    // (MODEL_TENSOR.POS_EMBD is in the converter's always-f32 list).
    std::vector<GGUFTensorPlan> plan;
    plan.push_back({"token_embd.weight", p.wte, false});
    plan.push_back({"position_embd.weight", p.wpe, true});
    for (size_t l = 0; l < p.h.size(); l++) {
        const LayerTensors & L = p.h[l];
        const std::string b = "blk." + std::to_string(l) + ".";
        plan.push_back({b + "attn_norm.weight", L.ln_1_w, true});
        plan.push_back({b + "attn_norm.bias", L.ln_1_b, true});
        plan.push_back({b + "attn_qkv.weight", L.attn_qkv_w, false});
        plan.push_back({b + "attn_qkv.bias", L.attn_qkv_b, true});
        plan.push_back({b + "attn_output.weight", L.attn_proj_w, false});
        plan.push_back({b + "attn_output.bias", L.attn_proj_b, true});
        plan.push_back({b + "ffn_norm.weight", L.ln_2_w, true});
        plan.push_back({b + "ffn_norm.bias", L.ln_2_b, true});
        plan.push_back({b + "ffn_up.weight", L.mlp_fc_w, false});
        plan.push_back({b + "ffn_up.bias", L.mlp_fc_b, true});
        plan.push_back({b + "ffn_down.weight", L.mlp_proj_w, false});
        plan.push_back({b + "ffn_down.bias", L.mlp_proj_b, true});
    }
    plan.push_back({"output_norm.weight", p.ln_f_w, true});
    plan.push_back({"output_norm.bias", p.ln_f_b, true});
    return plan;
}

void check_vocab(const GGUFExportSpec & spec) {
    const GGUFVocab & v = spec.vocab;
    const size_t n = size_t(spec.config.vocab_size);
    if (v.tokens.size() != n)
        throw EngineError("the tokenizer has " + std::to_string(v.tokens.size()) + " tokens but the model's vocab_size is " +
                          std::to_string(n) + ": the GGUF needs one token per row of the embedding");
    if (v.token_types.size() != n) throw EngineError("token types: " + std::to_string(v.token_types.size()) + " given, expected " + std::to_string(n));
    for (int32_t id : {v.bos_id, v.eos_id})
        if (id < -1 || id >= int32_t(n)) throw EngineError("special token id " + std::to_string(id) + " is outside the vocabulary");
    if (v.merges.empty()) throw EngineError("the tokenizer has no merges: a GPT-2 BPE needs them");
}

struct GGUFContextDeleter {
    void operator()(gguf_context * c) const { gguf_free(c); }
};
struct GGMLContextDeleter {
    void operator()(ggml_context * c) const { ggml_free(c); }
};

void set_string_array(gguf_context * g, const char * key, const std::vector<std::string> & values) {
    std::vector<const char *> ptrs;
    ptrs.reserve(values.size());
    for (const std::string & s : values) ptrs.push_back(s.c_str());
    gguf_set_arr_str(g, key, ptrs.data(), ptrs.size());
}

void write_metadata(gguf_context * g, const GGUFExportSpec & spec) {
    const GPT2Config & c = spec.config;
    // general.* and the architecture's keys, as GPT2Model.set_gguf_parameters
    // and the converter's common metadata write them (and with gguf-py's types:
    // counts u32, the epsilon f32).
    gguf_set_val_str(g, "general.architecture", "gpt2");
    gguf_set_val_str(g, "general.type", "model");
    gguf_set_val_str(g, "general.name", spec.name.c_str());
    gguf_set_val_str(g, GGUF_GENERATOR_KEY, spec.generator_version.c_str());
    gguf_set_val_u32(g, "gpt2.block_count", uint32_t(c.n_layer));
    gguf_set_val_u32(g, "gpt2.context_length", uint32_t(c.n_positions));
    gguf_set_val_u32(g, "gpt2.embedding_length", uint32_t(c.n_embd));
    gguf_set_val_u32(g, "gpt2.feed_forward_length", uint32_t(c.n_inner()));
    gguf_set_val_u32(g, "gpt2.attention.head_count", uint32_t(c.n_head));
    gguf_set_val_f32(g, "gpt2.attention.layer_norm_epsilon", c.layer_norm_epsilon);
    gguf_set_val_u32(g, "general.file_type", file_type_number(spec.type));
    gguf_set_val_u32(g, "general.quantization_version", GGML_QNT_VERSION);

    // The tokenizer, as _set_vocab_gpt2 writes it: model "gpt2" (byte-level
    // BPE), pre-tokenizer "gpt-2" (GPT-2's own split regex), then SpecialVocab's
    // merges and bos/eos ids (config.json's bos_token_id / eos_token_id).
    const GGUFVocab & v = spec.vocab;
    gguf_set_val_str(g, "tokenizer.ggml.model", "gpt2");
    gguf_set_val_str(g, "tokenizer.ggml.pre", "gpt-2");
    set_string_array(g, "tokenizer.ggml.tokens", v.tokens);
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v.token_types.data(), v.token_types.size());
    set_string_array(g, "tokenizer.ggml.merges", v.merges);
    if (v.bos_id >= 0) gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", uint32_t(v.bos_id));
    if (v.eos_id >= 0) gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", uint32_t(v.eos_id));
}

void write_and_sync(const gguf_context * g, const std::string & path, GGUFExportResult & result) {
    FILE * f = std::fopen(path.c_str(), "wb");
    if (!f) throw EngineError(path + ": cannot create (" + std::strerror(errno) + ")");
    bool ok = gguf_write_to_file_ptr(g, f, /*only_meta*/ false);
    int err = 0;
    if (ok && std::fflush(f) != 0) { ok = false; err = errno; }
    // fsync before the caller renames it into place: a crash must leave either
    // the old file or the whole new one, never a renamed but empty file.
#ifdef _WIN32
    if (ok && _commit(_fileno(f)) != 0) { ok = false; err = errno; }
#else
    if (ok && fsync(fileno(f)) != 0) { ok = false; err = errno; }
#endif
    if (ok) {
        const long end = std::ftell(f);
        result.bytes = end > 0 ? uint64_t(end) : 0;
    }
    if (std::fclose(f) != 0 && ok) { ok = false; err = errno; }
    if (!ok) throw EngineError(path + ": writing the GGUF failed" + (err ? std::string(" (") + std::strerror(err) + ")" : std::string(" (is the disk full?)")));
}

}  // namespace

GGUFExportResult export_gguf(const GGUFExportSpec & spec, const std::string & path) {
    spec.config.validate();
    check_vocab(spec);

    // The weights in f32, on the host, in the engine's layout.
    ParameterSet params(spec.config, ggml_backend_cpu_buffer_type(), "gguf");
    load_safetensors(spec.weights_path, params);

    const std::vector<GGUFTensorPlan> plan = tensor_plan(params);
    ggml_init_params ip = {ggml_tensor_overhead() * (plan.size() + 1), nullptr, /*no_alloc*/ true};
    std::unique_ptr<ggml_context, GGMLContextDeleter> ctx(ggml_init(ip));
    if (!ctx) throw EngineError("out of memory creating the GGUF tensor context");
    std::unique_ptr<gguf_context, GGUFContextDeleter> g(gguf_init_empty());
    if (!g) throw EngineError("out of memory creating the GGUF context");
    write_metadata(g.get(), spec);

    // The converted tensors' bytes live here until the file is written (gguf
    // reads each tensor's data when it writes); f32 tensors point at the
    // parameters themselves, so an f32 export holds the model once.
    std::deque<std::vector<uint8_t>> converted;
    std::map<std::string, int> counts;
    const ggml_type wanted = ggml_type_of(spec.type);
    for (const GGUFTensorPlan & t : plan) {
        const int n_dims = ggml_n_dims(t.source);
        ggml_type type = (t.keep_f32 || n_dims <= 1) ? GGML_TYPE_F32 : wanted;
        // q8_0 packs rows in blocks of 32; a row that does not divide falls back
        // to f16, as the converter does on gguf-py's QuantError.
        if (type == GGML_TYPE_Q8_0 && t.source->ne[0] % ggml_blck_size(GGML_TYPE_Q8_0) != 0) type = GGML_TYPE_F16;

        ggml_tensor * out = ggml_new_tensor(ctx.get(), type, n_dims, t.source->ne);
        ggml_set_name(out, t.name.c_str());
        if (t.source->type != GGML_TYPE_F32)  // a frozen LoRA base: merge_lora gives f32 back first
            throw EngineError(t.name + " is stored as " + ggml_type_name(t.source->type) + "; merge the LoRA adapters before exporting");
        const float * src = static_cast<const float *>(t.source->data);
        if (type == GGML_TYPE_F32) {
            out->data = const_cast<float *>(src);
        } else {
            const int64_t n_per_row = t.source->ne[0];
            const int64_t n_rows = ggml_nelements(t.source) / n_per_row;
            converted.emplace_back(ggml_nbytes(out));
            const size_t written = ggml_quantize_chunk(type, src, converted.back().data(), 0, n_rows, n_per_row, nullptr);
            if (written != converted.back().size()) throw EngineError("converting " + t.name + " to " + ggml_type_name(type) + " gave the wrong size");
            out->data = converted.back().data();
        }
        gguf_add_tensor(g.get(), out);
        counts[ggml_type_name(type)]++;
    }

    GGUFExportResult result;
    for (const auto & [name, n] : counts) result.tensor_types.emplace_back(name, n);
    write_and_sync(g.get(), path, result);
    return result;
}

GGUFFileKind inspect_gguf(const std::string & path) {
    GGUFFileKind kind;
    FILE * f = std::fopen(path.c_str(), "rb");
    if (!f) return kind;
    char magic[4] = {0, 0, 0, 0};
    const size_t n = std::fread(magic, 1, 4, f);
    std::fclose(f);
    // Check the magic first: gguf_init_from_file logs an error for any other file.
    if (n != 4 || std::memcmp(magic, "GGUF", 4) != 0) return kind;
    kind.is_gguf = true;
    gguf_init_params params = {/*no_alloc*/ true, /*ctx*/ nullptr};
    std::unique_ptr<gguf_context, GGUFContextDeleter> g(gguf_init_from_file(path.c_str(), params));
    if (!g) return kind;
    const int64_t key = gguf_find_key(g.get(), GGUF_GENERATOR_KEY);
    if (key >= 0 && gguf_get_kv_type(g.get(), key) == GGUF_TYPE_STRING) kind.generator_version = gguf_get_val_str(g.get(), key);
    return kind;
}

}  // namespace tweetsmith
