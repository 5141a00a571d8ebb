#include "bf16_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu_features.h"

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#define TWEETSMITH_BF16_GEMM 1
#include <immintrin.h>
#endif

namespace tweetsmith::bf16_gemm {

int64_t panels(int64_t rows) { return (rows + kPanel - 1) / kPanel; }
int64_t packed_size(int64_t rows, int64_t depth) { return panels(rows) * ((depth + 1) / 2) * kPanel * 2; }
int64_t packed_size_f32(int64_t rows, int64_t depth) { return panels(rows) * depth * kPanel; }

#ifndef TWEETSMITH_BF16_GEMM

bool supported() { return false; }
bool supported_f32() { return false; }
bool dot_bf16() { return false; }
const char * f32_kernel() { return nullptr; }
void pack(const View &, uint16_t *, int64_t, int64_t) {}
void pack(const View &, float *, int64_t, int64_t) {}
void multiply(const uint16_t *, int64_t, int64_t, const View &, float *, int64_t, int64_t, int64_t, const Epilogue &, int64_t) {}
void multiply(const float *, int64_t, int64_t, const View &, float *, int64_t, int64_t, int64_t, const Epilogue &, int64_t) {}

#else

// The kernels are compiled for AVX512-BF16, but only those that name its instructions
// use them (the compiler makes none from other code), and those run only where
// dot_bf16() says: a CPU with AVX-512 and without AVX512-BF16 runs the rest. A CPU
// without AVX-512 runs only the AVX2 kernels (TS_AVX2).
#define TS_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
// The kernels for CPUs with AVX2 and FMA but not AVX-512
#define TS_AVX2 __attribute__((target("avx2,fma")))

namespace {

// What the product multiplies, and so what its packed operands hold in each 32-bit
// unit along k:
enum class Kernel {
    kBf16,         // A and B: pairs of bf16 (two k), summed by vdpbf16ps
    kBf16Widened,  // A: pairs of bf16; B: one bf16 per unit, widened to f32; each pair's
                   // two products by vfmadd231ps (the same sums without AVX512-BF16)
    kF32,          // A and B: one f32 (one k), by vfmadd231ps
};
// What a packed operand's unit holds: a pair of bf16, one f32, or one bf16 as an f32
enum class Unit { kPair, kF32, kWide };
constexpr Unit a_unit(Kernel k) { return k == Kernel::kF32 ? Unit::kF32 : Unit::kPair; }
constexpr Unit b_unit(Kernel k) { return k == Kernel::kF32 ? Unit::kF32 : k == Kernel::kBf16 ? Unit::kPair : Unit::kWide; }
// B's units per unit of A
constexpr int64_t b_per_a(Kernel k) { return k == Kernel::kBf16Widened ? 2 : 1; }

// The micro-kernel's block of the result: 32 rows (two vectors) × kCols columns.
constexpr int kCols = 12;
// Cache blocking of a thread's share: kDepthPairs pairs of k at a time (A's
// 32-row slice of them, up to 96 KiB, stays in L2 across the columns), kBlockCols
// columns of B at a time (their slice, at most 720 KiB, stays in L2 across A's
// panels). Each block of k reads and writes the result again, so GPT-2's products
// (k of 768, 1,024 and 3,072) take it in one to two blocks: 768 pairs, against 128
// before, took the output layer's [50,304 × 1,024 × 768] product from 186 to
// 124 ms on 2 threads and the blocks' products from ~590 to ~670 GFLOP/s (a
// standalone timing of multiply(), 2026-11-30).
constexpr int64_t kDepthPairs = 768;
constexpr int64_t kBlockCols = 240;  // a multiple of kCols

// f32 → bf16, rounded to nearest even, NaNs kept quiet (ggml's GGML_FP32_TO_BF16)
inline uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return uint16_t((u >> 16) | 64);
    return uint16_t((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

inline uint16_t element(const View & v, int64_t i, int64_t k) {
    if (i >= v.rows || k >= v.depth) return 0;
    const int64_t at = i * v.stride_i + k * v.stride_k;
    if (v.type == GGML_TYPE_BF16) return static_cast<const uint16_t *>(v.data)[at];
    return to_bf16(static_cast<const float *>(v.data)[at]);
}

inline uint32_t pair(const View & v, int64_t i, int64_t p) {
    return uint32_t(element(v, i, 2 * p)) | uint32_t(element(v, i, 2 * p + 1)) << 16;
}

// The products share their packing and blocking; what differs is the 32-bit unit
// their packed operands hold along k (Unit).
template <Unit U>
constexpr int64_t units(int64_t depth) {
    return U == Unit::kPair ? (depth + 1) / 2 : depth;
}

// unit u of row i (its bits), 0 past the edges
template <Unit U>
inline uint32_t unit(const View & v, int64_t i, int64_t u) {
    if constexpr (U == Unit::kF32) {
        if (i >= v.rows || u >= v.depth) return 0;
        uint32_t bits;
        std::memcpy(&bits, static_cast<const float *>(v.data) + i * v.stride_i + u * v.stride_k, 4);
        return bits;
    } else if constexpr (U == Unit::kWide) {
        return uint32_t(element(v, i, u)) << 16;
    } else {
        return pair(v, i, u);
    }
}

inline __mmask16 mask16(int64_t n) { return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

// f32 → bf16 as to_bf16 rounds, in the low half of each 32-bit lane: the conversion
// for CPUs without AVX512-BF16's
TS_AVX512BF16 inline __m512i round_to_bf16(__m512 f) {
    const __m512i u = _mm512_castps_si512(f);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
}

// 16 elements of a row from `src` (f32 or bf16), the first n of them (0 beyond), as bf16
TS_AVX512BF16 inline __m256i load16_bf16(const void * src, ggml_type type, int64_t n) {
    const __mmask16 m = mask16(n);
    if (type == GGML_TYPE_BF16) return _mm256_maskz_loadu_epi16(m, src);
    if (dot_bf16()) return (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src));
    return _mm512_cvtepi32_epi16(round_to_bf16(_mm512_maskz_loadu_ps(m, src)));
}

// 16 pairs (32 consecutive elements along k, the first n of them) as bf16 pairs
TS_AVX512BF16 inline __m512i load16_pairs(const void * src, ggml_type type, int64_t n) {
    if (type == GGML_TYPE_BF16) {
        const __mmask32 m = n >= 32 ? __mmask32(0xffffffff) : n <= 0 ? __mmask32(0) : __mmask32((1u << n) - 1);
        return _mm512_maskz_loadu_epi16(m, src);
    }
    const float * f = static_cast<const float *>(src);
    const __m512 lo = _mm512_maskz_loadu_ps(mask16(n), f), hi = _mm512_maskz_loadu_ps(mask16(n - 16), f + 16);
    if (dot_bf16()) return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(round_to_bf16(lo))), _mm512_cvtepi32_epi16(round_to_bf16(hi)), 1);
}

// 16 elements (the first n of them; 0 beyond) rounded to bf16, as f32 (Unit::kWide)
TS_AVX512BF16 inline __m512i load16_wide(const void * src, ggml_type type, int64_t n) {
    const __mmask16 m = mask16(n);
    if (type == GGML_TYPE_BF16) return _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src)), 16);
    return _mm512_slli_epi32(round_to_bf16(_mm512_maskz_loadu_ps(m, src)), 16);
}

// Interleaves two rows of 16 bf16 into 16 pairs (lo from a, hi from b)
TS_AVX512BF16 inline __m512i interleave(__m256i a, __m256i b) {
    return _mm512_or_si512(_mm512_cvtepu16_epi32(a), _mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
}

// r[i][j] = r[j][i] for 16 vectors of 16 (32-bit) lanes
TS_AVX512BF16 inline void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    }
}

inline const char * at(const View & v, int64_t i, int64_t k) {
    const size_t size = v.type == GGML_TYPE_BF16 ? 2 : 4;
    return static_cast<const char *>(v.data) + (i * v.stride_i + k * v.stride_k) * int64_t(size);
}

// 16 units of a row along k (from unit u, the first n of them; 0 beyond)
template <Unit U>
TS_AVX512BF16 inline __m512i load16_units(const View & v, int64_t i, int64_t u, int64_t n) {
    if constexpr (U == Unit::kF32) return _mm512_castps_si512(_mm512_maskz_loadu_ps(mask16(n), at(v, i, u)));
    else if constexpr (U == Unit::kWide) return load16_wide(at(v, i, u), v.type, n);
    else return load16_pairs(at(v, i, 2 * u), v.type, std::min<int64_t>(v.depth - 2 * u, 2 * n));
}

// 16 rows' unit u (i contiguous: from row i, the first n rows; 0 beyond)
template <Unit U>
TS_AVX512BF16 inline __m512i load16_rows(const View & v, int64_t i, int64_t u, int64_t n) {
    if (n <= 0) return _mm512_setzero_si512();
    if constexpr (U == Unit::kF32) {
        return u < v.depth ? _mm512_castps_si512(_mm512_maskz_loadu_ps(mask16(n), at(v, i, u))) : _mm512_setzero_si512();
    } else if constexpr (U == Unit::kWide) {
        return u < v.depth ? load16_wide(at(v, i, u), v.type, n) : _mm512_setzero_si512();
    } else {
        const int64_t k = 2 * u;
        if (k >= v.depth) return _mm512_setzero_si512();
        const __m256i lo = load16_bf16(at(v, i, k), v.type, n);
        const __m256i hi = k + 1 < v.depth ? load16_bf16(at(v, i, k + 1), v.type, n) : _mm256_setzero_si256();
        return interleave(lo, hi);
    }
}

// What the micro-kernel does after its sum, on the last block of k.
struct TileEnd {
    bool last = false;
    float scale = 1.0f;
    const float * bias = nullptr;  // at the tile's first row
    bool mask = false;             // rows i > column j get `fill`
    int64_t diagonal = 0;          // the tile's first column minus its first row
    float fill = 0.0f;
};

// The micro-kernel: c[32 × cols] = init (zeros when null) + A's panel slice
// (units × 32: pairs of k, or k for kF32) · a tile of B's columns as pack_b lays them
// out (kBf16Widened's B has two units, two k, for each of A's).
template <Kernel K>
TS_AVX512BF16 void micro(const uint32_t * a, const uint32_t * b, int64_t pairs, float * c, int64_t ldc, int cols, int rows,
                         const float * init, int64_t ldi, const TileEnd & end) {
    const __mmask16 m0 = mask16(rows), m1 = mask16(rows - 16);
    __m512 acc[kCols][2];
#pragma GCC unroll 12
    for (int j = 0; j < kCols; j++) {
        if (init && j < cols) {
            acc[j][0] = _mm512_maskz_loadu_ps(m0, init + j * ldi);
            acc[j][1] = _mm512_maskz_loadu_ps(m1, init + j * ldi + 16);
        } else {
            acc[j][0] = _mm512_setzero_ps();
            acc[j][1] = _mm512_setzero_ps();
        }
    }
    for (int64_t p = 0; p < pairs; p++) {
        const __m512i a0 = _mm512_loadu_si512(a + p * 32);
        const __m512i a1 = _mm512_loadu_si512(a + p * 32 + 16);
        // A's panel slice comes from L2 or beyond (its 96 KiB do not fit L1 beside B's
        // tile), and the hardware's prefetch alone left the f32 product at ~105 GFLOP/s
        // a thread on an Ice Lake Xeon; fetched 16 units (2 KiB) ahead, ~126-132
        // (2026-11-30, a standalone timing of multiply(); OpenBLAS: ~133)
        _mm_prefetch(reinterpret_cast<const char *>(a + (p + 16) * 32), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char *>(a + (p + 16) * 32 + 16), _MM_HINT_T0);
        if constexpr (K == Kernel::kBf16Widened) {
            // each pair's first bf16 (k even) in its low half, its second in its high half
            const __m512i high = _mm512_set1_epi32(int(0xffff0000u));
            const __m512 a0e = _mm512_castsi512_ps(_mm512_slli_epi32(a0, 16)), a0o = _mm512_castsi512_ps(_mm512_and_si512(a0, high));
            const __m512 a1e = _mm512_castsi512_ps(_mm512_slli_epi32(a1, 16)), a1o = _mm512_castsi512_ps(_mm512_and_si512(a1, high));
            const uint32_t * bp = b + 2 * p * kCols;
#pragma GCC unroll 12
            for (int j = 0; j < kCols; j++) {
                const __m512 be = _mm512_castsi512_ps(_mm512_set1_epi32(int(bp[j])));
                const __m512 bo = _mm512_castsi512_ps(_mm512_set1_epi32(int(bp[kCols + j])));
                acc[j][0] = _mm512_fmadd_ps(a0o, bo, _mm512_fmadd_ps(a0e, be, acc[j][0]));
                acc[j][1] = _mm512_fmadd_ps(a1o, bo, _mm512_fmadd_ps(a1e, be, acc[j][1]));
            }
            continue;
        }
        const uint32_t * bp = b + p * kCols;
#pragma GCC unroll 12
        for (int j = 0; j < kCols; j++) {
            const __m512i bj = _mm512_set1_epi32(int(bp[j]));
            if constexpr (K == Kernel::kF32) {
                acc[j][0] = _mm512_fmadd_ps(_mm512_castsi512_ps(a0), _mm512_castsi512_ps(bj), acc[j][0]);
                acc[j][1] = _mm512_fmadd_ps(_mm512_castsi512_ps(a1), _mm512_castsi512_ps(bj), acc[j][1]);
            } else {
                acc[j][0] = _mm512_dpbf16_ps(acc[j][0], (__m512bh)a0, (__m512bh)bj);
                acc[j][1] = _mm512_dpbf16_ps(acc[j][1], (__m512bh)a1, (__m512bh)bj);
            }
        }
    }
    if (end.last) {
        const __m512 scale = _mm512_set1_ps(end.scale), fill = _mm512_set1_ps(end.fill);
        __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
        if (end.bias) {
            bias0 = _mm512_maskz_loadu_ps(m0, end.bias);
            bias1 = _mm512_maskz_loadu_ps(m1, end.bias + 16);
        }
#pragma GCC unroll 12
        for (int j = 0; j < kCols; j++) {
            acc[j][0] = _mm512_fmadd_ps(acc[j][0], scale, bias0);
            acc[j][1] = _mm512_fmadd_ps(acc[j][1], scale, bias1);
            if (end.mask) {
                // rows 0..d of the tile are at or above column j's diagonal
                const int64_t d = end.diagonal + j;
                acc[j][0] = _mm512_mask_blend_ps(mask16(d + 1), fill, acc[j][0]);
                acc[j][1] = _mm512_mask_blend_ps(mask16(d + 1 - 16), fill, acc[j][1]);
            }
        }
    }
#pragma GCC unroll 12
    for (int j = 0; j < kCols; j++) {
        if (j >= cols) break;
        _mm512_mask_storeu_ps(c + j * ldc, m0, acc[j][0]);
        _mm512_mask_storeu_ps(c + j * ldc + 16, m1, acc[j][1]);
    }
}

// B's columns [j0, j0 + n), units [p0, p0 + np), into `out` as the micro-kernel reads
// them: for each tile of kCols columns, each unit's kCols values side by side
// (out[t·np·kCols + p·kCols + jj] for column t·kCols + jj), so that its 12 broadcasts a
// unit come from one run of 48 bytes, all a tile's units from one stream (by column,
// twelve streams 3 KiB apart missed L1 while A's panel streamed through it: the f32
// product ran at ~95 GFLOP/s a thread on an Ice Lake Xeon, against OpenBLAS's ~133).
// Columns past n are zeros.
template <Unit U>
TS_AVX512BF16 void pack_b(const View & b, int64_t j0, int64_t n, int64_t p0, int64_t np, uint32_t * out) {
    constexpr __mmask16 kTileLanes = (1u << kCols) - 1;
    for (int64_t t = 0; t * kCols < n; t++) {
        uint32_t * tile = out + t * np * kCols;
        const int64_t jt = j0 + t * kCols, cols = std::min<int64_t>(kCols, n - t * kCols);
        if (b.stride_i == 1 && b.stride_k != 1) {
            // a unit's columns side by side in B already
            for (int64_t p = 0; p < np; p++) _mm512_mask_storeu_epi32(tile + p * kCols, kTileLanes, load16_rows<U>(b, jt, p0 + p, cols));
        } else if (b.stride_k == 1) {
            // each column's units side by side: 16 units of the tile's columns at a time, transposed in registers
            for (int64_t p = 0; p < np; p += 16) {
                __m512i r[16];
                const int64_t count = std::min<int64_t>(units<U>(b.depth) - (p0 + p), np - p);
                for (int q = 0; q < 16; q++) r[q] = q < cols ? load16_units<U>(b, jt + q, p0 + p, count) : _mm512_setzero_si512();
                transpose16(r);
                for (int64_t q = 0; q < std::min<int64_t>(16, np - p); q++) _mm512_mask_storeu_epi32(tile + (p + q) * kCols, kTileLanes, r[q]);
            }
        } else {
            for (int64_t p = 0; p < np; p++)
                for (int64_t jj = 0; jj < kCols; jj++) tile[p * kCols + jj] = jj < cols ? unit<U>(b, jt + jj, p0 + p) : 0;
        }
    }
}


// ---------------------------------------------------------------- AVX2
//
// CPUs without AVX-512 have 16 vector registers of 8 floats: the 32 × 12 block does
// not fit, so the AVX2 micro-kernel takes the same panel slice and B tile as four
// 16 × 6 blocks (12 sums, two loads of A and six broadcasts of B per k: the
// Haswell-era BLIS shape), each over the whole depth. It runs the f32 product and the
// widened bf16 one (kBf16Widened: no AVX2 CPU has AVX512-BF16). Every sum still runs
// in k's order from the same start, so the results are the AVX-512 kernels', bit for bit.

// lanes l < n of 8 (n clamped to 0..8), as maskload/maskstore take them
TS_AVX2 inline __m256i lanes_below(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(std::clamp<int64_t>(n, 0, 8))), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Rows [R0, R0 + 16) × columns [C0, C0 + kPartCols) of micro()'s block (rows and
// cols: the block's valid rows and columns, counted from its first). The widened
// kernel takes 4 columns at a time, not 6: with 12 sums, each half of A's pair and a
// broadcast, GCC kept two sums on the stack (in the portable build, 2026-12-01).
template <Kernel K>
constexpr int kPartCols = K == Kernel::kF32 ? 6 : 4;
template <Kernel K, int R0, int C0>
TS_AVX2 void micro_avx2_part(const float * a, const float * b, int64_t units, float * c, int64_t ldc, int cols, int rows,
                             const float * init, int64_t ldi, const TileEnd & end) {
    static_assert(K != Kernel::kBf16, "AVX2 has no vdpbf16ps");
    constexpr int kParts = kPartCols<K>;
    const int nc = std::min(cols - C0, kParts);
    if (nc <= 0 || rows <= R0) return;
    const __m256i m0 = lanes_below(rows - R0), m1 = lanes_below(rows - R0 - 8);
    __m256 acc[kParts][2];
#pragma GCC unroll 6
    for (int j = 0; j < kParts; j++) {
        if (init && j < nc) {
            acc[j][0] = _mm256_maskload_ps(init + (C0 + j) * ldi + R0, m0);
            acc[j][1] = _mm256_maskload_ps(init + (C0 + j) * ldi + R0 + 8, m1);
        } else {
            acc[j][0] = _mm256_setzero_ps();
            acc[j][1] = _mm256_setzero_ps();
        }
    }
    for (int64_t p = 0; p < units; p++) {
        const __m256 a0 = _mm256_loadu_ps(a + p * kPanel + R0);
        const __m256 a1 = _mm256_loadu_ps(a + p * kPanel + R0 + 8);
        // A's half of a unit is one cache line; fetched ahead as the AVX-512 kernel does
        _mm_prefetch(reinterpret_cast<const char *>(a + (p + 16) * kPanel + R0), _MM_HINT_T0);
        if constexpr (K == Kernel::kBf16Widened) {
            // each pair's first bf16 (k even) in its low half, its second in its high
            // half; B has a unit for each. Every sum gets its even k, then its odd k,
            // as the AVX-512 kernel's does (in two passes: the sums and both halves
            // of A do not fit the 16 registers at once).
            const float * bp = b + 2 * p * kCols + C0;
            const __m256i high = _mm256_set1_epi32(int(0xffff0000u));
            const __m256 e0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(a0), 16));
            const __m256 e1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(a1), 16));
#pragma GCC unroll 6
            for (int j = 0; j < kParts; j++) {
                const __m256 bj = _mm256_broadcast_ss(bp + j);
                acc[j][0] = _mm256_fmadd_ps(e0, bj, acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(e1, bj, acc[j][1]);
            }
            const __m256 o0 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(a0), high));
            const __m256 o1 = _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(a1), high));
#pragma GCC unroll 6
            for (int j = 0; j < kParts; j++) {
                const __m256 bj = _mm256_broadcast_ss(bp + kCols + j);
                acc[j][0] = _mm256_fmadd_ps(o0, bj, acc[j][0]);
                acc[j][1] = _mm256_fmadd_ps(o1, bj, acc[j][1]);
            }
            continue;
        }
        const float * bp = b + p * kCols + C0;
#pragma GCC unroll 6
        for (int j = 0; j < kParts; j++) {
            const __m256 bj = _mm256_broadcast_ss(bp + j);
            acc[j][0] = _mm256_fmadd_ps(a0, bj, acc[j][0]);
            acc[j][1] = _mm256_fmadd_ps(a1, bj, acc[j][1]);
        }
    }
    if (end.last) {
        const __m256 scale = _mm256_set1_ps(end.scale), fill = _mm256_set1_ps(end.fill);
        __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
        if (end.bias) {
            bias0 = _mm256_maskload_ps(end.bias + R0, m0);
            bias1 = _mm256_maskload_ps(end.bias + R0 + 8, m1);
        }
#pragma GCC unroll 6
        for (int j = 0; j < kParts; j++) {
            acc[j][0] = _mm256_fmadd_ps(acc[j][0], scale, bias0);
            acc[j][1] = _mm256_fmadd_ps(acc[j][1], scale, bias1);
            if (end.mask) {
                // the block's rows 0..d are at or above column j's diagonal
                const int64_t d = end.diagonal + C0 + j - R0;
                acc[j][0] = _mm256_blendv_ps(fill, acc[j][0], _mm256_castsi256_ps(lanes_below(d + 1)));
                acc[j][1] = _mm256_blendv_ps(fill, acc[j][1], _mm256_castsi256_ps(lanes_below(d + 1 - 8)));
            }
        }
    }
#pragma GCC unroll 6
    for (int j = 0; j < kParts; j++) {
        if (j >= nc) break;
        _mm256_maskstore_ps(c + (C0 + j) * ldc + R0, m0, acc[j][0]);
        _mm256_maskstore_ps(c + (C0 + j) * ldc + R0 + 8, m1, acc[j][1]);
    }
}

// micro<K> for AVX2: the same arguments, the same results
template <Kernel K>
TS_AVX2 void micro_avx2(const uint32_t * a_units, const uint32_t * b_units, int64_t units, float * c, int64_t ldc, int cols, int rows,
                        const float * init, int64_t ldi, const TileEnd & end) {
    const float * a = reinterpret_cast<const float *>(a_units);
    const float * b = reinterpret_cast<const float *>(b_units);
    // the upper rows' blocks first, so A's half of the slice is read again in a row
    constexpr int w = kPartCols<K>;
    micro_avx2_part<K, 0, 0>(a, b, units, c, ldc, cols, rows, init, ldi, end);
    micro_avx2_part<K, 0, w>(a, b, units, c, ldc, cols, rows, init, ldi, end);
    if constexpr (3 * w == kCols) micro_avx2_part<K, 0, 2 * w>(a, b, units, c, ldc, cols, rows, init, ldi, end);
    micro_avx2_part<K, 16, 0>(a, b, units, c, ldc, cols, rows, init, ldi, end);
    micro_avx2_part<K, 16, w>(a, b, units, c, ldc, cols, rows, init, ldi, end);
    if constexpr (3 * w == kCols) micro_avx2_part<K, 16, 2 * w>(a, b, units, c, ldc, cols, rows, init, ldi, end);
}

// Element (i, k) of an operand in memory (f32 or bf16), as unit U takes it: an f32's
// bits, or a bf16 (rounded from an f32 as to_bf16 does) in the low 16 bits (kPair's
// halves) or the high ones (kWide); in range only.
template <Unit U>
inline uint32_t bits_at(const View & v, int64_t at) {
    if constexpr (U == Unit::kF32) {
        uint32_t bits;
        std::memcpy(&bits, static_cast<const float *>(v.data) + at, 4);
        return bits;
    } else {
        const uint32_t h = v.type == GGML_TYPE_BF16 ? static_cast<const uint16_t *>(v.data)[at] : to_bf16(static_cast<const float *>(v.data)[at]);
        return U == Unit::kWide ? h << 16 : h;
    }
}
// unit u of the row whose element (row, 0) is at `base`: unit<U>'s value without its
// row check (u must be below units<U>(v.depth))
template <Unit U>
inline uint32_t unit_at(const View & v, int64_t base, int64_t u) {
    if constexpr (U != Unit::kPair) {
        return bits_at<U>(v, base + u * v.stride_k);
    } else {
        const int64_t k = 2 * u;
        return bits_at<U>(v, base + k * v.stride_k) | (k + 1 < v.depth ? bits_at<U>(v, base + (k + 1) * v.stride_k) << 16 : 0u);
    }
}

// pack_b's layout without AVX-512's transposes and masks: B's packing is ~1/m of
// the product's work, so plain loops cost a few % at GPT-2's shapes. (Not unit<U>:
// its per-element row and depth checks took mixed bf16 training held to AVX2 from
// ~155 to ~134 tok/s, 2026-12-01.)
template <Unit U>
TS_AVX2 void pack_b_avx2(const View & b, int64_t j0, int64_t n, int64_t p0, int64_t np, uint32_t * out) {
    const int64_t depth = std::max<int64_t>(0, std::min(np, units<U>(b.depth) - p0));  // units with values; zeros after
    for (int64_t t = 0; t * kCols < n; t++) {
        uint32_t * tile = out + t * np * kCols;
        const int64_t jt = j0 + t * kCols, cols = std::min<int64_t>(kCols, n - t * kCols);
        std::fill_n(tile, np * kCols, 0u);
        if (b.stride_k == 1) {
            // along each column's k, contiguous
            for (int64_t jj = 0; jj < cols; jj++)
                for (int64_t p = 0; p < depth; p++) tile[p * kCols + jj] = unit_at<U>(b, (jt + jj) * b.stride_i, p0 + p);
        } else {
            // a unit's columns at a time (side by side in memory where stride_i is 1)
            for (int64_t p = 0; p < depth; p++)
                for (int64_t jj = 0; jj < cols; jj++) tile[p * kCols + jj] = unit_at<U>(b, (jt + jj) * b.stride_i, p0 + p);
        }
    }
}

// pack_panels' layout, likewise
template <Unit U>
TS_AVX2 void pack_panels_avx2(const View & a, uint32_t * packed, int64_t begin, int64_t end) {
    const int64_t depth = units<U>(a.depth);
    for (int64_t panel = begin; panel < end; panel++) {
        uint32_t * out = packed + panel * depth * kPanel;
        const int64_t i0 = panel * kPanel, rows = std::min<int64_t>(kPanel, a.rows - i0);
        if (rows < kPanel) std::fill_n(out, depth * kPanel, 0u);
        if (a.stride_i == 1) {
            // a unit's rows side by side in memory: along them, as the panel lays them
            for (int64_t p = 0; p < depth; p++)
                for (int64_t r = 0; r < rows; r++) out[p * kPanel + r] = unit_at<U>(a, i0 + r, p);
        } else {
            for (int64_t r = 0; r < rows; r++) {
                const int64_t base = (i0 + r) * a.stride_i;
                for (int64_t p = 0; p < depth; p++) out[p * kPanel + r] = unit_at<U>(a, base, p);
            }
        }
    }
}

}  // namespace

// (TWEETSMITH_NO_BF16_GEMM=1 and TWEETSMITH_NO_F32_GEMM=1 turn the products off, to
// compare with ggml's)
bool supported() {
    static const bool yes = !cpu_features::env_off("TWEETSMITH_NO_BF16_GEMM") && (cpu_features::avx512() || cpu_features::avx2_fma());
    return yes;
}

bool dot_bf16() {
    static const bool yes = supported() && cpu_features::avx512() && !cpu_features::env_off("TWEETSMITH_NO_AVX512BF16") &&
                            __builtin_cpu_supports("avx512bf16");
    return yes;
}

bool supported_f32() {
    static const bool yes = !cpu_features::env_off("TWEETSMITH_NO_F32_GEMM") && (cpu_features::avx512() || cpu_features::avx2_fma());
    return yes;
}

const char * f32_kernel() {
    if (!supported_f32()) return nullptr;
    return cpu_features::avx512() ? "avx512" : "avx2";
}

namespace {

template <Unit U>
TS_AVX512BF16 void pack_panels(const View & a, uint32_t * packed, int64_t begin, int64_t end) {
    const int64_t pairs = units<U>(a.depth);
    if (a.stride_i == 1 && a.stride_k != 1) {
        // rows along i contiguous: two rows of k interleaved, 16 i at a time, for a
        // group of panels at once, so that each row of k is read in runs of 1 KiB
        // (panel by panel, every row would be a 128-byte read a page or more from the last)
        constexpr int64_t kGroup = 8;
        for (int64_t g = begin; g < end; g += kGroup) {
            const int64_t g_end = std::min(end, g + kGroup);
            for (int64_t p = 0; p < pairs; p++) {
                for (int64_t panel = g; panel < g_end; panel++) {
                    uint32_t * out = packed + panel * pairs * kPanel;
                    const int64_t i0 = panel * kPanel, rows = std::min<int64_t>(kPanel, a.rows - i0);
                    for (int64_t h = 0; h < kPanel; h += 16)
                        _mm512_storeu_si512(out + p * kPanel + h, load16_rows<U>(a, i0 + h, p, std::min<int64_t>(16, rows - h)));
                }
            }
        }
        return;
    }
    for (int64_t panel = begin; panel < end; panel++) {
        uint32_t * out = packed + panel * pairs * kPanel;
        const int64_t i0 = panel * kPanel, rows = std::min<int64_t>(kPanel, a.rows - i0);
        if (a.stride_k == 1) {
            // each row's pairs contiguous: 16 rows × 16 pairs at a time, transposed in registers
            for (int64_t h = 0; h < kPanel; h += 16) {
                for (int64_t p = 0; p < pairs; p += 16) {
                    __m512i r[16];
                    for (int q = 0; q < 16; q++)
                        r[q] = h + q < rows ? load16_units<U>(a, i0 + h + q, p, pairs - p) : _mm512_setzero_si512();
                    transpose16(r);
                    const int64_t count = std::min<int64_t>(16, pairs - p);
                    for (int64_t q = 0; q < count; q++) _mm512_storeu_si512(out + (p + q) * kPanel + h, r[q]);
                }
            }
        } else {
            for (int64_t p = 0; p < pairs; p++)
                for (int64_t r = 0; r < kPanel; r++) out[p * kPanel + r] = unit<U>(a, i0 + r, p);
        }
    }
}

// The blocking around the micro-kernel, for either instruction set (kAvx2: the AVX2
// kernels). Compiled for the build's baseline: it calls the kernels,
// which are compiled for their instruction sets (a call per 32 × 12 tile of the result).
template <Kernel K, bool kAvx2 = false>
void multiply_units(const uint32_t * a_all, int64_t m, int64_t k, const View & b, float * c, int64_t ldc, int64_t j_begin,
                    int64_t j_end, const Epilogue & e, int64_t packed_depth) {
    static_assert(!kAvx2 || K != Kernel::kBf16, "AVX2 has no vdpbf16ps");
    if (j_begin >= j_end || m <= 0) return;
    // (the causal modes' bounds below count pairs of k: kF32's units are single k)
    constexpr int64_t kPer = K == Kernel::kF32 ? 1 : 2;
    // B's units per A's, and A's units per block of k: B's block stays the same size
    constexpr int64_t kB = b_per_a(K), kDepth = kDepthPairs / kB;
    const int64_t pairs = units<a_unit(K)>(k), n_panels = panels(m);
    const int64_t panel_units = units<a_unit(K)>(std::max(k, packed_depth));  // a panel's length in A
    thread_local std::vector<uint32_t> scratch;
    const size_t need = size_t(kBlockCols) * size_t(kDepthPairs);
    if (scratch.size() < need) scratch.resize(need);
    for (int64_t j0 = j_begin; j0 < j_end; j0 += kBlockCols) {
        const int64_t n = std::min(kBlockCols, j_end - j0);
        const int64_t blocks_end = std::max<int64_t>(pairs, 1);
        for (int64_t p0 = 0; p0 < blocks_end; p0 += kDepth) {
            const int64_t np = std::min(kDepth, pairs - p0), nb = np * kB;
            if (np > 0) {
                if constexpr (kAvx2) pack_b_avx2<b_unit(K)>(b, j0, n, p0 * kB, nb, scratch.data());
                else pack_b<b_unit(K)>(b, j0, n, p0 * kB, nb, scratch.data());
            }
            const bool last = p0 + kDepth >= blocks_end;
            for (int64_t panel = 0; panel < n_panels; panel++) {
                const uint32_t * a = a_all + (panel * panel_units + p0) * kPanel;
                const int64_t i0 = panel * kPanel;
                const int rows = int(std::min<int64_t>(kPanel, m - i0));
                for (int64_t j = 0; j < n; j += kCols) {
                    const int64_t jt = j0 + j;  // the tile's first column
                    const int64_t jd = jt + e.diagonal;  // the same, as the causal modes count it
                    const int cols = int(std::min<int64_t>(kCols, n - j));
                    float * cj = c + jt * ldc + i0;
                    if (e.causal == Causal::kMaskAbove && i0 > jd + cols - 1) {
                        // wholly above the diagonal
                        if (p0 == 0)
                            for (int q = 0; q < cols; q++) std::fill_n(cj + q * ldc, rows, e.fill);
                        continue;
                    }
                    // the pairs of k this tile sums, within this block
                    int64_t lo = p0, hi = p0 + std::max<int64_t>(np, 0);
                    if (e.causal == Causal::kDepthToColumn) hi = std::min(hi, (jd + cols - 1) / kPer + 1);
                    if (e.causal == Causal::kDepthFromColumn) lo = std::max(lo, jd / kPer);
                    const int64_t count = std::max<int64_t>(0, hi - lo);
                    if (count == 0 && p0 > 0 && !last) continue;
                    // the first block of k starts from the addend, the others from c
                    const float * init = p0 > 0 ? cj : e.addend ? e.addend + jt * e.ld_addend + i0 : nullptr;
                    const int64_t ldi = p0 > 0 ? ldc : e.ld_addend;
                    TileEnd end;
                    end.last = last;
                    end.scale = e.scale;
                    end.bias = e.bias ? e.bias + i0 : nullptr;
                    end.mask = e.causal == Causal::kMaskAbove && i0 + kPanel - 1 > jd;
                    end.diagonal = jd - i0;
                    end.fill = e.fill;
                    const int64_t off = count > 0 ? lo - p0 : 0;
                    const uint32_t * at_a = a + off * kPanel;
                    const uint32_t * at_b = scratch.data() + (j * nb + off * kB * kCols);
                    if constexpr (kAvx2) micro_avx2<K>(at_a, at_b, count, cj, ldc, cols, rows, init, ldi, end);
                    else micro<K>(at_a, at_b, count, cj, ldc, cols, rows, init, ldi, end);
                }
            }
        }
    }
}

}  // namespace

void pack(const View & a, uint16_t * packed, int64_t begin, int64_t end) {
    if (cpu_features::avx512()) pack_panels<Unit::kPair>(a, reinterpret_cast<uint32_t *>(packed), begin, end);
    else pack_panels_avx2<Unit::kPair>(a, reinterpret_cast<uint32_t *>(packed), begin, end);
}
void pack(const View & a, float * packed, int64_t begin, int64_t end) {
    if (cpu_features::avx512()) pack_panels<Unit::kF32>(a, reinterpret_cast<uint32_t *>(packed), begin, end);
    else pack_panels_avx2<Unit::kF32>(a, reinterpret_cast<uint32_t *>(packed), begin, end);
}

void multiply(const uint16_t * a_packed, int64_t m, int64_t k, const View & b, float * c, int64_t ldc, int64_t j_begin,
              int64_t j_end, const Epilogue & e, int64_t packed_depth) {
    const uint32_t * a = reinterpret_cast<const uint32_t *>(a_packed);
    if (dot_bf16()) multiply_units<Kernel::kBf16>(a, m, k, b, c, ldc, j_begin, j_end, e, packed_depth);
    else if (cpu_features::avx512()) multiply_units<Kernel::kBf16Widened>(a, m, k, b, c, ldc, j_begin, j_end, e, packed_depth);
    else multiply_units<Kernel::kBf16Widened, true>(a, m, k, b, c, ldc, j_begin, j_end, e, packed_depth);
}
void multiply(const float * a_packed, int64_t m, int64_t k, const View & b, float * c, int64_t ldc, int64_t j_begin,
              int64_t j_end, const Epilogue & e, int64_t packed_depth) {
    const uint32_t * a = reinterpret_cast<const uint32_t *>(a_packed);
    if (!cpu_features::avx512()) return multiply_units<Kernel::kF32, true>(a, m, k, b, c, ldc, j_begin, j_end, e, packed_depth);
    multiply_units<Kernel::kF32>(a, m, k, b, c, ldc, j_begin, j_end, e, packed_depth);
}

#endif

}  // namespace tweetsmith::bf16_gemm
