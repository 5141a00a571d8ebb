#include "generator.h"

#include "engine_error.h"
#include "limits.h"
#include "vector_math.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <limits>
#include <numeric>

namespace tweetsmith {

// ---------------------------------------------------------------- choosing a token

namespace {

// Orders token ids by logit, highest first (ties by id, so the order is total).
struct MoreLikely {
    const float * logits;
    bool operator()(int32_t a, int32_t b) const { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); }
};

int64_t top_p_select(std::vector<int32_t> & order, int64_t lo, int64_t hi, double mass_before, const float * logits,
                     const std::vector<float> & weight, double target);

constexpr int kBucketShift = 20;  // 2048 buckets: the exponent and 3 mantissa bits of a positive float

// Top-p as Hugging Face's TopPLogitsWarper keeps tokens: the most likely ones, each
// while the mass of the tokens more likely than it is under `target`. Rearranges
// order[0, n) so the kept tokens come first and returns how many there are.
// First a histogram of the mass over the weights' top bits (a positive float's bits
// order as its value) finds the slice of values the cut lies in; then a quickselect
// on the logits of that slice's tokens, tracking the mass above each pivot. Linear
// time, where sorting 50k nearly equal probabilities (an untrained model's) would
// dominate sampling.
int64_t top_p_cut(std::vector<int32_t> & order, int64_t n, const float * logits, const std::vector<float> & weight,
                  double target) {
    int64_t lo = 0, hi = n;  // every token before lo is kept; the cut lies in [lo, hi]
    double mass_before = 0.0;  // mass of order[0, lo)

    auto bucket = [&](int32_t t) {
        uint32_t bits;
        std::memcpy(&bits, &weight[size_t(t)], sizeof bits);
        return bits >> kBucketShift;
    };
    std::vector<double> mass(size_t(1) << (31 - kBucketShift), 0.0);
    for (int64_t r = 0; r < n; r++) mass[bucket(order[size_t(r)])] += weight[size_t(order[size_t(r)])];
    for (size_t b = mass.size(); b-- > 0;) {
        if (mass_before + mass[b] < target) {
            mass_before += mass[b];
            continue;
        }
        // the cut is in bucket b: the tokens above it are kept, those below are not
        const uint32_t cut = uint32_t(b);
        auto above_end = std::partition(order.begin(), order.begin() + n, [&](int32_t t) { return bucket(t) > cut; });
        auto in_end = std::partition(above_end, order.begin() + n, [&](int32_t t) { return bucket(t) == cut; });
        lo = above_end - order.begin();
        hi = in_end - order.begin();
        break;
    }
    if (hi == n && lo == 0) mass_before = 0.0;  // rounding left the target unreached: search everything
    return top_p_select(order, lo, hi, mass_before, logits, weight, target);
}

// Where among order[lo, hi) (every token before lo kept, with mass `mass_before`)
// the top-p cut falls: a quickselect on the logits, tracking the mass above each
// pivot; returns the end of the kept tokens, order[lo, end) rearranged so the kept
// ones come first.
int64_t top_p_select(std::vector<int32_t> & order, int64_t lo, int64_t hi, double mass_before, const float * logits,
                     const std::vector<float> & weight, double target) {
    while (hi - lo > 32) {
        const float pivot = logits[order[size_t(lo + (hi - lo) / 2)]];
        auto begin = order.begin() + lo, end = order.begin() + hi;
        auto eq_begin = std::partition(begin, end, [&](int32_t t) { return logits[t] > pivot; });
        auto eq_end = std::partition(eq_begin, end, [&](int32_t t) { return logits[t] == pivot; });
        double mass_gt = 0.0;
        for (auto it = begin; it != eq_begin; ++it) mass_gt += weight[size_t(*it)];
        const int64_t n_gt = eq_begin - begin, n_eq = eq_end - eq_begin;
        if (n_gt > 0 && mass_before + mass_gt >= target) {
            hi = lo + n_gt;  // the cut is among the more likely ones
            continue;
        }
        const double w = double(weight[size_t(*eq_begin)]);
        const double mass_eq = w * double(n_eq);
        if (mass_before + mass_gt + mass_eq >= target) {
            // within the tied tokens: the j-th has mass_before + mass_gt + j·w before it
            const double room = target - mass_before - mass_gt;
            const int64_t count = std::max<int64_t>(1, std::min<int64_t>(n_eq, int64_t(std::ceil(room / w))));
            return lo + n_gt + count;
        }
        mass_before += mass_gt + mass_eq;
        lo += n_gt + n_eq;
    }
    std::sort(order.begin() + lo, order.begin() + hi, MoreLikely{logits});
    for (int64_t r = lo; r < hi; r++) {
        if (r > 0 && mass_before >= target) return r;
        mass_before += weight[size_t(order[size_t(r)])];
    }
    return hi;
}

inline uint32_t bucket_of(float w) {
    uint32_t bits;
    std::memcpy(&bits, &w, sizeof bits);
    return bits >> kBucketShift;
}

// sample_token without top-k, the usual case, over the whole vocabulary in a few
// vectorised passes and no sort: the weights, their total; for top-p a histogram
// of the mass over the weights' top bits, whose bucket holding the cut is the only
// part that needs ordering (top_p_select over the few tokens in it); then the draw,
// over the tokens above that bucket in id order and the kept ones within it. The
// kept set is exactly sample_token's; only the order the draw walks them differs.
// Returns -1 when rounding left the target unreached (the caller's path decides).
int32_t sample_whole_vocabulary(const float * logits, int64_t V, float top_p, double u) {
    thread_local std::vector<float> weight;
    thread_local std::vector<int32_t> slice;
    thread_local std::vector<double> mass;
    weight.resize(size_t(V));
    constexpr int kLanes = 16;
    float max_lanes[kLanes];
    std::fill_n(max_lanes, kLanes, -std::numeric_limits<float>::infinity());
    int64_t i = 0;
    for (; i + kLanes <= V; i += kLanes)
        for (int l = 0; l < kLanes; l++) max_lanes[l] = std::max(max_lanes[l], logits[i + l]);
    float max = *std::max_element(max_lanes, max_lanes + kLanes);
    for (; i < V; i++) max = std::max(max, logits[i]);
    for (int64_t j = 0; j < V; j++) weight[size_t(j)] = logits[j] - max < -87.0f ? 0.0f : exp_vectorisable(logits[j] - max);
    double sum_lanes[8] = {};
    for (i = 0; i + 8 <= V; i += 8)
        for (int l = 0; l < 8; l++) sum_lanes[l] += double(weight[size_t(i + l)]);
    double total = 0.0;
    for (; i < V; i++) total += double(weight[size_t(i)]);
    for (double s : sum_lanes) total += s;

    uint32_t cut = 0;  // tokens whose weight's bucket is above it are kept, those in it maybe
    int64_t kept_in_cut = 0;
    double kept_total = total;
    slice.clear();
    if (top_p < 1.0f) {
        const double target = double(top_p) * total;
        // weights are at most 1 (bucket 1016): two interleaved histograms, so that
        // neighbours in the same bucket do not wait on each other's addition
        constexpr size_t kBuckets = 1024;
        mass.assign(2 * kBuckets, 0.0);
        int64_t j = 0;
        for (; j + 2 <= V; j += 2) {
            mass[bucket_of(weight[size_t(j)])] += double(weight[size_t(j)]);
            mass[kBuckets + bucket_of(weight[size_t(j + 1)])] += double(weight[size_t(j + 1)]);
        }
        if (j < V) mass[bucket_of(weight[size_t(j)])] += double(weight[size_t(j)]);
        for (size_t b = 0; b < kBuckets; b++) mass[b] += mass[kBuckets + b];
        double mass_before = 0.0;
        size_t b = kBuckets;
        while (b-- > 0 && mass_before + mass[b] < target) mass_before += mass[b];
        if (b >= kBuckets || b == 0) return -1;  // unreached, or only at zero weights: rounding
        cut = uint32_t(b);
        // the ids in the cut's bucket (weights in [lo, hi)), counted 16 at a time before gathering any
        slice.resize(size_t(V));
        const uint32_t lo_bits = cut << kBucketShift, hi_bits = (cut + 1) << kBucketShift;
        float lo, hi;
        std::memcpy(&lo, &lo_bits, sizeof lo);
        std::memcpy(&hi, &hi_bits, sizeof hi);
        int64_t n = 0;
        for (j = 0; j < V; j += kLanes) {
            const int64_t end = std::min(V, j + kLanes);
            int in_bucket = 0;
            for (int64_t i = j; i < end; i++) in_bucket += int(weight[size_t(i)] >= lo) & int(weight[size_t(i)] < hi);
            if (in_bucket == 0) continue;
            for (int64_t i = j; i < end; i++) {
                slice[size_t(n)] = int32_t(i);
                n += bucket_of(weight[size_t(i)]) == cut;
            }
        }
        slice.resize(size_t(n));
        kept_in_cut = top_p_select(slice, 0, n, mass_before, logits, weight, target);
        kept_total = mass_before;
        for (int64_t r = 0; r < kept_in_cut; r++) kept_total += double(weight[size_t(slice[size_t(r)])]);
    }

    // the draw: u·(kept mass), walked off; the ids above the cut's bucket are those
    // with a weight ≥ lim (a positive float's bits order as its value), skipped over
    // 256 at a time while their sum does not reach u
    const uint32_t lim_bits = (cut + 1) << kBucketShift;
    float lim;
    std::memcpy(&lim, &lim_bits, sizeof lim);
    if (cut == 0) lim = std::numeric_limits<float>::denorm_min();  // no top-p: every nonzero weight
    u *= kept_total;
    constexpr int64_t kChunk = 256;
    int64_t j = 0;
    for (; j + kChunk <= V; j += kChunk) {
        float lanes[kLanes] = {};
        for (int64_t k = 0; k < kChunk; k += kLanes)
            for (int l = 0; l < kLanes; l++) {
                const float w = weight[size_t(j + k + l)];
                lanes[l] += w >= lim ? w : 0.0f;
            }
        double chunk = 0.0;
        for (float v : lanes) chunk += double(v);
        if (u - chunk < 0.0) break;  // the draw lands in this chunk (or, by rounding, just after it)
        u -= chunk;
    }
    for (; j < V; j++) {
        if (!(weight[size_t(j)] >= lim)) continue;
        u -= double(weight[size_t(j)]);
        if (u < 0.0) return int32_t(j);
    }
    for (int64_t r = 0; r < kept_in_cut; r++) {
        u -= double(weight[size_t(slice[size_t(r)])]);
        if (u < 0.0) return slice[size_t(r)];
    }
    // rounding left a sliver: the last kept token
    if (kept_in_cut > 0) return slice[size_t(kept_in_cut - 1)];
    for (j = V; j-- > 0;)
        if (weight[size_t(j)] >= lim) return int32_t(j);
    return -1;
}

}  // namespace

int32_t sample_token(float * logits, int64_t V, int64_t current_length, const SamplingConfig & c, double u) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    if (current_length < c.min_length && c.eos_token_id >= 0 && c.eos_token_id < V) logits[c.eos_token_id] = neg_inf;
    if (c.temperature <= 0.0f) return int32_t(std::max_element(logits, logits + V) - logits);
    if (c.temperature != 1.0f)
        for (int64_t i = 0; i < V; i++) logits[i] /= c.temperature;

    if (c.top_k <= 0 || c.top_k >= V) {
        const int32_t chosen = sample_whole_vocabulary(logits, V, c.top_p, u);
        if (chosen >= 0) return chosen;
    }

    // tokens by logit, highest first; only as many as top-k and top-p can keep need sorting
    std::vector<int32_t> order(static_cast<size_t>(V));
    std::iota(order.begin(), order.end(), 0);
    const MoreLikely higher{logits};
    int64_t keep = V;
    if (c.top_k > 0 && c.top_k < V) {
        std::nth_element(order.begin(), order.begin() + (c.top_k - 1), order.end(), higher);
        const float kth = logits[order[size_t(c.top_k - 1)]];
        keep = std::partition(order.begin(), order.end(), [&](int32_t i) { return logits[i] >= kth; }) - order.begin();
    }
    // weights exp(logit - max) of the kept tokens, computed once (all of them in one
    // vectorised pass when top-k keeps everything); below e^-87 of the most likely
    // token a weight is 0, which is also what a masked (-inf) token gets
    const float max = *std::max_element(logits, logits + V);
    std::vector<float> weight(static_cast<size_t>(V));
    auto weight_of = [max](float logit) { return logit - max < -87.0f ? 0.0f : exp_vectorisable(logit - max); };
    if (keep == V)
        for (int64_t i = 0; i < V; i++) weight[size_t(i)] = weight_of(logits[i]);
    else
        for (int64_t r = 0; r < keep; r++) weight[size_t(order[size_t(r)])] = weight_of(logits[order[size_t(r)]]);
    double total = 0.0;
    for (int64_t r = 0; r < keep; r++) total += weight[size_t(order[size_t(r)])];

    if (c.top_p < 1.0f) {
        keep = top_p_cut(order, keep, logits, weight, double(c.top_p) * total);
        total = 0.0;
        for (int64_t r = 0; r < keep; r++) total += weight[size_t(order[size_t(r)])];
    }

    // draw from the kept tokens in proportion to their weight
    u *= total;
    for (int64_t r = 0; r < keep; r++) {
        u -= weight[size_t(order[size_t(r)])];
        if (u < 0.0) return order[size_t(r)];
    }
    return order[size_t(keep - 1)];  // rounding left a sliver: the last kept token
}

// ---------------------------------------------------------------- the generator

namespace {

// dst I32 [B] = a token for each row of src {logits [V, B]} (rows changed in place).
void sample_rows(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const Generator::SamplingPass & pass = *static_cast<const Generator::SamplingPass *>(userdata);
    ggml_tensor * logits = dst->src[0];
    const int64_t V = logits->ne[0], B = logits->ne[1];
    int32_t * chosen = static_cast<int32_t *>(dst->data);
    for (int64_t b = ith; b < B; b += nth) {
        float * row = reinterpret_cast<float *>(static_cast<char *>(logits->data) + b * logits->nb[1]);
        chosen[b] = (*pass.finished)[size_t(b)] ? -1 : sample_token(row, V, pass.current_length, *pass.config, pass.draws[size_t(b)]);
    }
}

}  // namespace

Generator::Generator(GPT2Model & model, std::vector<int32_t> prompt, const SamplingConfig & config)
    : model_(model), prompt_(std::move(prompt)), config_(config), rng_(config.seed) {
    const GPT2Config & c = model.config();
    if (prompt_.empty()) throw EngineError("the prompt needs at least one token (start it with <|endoftext|>)");
    if (config_.n_sequences < 1 || config_.n_sequences > limits::kMaxSequences)
        throw EngineError("n must be between 1 and " + std::to_string(limits::kMaxSequences));
    if (config_.max_length > c.n_positions)
        throw EngineError("max length " + std::to_string(config_.max_length) + " is longer than the model's context (" +
                          std::to_string(c.n_positions) + " tokens)");
    if (int64_t(prompt_.size()) >= config_.max_length)
        throw EngineError("the prompt is " + std::to_string(prompt_.size()) + " tokens, which leaves no room under max length " +
                          std::to_string(config_.max_length));
    if (!(config_.top_p > 0.0f && config_.top_p <= 1.0f)) throw EngineError("top-p must be in (0, 1]");
    if (config_.temperature < 0.0f) throw EngineError("temperature must be >= 0");
    for (size_t i = 0; i < prompt_.size(); i++)
        if (prompt_[i] < 0 || prompt_[i] >= c.vocab_size)
            throw EngineError("prompt token " + std::to_string(prompt_[i]) + " at position " + std::to_string(i) +
                              " is outside the vocabulary");
    // the KV cache is allocated and cleared (touched) on the first step: one that cannot
    // fit is an error now, not a process the system kills then. Within the bounds of
    // GPT2Config::validate and the checks above it is below 2^62 bytes.
    const int64_t cache_bytes = 2 * c.n_layer * c.n_embd * config_.max_length * config_.n_sequences * int64_t(sizeof(float));
    const size_t memory = model.device().description().memory_total;
    if (memory > 0 && uint64_t(cache_bytes) > memory)
        throw EngineError("the KV cache of " + std::to_string(config_.n_sequences) + " sequences of " + std::to_string(config_.max_length) +
                          " tokens needs " + std::to_string(cache_bytes >> 20) + " MiB, more than the " + std::to_string(memory >> 20) +
                          " MiB of memory of " + model.device().description().name + "; sample fewer or shorter sequences");
    finished_.assign(size_t(config_.n_sequences), 0);
    pass_ = {&config_, 0, std::vector<double>(size_t(config_.n_sequences), 0.0), &finished_};
}

Generator::~Generator() = default;

bool Generator::done() const {
    return length_ >= config_.max_length || (length_ > 0 && std::all_of(finished_.begin(), finished_.end(), [](uint8_t f) { return f != 0; }));
}

// The portable path's graph ends at the logits [V, B]; the tokens are chosen here.
std::vector<int32_t> Generator::choose_on_host(ggml_tensor * logits) {
    const int64_t V = logits->ne[0], B = logits->ne[1];
    std::vector<float> rows(size_t(V * B));
    ggml_backend_tensor_get(logits, rows.data(), 0, rows.size() * sizeof(float));
    std::vector<int32_t> chosen(size_t(B), -1);
    for (int64_t b = 0; b < B; b++)
        if (!finished_[size_t(b)])
            chosen[size_t(b)] = sample_token(rows.data() + b * V, V, pass_.current_length, config_, pass_.draws[size_t(b)]);
    return chosen;
}

std::vector<int32_t> Generator::step() {
    if (done()) throw EngineError("generation is already finished");
    const int64_t B = config_.n_sequences;
    const int64_t n_past = length_ == 0 ? 0 : length_ - 1;  // the last token is not in the cache yet
    const int64_t t = length_ == 0 ? int64_t(prompt_.size()) : 1;
    // the weights it samples with may be the parameters themselves: freed when the base's storage changes
    if (weights_ && params_version_ != model_.params_version())
        throw EngineError("the model's weights were replaced (LoRA adapters added or merged) while this generation ran; start a new one");
    // converted (unless the model kept them from the last generation) on the first
    // step, which runs off the caller's (JS) thread
    if (!weights_) {
        weights_ = model_.sampling_weights(config_.weight_type);
        params_version_ = model_.params_version();
    }
    if (!decoder_) decoder_ = std::make_unique<Decoder>(model_, B, config_.max_length, *weights_);

    // inputs: the whole prompt for every sequence, then each sequence's last token
    std::vector<int32_t> tokens(static_cast<size_t>(t * B));
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < t; i++) tokens[size_t(b * t + i)] = length_ == 0 ? prompt_[size_t(i)] : last_tokens_[size_t(b)];

    // one draw per unfinished sequence, in order, so the tokens depend neither on
    // the thread count nor on where they are chosen
    const int64_t current = n_past + t;  // tokens per sequence before the ones chosen now (HF's cur_len)
    pass_.current_length = current;
    for (int64_t b = 0; b < B; b++)
        pass_.draws[size_t(b)] = !finished_[size_t(b)] && config_.temperature > 0.0f ? rng_.uniform() : 0.0;

    std::vector<int32_t> chosen(size_t(B), -1);
    if (model_.device().portable()) {
        chosen = choose_on_host(decoder_->run(tokens.data(), t, /*all_positions*/ false));
    } else {
        // on the CPU the tokens are chosen inside the graph, by ggml's threads: a thread
        // of our own would compete with ggml's, which spin a while after each graph
        auto choose = [this, B](Ops & ops, ggml_tensor * logits) {
            ggml_tensor * args[] = {logits};
            return ggml_custom_4d(ops.ctx, GGML_TYPE_I32, B, 1, 1, 1, args, 1, sample_rows, GGML_N_TASKS_MAX, &pass_);
        };
        ggml_tensor * out = decoder_->run(tokens.data(), t, /*all_positions*/ false, choose);
        ggml_backend_tensor_get(out, chosen.data(), 0, chosen.size() * sizeof(int32_t));
    }

    last_tokens_.resize(size_t(B));
    for (int64_t b = 0; b < B; b++) {
        if (finished_[size_t(b)]) {
            last_tokens_[size_t(b)] = config_.eos_token_id >= 0 ? config_.eos_token_id : 0;
            continue;
        }
        last_tokens_[size_t(b)] = chosen[size_t(b)];
        if (chosen[size_t(b)] == config_.eos_token_id) finished_[size_t(b)] = 1;
    }
    length_ = current + 1;
    return chosen;
}

}  // namespace tweetsmith
