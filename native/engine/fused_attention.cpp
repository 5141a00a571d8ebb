#include "fused_attention.h"

#include "aligned_vector.h"
#include "bf16_gemm.h"
#include "custom_node_extras.h"
#include "kernel_check.h"
#include "vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

namespace tweetsmith {
namespace {

using bf16_gemm::Causal;
using bf16_gemm::Epilogue;
using bf16_gemm::View;
using bf16_gemm::kPanel;

// Queries per block. With T = 1024 and a head of 64, the forward's f32 scores
// [T × 96] and bf16 probabilities, or the backward's f32 scores (then their
// gradient) [T × 48] and two bf16 blocks, sit beside the head's packed keys and
// values in a core's L2 (1 MiB here; in fp32 the blocks and packed operands are
// twice the bytes, 1.25 MiB in all at most, and no faster with fewer queries).
constexpr int64_t kForwardQueries = 96;
constexpr int64_t kBackwardQueries = 48;

// The products' operands: bf16 (E = uint16_t, its bits; mixed precision) or f32
// (E = float; fp32, each product's sums in f32 as ggml's would be)
template <typename E>
constexpr bool kF32 = std::is_same_v<E, float>;
template <typename E>
constexpr ggml_type kType = kF32<E> ? GGML_TYPE_F32 : GGML_TYPE_BF16;

template <typename E>
int64_t packed_elements(int64_t rows, int64_t depth) {
    return kF32<E> ? bf16_gemm::packed_size_f32(rows, depth) : bf16_gemm::packed_size(rows, depth);
}

inline float widen(uint16_t x) { return from_bf16(x); }
inline float widen(float x) { return x; }
template <typename E>
inline E narrow(float x) {
    if constexpr (kF32<E>) return x;
    else return to_bf16(x);
}
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
// kLanes values at a time, in the CPU's vector width (vector_math.h)
inline FloatsN widen_lanes(const uint16_t * p) { return from_bf16(*reinterpret_cast<const UnalignedBf16xN *>(p)); }
inline FloatsN widen_lanes(const float * p) { return load_lanes(p); }
inline void narrow_lanes(uint16_t * p, FloatsN x) { *reinterpret_cast<UnalignedBf16xN *>(p) = to_bf16(x); }
inline void narrow_lanes(float * p, FloatsN x) { store_lanes(p, x); }
#endif

struct Shape {
    int64_t C, T, B, H, hs;
};

Shape shape_of(const ggml_tensor * qkv, int64_t n_head) {
    const int64_t C = qkv->ne[0] / 3;
    return {C, qkv->ne[1], qkv->ne[2], n_head, C / n_head};
}

// A head's q, k or v (or dy's slice of it): rows along the tokens, the head's
// dimensions along k; or transposed, the head's dimensions as rows.
View by_token(const float * head, int64_t tokens, int64_t hs, int64_t token_stride) {
    return {head, GGML_TYPE_F32, tokens, hs, token_stride, 1};
}
View by_dimension(const float * head, int64_t hs, int64_t tokens, int64_t token_stride) {
    return {head, GGML_TYPE_F32, hs, tokens, 1, token_stride};
}

// A block's probabilities (or their gradient), [queries][keys] with each query's
// keys contiguous: as the product's second operand by query, or by key.
template <typename E>
View by_query(const E * p, int64_t queries, int64_t keys) {
    return {p, kType<E>, queries, keys, keys, 1};
}
template <typename E>
View by_key(const E * p, int64_t queries, int64_t keys) {
    return {p, kType<E>, keys, queries, 1, keys};
}

template <typename E>
void pack_all(CacheLineVector<E> & packed, const View & a) {
    packed.resize(size_t(packed_elements<E>(a.rows, a.depth)));
    bf16_gemm::pack(a, packed.data(), 0, bf16_gemm::panels(a.rows));
}

// dst[0..n) = src[i]·scale in E, kLanes at a time where the compiler can
template <typename E>
void store_scaled(const float * src, float scale, E * dst, int64_t n) {
    int64_t i = 0;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
    for (; i + kLanes <= n; i += kLanes) narrow_lanes(dst + i, load_lanes(src + i) * scale);
#endif
    for (; i < n; i++) dst[i] = narrow<E>(src[i] * scale);
}

// Each thread's buffers, kept between calls (sized for the largest head seen).
template <typename E>
struct Scratch {
    CacheLineVector<E> k, v, kt, vt, block;  // packed operands, on cache lines
    std::vector<float> scores, dk, dv, d;
    std::vector<E> probs, dscores;
};
template <typename E>
Scratch<E> & scratch() {
    thread_local Scratch<E> s;
    return s;
}

// What the nodes keep of their arguments (custom_node_extras.h)
struct NodeExtras {
    int64_t n_head;
    bool f32;  // f32 operands (else bf16)
};

// thread ith's share of the (sequence, head) pairs
struct Units {
    int64_t begin, end;
};
Units units_of(const Shape & s, int ith, int nth) {
    const int64_t n = s.B * s.H, per = (n + nth - 1) / nth;
    const int64_t begin = std::min(n, per * ith);
    return {begin, std::min(n, begin + per)};
}

// dst: y [C, T, B] then the log-sum-exps [T, H, B]; src = {qkv}
template <typename E>
void forward_node(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * qkv_t = dst->src[0];
    const Shape s = shape_of(qkv_t, custom_extras<NodeExtras>(dst).n_head);
    const float scale = 1.0f / std::sqrt(float(s.hs));
    float * y_all = static_cast<float *>(dst->data);
    float * lse_all = y_all + s.C * s.T * s.B;
    Scratch<E> & w = scratch<E>();
    w.scores.resize(size_t(s.T * kForwardQueries));
    w.probs.resize(size_t(s.T * kForwardQueries));
    const Units units = units_of(s, ith, nth);
    for (int64_t unit = units.begin; unit < units.end; unit++) {
        const int64_t b = unit / s.H, h = unit % s.H, ld = 3 * s.C;
        const float * q = static_cast<const float *>(qkv_t->data) + b * s.T * ld + h * s.hs;
        const float * k = q + s.C, * v = q + 2 * s.C;
        float * y = y_all + b * s.T * s.C + h * s.hs;
        float * lse = lse_all + unit * s.T;
        pack_all(w.k, by_token(k, s.T, s.hs, ld));
        pack_all(w.vt, by_dimension(v, s.hs, s.T, ld));
        for (int64_t q0 = 0; q0 < s.T; q0 += kForwardQueries) {
            const int64_t nq = std::min(kForwardQueries, s.T - q0), keys = q0 + nq;
            // scores[j·keys + key] = q·k/√hs for query q0 + j, its keys only (-inf after)
            Epilogue e;
            e.scale = scale;
            e.causal = Causal::kMaskAbove;
            e.fill = -INFINITY;
            e.diagonal = q0;
            bf16_gemm::multiply(w.k.data(), keys, s.hs, by_token(q + q0 * ld, nq, s.hs, ld), w.scores.data(), keys, 0, nq, e);
            for (int64_t j = 0; j < nq; j++) {
                // the keys query q0 + j sees; the row's vectors may run on past them (vector_math.h)
                const int64_t n = q0 + j + 1, end = lanes_end(n, keys);
                float * row = w.scores.data() + j * keys;
                const ExpSum sum = exp_sum(row, n, row, keys);
                lse[q0 + j] = sum.max + float(std::log(sum.sum));
                E * p = w.probs.data() + j * keys;
                store_scaled(row, float(1.0 / sum.sum), p, end);
                std::fill(p + end, p + keys, E(0));
            }
            // y[query] = Σ_{key ≤ query} p·v
            Epilogue to_query;
            to_query.causal = Causal::kDepthToColumn;
            to_query.diagonal = q0;
            bf16_gemm::multiply(w.vt.data(), s.hs, keys, by_query(w.probs.data(), nq, keys), y + q0 * s.C, s.C, 0, nq, to_query, s.T);
        }
    }
}

// dst: dqkv [3C, T, B]; src = {dy [C, T, B], qkv, the forward's node}
template <typename E>
void backward_node(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * dy_t = dst->src[0];
    const ggml_tensor * qkv_t = dst->src[1];
    const ggml_tensor * fwd_t = dst->src[2];
    const Shape s = shape_of(qkv_t, custom_extras<NodeExtras>(dst).n_head);
    const float scale = 1.0f / std::sqrt(float(s.hs));
    const float * y_all = static_cast<const float *>(fwd_t->data);
    const float * lse_all = y_all + s.C * s.T * s.B;
    Scratch<E> & w = scratch<E>();
    w.scores.resize(size_t(s.T * kBackwardQueries));
    w.probs.resize(size_t(s.T * kBackwardQueries));
    w.dscores.resize(size_t(s.T * kBackwardQueries));
    w.dk.resize(size_t(s.T * s.hs));
    w.dv.resize(size_t(s.T * s.hs));
    w.d.resize(size_t(s.T));
    const Units units = units_of(s, ith, nth);
    for (int64_t unit = units.begin; unit < units.end; unit++) {
        const int64_t b = unit / s.H, h = unit % s.H, ld = 3 * s.C;
        const float * q = static_cast<const float *>(qkv_t->data) + b * s.T * ld + h * s.hs;
        const float * k = q + s.C, * v = q + 2 * s.C;
        const float * y = y_all + b * s.T * s.C + h * s.hs;
        const float * dy = static_cast<const float *>(dy_t->data) + b * s.T * s.C + h * s.hs;
        const float * lse = lse_all + unit * s.T;
        float * dq = static_cast<float *>(dst->data) + b * s.T * ld + h * s.hs;
        pack_all(w.k, by_token(k, s.T, s.hs, ld));
        pack_all(w.v, by_token(v, s.T, s.hs, ld));
        pack_all(w.kt, by_dimension(k, s.hs, s.T, ld));
        // Σ_key p·dp = dy·y for each query (y = Σ p·v)
        for (int64_t t = 0; t < s.T; t++) w.d[size_t(t)] = dot_product(dy + t * s.C, y + t * s.C, s.hs);
        std::fill(w.dk.begin(), w.dk.end(), 0.0f);
        std::fill(w.dv.begin(), w.dv.end(), 0.0f);
        for (int64_t q0 = 0; q0 < s.T; q0 += kBackwardQueries) {
            const int64_t nq = std::min(kBackwardQueries, s.T - q0), keys = q0 + nq;
            float * block = w.scores.data();  // the scores, then their gradient dp
            // p = e^(q·k/√hs - lse), the forward's probabilities
            Epilogue e;
            e.scale = scale;
            e.causal = Causal::kMaskAbove;
            e.fill = -INFINITY;
            e.diagonal = q0;
            bf16_gemm::multiply(w.k.data(), keys, s.hs, by_token(q + q0 * ld, nq, s.hs, ld), block, keys, 0, nq, e);
            for (int64_t j = 0; j < nq; j++) {
                const int64_t n = q0 + j + 1, whole = whole_lanes_end(n, keys);
                const float * row = block + j * keys;
                const float top = lse[q0 + j];
                E * p = w.probs.data() + j * keys;
                int64_t i = 0;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
                for (; i < whole; i += kLanes) narrow_lanes(p + i, lanes_before(exp_vectorisable(load_lanes(row + i) - top), i, n));
#endif
                for (; i < n; i++) p[i] = narrow<E>(exp_vectorisable(row[i] - top));
                std::fill(p + lanes_end(n, keys), p + keys, E(0));
            }
            // dp[query][key] = dy[query]·v[key], then ds = p·(dp - Σ p·dp)/√hs
            Epilogue masked;
            masked.causal = Causal::kMaskAbove;
            masked.diagonal = q0;
            bf16_gemm::multiply(w.v.data(), keys, s.hs, by_token(dy + q0 * s.C, nq, s.hs, s.C), block, keys, 0, nq, masked);
            for (int64_t j = 0; j < nq; j++) {
                const int64_t n = q0 + j + 1;
                const float * dp = block + j * keys;
                const E * p = w.probs.data() + j * keys;
                E * ds = w.dscores.data() + j * keys;
                const float dot = w.d[size_t(q0 + j)];
                const int64_t whole = whole_lanes_end(n, keys);
                int64_t i = 0;
#ifdef TWEETSMITH_VECTOR_EXTENSIONS
                for (; i < whole; i += kLanes) narrow_lanes(ds + i, lanes_before(scale * (widen_lanes(p + i) * (load_lanes(dp + i) - dot)), i, n));
#endif
                for (; i < n; i++) ds[i] = narrow<E>(scale * (widen(p[i]) * (dp[i] - dot)));
                std::fill(ds + lanes_end(n, keys), ds + keys, E(0));
            }
            // dq[query] = Σ_{key ≤ query} ds·k
            Epilogue to_query;
            to_query.causal = Causal::kDepthToColumn;
            to_query.diagonal = q0;
            bf16_gemm::multiply(w.kt.data(), s.hs, keys, by_query(w.dscores.data(), nq, keys), dq + q0 * ld, ld, 0, nq, to_query, s.T);
            // dk[key] += Σ_query ds·q and dv[key] += Σ_query p·dy, over this block's queries
            Epilogue add_dk;
            add_dk.addend = w.dk.data();
            add_dk.ld_addend = s.hs;
            pack_all(w.block, by_dimension(q + q0 * ld, s.hs, nq, ld));
            bf16_gemm::multiply(w.block.data(), s.hs, nq, by_key(w.dscores.data(), nq, keys), w.dk.data(), s.hs, 0, keys, add_dk);
            Epilogue add_dv = add_dk;
            add_dv.addend = w.dv.data();
            pack_all(w.block, by_dimension(dy + q0 * s.C, s.hs, nq, s.C));
            bf16_gemm::multiply(w.block.data(), s.hs, nq, by_key(w.probs.data(), nq, keys), w.dv.data(), s.hs, 0, keys, add_dv);
        }
        for (int64_t t = 0; t < s.T; t++) {
            std::memcpy(dq + t * ld + s.C, w.dk.data() + t * s.hs, size_t(s.hs) * sizeof(float));
            std::memcpy(dq + t * ld + 2 * s.C, w.dv.data() + t * s.hs, size_t(s.hs) * sizeof(float));
        }
    }
}

}  // namespace

FusedAttention fused_attention(ggml_context * ctx, ggml_tensor * qkv, int64_t n_head, ggml_type type) {
    const bool f32 = type == GGML_TYPE_F32;
    if (!(f32 ? bf16_gemm::supported_f32() : type == GGML_TYPE_BF16 && bf16_gemm::supported())) return {};
    if (qkv->type != GGML_TYPE_F32 || !ggml_is_contiguous(qkv) || qkv->ne[3] != 1 || n_head <= 0 || qkv->ne[0] % (3 * n_head) != 0)
        return {};
    const Shape s = shape_of(qkv, n_head);
    ggml_tensor * args[] = {qkv};
    ggml_tensor * out = ggml_custom_4d(ctx, GGML_TYPE_F32, s.C * s.T * s.B + s.T * s.H * s.B, 1, 1, 1, args, 1,
                                       f32 ? forward_node<float> : forward_node<uint16_t>, GGML_N_TASKS_MAX, nullptr);
    set_custom_extras(out, NodeExtras{n_head, f32});
    ggml_tensor * y = ggml_view_3d(ctx, out, s.C, s.T, s.B, size_t(s.C) * sizeof(float), size_t(s.C * s.T) * sizeof(float), 0);
    return {y, out};
}

ggml_tensor * fused_attention_backward(ggml_context * ctx, ggml_tensor * dy, ggml_tensor * qkv, const FusedAttention & forward,
                                       int64_t n_head) {
    const Shape s = shape_of(qkv, n_head);
    if (!forward.out || dy->type != GGML_TYPE_F32 || dy->ne[0] != s.C || dy->ne[1] != s.T || dy->ne[2] != s.B || dy->ne[3] != 1)
        return nullptr;
    if (!ggml_is_contiguous(dy)) dy = ggml_cont(ctx, dy);
    ggml_tensor * args[] = {dy, qkv, forward.out};
    // in the forward's operand type
    const NodeExtras x{n_head, custom_extras<NodeExtras>(forward.out).f32};
    ggml_tensor * d = ggml_custom_4d(ctx, GGML_TYPE_F32, 3 * s.C, s.T, s.B, 1, args, 3, x.f32 ? backward_node<float> : backward_node<uint16_t>,
                                     GGML_N_TASKS_MAX, nullptr);
    set_custom_extras(d, x);
    return d;
}

FusedAttentionCheck fused_attention_check(const float * qkv, const float * dy, int64_t C, int64_t T, int64_t B, int64_t n_head,
                                          int threads, bool f32) {
    const ggml_type type = f32 ? GGML_TYPE_F32 : GGML_TYPE_BF16;
    if (!(f32 ? bf16_gemm::supported_f32() : bf16_gemm::supported())) return {};
    const size_t bytes = size_t(3 * C * T * B + C * T * B) * sizeof(float) * 3 + size_t(T * n_head * B) * 4 + (4 << 20);
    auto graph = [&](bool backward) -> std::vector<float> {
        ggml_init_params params = {bytes, nullptr, false};
        ggml_context * ctx = ggml_init(params);
        if (!ctx) return {};
        ggml_tensor * tqkv = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, 3 * C, T, B);
        std::memcpy(tqkv->data, qkv, size_t(3 * C * T * B) * sizeof(float));
        const FusedAttention f = fused_attention(ctx, tqkv, n_head, type);
        ggml_tensor * result = f.y;
        if (f.y && backward) {
            ggml_tensor * tdy = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, C, T, B);
            std::memcpy(tdy->data, dy, size_t(C * T * B) * sizeof(float));
            result = fused_attention_backward(ctx, tdy, tqkv, f, n_head);
        }
        // y is a view of the forward's node: compute_and_free reads it after the graph runs
        return compute_and_free(ctx, result, threads);
    };
    return {graph(false), graph(true)};
}

}  // namespace tweetsmith
