// Elementary functions and a dot product as straight-line arithmetic, so that the compiler vectorises
// the loops that call them (libm's are one call per element).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace tweetsmith {

// e^x to about 1 ulp for x in [-87, 88] (clamped there, which keeps 2^n a normal
// float): e^x = 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln2/2, where the
// Taylor series to r⁷ is within 6e-9 of e^r.
inline float exp_vectorisable(float x) {
    x = std::min(88.0f, std::max(-87.0f, x));
    const float round_magic = 12582912.0f;  // 1.5·2²³: adding it rounds to an integer
    const float n = (x * 1.44269504088896341f + round_magic) - round_magic;
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln 2 split in two for exactness
    const float p =
        1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
    const uint32_t bits = uint32_t(int32_t(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// Σ a[i]·b[i] in 16 interleaved partial sums, which the compiler turns into vector
// lanes (a single running sum is a chain it may not reorder).
inline float dot_product(const float * a, const float * b, int64_t n) {
    constexpr int64_t kLanes = 16;
    float lanes[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (int64_t l = 0; l < kLanes; l++) lanes[l] += a[i + l] * b[i + l];
    float sum = 0.0f;
    for (; i < n; i++) sum += a[i] * b[i];
    for (int64_t l = 0; l < kLanes; l++) sum += lanes[l];
    return sum;
}

}  // namespace tweetsmith
