// Sampling new tokens from GPT-2, several sequences at once, with a KV cache.
//
// Semantics follow Hugging Face's generate(do_sample=True): lengths count the
// prompt (max_length = prompt + new tokens); before min_length the end-of-text
// token cannot be drawn; then temperature, top-k (keep logits >= the k-th
// largest) and top-p (TopPLogitsWarper: keep the most likely tokens whose mass
// before them is < top_p, at least one); a sequence stops at end-of-text.
// The random stream is seeded: the same seed, prompt and options give the same
// tokens.
#pragma once
#include "decoder.h"
#include "gpt2_model.h"
#include "rng.h"
#include "sampling_weights.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace tweetsmith {

struct SamplingConfig {
    int64_t n_sequences = 1;
    int64_t max_length = 160;
    int64_t min_length = 10;
    float temperature = 1.0f;  // 0: always the most likely token
    float top_p = 0.95f;       // 1: off
    int64_t top_k = 0;         // 0: off
    uint64_t seed = 0;
    int32_t eos_token_id = 50256;
    ggml_type weight_type = GGML_TYPE_F32;  // the matrices' format while sampling (see sampling_weights.h)
};

// Chooses one token from a row of logits (modified in place) as SamplingConfig says;
// `u`, uniform in [0, 1), picks among the tokens kept (unused at temperature 0).
int32_t sample_token(float * logits, int64_t vocab_size, int64_t current_length, const SamplingConfig & config, double u);

class Generator {
public:
    Generator(GPT2Model & model, std::vector<int32_t> prompt, const SamplingConfig & config);
    ~Generator();
    Generator(const Generator &) = delete;
    Generator & operator=(const Generator &) = delete;

    // Runs the model once (the whole prompt the first time, then one token per
    // sequence) and returns each sequence's new token, or -1 for a sequence that
    // had already finished. Throws when done().
    std::vector<int32_t> step();
    bool done() const;
    int64_t length() const { return length_; }

    // What the CPU's token-choice node reads when the step's graph runs.
    struct SamplingPass {
        const SamplingConfig * config;
        int64_t current_length;
        std::vector<double> draws;              // [B]
        const std::vector<uint8_t> * finished;  // [B]: choose nothing (-1)
    };

private:
    std::vector<int32_t> choose_on_host(ggml_tensor * logits);

    GPT2Model & model_;
    std::vector<int32_t> prompt_;
    SamplingConfig config_;
    Rng rng_;
    int64_t length_ = 0;  // tokens per sequence so far (prompt included)
    std::vector<int32_t> last_tokens_;
    std::vector<uint8_t> finished_;  // bytes, not bits: the sampling node's threads read it
    // shared with the model, which keeps them for the next generation; this one keeps
    // the values it started with even if training changes the model's meanwhile
    std::shared_ptr<const SamplingWeights> weights_;
    uint64_t params_version_ = 0;  // the model's, when weights_ was taken
    std::unique_ptr<Decoder> decoder_;
    SamplingPass pass_;
};

}  // namespace tweetsmith
