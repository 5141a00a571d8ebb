#include "gpt2_config.h"

#include "engine_error.h"

namespace tweetsmith {

void GPT2Config::validate() const {
    auto require = [](bool ok, const std::string & what) {
        if (!ok) throw EngineError("invalid GPT-2 config: " + what);
    };
    require(n_layer >= 1 && n_layer <= 1024, "n_layer must be between 1 and 1024, got " + std::to_string(n_layer));
    require(n_head >= 1, "n_head must be at least 1, got " + std::to_string(n_head));
    require(n_embd >= 1 && n_embd % n_head == 0,
            "n_embd (" + std::to_string(n_embd) + ") must be a positive multiple of n_head (" + std::to_string(n_head) + ")");
    require(n_positions >= 1 && n_positions <= (1 << 20), "n_positions must be between 1 and 1048576, got " + std::to_string(n_positions));
    require(vocab_size >= 1 && vocab_size <= (1 << 24), "vocab_size must be between 1 and 16777216, got " + std::to_string(vocab_size));
    require(layer_norm_epsilon > 0.0f && layer_norm_epsilon < 1.0f, "layer_norm_epsilon must be in (0, 1)");
}

std::string GPT2Config::describe() const {
    return "n_layer=" + std::to_string(n_layer) + " n_head=" + std::to_string(n_head) + " n_embd=" + std::to_string(n_embd) +
           " n_positions=" + std::to_string(n_positions) + " vocab_size=" + std::to_string(vocab_size);
}

}  // namespace tweetsmith
