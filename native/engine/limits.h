// The bounds every size that comes from outside (config.json, a safetensors
// header, an option) is checked against before anything is allocated, and the
// checked arithmetic that computes byte sizes from them. lib/limits.ts holds the
// same numbers for the TypeScript side, which checks first and names the file.
//
// Why bounds at all: ggml stops the process (GGML_ASSERT, abort) rather than
// returning an error when a tensor's size overflows, a context runs out of room
// or a graph outgrows its capacity. So nothing reaches ggml that was not checked.
#pragma once
#include <cstdint>
#include <optional>

namespace tweetsmith::limits {

// GPT-2's shape. Far above any published GPT-2 (XL: 48 layers, 1600 wide, 1024
// positions, 50257 tokens), low enough that every product below fits in 63 bits.
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxEmbd = 1 << 16;
constexpr int64_t kMaxPositions = 1 << 20;
constexpr int64_t kMaxVocab = 1 << 24;
// CPU threads: ggml's thread pool holds at most GGML_MAX_N_THREADS (512); more than
// a few per core only adds contention.
constexpr int64_t kMaxThreads = 256;
// Sequences sampled at once.
constexpr int64_t kMaxSequences = 4096;

// a · b, or nothing when it does not fit in an int64 (or either is negative).
// (Plain division, not __builtin_mul_overflow: MSVC builds this too.)
inline std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
    if (a < 0 || b < 0) return std::nullopt;
    if (a != 0 && b > INT64_MAX / a) return std::nullopt;
    return a * b;
}

inline std::optional<int64_t> checked_add(int64_t a, int64_t b) {
    if (a < 0 || b < 0 || b > INT64_MAX - a) return std::nullopt;
    return a + b;
}

}  // namespace tweetsmith::limits
