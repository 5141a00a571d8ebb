#include "q8_decode.h"

#include "cpu_features.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TWEETSMITH_Q8_DECODE_X86 1
// the kernel's functions are compiled for AVX512-VNNI whatever the build's baseline;
// supported() decides at run time whether they are called
#define TWEETSMITH_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni,f16c,fma")))
// every loop over the columns unrolled, so each column's sums live in registers
#define UNROLL _Pragma("GCC unroll 16")
#endif

namespace tweetsmith::q8_decode {
namespace {

constexpr int64_t kRows = 16;   // rows per group: one 512-bit register of int32 sums
constexpr int64_t kBlock = 32;  // q8_0's block
constexpr int64_t kMaxColumns = 12;  // columns per pass: 2 registers each, with room for the weights

struct BlockQ8 {  // ggml's block_q8_0
    ggml_fp16_t d;
    int8_t qs[kBlock];
};
static_assert(sizeof(BlockQ8) == 34, "block_q8_0 is 34 bytes");

int64_t blocks_of(const ggml_tensor * packed) { return packed->ne[0] / int64_t(sizeof(BlockQ8)); }

// The columns, quantised as ggml quantises a q8_0 product's activations, with what
// each block needs besides: its scale as a float, and -128·Σq (see the header).
// Stored block-major ([nb][cols]): a block's columns lie side by side, one pointer
// and constant offsets away from each other in the kernel.
struct Columns {
    int64_t nb = 0, cols = 0;
    std::vector<BlockQ8> blocks;  // [nb][cols]
    std::vector<float> scale;     // [nb][cols]
    std::vector<int32_t> offset;  // [nb][cols]
    std::vector<BlockQ8> row;     // one column's blocks, as quantised

    void quantise(const float * x, int64_t K, int64_t begin, int64_t end) {
        nb = K / kBlock;
        cols = end - begin;
        const size_t n = size_t(cols * nb);
        blocks.resize(n);
        scale.resize(n);
        offset.resize(n);
        row.resize(size_t(nb));
        const ggml_from_float_t from_float = ggml_get_type_traits_cpu(GGML_TYPE_Q8_0)->from_float;
        for (int64_t c = 0; c < cols; c++) {
            from_float(x + (begin + c) * K, row.data(), K);
            for (int64_t i = 0; i < nb; i++) {
                const size_t at = size_t(i * cols + c);
                int32_t sum = 0;
                for (int k = 0; k < kBlock; k++) sum += row[size_t(i)].qs[k];
                blocks[at] = row[size_t(i)];
                scale[at] = ggml_fp16_to_fp32(row[size_t(i)].d);
                offset[at] = -128 * sum;
            }
        }
    }
    // a quantised decode step is small; a scoring batch's is not kept after it
    void release_if_large() {
        if (blocks.size() * sizeof(BlockQ8) > (size_t(1) << 20)) *this = Columns{};
    }
};

// y[r] = Σ blocks d_w·d_x·Σ w·x for a row of plain q8_0 blocks and one column.
float row_times_column(const BlockQ8 * w, const Columns & x, int64_t c, int64_t nb) {
    float sum = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const size_t at = size_t(b * x.cols + c);
        int32_t dot = 0;
        for (int k = 0; k < kBlock; k++) dot += int32_t(w[b].qs[k]) * x.blocks[at].qs[k];
        sum += ggml_fp16_to_fp32(w[b].d) * x.scale[at] * float(dot);
    }
    return sum;
}

#ifdef TWEETSMITH_Q8_DECODE_X86

// One group of 16 rows times NC columns (c0.. of x), into y[c][0..16) (y's columns `ldy` apart).
template <int NC>
TWEETSMITH_VNNI void group_times_columns(const uint8_t * group, int64_t nb, const Columns & x, int64_t c0, float * y, int64_t ldy) {
    const ggml_fp16_t * scales = reinterpret_cast<const ggml_fp16_t *>(group);
    const uint8_t * weights = group + nb * kRows * int64_t(sizeof(ggml_fp16_t));
    const BlockQ8 * xb = x.blocks.data() + c0;
    const float * xd = x.scale.data() + c0;
    const int32_t * xo = x.offset.data() + c0;
    __m512 acc[NC];
    UNROLL
    for (int c = 0; c < NC; c++) acc[c] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(scales + b * kRows)));
        const uint8_t * wb = weights + b * kRows * kBlock;
        __m512i sum[NC];
        UNROLL
        for (int c = 0; c < NC; c++) sum[c] = _mm512_set1_epi32(xo[c]);
        UNROLL
        for (int j = 0; j < kBlock / 4; j++) {
            const __m512i w = _mm512_loadu_si512(wb + j * 64);
            UNROLL
            for (int c = 0; c < NC; c++) {
                int32_t four;
                std::memcpy(&four, xb[c].qs + 4 * j, sizeof four);
                sum[c] = _mm512_dpbusd_epi32(sum[c], w, _mm512_set1_epi32(four));
            }
        }
        UNROLL
        for (int c = 0; c < NC; c++) {
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(xd[c]));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[c]), d, acc[c]);
        }
        xb += x.cols, xd += x.cols, xo += x.cols;
    }
    UNROLL
    for (int c = 0; c < NC; c++) _mm512_storeu_ps(y + c * ldy, acc[c]);
}

using GroupKernel = void (*)(const uint8_t *, int64_t, const Columns &, int64_t, float *, int64_t);
template <int... NC>
constexpr std::array<GroupKernel, sizeof...(NC)> kernels_for(std::integer_sequence<int, NC...>) {
    return {group_times_columns<NC + 1>...};
}
constexpr auto kKernels = kernels_for(std::make_integer_sequence<int, kMaxColumns>{});

#endif

}  // namespace

bool supported() {
#ifdef TWEETSMITH_Q8_DECODE_X86
    static const bool has = cpu_features::avx512() && __builtin_cpu_supports("avx512vnni");
    return has;
#else
    return false;
#endif
}

ggml_tensor * new_packed(ggml_context * ctx, int64_t K, int64_t N) {
    GGML_ASSERT(K % kBlock == 0);
    return ggml_new_tensor_2d(ctx, GGML_TYPE_I8, K / kBlock * int64_t(sizeof(BlockQ8)), N);
}

bool is_packed(const ggml_tensor * w) {
    return w->type == GGML_TYPE_I8 && w->ne[0] % int64_t(sizeof(BlockQ8)) == 0 && w->ne[2] == 1 && w->ne[3] == 1;
}

namespace {

// One group: 16 rows of nb q8_0 blocks into the packed layout, 4 weights at a time,
// a block's 512 bytes assembled here and written in one go (whole cache lines, in
// order, into memory nothing has touched yet).
void pack_group(const BlockQ8 * const * rows, int64_t nb, uint8_t * group) {
    uint8_t * weights = group + nb * kRows * int64_t(sizeof(ggml_fp16_t));
    for (int64_t b = 0; b < nb; b++) {
        ggml_fp16_t scales[kRows];
        alignas(64) uint8_t block[kRows * kBlock];
        for (int64_t r = 0; r < kRows; r++) {
            scales[r] = rows[r][b].d;
            for (int j = 0; j < kBlock / 4; j++) {
                uint32_t four;
                std::memcpy(&four, rows[r][b].qs + 4 * j, sizeof four);
                four ^= 0x80808080u;  // w + 128 in each byte
                std::memcpy(block + j * 64 + r * 4, &four, sizeof four);
            }
        }
        std::memcpy(group + b * kRows * int64_t(sizeof(ggml_fp16_t)), scales, sizeof scales);
        std::memcpy(weights + b * kRows * kBlock, block, sizeof block);
    }
}

}  // namespace

void pack_rows(ggml_tensor * dst, int ith, int nth, void *) {
    ggml_tensor * packed = dst->src[0];
    const ggml_tensor * source = dst->src[1];
    GGML_ASSERT(source->type == GGML_TYPE_F32 || source->type == GGML_TYPE_Q8_0);
    const int64_t nb = blocks_of(packed), K = nb * kBlock, N = packed->ne[1], groups = N / kRows;
    const size_t row_bytes = size_t(packed->ne[0]);
    uint8_t * out = static_cast<uint8_t *>(packed->data);
    const ggml_from_float_t from_float = ggml_get_type_traits_cpu(GGML_TYPE_Q8_0)->from_float;
    const char * in = static_cast<const char *>(source->data);
    thread_local std::vector<BlockQ8> quantised;  // a group's rows, when the source is f32
    if (source->type == GGML_TYPE_F32) quantised.resize(size_t(kRows * nb));
    const BlockQ8 * rows[kRows];
    const int64_t begin = groups * ith / nth, end = groups * (ith + 1) / nth;
    for (int64_t g = begin; g < end; g++) {
        for (int64_t r = 0; r < kRows; r++) {
            const char * row = in + (g * kRows + r) * int64_t(source->nb[1]);
            if (source->type == GGML_TYPE_Q8_0) {
                rows[r] = reinterpret_cast<const BlockQ8 *>(row);
                continue;
            }
            from_float(reinterpret_cast<const float *>(row), quantised.data() + r * nb, K);  // ggml_cpy's quantisation
            rows[r] = quantised.data() + r * nb;
        }
        pack_group(rows, nb, out + size_t(g * kRows) * row_bytes);
    }
    if (ith == nth - 1)  // the rows after the last group stay plain q8_0 blocks
        for (int64_t r = groups * kRows; r < N; r++) {
            const char * row = in + r * int64_t(source->nb[1]);
            if (source->type == GGML_TYPE_Q8_0) std::memcpy(out + size_t(r) * row_bytes, row, row_bytes);
            else from_float(reinterpret_cast<const float *>(row), out + size_t(r) * row_bytes, K);
        }
    if (quantised.size() * sizeof(BlockQ8) > (size_t(1) << 20)) quantised = {};
}

void product(ggml_tensor * dst, int ith, int nth, void *) {
    const ggml_tensor * x_t = dst->src[0];
    const ggml_tensor * w_t = dst->src[1];
    const int64_t nb = blocks_of(w_t), K = nb * kBlock, N = w_t->ne[1];
    const int64_t cols = ggml_nelements(x_t) / K;
    const int64_t groups = N / kRows, groups_end = groups * kRows;
    const size_t row_bytes = size_t(w_t->ne[0]);
    const uint8_t * w = static_cast<const uint8_t *>(w_t->data);
    const float * x = static_cast<const float *>(x_t->data);
    float * y = static_cast<float *>(dst->data);
    const int64_t ldy = dst->nb[1] / int64_t(sizeof(float));

    // A decode step's few columns: the threads split the rows, so each weight is read
    // once; each quantises every column (a few thousand numbers). Many columns (a
    // prompt, a scoring batch): the threads split the columns, and each quantises its own.
    const bool split_rows = cols <= 2 * kMaxColumns;
    const int64_t c_begin = split_rows ? 0 : cols * ith / nth, c_end = split_rows ? cols : cols * (ith + 1) / nth;
    const int64_t g_begin = split_rows ? groups * ith / nth : 0, g_end = split_rows ? groups * (ith + 1) / nth : groups;
    const bool does_tail = !split_rows || ith == nth - 1;
    if (c_begin >= c_end) return;

    thread_local Columns xq;
    xq.quantise(x, K, c_begin, c_end);
    const int64_t n_cols = c_end - c_begin;

#ifdef TWEETSMITH_Q8_DECODE_X86
    // passes of at most kMaxColumns columns, as even as can be; over panels of groups
    // that stay in the cache while every pass reads them
    const int64_t passes = (n_cols + kMaxColumns - 1) / kMaxColumns;
    const int64_t panel = std::max<int64_t>(1, (int64_t(192) << 10) / (int64_t(row_bytes) * kRows));
    for (int64_t p0 = g_begin; p0 < g_end; p0 += panel) {
        const int64_t p1 = std::min(g_end, p0 + panel);
        for (int64_t pass = 0; pass < passes; pass++) {
            const int64_t a = n_cols * pass / passes, b = n_cols * (pass + 1) / passes;
            const GroupKernel kernel = kKernels[size_t(b - a - 1)];
            for (int64_t g = p0; g < p1; g++)
                kernel(w + size_t(g * kRows) * row_bytes, nb, xq, a, y + (c_begin + a) * ldy + g * kRows, ldy);
        }
    }
#else
    GGML_ABORT("q8_decode::product needs AVX512-VNNI (see supported())");
#endif
    if (does_tail)
        for (int64_t r = groups_end; r < N; r++) {
            const BlockQ8 * row = reinterpret_cast<const BlockQ8 *>(w + size_t(r) * row_bytes);
            for (int64_t c = 0; c < n_cols; c++) y[(c_begin + c) * ldy + r] = row_times_column(row, xq, c, nb);
        }
    xq.release_if_large();
}

ggml_tensor * mul_mat(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x) {
    if (!is_packed(w)) return ggml_mul_mat(ctx, w, x);
    GGML_ASSERT(x->type == GGML_TYPE_F32 && x->ne[0] == blocks_of(w) * kBlock);
    if (!ggml_is_contiguous(x)) x = ggml_cont(ctx, x);
    ggml_tensor * args[] = {x, w};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, w->ne[1], x->ne[1], x->ne[2], x->ne[3], args, 2, product, GGML_N_TASKS_MAX, nullptr);
}

}  // namespace tweetsmith::q8_decode
