#include "gpt2_config.h"

#include "engine_error.h"
#include "limits.h"

#include <cmath>

namespace tweetsmith {

void GPT2Config::validate() const {
    auto require = [](bool ok, const std::string & what) {
        if (!ok) throw EngineError("invalid GPT-2 config: " + what);
    };
    auto in_range = [&](int64_t v, int64_t max, const char * name) {
        require(v >= 1 && v <= max, std::string(name) + " must be between 1 and " + std::to_string(max) + ", got " + std::to_string(v));
    };
    in_range(n_layer, limits::kMaxLayers, "n_layer");
    in_range(n_head, limits::kMaxEmbd, "n_head");
    in_range(n_embd, limits::kMaxEmbd, "n_embd");
    require(n_embd % n_head == 0,
            "n_embd (" + std::to_string(n_embd) + ") must be a multiple of n_head (" + std::to_string(n_head) + ")");
    in_range(n_positions, limits::kMaxPositions, "n_positions");
    in_range(vocab_size, limits::kMaxVocab, "vocab_size");
    require(std::isfinite(layer_norm_epsilon) && layer_norm_epsilon > 0.0f && layer_norm_epsilon < 1.0f,
            "layer_norm_epsilon must be in (0, 1)");
}

// wte + wpe + n_layer blocks (two LayerNorms, c_attn, attn.c_proj, c_fc,
// mlp.c_proj with their biases) + ln_f. With the bounds of validate() the total is
// below 2^47; the arithmetic is checked all the same, so a bound changed later
// cannot turn it into a wrapped, small number.
int64_t GPT2Config::parameter_count() const {
    using limits::checked_add;
    using limits::checked_mul;
    const int64_t C = n_embd;
    auto must = [this](std::optional<int64_t> v) {
        if (!v) throw EngineError("invalid GPT-2 config: " + describe() + " has more parameters than 2^63");
        return *v;
    };
    const int64_t embeddings = must(checked_mul(must(checked_add(vocab_size, n_positions)), C));
    const int64_t square = must(checked_mul(C, C));
    // per block: 4C (LayerNorms) + 3C² + 3C (c_attn) + C² + C (attn.c_proj) + 4C² + 4C (c_fc) + 4C² + C (mlp.c_proj)
    const int64_t block = must(checked_add(must(checked_mul(12, square)), must(checked_mul(13, C))));
    const int64_t blocks = must(checked_mul(n_layer, block));
    return must(checked_add(must(checked_add(embeddings, blocks)), must(checked_mul(2, C))));
}

std::string GPT2Config::describe() const {
    return "n_layer=" + std::to_string(n_layer) + " n_head=" + std::to_string(n_head) + " n_embd=" + std::to_string(n_embd) +
           " n_positions=" + std::to_string(n_positions) + " vocab_size=" + std::to_string(vocab_size);
}

}  // namespace tweetsmith
