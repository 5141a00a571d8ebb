#include "bf16_decode.h"

#include "bf16_gemm.h"
#include "kernel_check.h"
#include "vector_math.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <cstring>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
#define TWEETSMITH_BF16_DECODE 1
#include <immintrin.h>
// compiled for AVX512-BF16 whatever the build's baseline; bf16_gemm::dot_bf16()
// decides at run time whether it is called
#define TS_BF16_DECODE __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
#endif

namespace tweetsmith {
namespace {

constexpr int kMaxColumns = 12;  // columns per pass over the weights: 2 rows × 12 sums in registers
constexpr int64_t kChunk = 32;   // bf16 values per 512-bit load
constexpr int64_t kRowGroup = 16;  // rows per unit of the threads' split: whole cache lines of y

#ifdef TWEETSMITH_BF16_DECODE

// y(i, c) = Σ_k w(i, k)·x(c, k) + bias[i] for rows [r0, r1) and kCols columns: two
// rows at a time, each 64-byte load of weights multiplied by every column. xb: the
// columns in bf16, each padded with zeros to kp (a multiple of kChunk).
template <int kCols>
TS_BF16_DECODE void rows_times_columns(const uint16_t * w, int64_t k, int64_t ldw, const uint16_t * xb, int64_t kp, float * y,
                                       int64_t ldy, const float * bias, int64_t r0, int64_t r1) {
    const int64_t chunks = kp / kChunk;
    // the last load of a row stops at its end: past the last row lies other memory, and a
    // NaN or infinity read there would poison the sum even against the columns' zeros
    const __mmask32 tail = k % kChunk ? __mmask32((1u << (k % kChunk)) - 1) : __mmask32(0xffffffff);
    for (int64_t i = r0; i < r1; i += 2) {
        const bool pair = i + 1 < r1;
        const uint16_t * w0 = w + i * ldw;
        const uint16_t * w1 = pair ? w0 + ldw : w0;  // a last row alone is summed twice, stored once
        __m512 acc0[kCols], acc1[kCols];
#pragma GCC unroll 12
        for (int c = 0; c < kCols; c++) acc0[c] = acc1[c] = _mm512_setzero_ps();
        for (int64_t q = 0; q < chunks; q++) {
            const __mmask32 m = q + 1 == chunks ? tail : __mmask32(0xffffffff);
            // the next pair of rows' same chunk: without it the loads wait on memory
            // (5.2 → 3.2 ms for GPT-2's [50,257 × 768] head with 10 columns on 2 threads)
            _mm_prefetch(reinterpret_cast<const char *>(w0 + q * kChunk + 2 * ldw), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char *>(w1 + q * kChunk + 2 * ldw), _MM_HINT_T0);
            const __m512bh a0 = (__m512bh)_mm512_maskz_loadu_epi16(m, w0 + q * kChunk);
            const __m512bh a1 = (__m512bh)_mm512_maskz_loadu_epi16(m, w1 + q * kChunk);
#pragma GCC unroll 12
            for (int c = 0; c < kCols; c++) {
                const __m512bh xc = (__m512bh)_mm512_loadu_si512(xb + c * kp + q * kChunk);
                acc0[c] = _mm512_dpbf16_ps(acc0[c], a0, xc);
                acc1[c] = _mm512_dpbf16_ps(acc1[c], a1, xc);
            }
        }
        const float b0 = bias ? bias[i] : 0.0f, b1 = bias && pair ? bias[i + 1] : 0.0f;
#pragma GCC unroll 12
        for (int c = 0; c < kCols; c++) {
            y[c * ldy + i] = _mm512_reduce_add_ps(acc0[c]) + b0;
            if (pair) y[c * ldy + i + 1] = _mm512_reduce_add_ps(acc1[c]) + b1;
        }
    }
}

using RowsKernel = void (*)(const uint16_t *, int64_t, int64_t, const uint16_t *, int64_t, float *, int64_t, const float *, int64_t,
                            int64_t);

template <int... kCols>
constexpr RowsKernel kKernels[] = {rows_times_columns<kCols>...};
constexpr RowsKernel kernel_for(int cols) {
    return kKernels<1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12>[cols - 1];
}

// dst F32 [N, cols…] = w · x + bias; src = {x F32 [K, cols…] contiguous, w BF16 [K, N], bias or none}
void decode_node(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x_t = dst->src[0], * w_t = dst->src[1], * bias_t = dst->src[2];
    const int64_t k = w_t->ne[0], n = w_t->ne[1], cols = ggml_nrows(x_t);
    const int64_t kp = (k + kChunk - 1) / kChunk * kChunk;
    // every thread rounds all the columns (a few KiB) rather than wait for one that does
    thread_local std::vector<uint16_t> xb;
    xb.assign(size_t(kp * cols), 0);
    const float * x = static_cast<const float *>(x_t->data);
    for (int64_t c = 0; c < cols; c++)
        for (int64_t i = 0; i < k; i++) xb[size_t(c * kp + i)] = to_bf16(x[c * k + i]);
    const int64_t groups = (n + kRowGroup - 1) / kRowGroup, per = (groups + nth - 1) / nth;
    const int64_t r0 = std::min(n, ith * per * kRowGroup), r1 = std::min(n, (ith + 1) * per * kRowGroup);
    if (r0 >= r1) return;
    const uint16_t * w = static_cast<const uint16_t *>(w_t->data);
    const float * bias = bias_t ? static_cast<const float *>(bias_t->data) : nullptr;
    float * y = static_cast<float *>(dst->data);
    for (int64_t c0 = 0; c0 < cols; c0 += kMaxColumns) {
        const int c = int(std::min<int64_t>(kMaxColumns, cols - c0));
        kernel_for(c)(w, k, k, xb.data() + c0 * kp, kp, y + c0 * n, n, bias, r0, r1);
    }
}

#endif

}  // namespace

ggml_tensor * bf16_decode_product(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x, const ProductOptions & o) {
#ifdef TWEETSMITH_BF16_DECODE
    if (!bf16_gemm::dot_bf16()) return nullptr;
    if (w->type != GGML_TYPE_BF16 || w->op != GGML_OP_NONE || w->view_src || !ggml_is_contiguous(w) || w->ne[2] * w->ne[3] != 1)
        return nullptr;
    if (x->type != GGML_TYPE_F32 || !ggml_is_contiguous(x) || x->ne[0] != w->ne[0]) return nullptr;
    if (o.into || o.scale != 1.0f || o.causal != ProductOptions::Causal::kNone) return nullptr;
    ggml_tensor * bias = o.bias;
    if (bias && (bias->type != GGML_TYPE_F32 || !ggml_is_contiguous(bias) || ggml_nelements(bias) != w->ne[1])) return nullptr;
    ggml_tensor * args[] = {x, w, bias};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, w->ne[1], x->ne[1], x->ne[2], x->ne[3], args, bias ? 3 : 2, decode_node, GGML_N_TASKS_MAX,
                          nullptr);
#else
    (void)ctx, (void)w, (void)x, (void)o;
    return nullptr;
#endif
}

std::vector<float> bf16_decode_check(const float * w, const float * x, const float * bias, int64_t n, int64_t k, int64_t cols,
                                     int threads) {
    const size_t bytes = size_t(n * k + (k + n) * cols + n) * sizeof(float) + (1 << 20);
    ggml_init_params params = {bytes, nullptr, false};
    ggml_context * ctx = ggml_init(params);
    if (!ctx) return {};
    ggml_tensor * tw = ggml_new_tensor_2d(ctx, GGML_TYPE_BF16, k, n);
    ggml_fp32_to_bf16_row(w, static_cast<ggml_bf16_t *>(tw->data), n * k);
    ggml_tensor * tx = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, cols);
    std::memcpy(tx->data, x, size_t(k * cols) * sizeof(float));
    ProductOptions o;
    if (bias) {
        o.bias = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, n);
        std::memcpy(o.bias->data, bias, size_t(n) * sizeof(float));
    }
    return compute_and_free(ctx, bf16_decode_product(ctx, tw, tx, o), threads);
}

}  // namespace tweetsmith
