// The shape of a GPT-2: the numbers of Hugging Face's GPT2Config that change the math.
#pragma once
#include <cstdint>
#include <string>

namespace tweetsmith {

struct GPT2Config {
    int64_t n_layer = 12;
    int64_t n_head = 12;
    int64_t n_embd = 768;
    int64_t n_positions = 1024;  // the longest sequence (HF's n_positions / n_ctx)
    int64_t vocab_size = 50257;
    float layer_norm_epsilon = 1e-5f;

    int64_t head_size() const { return n_embd / n_head; }
    int64_t n_inner() const { return 4 * n_embd; }

    // Throws EngineError naming the field that makes no sense or is out of bounds
    // (limits.h). After it, every size computed from the config fits in 63 bits.
    void validate() const;
    // The number of parameters (floats); call after validate().
    int64_t parameter_count() const;
    std::string describe() const;
};

}  // namespace tweetsmith
