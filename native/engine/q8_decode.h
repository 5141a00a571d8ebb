// The product of q8_0 weights with the few columns of a decode step, on CPUs
// with AVX512-VNNI: W [K, N] (N rows of K) times x [K, cols] → y [N, cols].
//
// Why: a decode step multiplies every weight by only one token per sequence, so
// it should take as long as reading the weights once. ggml's q8_0 product
// (llamafile's tinyBLAS_Q0_AVX) works in 4×4 tiles of 256-bit registers and so
// reads each weight row once per 4 columns and spends 16 multiply-adds of 32
// bytes per tile; here each weight byte is read once per step and multiplied by
// every column while it sits in a register, 64 bytes per instruction
// (vpdpbusd: 16 sums of 4 u8·s8 products).
//
// The numbers are q8_0's: the weights are ggml's q8_0 blocks (32 weights, one
// fp16 scale), the activations are quantised by ggml's own quantize_row_q8_0,
// and each block contributes d_w·d_x·Σ w·x, as in ggml_vec_dot_q8_0_q8_0; only
// the order of the float additions differs. So the perplexity of q8_0 weights is
// what it was.
//
// The packed layout: the rows in groups of 16; a group holds, for each block of
// 32 columns of K, the 16 rows' fp16 scales (all of a group's scales first, then
// its weights), and the 16 × 32 weights as unsigned bytes (w + 128) in 8 slices
// of 64 bytes, slice j holding weights 4j..4j+3 of each of the 16 rows, so one
// vpdpbusd of a slice and 4 bytes of a column adds 4 products to each row's sum.
// (w + 128)·x = w·x + 128·x: each block's sum starts at -128·Σx. The N % 16
// rows after the last group stay plain q8_0 blocks. The packed matrix is as
// large as the q8_0 one (34 bytes per 32 weights); it is a ggml tensor of type
// I8 [K·34/32, N], a type no ggml product takes, so it cannot be multiplied by
// mistake as if it were something else.
#pragma once
#include <ggml.h>

#include <cstdint>

namespace tweetsmith::q8_decode {

// Whether this CPU runs the packed product (AVX512F, AVX512BW, AVX512-VNNI, checked
// at run time: a build for older CPUs still has the kernel and uses it where it can).
bool supported();

// The I8 tensor that holds a packed [K, N] matrix (K a multiple of 32).
ggml_tensor * new_packed(ggml_context * ctx, int64_t K, int64_t N);
bool is_packed(const ggml_tensor * w);

// The product as a ggml custom operation: dst F32 [N, cols]
// = W · x for src = {x F32 [K, cols] (contiguous), packed I8}.  (ggml_custom_4d)
void product(ggml_tensor * dst, int ith, int nth, void * userdata);

// Packs a matrix into a packed tensor (allocated), threads splitting the groups:
// ggml_custom_inplace on the packed tensor with args = {the matrix, F32 [K, N]
// (quantised by ggml's quantize_row_q8_0, as ggml_cpy to q8_0 does) or Q8_0}.
void pack_rows(ggml_tensor * dst, int ith, int nth, void * userdata);

// w · x as the layers multiply: the packed product when w is packed, else ggml_mul_mat.
// x [K, cols] → [N, cols].
ggml_tensor * mul_mat(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x);

}  // namespace tweetsmith::q8_decode
