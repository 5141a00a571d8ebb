#include "low_rank_product.h"

#include "custom_node_extras.h"
#include "kernel_check.h"

#include <algorithm>
#include <cstring>

namespace tweetsmith {
namespace {

// Rows of the result one task computes: its slice of the factor (r × kRows
// floats, scaled) stays in L1 while the task walks its columns.
constexpr int64_t kRows = 128;

// c [m, n] (+)= scale · a [r, m]ᵀ-contracted with b [r, n]. Tasks are (block of
// kRows rows, share of the columns) pairs, taken round-robin by the threads.
void run(ggml_tensor * c_t, const ggml_tensor * a, const ggml_tensor * b, bool accumulate, int ith, int nth) {
    const float scale = custom_extras<float>(c_t);  // set_custom_extras in low_rank_product
    const int64_t r = a->ne[0], m = a->ne[1], n = b->ne[1];
    const int64_t row_blocks = (m + kRows - 1) / kRows;
    const int64_t col_shares = std::max<int64_t>(1, std::min<int64_t>(n, nth));  // at least one, even with no columns
    const int64_t cols_per_share = (n + col_shares - 1) / col_shares;
    alignas(64) float factor[kLowRankMax * kRows];
    alignas(64) float acc[kRows];
    for (int64_t task = ith; task < row_blocks * col_shares; task += nth) {
        const int64_t i0 = (task % row_blocks) * kRows, rows = std::min(kRows, m - i0);
        const int64_t j0 = (task / row_blocks) * cols_per_share, j1 = std::min(n, j0 + cols_per_share);
        for (int64_t k = 0; k < r; k++)
            for (int64_t i = 0; i < rows; i++)
                factor[k * kRows + i] =
                    scale * *reinterpret_cast<const float *>(static_cast<const char *>(a->data) + k * a->nb[0] + (i0 + i) * a->nb[1]);
        for (int64_t j = j0; j < j1; j++) {
            const float * bj = reinterpret_cast<const float *>(static_cast<const char *>(b->data) + j * b->nb[1]);
            float * cj = reinterpret_cast<float *>(static_cast<char *>(c_t->data) + j * c_t->nb[1]) + i0;
            std::fill(acc, acc + rows, 0.0f);
            for (int64_t k = 0; k < r; k++) {
                const float bk = bj[k];
                const float * f = factor + k * kRows;
                for (int64_t i = 0; i < rows; i++) acc[i] += bk * f[i];
            }
            if (accumulate)
                for (int64_t i = 0; i < rows; i++) cj[i] += acc[i];
            else
                std::copy(acc, acc + rows, cj);
        }
    }
}

// dst = scale · src[0] · src[1]
void product_node(ggml_tensor * dst, int ith, int nth, void *) { run(dst, dst->src[0], dst->src[1], false, ith, nth); }

// in place: dst (a view of src[0]) += scale · src[1] · src[2]
void product_into_node(ggml_tensor * dst, int ith, int nth, void *) { run(dst, dst->src[1], dst->src[2], true, ith, nth); }

bool is_2d_f32(const ggml_tensor * t) { return t->type == GGML_TYPE_F32 && t->ne[2] == 1 && t->ne[3] == 1; }

// c [ma, mb] = scale · Σ_n a[:, n] ⊗ b[:, n], a [ma, N] and b [mb, N] with contiguous
// rows. Tasks are (W rows of c's columns, G columns) tiles, held in registers while
// the task walks the tokens, taken round-robin by the threads: W and G are 16 or 8,
// so that a rank of 8 fills a tile's side exactly. Each token's slice of a and b is
// read once per task (ggml's product wanted both transposed: two copies of the
// [in or out, N] side per layer and step).
template <int W, int G>
void outer_run(ggml_tensor * c_t, const ggml_tensor * a, const ggml_tensor * b, int ith, int nth) {
    const float scale = custom_extras<float>(c_t);
    const int64_t ma = a->ne[0], mb = b->ne[0], N = a->ne[1];
    const int64_t i_tiles = (ma + W - 1) / W, j_tiles = (mb + G - 1) / G;
    for (int64_t task = ith; task < i_tiles * j_tiles; task += nth) {
        const int64_t i0 = (task % i_tiles) * W, j0 = (task / i_tiles) * G;
        const int64_t width = std::min<int64_t>(W, ma - i0), count = std::min<int64_t>(G, mb - j0);
        float acc[G][W] = {};
        auto row = [](const ggml_tensor * t, int64_t n, int64_t at) {
            return reinterpret_cast<const float *>(static_cast<const char *>(t->data) + n * t->nb[1]) + at;
        };
        if (width == W && count == G) {
            for (int64_t n = 0; n < N; n++) {
                const float * an = row(a, n, i0), * bn = row(b, n, j0);
                for (int g = 0; g < G; g++)
                    for (int l = 0; l < W; l++) acc[g][l] += an[l] * bn[g];
            }
        } else {
            // a tile at the edge: its slices copied out, the rest of them 0
            float an[W] = {}, bn[G] = {};
            for (int64_t n = 0; n < N; n++) {
                std::copy(row(a, n, i0), row(a, n, i0) + width, an);
                std::copy(row(b, n, j0), row(b, n, j0) + count, bn);
                for (int g = 0; g < G; g++)
                    for (int l = 0; l < W; l++) acc[g][l] += an[l] * bn[g];
            }
        }
        for (int64_t g = 0; g < count; g++) {
            float * cj = reinterpret_cast<float *>(static_cast<char *>(c_t->data) + (j0 + g) * c_t->nb[1]) + i0;
            for (int64_t l = 0; l < width; l++) cj[l] = scale * acc[g][l];
        }
    }
}

void outer_node(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * a = dst->src[0];
    const ggml_tensor * b = dst->src[1];
    if (a->ne[0] <= 8) {
        if (b->ne[0] <= 8) outer_run<8, 8>(dst, a, b, ith, nth);
        else outer_run<8, 16>(dst, a, b, ith, nth);
    } else {
        if (b->ne[0] <= 8) outer_run<16, 8>(dst, a, b, ith, nth);
        else outer_run<16, 16>(dst, a, b, ith, nth);
    }
}

}  // namespace

ggml_tensor * low_rank_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, const ProductOptions & o) {
    if (!is_2d_f32(a) || !is_2d_f32(b) || a->ne[0] != b->ne[0] || a->ne[0] > kLowRankMax || b->nb[0] != sizeof(float)) return nullptr;
    if (o.bias || o.causal != ProductOptions::Causal::kNone) return nullptr;
    ggml_tensor * into = o.into;
    if (into && (!is_2d_f32(into) || into->nb[0] != sizeof(float) || into->ne[0] != a->ne[1] || into->ne[1] != b->ne[1])) return nullptr;
    ggml_tensor * args[] = {a, b};
    ggml_tensor * result =
        into ? ggml_custom_inplace(ctx, into, args, 2, product_into_node, GGML_N_TASKS_MAX, nullptr)
             : ggml_custom_4d(ctx, GGML_TYPE_F32, a->ne[1], b->ne[1], 1, 1, args, 2, product_node, GGML_N_TASKS_MAX, nullptr);
    set_custom_extras(result, o.scale);
    return result;
}

ggml_tensor * low_rank_outer_products(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, float scale) {
    if (!is_2d_f32(a) || !is_2d_f32(b) || a->ne[1] != b->ne[1] || std::min(a->ne[0], b->ne[0]) > kLowRankMax ||
        a->nb[0] != sizeof(float) || b->nb[0] != sizeof(float))
        return nullptr;
    ggml_tensor * args[] = {a, b};
    ggml_tensor * result = ggml_custom_4d(ctx, GGML_TYPE_F32, a->ne[0], b->ne[0], 1, 1, args, 2, outer_node, GGML_N_TASKS_MAX, nullptr);
    set_custom_extras(result, scale);
    return result;
}

std::vector<float> low_rank_product_check(const float * a, const float * b, const float * into, int64_t m, int64_t n, int64_t r,
                                          bool a_transposed, float scale, int threads) {
    const size_t bytes = size_t(m * r + n * r + 2 * m * n) * sizeof(float) + (1 << 20);
    ggml_init_params params = {bytes, nullptr, false};
    ggml_context * ctx = ggml_init(params);
    if (!ctx) return {};
    ggml_tensor * ta = a_transposed ? ggml_new_tensor_2d(ctx, GGML_TYPE_F32, m, r) : ggml_new_tensor_2d(ctx, GGML_TYPE_F32, r, m);
    std::memcpy(ta->data, a, size_t(m * r) * sizeof(float));
    ggml_tensor * tb = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, r, n);
    std::memcpy(tb->data, b, size_t(n * r) * sizeof(float));
    ProductOptions o;
    o.scale = scale;
    if (into) {
        o.into = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, m, n);
        std::memcpy(o.into->data, into, size_t(m * n) * sizeof(float));
    }
    return compute_and_free(ctx, low_rank_product(ctx, a_transposed ? ggml_transpose(ctx, ta) : ta, tb, o), threads);
}

std::vector<float> low_rank_outer_products_check(const float * a, const float * b, int64_t ma, int64_t mb, int64_t n, float scale,
                                                 int threads) {
    const size_t bytes = size_t(ma * n + mb * n + ma * mb) * sizeof(float) + (1 << 20);
    ggml_init_params params = {bytes, nullptr, false};
    ggml_context * ctx = ggml_init(params);
    if (!ctx) return {};
    ggml_tensor * ta = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, ma, n);
    std::memcpy(ta->data, a, size_t(ma * n) * sizeof(float));
    ggml_tensor * tb = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, mb, n);
    std::memcpy(tb->data, b, size_t(mb * n) * sizeof(float));
    return compute_and_free(ctx, low_rank_outer_products(ctx, ta, tb, scale), threads);
}

}  // namespace tweetsmith
