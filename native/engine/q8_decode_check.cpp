#include "q8_decode_check.h"

#include "engine_error.h"
#include "q8_decode.h"

#include <ggml-cpu.h>
#include <ggml.h>

#include <cstring>

namespace tweetsmith::q8_decode {

ProductCheck check_product(const float * w, int64_t K, int64_t N, const float * x, int64_t cols, int threads) {
    if (K < 32 || K % 32 != 0 || N < 1 || cols < 1 || threads < 1)
        throw EngineError("check_product: K must be a positive multiple of 32, N, cols and threads positive");
    const size_t q8_bytes = size_t(K / 32 * 34 * N);
    const size_t bytes = size_t(K * N) * 4 * 2 + q8_bytes * 2 + size_t(K * cols) * 4 + size_t(N * cols) * 4 * 2 + (size_t(64) << 20);
    ggml_init_params params = {bytes, nullptr, false};
    ggml_context * ctx = ggml_init(params);
    if (!ctx) throw EngineError("check_product: out of memory");
    ProductCheck out;
    try {
        ggml_tensor * w_t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, K, N);
        ggml_tensor * x_t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, K, cols);
        std::memcpy(w_t->data, w, size_t(K * N) * sizeof(float));
        std::memcpy(x_t->data, x, size_t(K * cols) * sizeof(float));
        ggml_tensor * q8 = ggml_cast(ctx, w_t, GGML_TYPE_Q8_0);
        ggml_cgraph * graph = ggml_new_graph(ctx);
        ggml_tensor * reference = ggml_mul_mat(ctx, q8, x_t);
        ggml_build_forward_expand(graph, reference);
        ggml_tensor * packed_y = nullptr;
        out.packed = supported();
        if (out.packed) {
            ggml_tensor * args[] = {w_t};  // packed from f32, as SamplingWeights packs
            ggml_tensor * packed = ggml_custom_inplace(ctx, new_packed(ctx, K, N), args, 1, pack_rows, GGML_N_TASKS_MAX, nullptr);
            packed_y = mul_mat(ctx, packed, x_t);
            ggml_build_forward_expand(graph, packed_y);
        }
        if (ggml_graph_compute_with_ctx(ctx, graph, threads) != GGML_STATUS_SUCCESS) throw EngineError("check_product: the graph failed");
        out.ggml_y.assign(static_cast<const float *>(reference->data), static_cast<const float *>(reference->data) + N * cols);
        if (packed_y) out.packed_y.assign(static_cast<const float *>(packed_y->data), static_cast<const float *>(packed_y->data) + N * cols);
        out.weights.resize(size_t(K * N));
        ggml_get_type_traits(GGML_TYPE_Q8_0)->to_float(q8->data, out.weights.data(), K * N);
    } catch (...) {
        ggml_free(ctx);
        throw;
    }
    ggml_free(ctx);
    return out;
}

}  // namespace tweetsmith::q8_decode
