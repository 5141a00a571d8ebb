// q8_decode's product beside ggml's, on one matrix, for the tests: both products
// of the same q8_0 weights by the same columns, and those weights dequantised
// (what an fp32 reference multiplies by).
#pragma once
#include <cstdint>
#include <vector>

namespace tweetsmith::q8_decode {

struct ProductCheck {
    bool packed = false;            // whether this CPU ran the packed product (supported())
    std::vector<float> packed_y;    // [cols][N]: q8_decode's product (empty when not packed)
    std::vector<float> ggml_y;      // [cols][N]: ggml_mul_mat of the q8_0 matrix
    std::vector<float> weights;     // [N][K]: the q8_0 weights, dequantised
};

// w [N][K] (K a multiple of 32) times x [cols][K], on `threads` threads.
ProductCheck check_product(const float * w, int64_t K, int64_t N, const float * x, int64_t cols, int threads);

}  // namespace tweetsmith::q8_decode
