#include "gpt2_layers.h"

#include "grad_sink.h"
#include "q8_decode.h"
#include "tensor_views.h"

#include <cmath>

namespace tweetsmith {
namespace {

// out[j][i] = Σ_n a[n][i]·b[n][j] for a [I, N] and b [J, N] (ne order) → [I, J]:
// the contraction over tokens that every weight gradient is. It is ggml_out_prod's
// contract, computed with ggml_mul_mat on transposed copies (in `type`) because the
// CPU's matrix multiply is far faster than out_prod's axpy loop, and Vulkan's
// out_prod takes f32 only.
// The same sum in the backend's fast product (null where it has none), with its options.
ggml_tensor * fast_outer_products(Ops & ops, ggml_tensor * a, ggml_tensor * b, ggml_type type, const ProductOptions & o = {}) {
    return ops.fast_product(ggml_transpose(ops.ctx, a), ggml_transpose(ops.ctx, b), type, o);
}

ggml_tensor * sum_of_outer_products(Ops & ops, ggml_tensor * a, ggml_tensor * b, ggml_type type = GGML_TYPE_F32) {
    if (ggml_tensor * y = fast_outer_products(ops, a, b, type)) return y;
    return ggml_mul_mat(ops.ctx, ops.transposed(a, type), ops.transposed(b, type));
}

// scale · sum_of_outer_products(a, b) where a or b is a LoRA adapter's rank wide
ggml_tensor * rank_outer_products(Ops & ops, ggml_tensor * a, ggml_tensor * b, float scale) {
    if (ggml_tensor * y = ops.low_rank_outer_products(a, b, scale)) return y;
    ggml_tensor * y = sum_of_outer_products(ops, a, b);
    return scale == 1.0f ? y : ggml_scale(ops.ctx, y, scale);
}

// grad += sum_of_outer_products(a, b), in place in the backend's fast product where
// it has one (no product tensor, no separate add)
void accumulate_outer_products(Ops & ops, GradSink & sink, ggml_tensor * grad, ggml_tensor * a, ggml_tensor * b, ggml_type type) {
    ProductOptions o;
    o.into = sink.current(grad);
    ggml_tensor * into = fast_outer_products(ops, a, b, type, o);
    if (into) sink.record(grad, into);
    else sink.accumulate(grad, sum_of_outer_products(ops, a, b, type));
}

float attention_scale(ggml_tensor * q) { return 1.0f / std::sqrt(float(q->ne[0])); }

}  // namespace

// ---------------------------------------------------------------- embedding

ggml_tensor * embedding_forward(Ops & ops, ggml_tensor * wte, ggml_tensor * wpe, ggml_tensor * tokens, ggml_tensor * positions) {
    ggml_context * ctx = ops.ctx;
    const int64_t T = tokens->ne[0], B = tokens->ne[1];
    ggml_tensor * tok = ggml_get_rows(ctx, wte, ggml_reshape_1d(ctx, tokens, T * B));  // [C, T·B]
    ggml_tensor * pos = ggml_get_rows(ctx, wpe, positions);                          // [C, T]
    return ggml_add(ctx, ggml_reshape_3d(ctx, tok, wte->ne[0], T, B), pos);            // broadcast over B
}

void embedding_backward(Ops & ops, GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte, ggml_tensor * dwpe) {
    ggml_context * ctx = ops.ctx;
    const int64_t C = dx->ne[0], T = dx->ne[1], B = dx->ne[2];
    // positions 0..T-1 received dx summed over the batch
    ggml_tensor * dwpe_used = ggml_view_2d(ctx, dwpe, C, T, dwpe->nb[1], 0);
    ggml_tensor * dpos = B == 1 ? ggml_reshape_2d(ctx, dx, C, T) : ggml_repeat_back(ctx, dx, dwpe_used);
    sink.record(dwpe, ggml_add_inplace(ctx, ggml_view_2d(ctx, sink.current(dwpe), C, T, dwpe->nb[1], 0), dpos));
    // each token's row of wte received its positions' dx
    ops.embedding_backward(sink, dx, tokens, dwte);
}

// ---------------------------------------------------------------- layernorm

ggml_tensor * layernorm_forward(Ops & ops, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps, LayerNormSaved * saved) {
    ggml_tensor * xhat = ggml_norm(ops.ctx, x, eps);
    if (saved) *saved = {x, xhat};
    return ggml_add(ops.ctx, ggml_mul(ops.ctx, xhat, w), b);
}

ggml_tensor * layernorm_backward(Ops & ops, GradSink & sink, ggml_tensor * dy, const LayerNormSaved & saved, ggml_tensor * w,
                                 const float * eps, ggml_tensor * dw, ggml_tensor * db) {
    if (dw) sink.accumulate(dw, ops.sum_over_tokens(ggml_mul(ops.ctx, dy, saved.xhat)));
    if (db) sink.accumulate(db, ops.sum_over_tokens(dy));
    return ops.layernorm_backward(dy, saved, w, eps);
}

// ---------------------------------------------------------------- linear

namespace {

// y + scale·ggml_mul_mat(a, b), where a's rows are a LoRA rank long: in place on
// the backend's own product where it has one (ggml's CPU product is slow there).
// y: f32 [a->ne[1], b->ne[1]], read by nothing else.
ggml_tensor * add_low_rank(Ops & ops, ggml_tensor * y, ggml_tensor * a, ggml_tensor * b, float scale) {
    ProductOptions added;
    added.into = y;
    added.scale = scale;
    if (ggml_tensor * sum = ops.low_rank_product(a, b, added)) return sum;
    if (ggml_is_transposed(a)) a = ops.transposed(ggml_transpose(ops.ctx, a), GGML_TYPE_F32);
    ggml_tensor * p = ggml_mul_mat(ops.ctx, a, b);
    return ggml_add(ops.ctx, y, scale == 1.0f ? p : ggml_scale(ops.ctx, p, scale));
}

}  // namespace

ggml_tensor * linear_forward(Ops & ops, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, const LoraApplied * lora, LoraSaved * saved) {
    // one product over all tokens of all sequences: ggml multiplies each sequence
    // separately otherwise, and a decode step's one token per sequence would miss
    // the fast matrix-matrix path
    ggml_context * ctx = ops.ctx;
    ggml_tensor * x2 = as_rows(ctx, x);
    ProductOptions with_bias;  // the bias added in the product, where the backend can
    with_bias.bias = b;
    ggml_tensor * y = ops.fast_product(w, x2, w->type, with_bias);
    const bool biased = y != nullptr;
    if (!y) y = q8_decode::mul_mat(ctx, w, x2);  // ggml_mul_mat unless w is packed for decoding
    if (lora && *lora) {
        ggml_tensor * x_in = lora->mask ? ggml_mul(ctx, x2, lora->mask) : x2;
        ggml_tensor * h = ggml_mul_mat(ctx, lora->w.a, x_in);  // [r, N]
        y = add_low_rank(ops, y, lora->w.b, h, lora->scale);    // [out, N]
        if (saved) *saved = {x_in, h};
    }
    y = ggml_reshape_4d(ctx, y, w->ne[1], x->ne[1], x->ne[2], x->ne[3]);
    return biased ? y : ggml_add(ctx, y, b);
}

ggml_tensor * linear_backward(Ops & ops, GradSink & sink, ggml_tensor * dy, ggml_tensor * x, ggml_tensor * w, ggml_tensor * dw,
                              ggml_tensor * db, const LoraApplied * lora, const LoraSaved * saved, const LoraAdapter * dlora) {
    ggml_context * ctx = ops.ctx;
    ggml_tensor * x2 = as_rows(ctx, x);    // [in, N]
    ggml_tensor * dy2 = as_rows(ctx, dy);  // [out, N]
    // the products run in the weights' type (bf16 in mixed precision), into f32
    // dW[o][i] = Σ_n dy[n][o] x[n][i]
    if (dw) accumulate_outer_products(ops, sink, dw, x2, dy2, w->type);
    if (db) sink.accumulate(db, ops.sum_over_tokens(dy));
    // dx[n][i] = Σ_o dy[n][o] W[o][i]
    ggml_tensor * dx = sum_of_outer_products(ops, w, ggml_transpose(ctx, dy2), w->type);  // [in, N]
    if (lora && *lora) {
        // y += s·B·h, h = A·x_in:  dB = s·dy·hᵀ,  dh = s·Bᵀ·dy,  dA = dh·x_inᵀ,  dx_in = Aᵀ·dh
        // (s scales the rank-r results, not a copy of dy)
        ggml_tensor * dh = ggml_scale(ctx, ggml_mul_mat(ctx, ops.transposed(lora->w.b, GGML_TYPE_F32), dy2), lora->scale);  // [r, N]
        if (dlora) {
            sink.accumulate(dlora->b, rank_outer_products(ops, saved->h, dy2, lora->scale));  // [r, out]
            sink.accumulate(dlora->a, rank_outer_products(ops, saved->x_in, dh, 1.0f));       // [in, r]
        }
        if (lora->mask) {
            ggml_tensor * dx_in = ggml_mul_mat(ctx, ops.transposed(lora->w.a, GGML_TYPE_F32), dh);  // [in, N]
            dx = ggml_add(ctx, dx, ggml_mul(ctx, dx_in, lora->mask));
        } else {
            dx = add_low_rank(ops, dx, ggml_transpose(ctx, lora->w.a), dh, 1.0f);  // [in, N]
        }
    }
    return ggml_reshape(ctx, dx, x);
}

// ---------------------------------------------------------------- attention

ggml_tensor * attention_forward(Ops & ops, ggml_tensor * qkv, int64_t n_head, ggml_type type, AttentionSaved * saved) {
    ggml_context * ctx = ops.ctx;
    // the backend's fused attention, where it has one (the CPU's: the scores never
    // reach memory; fused_attention.h)
    const FusedAttention fused = ops.fused_attention(qkv, n_head, type);
    if (fused.y) {
        if (saved) {
            *saved = {};
            saved->type = type;
            saved->qkv = qkv;
            saved->fused = fused;
        }
        return fused.y;
    }
    // elsewhere (a GPU, a CPU without AVX2, the portable build): ggml's operations, the scores in memory
    ggml_tensor * q = split_heads(ctx, qkv, 0, n_head, type);
    ggml_tensor * k = split_heads(ctx, qkv, 1, n_head, type);
    ggml_tensor * v = split_heads(ctx, qkv, 2, n_head, type);
    ggml_tensor * scores = ggml_mul_mat(ctx, k, q);  // [T_k, T_q, H, B]
    ggml_tensor * probs = ggml_soft_max(ctx, ggml_diag_mask_inf(ctx, ggml_scale(ctx, scores, attention_scale(q)), 0));
    ggml_tensor * v_t = ops.transposed(v, type);   // [T_k, hs, H, B]
    ggml_tensor * y = ggml_mul_mat(ctx, v_t, probs);  // [hs, T_q, H, B]
    if (saved) *saved = {q, k, v, probs, type};
    return merge_heads(ctx, y);
}

ggml_tensor * attention_backward(Ops & ops, ggml_tensor * dy, const AttentionSaved & s, int64_t n_head) {
    if (s.fused.out) {
        ggml_tensor * dqkv = ops.fused_attention_backward(dy, s.qkv, s.fused, n_head);
        GGML_ASSERT(dqkv && "a backend that fuses attention's forward pass fuses its backward pass");
        return dqkv;
    }
    ggml_context * ctx = ops.ctx;
    const int64_t C = dy->ne[0], hs = C / n_head, T = dy->ne[1], B = dy->ne[2];
    ggml_tensor * dy_heads = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, dy, hs, n_head, T, B), 0, 2, 1, 3));
    const ggml_type type = s.type;  // the products run in the forward's type
    ggml_tensor * dprobs = ggml_mul_mat(ctx, s.v, dy_heads);  // dP[q][k] = Σ_d dY[q][d] V[k][d]
    ggml_tensor * dv = sum_of_outer_products(ops, dy_heads, s.probs, type);  // dV[k][d] = Σ_q P[q][k] dY[q][d]
    // softmax backward, with the 1/√hs scale folded in; masked entries have P = 0 and get 0
    ggml_tensor * dscores = ggml_soft_max_ext_back(ctx, dprobs, s.probs, attention_scale(s.q), 0.0f);
    ggml_tensor * dq = sum_of_outer_products(ops, s.k, ggml_transpose(ctx, dscores), type);  // dQ[q][d] = Σ_k dS[q][k] K[k][d]
    ggml_tensor * dk = sum_of_outer_products(ops, s.q, dscores, type);                      // dK[k][d] = Σ_q dS[q][k] Q[q][d]
    return ggml_concat(ctx, ggml_concat(ctx, merge_heads(ctx, dq), merge_heads(ctx, dk), 0), merge_heads(ctx, dv), 0);
}

// ---------------------------------------------------------------- output layer

ggml_tensor * output_logits(Ops & ops, ggml_tensor * w, ggml_tensor * x) {
    ggml_context * ctx = ops.ctx;
    if (q8_decode::is_packed(w)) return q8_decode::mul_mat(ctx, w, x);
    // the backend's own product, where it has one, takes the whole vocabulary at once
    if (ggml_tensor * y = ops.fast_product(w, x, w->type)) return y;
    const int64_t C = w->ne[0], V = w->ne[1], V16 = V / 16 * 16;
    if (ops.portable() || V16 == V || V16 == 0) return ggml_mul_mat(ctx, w, x);
    ggml_tensor * head = ggml_mul_mat(ctx, ggml_view_2d(ctx, w, C, V16, w->nb[1], 0), x);
    ggml_tensor * tail = ggml_mul_mat(ctx, ggml_view_2d(ctx, w, C, V - V16, w->nb[1], size_t(V16) * w->nb[1]), x);
    return ggml_concat(ctx, head, tail, 0);
}

ggml_tensor * lm_head_forward(Ops & ops, ggml_tensor * x, ggml_tensor * w_out, int64_t vocab_size) {
    ggml_tensor * all = ops.fast_product(w_out, as_rows(ops.ctx, x), w_out->type);  // [Vp, rows]
    if (!all) all = ggml_mul_mat(ops.ctx, w_out, as_rows(ops.ctx, x));
    if (all->ne[0] == vocab_size) return all;
    return ggml_view_2d(ops.ctx, all, vocab_size, all->ne[1], all->nb[1], 0);
}

ggml_tensor * lm_head_backward(Ops & ops, GradSink & sink, ggml_tensor * dlogits, ggml_tensor * x, ggml_tensor * w_out,
                               ggml_tensor * dwte) {
    ggml_context * ctx = ops.ctx;
    if (dwte) {
        const int64_t C = dwte->ne[0], V = dwte->ne[1];
        ggml_tensor * x2 = as_rows(ctx, x);
        // dwte[v][c] = Σ_n dlogits[n][v] x[n][c]; padding rows, if any, are dropped:
        // in place by the backend's own product, where it has one, from the first V rows
        ProductOptions o;
        o.into = sink.current(dwte);
        ggml_tensor * used = dlogits->ne[0] == V ? dlogits : ggml_view_2d(ctx, dlogits, V, dlogits->ne[1], dlogits->nb[1], 0);
        if (ggml_tensor * into = ops.fast_product(ggml_transpose(ctx, x2), ggml_transpose(ctx, used), w_out->type, o)) {
            sink.record(dwte, into);
        } else {
            ggml_tensor * dw = sum_of_outer_products(ops, x2, dlogits, w_out->type);  // [C, Vp]
            sink.accumulate(dwte, dw->ne[1] == V ? dw : ggml_view_2d(ctx, dw, C, V, dw->nb[1], 0));
        }
    }
    // dx[n][c] = Σ_v dlogits[n][v] wte[v][c], over the (padded) vocabulary
    if (ggml_tensor * dx = ops.fast_product(ggml_transpose(ctx, w_out), dlogits, w_out->type)) return ggml_reshape(ctx, dx, x);
    ggml_tensor * w_t = ops.transposed(w_out, w_out->type);  // [Vp, C]
    return ggml_reshape(ctx, ggml_mul_mat(ctx, w_t, dlogits), x);
}

}  // namespace tweetsmith
