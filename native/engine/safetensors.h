// Reading and writing GPT-2 weights in the safetensors format
// (u64 little-endian header length, a JSON header, then the raw tensors).
#pragma once
#include "parameter_set.h"

#include <string>

namespace tweetsmith {

// Loads every parameter from `path`. Accepts F32, F16 and BF16 tensors, names with
// or without the "transformer." prefix, and ignores what GPT-2 does not need
// (attn.bias / attn.masked_bias masks, a duplicated lm_head.weight). A truncated
// or inconsistent file throws an EngineError naming the file and the tensor.
void load_safetensors(const std::string & path, ParameterSet & params);

// Writes every parameter as F32 with the gpt2 hub repo's names (no prefix,
// Conv1D weights [in, out], no lm_head), through a temporary file and a rename.
void save_safetensors(const std::string & path, const ParameterSet & params);

}  // namespace tweetsmith
