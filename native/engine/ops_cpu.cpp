// The CPU's fast path: the engine's own kernels (cpu_kernels.h) as ggml custom
// operations, run by ggml's CPU thread pool.
#include "bf16_decode.h"
#include "bf16_product.h"
#include "low_rank_product.h"
#include "cpu_kernels.h"
#include "fused_attention.h"
#include "grad_sink.h"
#include "ops.h"
#include "tensor_views.h"

namespace tweetsmith {
namespace {

int64_t padded_vocab(int64_t vocab_size) { return (vocab_size + 63) / 64 * 64; }

class CpuOps final : public Ops {
public:
    using Ops::Ops;
    bool portable() const override { return false; }

    ggml_tensor * gelu(ggml_tensor * x) override {
        return ggml_map_custom1(ctx, x, cpu_kernels::gelu_forward, GGML_N_TASKS_MAX, nullptr);
    }
    ggml_tensor * gelu_backward(ggml_tensor * dy, ggml_tensor * x) override {
        return ggml_map_custom2(ctx, dy, x, cpu_kernels::gelu_backward, GGML_N_TASKS_MAX, nullptr);
    }
    ggml_tensor * layernorm_backward(ggml_tensor * dy, const LayerNormSaved & saved, ggml_tensor * w, const float * eps) override {
        ggml_tensor * args[] = {dy, saved.x, w};
        return ggml_custom_4d(ctx, GGML_TYPE_F32, dy->ne[0], dy->ne[1], dy->ne[2], dy->ne[3], args, 3,
                              cpu_kernels::layernorm_backward, GGML_N_TASKS_MAX, const_cast<float *>(eps));
    }
    // ggml's repeat_back does this on one thread; this kernel splits the columns over all of them
    ggml_tensor * sum_over_tokens(ggml_tensor * dy) override {
        ggml_tensor * args[] = {as_rows(ctx, dy)};
        return ggml_custom_4d(ctx, GGML_TYPE_F32, dy->ne[0], 1, 1, 1, args, 1, cpu_kernels::column_sums, GGML_N_TASKS_MAX, nullptr);
    }
    // mixed precision's products (bf16_gemm.h), where the CPU has AVX512-BF16, and
    // fp32's, where it has AVX-512; not for a few columns (sampling's decode steps,
    // one per sequence), where packing the weights would cost more than the product:
    // there stored bf16 weights are read in place (bf16_decode.h), and others take
    // ggml's. (The packed bf16 product starts at 128 columns, as measured when it came;
    // f32's at 16, so that the PyTorch parity fixtures' 20 and 32 tokens run through it.)
    ggml_tensor * fast_product(ggml_tensor * a, ggml_tensor * b, ggml_type type, const ProductOptions & o) override {
        const int64_t columns = b->ne[1] * b->ne[2] * b->ne[3];
        if (type == GGML_TYPE_BF16) return columns >= 128 ? bf16_product(ctx, a, b, o) : bf16_decode_product(ctx, a, b, o);
        if (type == GGML_TYPE_F32 && columns >= 16) return f32_product(ctx, a, b, o);
        return nullptr;
    }
    ggml_tensor * low_rank_product(ggml_tensor * a, ggml_tensor * b, const ProductOptions & o) override {
        return tweetsmith::low_rank_product(ctx, a, b, o);
    }
    ggml_tensor * low_rank_outer_products(ggml_tensor * a, ggml_tensor * b, float scale) override {
        return tweetsmith::low_rank_outer_products(ctx, a, b, scale);
    }
    FusedAttention fused_attention(ggml_tensor * qkv, int64_t n_head, ggml_type type) override {
        return tweetsmith::fused_attention(ctx, qkv, n_head, type);
    }
    ggml_tensor * fused_attention_backward(ggml_tensor * dy, ggml_tensor * qkv, const FusedAttention & forward, int64_t n_head) override {
        return tweetsmith::fused_attention_backward(ctx, dy, qkv, forward, n_head);
    }
    // ggml's generic copy of a transposed view walks one element at a time
    ggml_tensor * transposed(ggml_tensor * t, ggml_type type) override {
        auto in_type = [&](ggml_tensor * x) { return x->type == type ? x : ggml_cast(ctx, x, type); };
        ggml_tensor * view = ggml_transpose(ctx, t);
        if (ggml_is_contiguous(view)) return in_type(view);  // t was itself a transposed view
        if (!ggml_is_contiguous(t)) return in_type(ggml_cont(ctx, view));
        ggml_tensor * args[] = {t};
        return ggml_custom_4d(ctx, type, t->ne[1], t->ne[0], t->ne[2], t->ne[3], args, 1, cpu_kernels::transpose_copy,
                              GGML_N_TASKS_MAX, nullptr);
    }
    void embedding_backward(GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte) override {
        ggml_tensor * args[] = {as_rows(ctx, dx), ggml_reshape_1d(ctx, tokens, ggml_nelements(tokens))};
        sink.record(dwte, ggml_custom_inplace(ctx, sink.current(dwte), args, 2, cpu_kernels::embedding_backward,
                                              GGML_N_TASKS_MAX, nullptr));
    }

    ggml_tensor * output_weights(ggml_tensor * wte) override {
        ggml_tensor * args[] = {wte};
        return ggml_custom_4d(ctx, wte->type, wte->ne[0], padded_vocab(wte->ne[1]), 1, 1, args, 1, cpu_kernels::pad_rows,
                              GGML_N_TASKS_MAX, nullptr);
    }
    LossInputs loss_inputs(int64_t rows, bool, const float * scale) override {
        LossInputs in;
        in.targets = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, rows);
        ggml_set_input(in.targets);
        in.scale = scale;
        return in;
    }
    CrossEntropySaved cross_entropy(ggml_tensor * logits, const LossInputs & in) override {
        ggml_tensor * args[] = {logits, in.targets};
        return {ggml_custom_4d(ctx, GGML_TYPE_F32, in.targets->ne[0], 1, 1, 1, args, 2, cpu_kernels::cross_entropy_forward,
                               GGML_N_TASKS_MAX, nullptr),
                nullptr};
    }
    // padded to the output layer's rows: its backward contracts over the vocabulary.
    // Where the logits are the first rows of the padded product (lm_head_forward), the
    // gradient overwrites that product row by row: nothing reads the logits after the
    // losses are taken, and the training step's peak memory is one [Vp, rows] f32
    // tensor smaller (206 MB for GPT-2 at 1×1024).
    ggml_tensor * cross_entropy_backward(ggml_tensor * logits, const CrossEntropySaved & saved, const LossInputs & in) override {
        ggml_tensor * args[] = {logits, in.targets, saved.losses};
        const int64_t Vp = padded_vocab(logits->ne[0]);
        ggml_tensor * product = logits->view_src ? logits->view_src : logits;
        if (product->type == GGML_TYPE_F32 && ggml_is_contiguous(product) && product->ne[0] == Vp && product->ne[1] == logits->ne[1] &&
            ggml_nrows(product) == logits->ne[1] && logits->view_offs == 0 && logits->nb[1] == product->nb[1])
            return ggml_custom_inplace(ctx, product, args, 3, cpu_kernels::cross_entropy_backward, GGML_N_TASKS_MAX,
                                       const_cast<float *>(in.scale));
        return ggml_custom_4d(ctx, GGML_TYPE_F32, Vp, in.targets->ne[0], 1, 1, args, 3, cpu_kernels::cross_entropy_backward,
                              GGML_N_TASKS_MAX, const_cast<float *>(in.scale));
    }

    DecodeInputs decode_inputs(int64_t, int64_t, const int64_t * n_past) override {
        DecodeInputs in;
        in.n_past = n_past;
        return in;
    }
    ggml_tensor * cached_attention(ggml_tensor * qkv, const KVCacheLayer & cache, const DecodeInputs & in) override {
        ggml_tensor * args[] = {qkv, cache.k, cache.v};
        return ggml_custom_4d(ctx, GGML_TYPE_F32, qkv->ne[0] / 3, qkv->ne[1], qkv->ne[2], 1, args, 3,
                              cpu_kernels::cached_attention, GGML_N_TASKS_MAX, const_cast<int64_t *>(in.n_past));
    }

    ggml_tensor * sum_of_squares(ggml_tensor * g) override {
        ggml_tensor * args[] = {g};
        return ggml_custom_4d(ctx, GGML_TYPE_F32, cpu_kernels::kPartialSums, 1, 1, 1, args, 1,
                              cpu_kernels::partial_sums_of_squares, cpu_kernels::kPartialSums, nullptr);
    }
    // ggml's step (after a pass of its own scaling g) is scalar: its sqrt and division per element
    ggml_tensor * adamw_step(ggml_tensor * w, ggml_tensor * g, ggml_tensor * m, ggml_tensor * v, ggml_tensor * params,
                             ggml_tensor *, const float * coef) override {
        ggml_tensor * args[] = {g, m, v, params};
        return ggml_custom_inplace(ctx, w, args, 4, cpu_kernels::adamw_step, GGML_N_TASKS_MAX, const_cast<float *>(coef));
    }
};

}  // namespace

std::unique_ptr<Ops> make_cpu_ops(ggml_context * ctx) { return std::make_unique<CpuOps>(ctx); }

}  // namespace tweetsmith
