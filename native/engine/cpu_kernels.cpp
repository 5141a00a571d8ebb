#include "cpu_kernels.h"

#include "vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
#include <immintrin.h>
#define TWEETSMITH_VECTOR_ATTENTION 1
#endif

namespace tweetsmith::cpu_kernels {
namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoef = 0.044715f;

struct Range {
    int64_t begin, end;
};

// The share of [0, n) that thread ith of nth works on.
Range split(int64_t n, int ith, int nth) {
    const int64_t per = (n + nth - 1) / nth;
    const int64_t begin = std::min(n, per * ith);
    return {begin, std::min(n, begin + per)};
}

int64_t rows_of(const ggml_tensor * t) { return ggml_nelements(t) / t->ne[0]; }

// gelu_new written with s = sigmoid(2u), u = √(2/π)(x + 0.044715x³), since
// 0.5(1 + tanh u) = s and 1 - tanh²u = 4s(1 - s): no cancellation where tanh u
// nears ±1, and one exponential instead of tanh.
// (for a float, or a vector of them: FloatsN)
template <typename F>
inline F gelu_sigmoid(F v) {
    return 1.0f / (1.0f + exp_vectorisable(-2.0f * kSqrt2OverPi * (v + kGeluCoef * v * v * v)));
}
template <typename F>
inline F gelu_gradient(F dy, F v) {
    const F s = gelu_sigmoid(v), du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCoef * v * v);
    return dy * (s + 2.0f * v * s * (1.0f - s) * du);
}

}  // namespace

void gelu_forward(ggml_tensor * dst, const ggml_tensor * a, int ith, int nth, void *) {
    const float * x = static_cast<const float *>(a->data);
    float * y = static_cast<float *>(dst->data);
    const Range r = split(ggml_nelements(a), ith, nth);
    int64_t i = r.begin;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    // in the CPU's vectors explicitly: without AVX-512 GCC leaves the loop below scalar (vector_math.h)
    for (; i + kLanes <= r.end; i += kLanes) {
        const FloatsN v = load_lanes(x + i);
        store_lanes(y + i, v * gelu_sigmoid(v));
    }
#endif
    for (; i < r.end; i++) y[i] = x[i] * gelu_sigmoid(x[i]);
}

void gelu_backward(ggml_tensor * dst, const ggml_tensor * dy_t, const ggml_tensor * x_t, int ith, int nth, void *) {
    const float * dy = static_cast<const float *>(dy_t->data);
    const float * x = static_cast<const float *>(x_t->data);
    float * dx = static_cast<float *>(dst->data);
    const Range r = split(ggml_nelements(dy_t), ith, nth);
    int64_t i = r.begin;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    for (; i + kLanes <= r.end; i += kLanes) store_lanes(dx + i, gelu_gradient(load_lanes(dy + i), load_lanes(x + i)));
#endif
    for (; i < r.end; i++) dx[i] = gelu_gradient(dy[i], x[i]);
}

void layernorm_backward(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const ggml_tensor * dy_t = dst->src[0];
    const ggml_tensor * x_t = dst->src[1];
    const ggml_tensor * w_t = dst->src[2];
    const float eps = *static_cast<const float *>(userdata);
    const int64_t C = x_t->ne[0];
    const float * w = static_cast<const float *>(w_t->data);
    const Range r = split(rows_of(x_t), ith, nth);
    for (int64_t row = r.begin; row < r.end; row++) {
        const float * x = static_cast<const float *>(x_t->data) + row * C;
        const float * dy = static_cast<const float *>(dy_t->data) + row * C;
        float * dx = static_cast<float *>(dst->data) + row * C;
        double mean = 0.0;
        for (int64_t i = 0; i < C; i++) mean += x[i];
        mean /= double(C);
        double var = 0.0;
        for (int64_t i = 0; i < C; i++) var += (x[i] - mean) * (x[i] - mean);
        var /= double(C);
        const double rstd = 1.0 / std::sqrt(var + double(eps));
        double mean_g = 0.0, mean_gx = 0.0;
        for (int64_t i = 0; i < C; i++) {
            const double g = double(dy[i]) * w[i];
            mean_g += g;
            mean_gx += g * (x[i] - mean) * rstd;
        }
        mean_g /= double(C);
        mean_gx /= double(C);
        for (int64_t i = 0; i < C; i++) {
            const double xhat = (x[i] - mean) * rstd;
            const double g = double(dy[i]) * w[i];
            dx[i] = float(rstd * (g - mean_g - xhat * mean_gx));
        }
    }
}

void cross_entropy_forward(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * logits_t = dst->src[0];
    const int32_t * targets = static_cast<const int32_t *>(dst->src[1]->data);
    const int64_t V = logits_t->ne[0];
    float * loss = static_cast<float *>(dst->data);
    const Range r = split(rows_of(logits_t), ith, nth);
    for (int64_t row = r.begin; row < r.end; row++) {
        if (targets[row] < 0) {
            loss[row] = 0.0f;
            continue;
        }
        const float * z = reinterpret_cast<const float *>(static_cast<const char *>(logits_t->data) + row * logits_t->nb[1]);
        const ExpSum e = exp_sum(z, V, nullptr);
        loss[row] = float(std::log(e.sum) + double(e.max) - double(z[targets[row]]));
    }
}

void cross_entropy_backward(ggml_tensor * dst, int ith, int nth, void * userdata) {
    // in place (a view of the padded logits, ggml_custom_inplace), the inputs follow dst's own source
    const int in = dst->view_src ? 1 : 0;
    const ggml_tensor * logits_t = dst->src[in];
    const int32_t * targets = static_cast<const int32_t *>(dst->src[in + 1]->data);
    const float scale = *static_cast<const float *>(userdata);
    const int64_t V = logits_t->ne[0], Vp = dst->ne[0];
    const Range r = split(rows_of(dst), ith, nth);
    for (int64_t row = r.begin; row < r.end; row++) {
        const float * z = reinterpret_cast<const float *>(static_cast<const char *>(logits_t->data) + row * logits_t->nb[1]);
        float * d = static_cast<float *>(dst->data) + row * Vp;
        std::fill(d + V, d + Vp, 0.0f);
        if (targets[row] < 0) {
            std::fill(d, d + V, 0.0f);
            continue;
        }
        const float inv = float(scale / exp_sum(z, V, d).sum);  // d = e^(z - max) first
        for (int64_t i = 0; i < V; i++) d[i] *= inv;
        d[targets[row]] -= scale;
    }
}

void embedding_backward(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * dx_t = dst->src[1];
    const int32_t * tokens = static_cast<const int32_t *>(dst->src[2]->data);
    const int64_t C = dx_t->ne[0];
    const int64_t rows = rows_of(dx_t);
    const Range cols = split(C, ith, nth);
    float * grad = static_cast<float *>(dst->data);
    const float * dx = static_cast<const float *>(dx_t->data);
    for (int64_t row = 0; row < rows; row++) {
        float * g = grad + int64_t(tokens[row]) * C;
        const float * d = dx + row * C;
        for (int64_t i = cols.begin; i < cols.end; i++) g[i] += d[i];
    }
}

void column_sums(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x_t = dst->src[0];
    const int64_t C = x_t->ne[0], rows = rows_of(x_t);
    const Range cols = split(C, ith, nth);
    float * out = static_cast<float *>(dst->data);
    std::fill(out + cols.begin, out + cols.end, 0.0f);
    for (int64_t row = 0; row < rows; row++) {
        const float * x = static_cast<const float *>(x_t->data) + row * C;
        for (int64_t i = cols.begin; i < cols.end; i++) out[i] += x[i];
    }
}

void partial_sums_of_squares(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x_t = dst->src[0];
    const float * x = static_cast<const float *>(x_t->data);
    float * out = static_cast<float *>(dst->data);
    if (ith == 0)
        for (int i = nth; i < kPartialSums; i++) out[i] = 0.0f;
    const Range r = split(ggml_nelements(x_t), ith, nth);
    double sum = 0.0;
    int64_t i = r.begin;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    // four independent vectors of double sums: one running sum waited on each add's
    // latency (0.08 s a step for GPT-2's 124M gradients on 2 threads, a quarter of
    // the time reading them takes). Squares of f32 are exact in double.
    typedef double Doubles8 __attribute__((vector_size(64)));
    typedef float UnalignedFloats8 __attribute__((vector_size(32), aligned(4)));
    Doubles8 acc[4] = {};
    for (; i + 32 <= r.end; i += 32)
        for (int q = 0; q < 4; q++) {
            const Doubles8 d = __builtin_convertvector(*reinterpret_cast<const UnalignedFloats8 *>(x + i + 8 * q), Doubles8);
            acc[q] += d * d;
        }
    const Doubles8 all = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (int lane = 0; lane < 8; lane++) sum += all[lane];
#endif
    for (; i < r.end; i++) sum += double(x[i]) * x[i];
    out[ith] = float(sum);
}

void pad_rows(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x_t = dst->src[0];
    const size_t used = size_t(ggml_nbytes(x_t)), total = size_t(ggml_nbytes(dst));
    const Range r = split(int64_t(total), ith, nth);  // bytes
    char * out = static_cast<char *>(dst->data);
    const char * in = static_cast<const char *>(x_t->data);
    const size_t copy_end = std::min(size_t(r.end), used);
    if (size_t(r.begin) < copy_end) std::memcpy(out + r.begin, in + r.begin, copy_end - size_t(r.begin));
    const size_t zero_begin = std::max(size_t(r.begin), used);
    if (zero_begin < size_t(r.end)) std::memset(out + zero_begin, 0, size_t(r.end) - zero_begin);
}

namespace {

template <typename In, typename Out>
inline Out convert(In v) {
    if constexpr (std::is_same_v<In, Out>) return v;
    else return to_bf16(v);  // the one conversion used: f32 → bf16
}

template <typename In, typename Out>
void transpose_tiles(const ggml_tensor * x_t, ggml_tensor * dst, int ith, int nth) {
    const int64_t rows = x_t->ne[1], cols = x_t->ne[0], slices = x_t->ne[2] * x_t->ne[3];
    constexpr int64_t kTile = 32;
    const int64_t tiles_r = (rows + kTile - 1) / kTile, tiles_c = (cols + kTile - 1) / kTile;
    const Range r = split(slices * tiles_r * tiles_c, ith, nth);
    for (int64_t t = r.begin; t < r.end; t++) {
        const int64_t slice = t / (tiles_r * tiles_c), tr = (t / tiles_c) % tiles_r, tc = t % tiles_c;
        const In * in = static_cast<const In *>(x_t->data) + slice * rows * cols;
        Out * out = static_cast<Out *>(dst->data) + slice * rows * cols;
        const int64_t r_end = std::min(rows, (tr + 1) * kTile), c_end = std::min(cols, (tc + 1) * kTile);
        // writes run along the output's rows (contiguous), reads stride down a column of the tile
        for (int64_t j = tc * kTile; j < c_end; j++)
            for (int64_t i = tr * kTile; i < r_end; i++) out[j * rows + i] = convert<In, Out>(in[i * cols + j]);
    }
}

}  // namespace

void transpose_copy(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x_t = dst->src[0];
    if (x_t->type == GGML_TYPE_F32 && dst->type == GGML_TYPE_F32) transpose_tiles<float, float>(x_t, dst, ith, nth);
    else if (x_t->type == GGML_TYPE_F32 && dst->type == GGML_TYPE_BF16) transpose_tiles<float, uint16_t>(x_t, dst, ith, nth);
    // a bf16 or f16 matrix (mixed precision's copies, a frozen LoRA base) moved bit for bit
    else if (x_t->type == dst->type && (dst->type == GGML_TYPE_BF16 || dst->type == GGML_TYPE_F16))
        transpose_tiles<uint16_t, uint16_t>(x_t, dst, ith, nth);
    else GGML_ABORT("transpose_copy: unsupported types");
}

void adamw_step(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const float coef = *static_cast<const float *>(userdata);
    float * __restrict w = static_cast<float *>(dst->data);
    const float * __restrict g = static_cast<const float *>(dst->src[1]->data);
    float * __restrict m = static_cast<float *>(dst->src[2]->data);
    float * __restrict v = static_cast<float *>(dst->src[3]->data);
    const float * p = static_cast<const float *>(dst->src[4]->data);
    GGML_ASSERT(dst->data == dst->src[0]->data && ggml_is_contiguous(dst->src[0]));
    const float lr = p[0], beta1 = p[1], beta2 = p[2], eps = p[3], decay = p[4], unbias1 = p[5], unbias2 = p[6];
    const float keep = 1.0f - lr * decay;
    // 16 floats (a cache line) per unit, so no two threads write one line
    const int64_t n = ggml_nelements(dst);
    const Range lines = split((n + 15) / 16, ith, nth);
    const int64_t end = std::min(n, lines.end * 16);
    // ggml_opt_step_adamw's formula, operation for operation; the loop runs in vectors
    for (int64_t i = lines.begin * 16; i < end; i++) {
        const float gi = g[i] * coef;
        const float mi = m[i] * beta1 + gi * (1.0f - beta1);
        const float vi = v[i] * beta2 + gi * gi * (1.0f - beta2);
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * keep - lr * (mi * unbias1) / (std::sqrt(vi * unbias2) + eps);
    }
}

namespace {

// The generic form: any head size, an f32 cache.
void attend_generic(ggml_tensor * dst, int ith, int nth, int64_t n_past) {
    const ggml_tensor * qkv_t = dst->src[0];
    ggml_tensor * k_cache = dst->src[1];
    ggml_tensor * v_cache = dst->src[2];
    const int64_t hs = k_cache->ne[0], L = k_cache->ne[1], H = k_cache->ne[2];
    const int64_t C = hs * H, t = qkv_t->ne[1], B = qkv_t->ne[2];
    const float scale = 1.0f / std::sqrt(float(hs));
    std::vector<float> scores(static_cast<size_t>(n_past + t));
    const Range r = split(B * H, ith, nth);
    for (int64_t unit = r.begin; unit < r.end; unit++) {
        const int64_t b = unit / H, h = unit % H;
        float * keys = static_cast<float *>(k_cache->data) + (b * H + h) * L * hs;
        float * values = static_cast<float *>(v_cache->data) + (b * H + h) * L * hs;
        const float * qkv = static_cast<const float *>(qkv_t->data) + b * t * 3 * C;
        for (int64_t i = 0; i < t; i++) {
            std::memcpy(keys + (n_past + i) * hs, qkv + i * 3 * C + C + h * hs, size_t(hs) * sizeof(float));
            std::memcpy(values + (n_past + i) * hs, qkv + i * 3 * C + 2 * C + h * hs, size_t(hs) * sizeof(float));
        }
        for (int64_t i = 0; i < t; i++) {
            const float * q = qkv + i * 3 * C + h * hs;
            const int64_t n_keys = n_past + i + 1;  // causal: up to and including the query's own position
            float max = -INFINITY;
            for (int64_t j = 0; j < n_keys; j++) {
                scores[size_t(j)] = dot_product(q, keys + j * hs, hs) * scale;
                max = std::max(max, scores[size_t(j)]);
            }
            float sum = 0.0f;
            for (int64_t j = 0; j < n_keys; j++) sum += scores[size_t(j)] = exp_vectorisable(scores[size_t(j)] - max);
            float * y = static_cast<float *>(dst->data) + (b * t + i) * C + h * hs;
            std::fill(y, y + hs, 0.0f);
            for (int64_t j = 0; j < n_keys; j++) {
                const float p = scores[size_t(j)] / sum;
                for (int64_t d = 0; d < hs; d++) y[d] += p * values[j * hs + d];
            }
        }
    }
}

#ifdef TWEETSMITH_VECTOR_ATTENTION

constexpr int64_t kMaxVectors = 16;  // head sizes up to 128 (GPT-2's is 64 at every size)

inline __m256 load8(const float * p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const ggml_fp16_t * p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p))); }
inline void store8(float * p, __m256 v) { _mm256_storeu_ps(p, v); }
inline void store8(ggml_fp16_t * p, __m256 v) {
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
}
inline float sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// A head size that is a multiple of 8, the cache in f32 or f16 (T): the query and the
// output held in registers, each cached row read once per query. (The generic form
// adds into y in memory for every key, a chain of loads and stores.)
template <typename T>
void attend_vectors(ggml_tensor * dst, int ith, int nth, int64_t n_past) {
    const ggml_tensor * qkv_t = dst->src[0];
    ggml_tensor * k_cache = dst->src[1];
    ggml_tensor * v_cache = dst->src[2];
    const int64_t hs = k_cache->ne[0], L = k_cache->ne[1], H = k_cache->ne[2], n8 = hs / 8;
    const int64_t C = hs * H, t = qkv_t->ne[1], B = qkv_t->ne[2];
    const __m256 scale = _mm256_set1_ps(1.0f / std::sqrt(float(hs)));
    thread_local std::vector<float> scores;
    scores.resize(size_t(n_past + t));
    const Range r = split(B * H, ith, nth);
    for (int64_t unit = r.begin; unit < r.end; unit++) {
        const int64_t b = unit / H, h = unit % H;
        T * keys = static_cast<T *>(k_cache->data) + (b * H + h) * L * hs;
        T * values = static_cast<T *>(v_cache->data) + (b * H + h) * L * hs;
        const float * qkv = static_cast<const float *>(qkv_t->data) + b * t * 3 * C;
        for (int64_t i = 0; i < t; i++)
            for (int64_t c = 0; c < n8; c++) {
                store8(keys + (n_past + i) * hs + 8 * c, load8(qkv + i * 3 * C + C + h * hs + 8 * c));
                store8(values + (n_past + i) * hs + 8 * c, load8(qkv + i * 3 * C + 2 * C + h * hs + 8 * c));
            }
        for (int64_t i = 0; i < t; i++) {
            __m256 q[kMaxVectors];
            for (int64_t c = 0; c < n8; c++) q[c] = _mm256_mul_ps(load8(qkv + i * 3 * C + h * hs + 8 * c), scale);
            const int64_t n_keys = n_past + i + 1;  // causal: up to and including the query's own position
            float max = -INFINITY;
            for (int64_t j = 0; j < n_keys; j++) {
                const T * k = keys + j * hs;
                __m256 acc = _mm256_mul_ps(q[0], load8(k));
                for (int64_t c = 1; c < n8; c++) acc = _mm256_fmadd_ps(q[c], load8(k + 8 * c), acc);
                scores[size_t(j)] = sum8(acc);
                max = std::max(max, scores[size_t(j)]);
            }
            float sum = 0.0f;
            for (int64_t j = 0; j < n_keys; j++) sum += scores[size_t(j)] = exp_vectorisable(scores[size_t(j)] - max);
            __m256 y[kMaxVectors];
            for (int64_t c = 0; c < n8; c++) y[c] = _mm256_setzero_ps();
            for (int64_t j = 0; j < n_keys; j++) {
                const __m256 p = _mm256_set1_ps(scores[size_t(j)]);
                const T * v = values + j * hs;
                for (int64_t c = 0; c < n8; c++) y[c] = _mm256_fmadd_ps(p, load8(v + 8 * c), y[c]);
            }
            const __m256 inv = _mm256_set1_ps(1.0f / sum);
            float * out = static_cast<float *>(dst->data) + (b * t + i) * C + h * hs;
            for (int64_t c = 0; c < n8; c++) _mm256_storeu_ps(out + 8 * c, _mm256_mul_ps(y[c], inv));
        }
    }
}

#endif

}  // namespace

bool cached_attention_takes_f16(int64_t head_size) {
#ifdef TWEETSMITH_VECTOR_ATTENTION
    return head_size % 8 == 0 && head_size <= 8 * kMaxVectors;
#else
    (void)head_size;
    return false;
#endif
}

void cached_attention(ggml_tensor * dst, int ith, int nth, void * userdata) {
    const int64_t n_past = *static_cast<const int64_t *>(userdata);
    const ggml_tensor * k_cache = dst->src[1];
#ifdef TWEETSMITH_VECTOR_ATTENTION
    if (cached_attention_takes_f16(k_cache->ne[0])) {
        if (k_cache->type == GGML_TYPE_F16) attend_vectors<ggml_fp16_t>(dst, ith, nth, n_past);
        else attend_vectors<float>(dst, ith, nth, n_past);
        return;
    }
#endif
    GGML_ASSERT(k_cache->type == GGML_TYPE_F32);
    attend_generic(dst, ith, nth, n_past);
}

}  // namespace tweetsmith::cpu_kernels
