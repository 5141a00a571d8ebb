// What the kernels' test entry points (bf16_product_check, low_rank_product_check)
// share: running the node they built and handing its values back.
#pragma once
#include <ggml.h>

#include <vector>

namespace tweetsmith {

// Computes y's graph in ctx on the CPU with `threads` threads and returns y's values
// (f32; empty where y is null or the graph fails), then frees ctx.
std::vector<float> compute_and_free(ggml_context * ctx, ggml_tensor * y, int threads);

}  // namespace tweetsmith
