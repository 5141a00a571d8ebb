// Every backend's path: the same math as the CPU's kernels, composed from
// standard ggml operations, with every per-step value in an input tensor.
#include "engine_error.h"
#include "grad_sink.h"
#include "ops.h"
#include "tensor_views.h"

#include <cmath>
#include <cstdint>

namespace tweetsmith {

std::unique_ptr<Ops> make_cpu_ops(ggml_context * ctx);

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoef = 0.044715f;

class PortableOps final : public Ops {
public:
    using Ops::Ops;
    bool portable() const override { return true; }

    // gelu_new(x) = x · 0.5(1 + t),  t = tanh(√(2/π)(x + 0.044715x³)). (ggml_gelu is not
    // this exactly: the CPU's reads an fp16 table.)
    ggml_tensor * gelu(ggml_tensor * x) override { return ggml_mul(ctx, x, ggml_scale_bias(ctx, gelu_tanh(x), 0.5f, 0.5f)); }

    // gelu_new'(x) = 0.5(1 + t) + x · 0.5(1 - t²) · √(2/π)(1 + 3·0.044715x²)
    ggml_tensor * gelu_backward(ggml_tensor * dy, ggml_tensor * x) override {
        ggml_tensor * t = gelu_tanh(x);
        ggml_tensor * half_one_plus_t = ggml_scale_bias(ctx, t, 0.5f, 0.5f);
        ggml_tensor * half_one_minus_t2 = ggml_scale_bias(ctx, ggml_sqr(ctx, t), -0.5f, 0.5f);
        ggml_tensor * du = ggml_scale_bias(ctx, ggml_sqr(ctx, x), kSqrt2OverPi * 3.0f * kGeluCoef, kSqrt2OverPi);
        ggml_tensor * slope = ggml_add(ctx, half_one_plus_t, ggml_mul(ctx, ggml_mul(ctx, x, half_one_minus_t2), du));
        return ggml_mul(ctx, dy, slope);
    }

    // rstd · (g - mean(g) - x̂ · mean(g·x̂)), with rstd = 1/√(var(x) + eps) per row
    ggml_tensor * layernorm_backward(ggml_tensor * dy, const LayerNormSaved & saved, ggml_tensor * w, const float * eps) override {
        ggml_tensor * g = ggml_mul(ctx, dy, w);
        ggml_tensor * h = ggml_sub(ctx, ggml_sub(ctx, g, ggml_mean(ctx, g)),
                                   ggml_mul(ctx, saved.xhat, ggml_mean(ctx, ggml_mul(ctx, g, saved.xhat))));
        ggml_tensor * centred = ggml_sub(ctx, saved.x, ggml_mean(ctx, saved.x));
        ggml_tensor * sd = ggml_sqrt(ctx, ggml_scale_bias(ctx, ggml_mean(ctx, ggml_sqr(ctx, centred)), 1.0f, *eps));
        return ggml_div(ctx, h, sd);
    }

    ggml_tensor * sum_over_tokens(ggml_tensor * dy) override {
        ggml_tensor * rows = as_rows(ctx, dy);
        return ggml_repeat_back(ctx, rows, ggml_new_tensor_1d(ctx, GGML_TYPE_F32, dy->ne[0]));
    }

    ggml_tensor * transposed(ggml_tensor * t, ggml_type type) override {
        ggml_tensor * view = ggml_transpose(ctx, t);
        if (type == t->type) return ggml_is_contiguous(view) ? view : ggml_cont(ctx, view);
        return ggml_cpy(ctx, view, ggml_new_tensor_4d(ctx, type, view->ne[0], view->ne[1], view->ne[2], view->ne[3]));
    }

    void embedding_backward(GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte) override {
        ggml_tensor * rows = ggml_get_rows_back(ctx, as_rows(ctx, dx), ggml_reshape_1d(ctx, tokens, ggml_nelements(tokens)), dwte);
        sink.accumulate(dwte, rows);
    }

    ggml_tensor * output_weights(ggml_tensor * wte) override { return wte; }

    // The loss picks each row's target probability out of the flattened softmax with
    // get_rows, so its index row·V + target must fit the I32 that get_rows takes.
    LossInputs loss_inputs(int64_t rows, bool with_backward, const float *) override {
        LossInputs in;
        in.picks = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, rows);
        ggml_set_input(in.picks);
        if (with_backward) {
            in.row_scale = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, 1, rows);
            ggml_set_input(in.row_scale);
        }
        return in;
    }

    // -log softmax(z)[target] per row
    CrossEntropySaved cross_entropy(ggml_tensor * logits, const LossInputs & in) override {
        const int64_t V = logits->ne[0], rows = in.picks->ne[0];
        if (V * rows > INT32_MAX)
            throw EngineError("a batch of " + std::to_string(rows) + " tokens over a vocabulary of " + std::to_string(V) +
                              " is too large for one loss graph on this device; use a smaller batch");
        ggml_tensor * z = ggml_is_contiguous(logits) ? logits : ggml_cont(ctx, logits);
        ggml_tensor * probs = ggml_soft_max(ctx, ggml_reshape_2d(ctx, z, V, rows));
        ggml_tensor * picked = ggml_get_rows(ctx, ggml_reshape_2d(ctx, probs, 1, V * rows), in.picks);  // [1, rows]
        return {ggml_reshape_1d(ctx, ggml_scale(ctx, ggml_log(ctx, picked), -1.0f), rows), probs};
    }

    // (softmax - onehot(target)) · scale: the one-hot term is scattered into place by
    // get_rows_back, the backward of the forward's pick, carrying each row's scale
    ggml_tensor * cross_entropy_backward(ggml_tensor *, const CrossEntropySaved & saved, const LossInputs & in) override {
        const int64_t V = saved.probs->ne[0], rows = saved.probs->ne[1];
        ggml_tensor * flat = ggml_reshape_2d(ctx, saved.probs, 1, V * rows);
        ggml_tensor * onehot = ggml_get_rows_back(ctx, in.row_scale, in.picks, flat);  // [1, V·rows]
        return ggml_sub(ctx, ggml_mul(ctx, saved.probs, in.row_scale), ggml_reshape_2d(ctx, onehot, V, rows));
    }

    DecodeInputs decode_inputs(int64_t t, int64_t cache_length, const int64_t *) override {
        DecodeInputs in;
        in.rows = ggml_new_tensor_1d(ctx, GGML_TYPE_I64, t);
        in.mask = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, cache_length, t);
        ggml_set_input(in.rows);
        ggml_set_input(in.mask);
        return in;
    }

    // The new tokens' keys and values are written into the caches as rows (at the
    // positions in `rows`), and the queries attend to the whole cache: the mask
    // hides the rows not yet written and those after each query's own position.
    ggml_tensor * cached_attention(ggml_tensor * qkv, const KVCacheLayer & cache, const DecodeInputs & in) override {
        const int64_t hs = cache.k->ne[0], H = cache.k->ne[2];
        ggml_tensor * q = split_heads(ctx, qkv, 0, H, GGML_TYPE_F32);  // [hs, t, H, B]
        ggml_tensor * keys = ggml_set_rows(ctx, cache.k, split_heads(ctx, qkv, 1, H, GGML_TYPE_F32), in.rows);
        ggml_tensor * values = ggml_set_rows(ctx, cache.v, split_heads(ctx, qkv, 2, H, GGML_TYPE_F32), in.rows);
        ggml_tensor * scores = ggml_mul_mat(ctx, keys, q);  // [L, t, H, B]
        ggml_tensor * probs = ggml_soft_max_ext(ctx, scores, in.mask, 1.0f / std::sqrt(float(hs)), 0.0f);
        ggml_tensor * y = ggml_mul_mat(ctx, transposed(values, GGML_TYPE_F32), probs);  // [hs, t, H, B]
        return merge_heads(ctx, y);
    }

    ggml_tensor * sum_of_squares(ggml_tensor * g) override { return ggml_sum(ctx, ggml_sqr(ctx, g)); }
    ggml_tensor * adamw_step(ggml_tensor * w, ggml_tensor * g, ggml_tensor * m, ggml_tensor * v, ggml_tensor * params,
                             ggml_tensor * coef_tensor, const float *) override {
        return ggml_opt_step_adamw(ctx, w, ggml_mul_inplace(ctx, g, coef_tensor), m, v, params);
    }

private:
    ggml_tensor * gelu_tanh(ggml_tensor * x) {
        ggml_tensor * x3 = ggml_mul(ctx, ggml_sqr(ctx, x), x);
        return ggml_tanh(ctx, ggml_scale(ctx, ggml_add(ctx, x, ggml_scale(ctx, x3, kGeluCoef)), kSqrt2OverPi));
    }
};

}  // namespace

std::unique_ptr<Ops> make_ops(ggml_context * ctx, bool portable) {
    if (portable) return std::make_unique<PortableOps>(ctx);
    return make_cpu_ops(ctx);
}

KVCacheLayer new_kv_cache_layer(ggml_context * ctx, int64_t hs, int64_t L, int64_t H, int64_t B) {
    return {ggml_new_tensor_4d(ctx, GGML_TYPE_F32, hs, L, H, B), ggml_new_tensor_4d(ctx, GGML_TYPE_F32, hs, L, H, B)};
}

}  // namespace tweetsmith
