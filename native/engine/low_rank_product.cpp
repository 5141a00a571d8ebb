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

}  // namespace tweetsmith
