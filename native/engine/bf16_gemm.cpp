#include "bf16_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#define TWEETSMITH_BF16_GEMM 1
#include <immintrin.h>
#endif

namespace tweetsmith::bf16_gemm {

int64_t panels(int64_t rows) { return (rows + kPanel - 1) / kPanel; }
int64_t packed_size(int64_t rows, int64_t depth) { return panels(rows) * ((depth + 1) / 2) * kPanel * 2; }

#ifndef TWEETSMITH_BF16_GEMM

bool supported() { return false; }
void pack(const View &, uint16_t *, int64_t, int64_t) {}
void multiply(const uint16_t *, int64_t, int64_t, const View &, float *, int64_t, int64_t, int64_t, const Epilogue &) {}

#else

#define TS_AVX512BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

namespace {

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
constexpr int64_t kBlockCols = 240;  // a multiple of kCols and of 48

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

inline __mmask16 mask16(int64_t n) { return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

// 16 elements of a row from `src` (f32 or bf16), the first n of them (0 beyond), as bf16
TS_AVX512BF16 inline __m256i load16_bf16(const void * src, ggml_type type, int64_t n) {
    const __mmask16 m = mask16(n);
    if (type == GGML_TYPE_BF16) return _mm256_maskz_loadu_epi16(m, src);
    return (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src));
}

// 16 pairs (32 consecutive elements along k, the first n of them) as bf16 pairs
TS_AVX512BF16 inline __m512i load16_pairs(const void * src, ggml_type type, int64_t n) {
    if (type == GGML_TYPE_BF16) {
        const __mmask32 m = n >= 32 ? __mmask32(0xffffffff) : n <= 0 ? __mmask32(0) : __mmask32((1u << n) - 1);
        return _mm512_maskz_loadu_epi16(m, src);
    }
    const float * f = static_cast<const float *>(src);
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(mask16(n - 16), f + 16), _mm512_maskz_loadu_ps(mask16(n), f));
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
// (pairs × 32) · B's columns, B's pair p of column j at b[j·sj + p·sp]: one of sj and
// sp is 1 (kByColumn: sp = 1, each column's pairs in a row).
template <bool kByColumn>
TS_AVX512BF16 void micro(const uint32_t * a, const uint32_t * b, int64_t sj, int64_t sp, int64_t pairs, float * c, int64_t ldc,
                         int cols, __mmask16 m0, __mmask16 m1, const float * init, int64_t ldi, const TileEnd & end) {
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
        const __m512bh a0 = (__m512bh)_mm512_loadu_si512(a + p * 32);
        const __m512bh a1 = (__m512bh)_mm512_loadu_si512(a + p * 32 + 16);
        const uint32_t * bp = kByColumn ? b + p : b + p * sp;
#pragma GCC unroll 12
        for (int j = 0; j < kCols; j++) {
            const __m512bh bj = (__m512bh)_mm512_set1_epi32(int(kByColumn ? bp[j * sj] : bp[j]));
            acc[j][0] = _mm512_dpbf16_ps(acc[j][0], a0, bj);
            acc[j][1] = _mm512_dpbf16_ps(acc[j][1], a1, bj);
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

// B's columns [j0, j0 + n), pairs [p0, p0 + np), into `out`: by column (out[j·np + p])
// when B's k is contiguous, else by pair (out[p·width + j], width a multiple of 48).
// Returns whether it is by column.
TS_AVX512BF16 bool pack_b(const View & b, int64_t j0, int64_t n, int64_t p0, int64_t np, uint32_t * out, int64_t width) {
    const int64_t k0 = 2 * p0;
    if (b.stride_i == 1 && b.stride_k != 1) {
        for (int64_t p = 0; p < np; p++) {
            const int64_t k = k0 + 2 * p;
            uint32_t * row = out + p * width;
            const bool second = k + 1 < b.depth;
            for (int64_t j = 0; j < width; j += 16) {
                const int64_t left = std::min<int64_t>(16, n - j);
                __m512i v = _mm512_setzero_si512();
                if (left > 0 && k < b.depth) {
                    const __m256i lo = load16_bf16(at(b, j0 + j, k), b.type, left);
                    const __m256i hi = second ? load16_bf16(at(b, j0 + j, k + 1), b.type, left) : _mm256_setzero_si256();
                    v = interleave(lo, hi);
                }
                _mm512_storeu_si512(row + j, v);
            }
        }
        return false;
    }
    const int64_t cols = (n + kCols - 1) / kCols * kCols;
    for (int64_t j = 0; j < cols; j++) {
        uint32_t * col = out + j * np;
        if (j >= n) {
            std::memset(col, 0, size_t(np) * 4);
            continue;
        }
        if (b.stride_k == 1) {
            for (int64_t p = 0; p < np; p += 16) {
                const __m512i v = load16_pairs(at(b, j0 + j, k0 + 2 * p), b.type, std::min<int64_t>(b.depth - (k0 + 2 * p), 2 * (np - p)));
                if (np - p >= 16) _mm512_storeu_si512(col + p, v);
                else _mm512_mask_storeu_epi32(col + p, mask16(np - p), v);
            }
        } else {
            for (int64_t p = 0; p < np; p++) col[p] = pair(b, j0 + j, p0 + p);
        }
    }
    return true;
}

}  // namespace

bool supported() {
    static const bool yes = [] {
        const char * off = std::getenv("TWEETSMITH_NO_BF16_GEMM");
        if (off && *off && std::string(off) != "0") return false;
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bf16");
    }();
    return yes;
}

TS_AVX512BF16 void pack(const View & a, uint16_t * packed, int64_t begin, int64_t end) {
    const int64_t pairs = (a.depth + 1) / 2;
    if (a.stride_i == 1 && a.stride_k != 1) {
        // rows along i contiguous: two rows of k interleaved, 16 i at a time, for a
        // group of panels at once, so that each row of k is read in runs of 1 KiB
        // (panel by panel, every row would be a 128-byte read a page or more from the last)
        constexpr int64_t kGroup = 8;
        for (int64_t g = begin; g < end; g += kGroup) {
            const int64_t g_end = std::min(end, g + kGroup);
            for (int64_t p = 0; p < pairs; p++) {
                const int64_t k = 2 * p;
                for (int64_t panel = g; panel < g_end; panel++) {
                    uint32_t * out = reinterpret_cast<uint32_t *>(packed) + panel * pairs * kPanel;
                    const int64_t i0 = panel * kPanel, rows = std::min<int64_t>(kPanel, a.rows - i0);
                    for (int64_t h = 0; h < kPanel; h += 16) {
                        const int64_t left = rows - h;
                        __m512i v = _mm512_setzero_si512();
                        if (left > 0) {
                            const __m256i lo = load16_bf16(at(a, i0 + h, k), a.type, left);
                            const __m256i hi =
                                k + 1 < a.depth ? load16_bf16(at(a, i0 + h, k + 1), a.type, left) : _mm256_setzero_si256();
                            v = interleave(lo, hi);
                        }
                        _mm512_storeu_si512(out + p * kPanel + h, v);
                    }
                }
            }
        }
        return;
    }
    for (int64_t panel = begin; panel < end; panel++) {
        uint32_t * out = reinterpret_cast<uint32_t *>(packed) + panel * pairs * kPanel;
        const int64_t i0 = panel * kPanel, rows = std::min<int64_t>(kPanel, a.rows - i0);
        if (a.stride_k == 1) {
            // each row's pairs contiguous: 16 rows × 16 pairs at a time, transposed in registers
            for (int64_t h = 0; h < kPanel; h += 16) {
                for (int64_t p = 0; p < pairs; p += 16) {
                    __m512i r[16];
                    for (int q = 0; q < 16; q++)
                        r[q] = h + q < rows ? load16_pairs(at(a, i0 + h + q, 2 * p), a.type, a.depth - 2 * p) : _mm512_setzero_si512();
                    transpose16(r);
                    const int64_t count = std::min<int64_t>(16, pairs - p);
                    for (int64_t q = 0; q < count; q++) _mm512_storeu_si512(out + (p + q) * kPanel + h, r[q]);
                }
            }
        } else {
            for (int64_t p = 0; p < pairs; p++)
                for (int64_t r = 0; r < kPanel; r++) out[p * kPanel + r] = pair(a, i0 + r, p);
        }
    }
}

TS_AVX512BF16 void multiply(const uint16_t * a_packed, int64_t m, int64_t k, const View & b, float * c, int64_t ldc, int64_t j_begin,
                            int64_t j_end, const Epilogue & e) {
    if (j_begin >= j_end || m <= 0) return;
    const int64_t pairs = (k + 1) / 2, n_panels = panels(m);
    thread_local std::vector<uint32_t> scratch;
    const size_t need = size_t(kBlockCols) * size_t(kDepthPairs);
    if (scratch.size() < need) scratch.resize(need);
    const uint32_t * a_all = reinterpret_cast<const uint32_t *>(a_packed);
    const __m512 fill = _mm512_set1_ps(e.fill);
    for (int64_t j0 = j_begin; j0 < j_end; j0 += kBlockCols) {
        const int64_t n = std::min(kBlockCols, j_end - j0);
        const int64_t blocks_end = std::max<int64_t>(pairs, 1);
        for (int64_t p0 = 0; p0 < blocks_end; p0 += kDepthPairs) {
            const int64_t np = std::min(kDepthPairs, pairs - p0);
            const bool by_column = np > 0 ? pack_b(b, j0, n, p0, np, scratch.data(), kBlockCols) : true;
            const bool last = p0 + kDepthPairs >= blocks_end;
            for (int64_t panel = 0; panel < n_panels; panel++) {
                const uint32_t * a = a_all + (panel * pairs + p0) * kPanel;
                const int64_t i0 = panel * kPanel;
                const __mmask16 m0 = mask16(m - i0), m1 = mask16(m - i0 - 16);
                for (int64_t j = 0; j < n; j += kCols) {
                    const int64_t jt = j0 + j;  // the tile's first column
                    const int64_t jd = jt + e.diagonal;  // the same, as the causal modes count it
                    const int cols = int(std::min<int64_t>(kCols, n - j));
                    float * cj = c + jt * ldc + i0;
                    if (e.causal == Causal::kMaskAbove && i0 > jd + cols - 1) {
                        // wholly above the diagonal
                        if (p0 == 0)
                            for (int q = 0; q < cols; q++) {
                                _mm512_mask_storeu_ps(cj + q * ldc, m0, fill);
                                _mm512_mask_storeu_ps(cj + q * ldc + 16, m1, fill);
                            }
                        continue;
                    }
                    // the pairs of k this tile sums, within this block
                    int64_t lo = p0, hi = p0 + std::max<int64_t>(np, 0);
                    if (e.causal == Causal::kDepthToColumn) hi = std::min(hi, (jd + cols - 1) / 2 + 1);
                    if (e.causal == Causal::kDepthFromColumn) lo = std::max(lo, jd / 2);
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
                    if (by_column) micro<true>(at_a, scratch.data() + j * np + off, np, 1, count, cj, ldc, cols, m0, m1, init, ldi, end);
                    else micro<false>(at_a, scratch.data() + j + off * kBlockCols, 1, kBlockCols, count, cj, ldc, cols, m0, m1, init, ldi, end);
                }
            }
        }
    }
}

#endif

}  // namespace tweetsmith::bf16_gemm
