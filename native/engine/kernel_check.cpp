#include "kernel_check.h"

#include <ggml-cpu.h>

#include <cstring>

namespace tweetsmith {

std::vector<float> compute_and_free(ggml_context * ctx, ggml_tensor * y, int threads) {
    std::vector<float> out;
    if (y) {
        ggml_cgraph * gf = ggml_new_graph(ctx);
        ggml_build_forward_expand(gf, y);
        if (ggml_graph_compute_with_ctx(ctx, gf, threads) == GGML_STATUS_SUCCESS) {
            out.resize(size_t(ggml_nelements(y)));
            std::memcpy(out.data(), y->data, out.size() * sizeof(float));
        }
    }
    ggml_free(ctx);
    return out;
}

}  // namespace tweetsmith
