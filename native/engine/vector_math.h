// Elementary functions, bf16 conversions, a softmax's row sums and a dot product as
// straight-line arithmetic, for a float or 16 at a time, so that the loops that
// call them run in vectors (libm's are one call per element).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace tweetsmith {

#if defined(__GNUC__) || defined(__clang__)
#define TWEETSMITH_VECTOR_EXTENSIONS 1
// The CPU's own vector width as one value (GCC's and Clang's vector extensions),
// for the loops that must run in vectors (GELU, the loss's and attention's
// exponentials): 16 floats, or 8 with AVX but not AVX-512 (AVX2 CPUs, and the
// portable build's baseline everywhere). With 16-lane vectors there, GCC made
// scalar code, one lane at a time, of a select (a > b ? a : b), and it leaves the
// scalar exp_vectorisable's loops unvectorised too (its clamp stays a branch under
// -ftrapping-math): GELU ran at 5.3 ns a value in the portable build on an Ice Lake
// Xeon, 0.8 in 8-lane vectors, 0.9 with AVX-512 (2026-12-01).
#if defined(__AVX__) && !defined(__AVX512F__)
constexpr int64_t kLanes = 8;
#define TWEETSMITH_VECTOR_8 1
#else
constexpr int64_t kLanes = 16;
#endif
typedef float FloatsN __attribute__((vector_size(4 * kLanes)));
typedef int32_t IntsN __attribute__((vector_size(4 * kLanes)));
typedef uint32_t UintsN __attribute__((vector_size(4 * kLanes)));
typedef float UnalignedFloatsN __attribute__((vector_size(4 * kLanes), aligned(4)));
typedef uint16_t Bf16xN __attribute__((vector_size(2 * kLanes)));  // kLanes bf16 values, as their bits
typedef uint16_t UnalignedBf16xN __attribute__((vector_size(2 * kLanes), aligned(2)));

// to_bf16 and from_bf16 (below) kLanes at a time
inline Bf16xN to_bf16(FloatsN f) {
    const UintsN u = (UintsN)f;
    return __builtin_convertvector((u + (0x7fff + ((u >> 16) & 1))) >> 16, Bf16xN);
}
inline FloatsN from_bf16(Bf16xN h) { return (FloatsN)(__builtin_convertvector(h, UintsN) << 16); }
inline FloatsN load_lanes(const float * p) { return *reinterpret_cast<const UnalignedFloatsN *>(p); }
inline void store_lanes(float * p, FloatsN v) { *reinterpret_cast<UnalignedFloatsN *>(p) = v; }
#endif

// bf16 is the top half of an f32: f32 → bf16 rounded to nearest even, as ggml and
// PyTorch round. Branch-free so that loops of it vectorise (a NaN whose payload sits
// only in the low bits would round to infinity: no finite computation makes one).
inline uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return uint16_t((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}
inline float from_bf16(uint16_t h) {
    const uint32_t u = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

namespace vector_math_detail {
inline float clamp(float x, float lo, float hi) { return std::min(hi, std::max(lo, x)); }
inline int32_t to_int(float n) { return int32_t(n); }
inline float from_bits(int32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
inline FloatsN clamp(FloatsN x, float lo, float hi) {
    x = x > lo ? x : FloatsN{} + lo;  // NaN lanes become lo, as std::max(lo, NaN) does
    return x < hi ? x : FloatsN{} + hi;
}
inline IntsN to_int(FloatsN n) { return __builtin_convertvector(n, IntsN); }
inline FloatsN from_bits(IntsN bits) { return (FloatsN)bits; }  // the same bits, as floats
#endif
}  // namespace vector_math_detail

// e^x to about 1 ulp for x in [-87, 88] (clamped there, which keeps 2^n a normal
// float): e^x = 2^n · e^r with n = round(x / ln 2) and |r| ≤ ln2/2, where the
// Taylor series to r⁷ is within 6e-9 of e^r. For a float, or kLanes at once (FloatsN).
template <typename F>
inline F exp_vectorisable(F x) {
    using namespace vector_math_detail;
    x = clamp(x, -87.0f, 88.0f);
    const float round_magic = 12582912.0f;  // 1.5·2²³: adding it rounds to an integer
    const F n = (x * 1.44269504088896341f + round_magic) - round_magic;
    const F r = (x - n * 0.693359375f) - n * -2.12194440e-4f;  // ln 2 split in two for exactness
    const F p =
        1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
    return p * from_bits((to_int(n) + 127) << 23);
}

// A causal attention's rows are longer than the part they use, [0, V) of `room`
// values: a row's last kLanes may run past V, masked, where a scalar loop would take
// the rest (those ~kLanes/2 exponentials cost a row of the attention's softmax as much as
// its vectors did, 2026-12-01). Where the vectors that cover [0, V) end without
// passing `room`: V rounded up to kLanes, or down where that would pass it (a
// scalar loop then finishes); 0 without vector extensions.
inline int64_t whole_lanes_end(int64_t V, int64_t room) {
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    const int64_t up = (V + kLanes - 1) / kLanes * kLanes;
    return up <= room ? up : V / kLanes * kLanes;
#else
    (void)V, (void)room;
    return 0;
#endif
}
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
namespace vector_math_detail {
template <size_t... L>
constexpr FloatsN lane_numbers(std::index_sequence<L...>) {
    return FloatsN{float(L)...};
}
}  // namespace vector_math_detail
// x's lanes for the elements i, i + 1, … that come before V; `other` in the rest
inline FloatsN lanes_before(FloatsN x, int64_t i, int64_t V, float other = 0.0f) {
    constexpr FloatsN kLaneNumbers = vector_math_detail::lane_numbers(std::make_index_sequence<kLanes>{});  // 0, 1, …
    return kLaneNumbers < float(V - i) ? x : FloatsN{} + other;
}
#endif
// Where a row of V values, done in vectors up to whole_lanes_end(V, room) and by a
// scalar loop after, has been written: the zeros that pad it to `room` start here.
inline int64_t lanes_end(int64_t V, int64_t room) { return std::max(whole_lanes_end(V, room), V); }

// What a softmax needs of a row z[0..V): its largest value, and the sum of
// e^(z - max) over it, in double (cross-entropy's rows are the vocabulary long).
// The CPU's vector width at a time (FloatsN) where the compiler has vector
// extensions, each lane's sum a double; the exponentials are exp_vectorisable's (~1 ulp; libm's
// std::exp, one call per logit, took 0.1 s of each 124M training step at 1×1024).
// `out`, where given, gets each e^(z - max) (it may be z itself). A NaN or
// infinite z makes the sum NaN, as libm's exp would. `room` ≥ V: how far z (and out)
// may be read (and written, with 0) past V, for whole vectors (whole_lanes_end).
struct ExpSum {
    float max;
    double sum;
};

inline ExpSum exp_sum(const float * z, int64_t V, float * out, int64_t room = 0) {
    room = std::max(V, room);
    const int64_t whole = whole_lanes_end(V, room);  // the part done kLanes at a time
    // Every vector takes lanes_before's mask, not only the last (the one that may pass
    // V): an unmasked loop and one masked vector after it measured slower, 38 against 34
    // µs a 50,257-long row and 405 against 385 µs for attention's rows 1..1,024 (GCC 12,
    // Ice Lake Xeon, 2026-12-01).
    float max = -INFINITY, check = 0.0f;  // check: Σ(z - z), 0 or NaN for a NaN or infinite z
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    FloatsN top = FloatsN{} - INFINITY, finite = {};
    for (int64_t i = 0; i < whole; i += kLanes) {
        const FloatsN v = lanes_before(load_lanes(z + i), i, V, -INFINITY);
        top = top > v ? top : v;
        finite += lanes_before(v - v, i, V);
    }
    for (int l = 0; l < kLanes; l++) {
        max = std::max(max, top[l]);
        check += finite[l];
    }
#endif
    for (int64_t i = std::min(whole, V); i < V; i++) {
        max = std::max(max, z[i]);
        check += z[i] - z[i];
    }
    if (std::isnan(check)) {
        if (out) {
            std::fill(out, out + V, NAN);
            std::fill(out + V, out + lanes_end(V, room), 0.0f);
        }
        return {NAN, NAN};
    }
    double sum = 0.0;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    // each half of the lanes widened to doubles
    typedef double DoublesHalf __attribute__((vector_size(4 * kLanes)));
    DoublesHalf low = {}, high = {};
    for (int64_t i = 0; i < whole; i += kLanes) {
        const FloatsN e = lanes_before(exp_vectorisable(load_lanes(z + i) - max), i, V);
        if (out) store_lanes(out + i, e);
#ifdef TWEETSMITH_VECTOR_8
        low += __builtin_convertvector(__builtin_shufflevector(e, e, 0, 1, 2, 3), DoublesHalf);
        high += __builtin_convertvector(__builtin_shufflevector(e, e, 4, 5, 6, 7), DoublesHalf);
#else
        low += __builtin_convertvector(__builtin_shufflevector(e, e, 0, 1, 2, 3, 4, 5, 6, 7), DoublesHalf);
        high += __builtin_convertvector(__builtin_shufflevector(e, e, 8, 9, 10, 11, 12, 13, 14, 15), DoublesHalf);
#endif
    }
    for (int l = 0; l < kLanes / 2; l++) sum += low[l] + high[l];
#endif
    for (int64_t i = std::min(whole, V); i < V; i++) {
        const float e = exp_vectorisable(z[i] - max);
        if (out) out[i] = e;
        sum += double(e);
    }
    return {max, sum};
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
