// A bf16 matrix multiply for CPUs with AVX-512 or AVX2: f32 results of bf16
// operands, accumulated in f32, for mixed-precision training; by AVX512-BF16's
// vdpbf16ps where the CPU has it (dot_bf16()), else by widening each bf16 to f32.
//
// Why our own: ggml's bf16 product (llamafile's tinyBLAS) wants both operands
// contiguous along the contracted dimension, so every weight gradient and every
// input gradient first needs a transposed bf16 copy of an operand, and each f32
// activation is converted to bf16 inside every product; and its tiles keep a
// vector of partial sums per output, reduced at the end. Here the first operand
// is packed once (pack(), a graph node of its own, shared by the threads) into
// panels of 32 rows whose pairs of k sit side by side, the layout vdpbf16ps
// multiplies; the second operand is read through any strides, f32 or bf16, and
// repacked per thread in cache-sized blocks. The micro-kernel holds a 32 × 12
// block of the result in 24 registers and does one broadcast per column per pair
// of k (the BLIS scheme).
//
// The same packing, blocking and epilogues serve fp32 training's products: A
// packed as f32 (one k per 32-bit unit where bf16 has a pair), f32 views of B, and
// a 32 × 12 micro-kernel of vfmadd231ps. (ggml's f32 product, llamafile's tinyBLAS,
// has no cache blocking along k and wants transposed copies, as above: at GPT-2's
// shapes it ran at 120-225 GFLOP/s on 2 threads here.)
//
// CPUs without AVX-512 (most laptop and desktop CPUs) run both products with AVX2
// and FMA (bf16 widened): the same packed panels, and the 32 × 12 block as four
// 16 × 6 blocks in the 16 vector registers of 8 floats they have; the sums are the
// same, bit for bit.
//
// Every bf16 function here needs supported(), every f32 one supported_f32(): the
// code is compiled for AVX-512 (and AVX512-BF16) and AVX2 whatever the build's
// baseline, and runs only where the CPU has it (AVX512-BF16's instructions only where
// dot_bf16()).
#pragma once
#include <ggml.h>

#include <cstdint>

namespace tweetsmith::bf16_gemm {

// rows of A per packed panel
constexpr int64_t kPanel = 32;

// Whether this CPU has AVX-512 (F, BW, VL, DQ; checked once, at run time), or AVX2
// and FMA, and this build has the kernels (GCC or Clang on x86-64), for the bf16
// product. TWEETSMITH_NO_BF16_GEMM=1 turns them off (to compare with ggml's product);
// TWEETSMITH_NO_AVX512=1 makes an AVX-512 CPU run the AVX2 kernels.
bool supported();
// Whether the bf16 product multiplies with AVX512-BF16's vdpbf16ps. Without it (or
// with TWEETSMITH_NO_AVX512BF16=1, to test that path anywhere) the packed pairs of
// bf16 are widened to f32 in the micro-kernel and summed by vfmadd231ps: the same
// bf16 operands and f32 sums, at f32's speed, where ggml's product would convert.
bool dot_bf16();
// Whether this CPU has AVX-512 (F, BW, VL, DQ), or AVX2 and FMA, and this build the
// kernels, for the f32 product. TWEETSMITH_NO_F32_GEMM=1 turns it off (to compare with
// ggml's); TWEETSMITH_NO_AVX512=1 makes an AVX-512 CPU run the AVX2 kernels.
bool supported_f32();
// Which kernels the f32 product runs: "avx512", "avx2", or null where none.
const char * f32_kernel();

// An operand as a strided view: element (i, k) at data + i·stride_i + k·stride_k
// (strides in elements), F32 or BF16; i < rows, k < depth.
struct View {
    const void * data = nullptr;
    ggml_type type = GGML_TYPE_F32;
    int64_t rows = 0, depth = 0;
    int64_t stride_i = 0, stride_k = 0;
};

// bf16 elements of a packed A: ⌈rows/32⌉ panels of ⌈depth/2⌉ pairs × 32 rows × 2.
int64_t packed_size(int64_t rows, int64_t depth);
// f32 elements of a packed A for the f32 product: ⌈rows/32⌉ panels of depth × 32 rows.
int64_t packed_size_f32(int64_t rows, int64_t depth);
int64_t panels(int64_t rows);

// Packs panels [begin, end) of a (rounded to nearest even; zeros past its edges).
void pack(const View & a, uint16_t * packed, int64_t begin, int64_t end);
// The same for the f32 product, of an f32 a, unrounded.
void pack(const View & a, float * packed, int64_t begin, int64_t end);

// Causal attention's products, which need only part of the result or of the sum
// (the rest is known: masked, or multiplied by probabilities that are exactly 0):
enum class Causal {
    kNone,
    kMaskAbove,        // c(i, j) = fill where i > j (a key after the query), not computed
    kDepthToColumn,    // column j sums k ≤ j only (B(j, k) = 0 for k > j)
    kDepthFromColumn,  // column j sums k ≥ j only (B(j, k) = 0 for k < j)
};

struct Epilogue {
    const float * addend = nullptr;  // c = addend + A·B (addend may be c itself: c += A·B)
    int64_t ld_addend = 0;
    const float * bias = nullptr;  // + bias[i]
    float scale = 1.0f;            // the whole sum times scale (used without addend and bias)
    Causal causal = Causal::kNone;
    float fill = 0.0f;  // kMaskAbove's value above the diagonal
    // The causal modes take column j as column j + diagonal: for a block of a larger
    // product's columns (queries q0.. of a fused attention: diagonal q0), its rows
    // and its depth still counted from 0.
    int64_t diagonal = 0;
};

// c(i, j) = scale·(addend(i, j) + Σ_k A(i, k)·B(j, k)) + bias[i] as `e` asks, for the
// columns j in [j_begin, j_end), every i < m. A: packed by pack() from m rows of depth
// k, or of a greater depth `packed_depth` of which the sums take the first k (a causal
// attention's block of queries sees a prefix of the keys); B: a view of depth k. c: f32,
// element (i, j) at c + j·ldc + i (the addend likewise with ld_addend).
void multiply(const uint16_t * a_packed, int64_t m, int64_t k, const View & b, float * c, int64_t ldc, int64_t j_begin,
              int64_t j_end, const Epilogue & e, int64_t packed_depth = 0);
// The same in f32: A packed by the f32 pack(), b an f32 view; each sum in k's order.
void multiply(const float * a_packed, int64_t m, int64_t k, const View & b, float * c, int64_t ldc, int64_t j_begin,
              int64_t j_end, const Epilogue & e, int64_t packed_depth = 0);

}  // namespace tweetsmith::bf16_gemm
