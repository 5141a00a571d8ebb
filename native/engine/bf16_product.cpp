#include "bf16_product.h"

#include "aligned_vector.h"
#include "bf16_gemm.h"
#include "custom_node_extras.h"
#include "kernel_check.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <atomic>
#include <new>
#include <cstring>

namespace tweetsmith {
namespace {

bool viewable(const ggml_tensor * t) {
    if (t->type != GGML_TYPE_F32 && t->type != GGML_TYPE_BF16) return false;
    const size_t size = ggml_type_size(t->type);
    for (int d = 0; d < 4; d++)
        if (t->nb[d] % size != 0) return false;
    return true;
}

// batch `index` (over ne2·ne3) of t as a bf16_gemm view: rows along ne1, depth along ne0
bf16_gemm::View view_of(const ggml_tensor * t, int64_t index) {
    const size_t size = ggml_type_size(t->type);
    const int64_t i2 = index % t->ne[2], i3 = index / t->ne[2];
    bf16_gemm::View v;
    v.data = static_cast<const char *>(t->data) + i2 * t->nb[2] + i3 * t->nb[3];
    v.type = t->type;
    v.rows = t->ne[1];
    v.depth = t->ne[0];
    v.stride_i = int64_t(t->nb[1] / size);
    v.stride_k = int64_t(t->nb[0] / size);
    return v;
}

int64_t batches(const ggml_tensor * t) { return t->ne[2] * t->ne[3]; }

// A bf16 copy of an f32 tensor made by ggml_cast (mixed precision's weights, see
// gpt2_forward) is packed from the f32 original instead, or a transposed view of
// it from a transposed view of the original: the pack rounds to nearest even as
// the copy does, and the copy, used by nothing else, then never runs.
bool is_bf16_cast(const ggml_tensor * t) {
    return t->op == GGML_OP_CPY && t->type == GGML_TYPE_BF16 && t->src[1] == t && t->src[0] && t->src[0]->type == GGML_TYPE_F32 &&
           ggml_is_contiguous(t->src[0]) && ggml_are_same_shape(t, t->src[0]);
}
ggml_tensor * before_cast(ggml_context * ctx, ggml_tensor * t) {
    if (is_bf16_cast(t)) return t->src[0];
    if (t->op == GGML_OP_TRANSPOSE && t->src[0] && is_bf16_cast(t->src[0])) return ggml_transpose(ctx, t->src[0]->src[0]);
    return t;
}

// The packed panels start on a cache line in their tensor (a CPU tensor is aligned to
// 32 bytes): the micro-kernel's 64-byte loads of them then never straddle two lines,
// which cost the f32 product ~9% (timed on an Ice Lake Xeon; aligned_vector.h).
char * panels_of(const ggml_tensor * packed) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(packed->data);
    return reinterpret_cast<char *>((at + kCacheLine - 1) / kCacheLine * kCacheLine);
}

// The product's threads take its jobs (blocks of columns) from a counter, so that a
// thread the system runs late (the machine busy with other work) holds the others
// up by one job at most, not by a fixed half of the product. The counter sits after
// the packed panels; the pack node, which runs to its end before the product starts
// (ggml runs a graph node by node), zeroes it.
std::atomic<int64_t> & job_counter(const ggml_tensor * packed, int64_t panels_bytes) {
    return *reinterpret_cast<std::atomic<int64_t> *>(panels_of(packed) + panels_bytes);
}
constexpr int64_t kCounterBytes = 64;

// Elements of one batch's packed panels: bf16 ones, or f32 ones for the f32 product
// (the packed tensor's type says which)
int64_t packed_per_batch(ggml_type packed_type, int64_t rows, int64_t depth) {
    return packed_type == GGML_TYPE_F32 ? bf16_gemm::packed_size_f32(rows, depth) : bf16_gemm::packed_size(rows, depth);
}

// dst: the packed panels of every batch of src[0], one after another; threads split the panels
void pack_node(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * a = dst->src[0];
    const bool f32 = dst->type == GGML_TYPE_F32;
    const int64_t per_batch = packed_per_batch(dst->type, a->ne[1], a->ne[0]);
    if (ith == 0) new (&job_counter(dst, per_batch * batches(a) * int64_t(ggml_type_size(dst->type)))) std::atomic<int64_t>(0);
    const int64_t panels = bf16_gemm::panels(a->ne[1]), total = panels * batches(a);
    const int64_t share = (total + nth - 1) / nth;
    const int64_t begin = std::min(total, share * ith), end = std::min(total, begin + share);
    for (int64_t job = begin; job < end;) {
        const int64_t batch = job / panels, first = job % panels, last = std::min(panels, first + (end - job));
        if (f32) bf16_gemm::pack(view_of(a, batch), reinterpret_cast<float *>(panels_of(dst)) + batch * per_batch, first, last);
        else bf16_gemm::pack(view_of(a, batch), reinterpret_cast<uint16_t *>(panels_of(dst)) + batch * per_batch, first, last);
        job += last - first;
    }
}

// The epilogue's numbers, kept in the node (custom_node_extras.h).
struct NodeExtras {
    float scale;
    int32_t causal;
    float fill;
};

// c [M, N, batch] = packed (M rows of depth K) · b [K, N, batch] (+ addend) (+ bias [M]);
// the threads take blocks of columns from the job counter
void run_product(const ggml_tensor * c_t, const ggml_tensor * packed, const ggml_tensor * b, const ggml_tensor * addend,
                 const ggml_tensor * bias, int ith, int nth) {
    const NodeExtras x = custom_extras<NodeExtras>(c_t);
    const int64_t M = c_t->ne[0], N = c_t->ne[1], K = b->ne[0];
    const int64_t per_batch = packed_per_batch(packed->type, M, K);
    const int64_t batch_bytes = per_batch * int64_t(ggml_type_size(packed->type));
    const int64_t n_batches = batches(b);
    // columns per job, in whole micro-kernel blocks: more of them (so fewer jobs) where
    // A is too large for the caches, since each job reads all of it
    const int64_t per_job = batch_bytes > (int64_t(16) << 20) ? 240 : 96;
    const int64_t jobs_per_batch = (N + per_job - 1) / per_job, jobs = n_batches * jobs_per_batch;
    std::atomic<int64_t> & counter = job_counter(packed, batch_bytes * n_batches);
    (void)ith, (void)nth;
    for (int64_t job = counter.fetch_add(1); job < jobs; job = counter.fetch_add(1)) {
        const int64_t batch = job / jobs_per_batch;
        const int64_t begin = (job % jobs_per_batch) * per_job, end = std::min(N, begin + per_job);
        const int64_t i2 = batch % c_t->ne[2], i3 = batch / c_t->ne[2];
        float * c = reinterpret_cast<float *>(static_cast<char *>(c_t->data) + i2 * c_t->nb[2] + i3 * c_t->nb[3]);
        const float * add = addend ? reinterpret_cast<const float *>(static_cast<const char *>(addend->data) + i2 * addend->nb[2] +
                                                                     i3 * addend->nb[3])
                                   : nullptr;
        bf16_gemm::Epilogue e;
        e.addend = add;
        e.ld_addend = addend ? int64_t(addend->nb[1] / sizeof(float)) : 0;
        e.bias = bias ? static_cast<const float *>(bias->data) : nullptr;
        e.scale = x.scale;
        e.causal = bf16_gemm::Causal(x.causal);
        e.fill = x.fill;
        const int64_t ldc = int64_t(c_t->nb[1] / sizeof(float));
        if (packed->type == GGML_TYPE_F32)
            bf16_gemm::multiply(reinterpret_cast<const float *>(panels_of(packed)) + batch * per_batch, M, K, view_of(b, batch), c, ldc,
                                begin, end, e);
        else
            bf16_gemm::multiply(reinterpret_cast<const uint16_t *>(panels_of(packed)) + batch * per_batch, M, K, view_of(b, batch), c,
                                ldc, begin, end, e);
    }
}

// dst = packed src[0] · src[1] (+ src[2], the bias)
void product_node(ggml_tensor * dst, int ith, int nth, void *) {
    run_product(dst, dst->src[0], dst->src[1], nullptr, dst->src[2], ith, nth);
}

// in place: dst (a view of src[0]) += packed src[1] · src[2]
void product_into_node(ggml_tensor * dst, int ith, int nth, void *) {
    run_product(dst, dst->src[1], dst->src[2], dst, nullptr, ith, nth);
}

// bf16_product, or f32_product where `f32`
ggml_tensor * packed_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, bool f32, const ProductOptions & o) {
    static_assert(int(ProductOptions::Causal::kMaskAbove) == int(bf16_gemm::Causal::kMaskAbove) &&
                      int(ProductOptions::Causal::kDepthFromColumn) == int(bf16_gemm::Causal::kDepthFromColumn),
                  "the two enumerations agree");
    if (f32 ? !bf16_gemm::supported_f32() || a->type != GGML_TYPE_F32 || b->type != GGML_TYPE_F32 : !bf16_gemm::supported()) return nullptr;
    if (!viewable(a) || !viewable(b)) return nullptr;
    if (!f32) a = before_cast(ctx, a);
    if (a->ne[0] != b->ne[0] || a->ne[2] != b->ne[2] || a->ne[3] != b->ne[3]) return nullptr;
    ggml_tensor * bias = o.bias, * into = o.into;
    if (bias && (bias->type != GGML_TYPE_F32 || !ggml_is_contiguous(bias) || ggml_nelements(bias) != a->ne[1])) return nullptr;
    if (into && (into->type != GGML_TYPE_F32 || into->nb[0] != sizeof(float) || into->ne[0] != a->ne[1] || into->ne[1] != b->ne[1] ||
                 into->ne[2] != b->ne[2] || into->ne[3] != b->ne[3] || bias))
        return nullptr;
    if ((into || bias) && o.scale != 1.0f) return nullptr;
    const ggml_type packed_type = f32 ? GGML_TYPE_F32 : GGML_TYPE_BF16;
    const int64_t size = packed_per_batch(packed_type, a->ne[1], a->ne[0]) * batches(a) +
                         int64_t(kCounterBytes + kCacheLine) / int64_t(ggml_type_size(packed_type));
    ggml_tensor * pack_args[] = {a};
    ggml_tensor * packed = ggml_custom_4d(ctx, packed_type, size, 1, 1, 1, pack_args, 1, pack_node, GGML_N_TASKS_MAX, nullptr);
    ggml_tensor * result;
    if (into) {
        ggml_tensor * args[] = {packed, b};
        result = ggml_custom_inplace(ctx, into, args, 2, product_into_node, GGML_N_TASKS_MAX, nullptr);
    } else {
        ggml_tensor * args[] = {packed, b, bias};
        result = ggml_custom_4d(ctx, GGML_TYPE_F32, a->ne[1], b->ne[1], b->ne[2], b->ne[3], args, bias ? 3 : 2, product_node,
                                GGML_N_TASKS_MAX, nullptr);
    }
    set_custom_extras(result, NodeExtras{o.scale, int32_t(o.causal), o.fill});
    return result;
}

}  // namespace

ggml_tensor * bf16_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, const ProductOptions & o) {
    return packed_product(ctx, a, b, false, o);
}

ggml_tensor * f32_product(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, const ProductOptions & o) {
    return packed_product(ctx, a, b, true, o);
}

std::vector<float> bf16_product_check(const float * a, const float * b, int64_t m, int64_t n, int64_t k, bool a_transposed,
                                      bool b_transposed, bool b_bf16, const float * bias, const float * into, float scale,
                                      int causal, float fill, int threads, bool f32) {
    if (f32 ? !bf16_gemm::supported_f32() || b_bf16 : !bf16_gemm::supported()) return {};
    const size_t bytes = size_t(m * k + n * k + m * n) * sizeof(float) * 2 + size_t(bf16_gemm::packed_size_f32(m, k)) * 4 + (4 << 20);
    ggml_init_params params = {bytes, nullptr, false};
    ggml_context * ctx = ggml_init(params);
    if (!ctx) return {};
    // stored [k, m] (k contiguous), or [m, k] and seen through a transposed view
    ggml_tensor * ta = a_transposed ? ggml_new_tensor_2d(ctx, GGML_TYPE_F32, m, k) : ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, m);
    std::memcpy(ta->data, a, size_t(m * k) * sizeof(float));
    const ggml_type btype = b_bf16 ? GGML_TYPE_BF16 : GGML_TYPE_F32;
    ggml_tensor * tb = b_transposed ? ggml_new_tensor_2d(ctx, btype, n, k) : ggml_new_tensor_2d(ctx, btype, k, n);
    if (b_bf16) ggml_fp32_to_bf16_row(b, static_cast<ggml_bf16_t *>(tb->data), n * k);
    else std::memcpy(tb->data, b, size_t(n * k) * sizeof(float));
    ggml_tensor * tbias = nullptr, * tinto = nullptr;
    if (bias) {
        tbias = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, m);
        std::memcpy(tbias->data, bias, size_t(m) * sizeof(float));
    }
    if (into) {
        tinto = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, m, n);
        std::memcpy(tinto->data, into, size_t(m * n) * sizeof(float));
    }
    ProductOptions o;
    o.bias = tbias;
    o.into = tinto;
    o.scale = scale;
    o.causal = ProductOptions::Causal(causal);
    o.fill = fill;
    ggml_tensor * y = packed_product(ctx, a_transposed ? ggml_transpose(ctx, ta) : ta, b_transposed ? ggml_transpose(ctx, tb) : tb, f32, o);
    return compute_and_free(ctx, y, threads);
}

}  // namespace tweetsmith
