// Writing a GPT-2 as a GGUF file that llama.cpp's `gpt2` architecture loads
// (and ollama, LM Studio and everything else built on it), with ggml's own gguf
// API: the metadata keys, tensor names, layouts and types are the ones llama.cpp's
// convert_hf_to_gguf.py writes for a GPT2LMHeadModel.
#pragma once
#include "gpt2_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tweetsmith {

// The weight format of the exported matrices (the file's general.file_type).
enum class GGUFWeightType { F32, F16, Q8_0 };

// Token types as llama.cpp numbers them (gguf-py's TokenType).
enum GGUFTokenType : int32_t { GGUF_TOKEN_NORMAL = 1, GGUF_TOKEN_CONTROL = 3, GGUF_TOKEN_USER_DEFINED = 4, GGUF_TOKEN_UNUSED = 5 };

// GPT-2's byte-level BPE tokenizer as GGUF carries it: tokens in id order (the
// byte-level strings of vocab.json), one type per token, merges as "left right".
struct GGUFVocab {
    std::vector<std::string> tokens;
    std::vector<int32_t> token_types;
    std::vector<std::string> merges;
    int32_t bos_id = -1;  // -1: not written
    int32_t eos_id = -1;
};

struct GGUFExportSpec {
    GPT2Config config;
    std::string weights_path;  // the model's model.safetensors
    GGUFWeightType type = GGUFWeightType::F32;
    GGUFVocab vocab;
    std::string name;               // general.name
    std::string generator_version;  // written as GGUF_GENERATOR_KEY: marks the file as tweetsmith's
};

// What was written, per ggml type name ("f32", "f16", "q8_0") → tensor count.
struct GGUFExportResult {
    std::vector<std::pair<std::string, int>> tensor_types;
    uint64_t bytes = 0;
};

// The key that says which tweetsmith wrote a file (its value is the version).
inline constexpr const char * GGUF_GENERATOR_KEY = "general.tweetsmith.version";

// Writes the GGUF to `path` (created or truncated) and fsyncs it. Throws
// EngineError naming the file on any failure; the caller owns where `path` is
// (a temporary file it renames into place).
GGUFExportResult export_gguf(const GGUFExportSpec & spec, const std::string & path);

// Inspects an existing file: whether it is a GGUF at all, and the value of
// GGUF_GENERATOR_KEY if it has one ("" otherwise). Never throws for bad content.
struct GGUFFileKind {
    bool is_gguf = false;
    std::string generator_version;
};
GGUFFileKind inspect_gguf(const std::string & path);

}  // namespace tweetsmith
