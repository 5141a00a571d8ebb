#include "gpt2_layers.h"

#include "cpu_kernels.h"
#include "grad_sink.h"

#include <cmath>

namespace tweetsmith {
namespace {

// A contiguous activation seen as a matrix [features, all tokens].
ggml_tensor * as_rows(ggml_context * ctx, ggml_tensor * t) {
    return ggml_reshape_2d(ctx, t, t->ne[0], ggml_nelements(t) / t->ne[0]);
}

// A contiguous copy of t with its first two dimensions swapped, in `type` (f32, or
// bf16 for mixed precision).
ggml_tensor * transposed(ggml_context * ctx, ggml_tensor * t, ggml_type type = GGML_TYPE_F32) {
    auto in_type = [&](ggml_tensor * x) { return x->type == type ? x : ggml_cast(ctx, x, type); };
    ggml_tensor * view = ggml_transpose(ctx, t);
    if (ggml_is_contiguous(view)) return in_type(view);  // t was itself a transposed view
    if (!ggml_is_contiguous(t)) return in_type(ggml_cont(ctx, view));
    ggml_tensor * args[] = {t};
    return ggml_custom_4d(ctx, type, t->ne[1], t->ne[0], t->ne[2], t->ne[3], args, 1, cpu_kernels::transpose_copy,
                          GGML_N_TASKS_MAX, nullptr);
}

// out[j][i] = Σ_n a[n][i]·b[n][j] for a [I, N] and b [J, N] (ne order) → [I, J]:
// the contraction over tokens that every weight gradient is. It is ggml_out_prod's
// contract, computed with ggml_mul_mat on transposed copies (in `type`) because the
// CPU's matrix multiply is far faster than out_prod's axpy loop.
ggml_tensor * sum_of_outer_products(ggml_context * ctx, ggml_tensor * a, ggml_tensor * b, ggml_type type = GGML_TYPE_F32) {
    return ggml_mul_mat(ctx, transposed(ctx, a, type), transposed(ctx, b, type));
}

// A bias gradient: the sum of dy over every token (ggml's repeat_back does this
// on one thread; this kernel splits the columns over all of them).
ggml_tensor * sum_over_tokens(ggml_context * ctx, ggml_tensor * dy, ggml_tensor * like) {
    ggml_tensor * args[] = {as_rows(ctx, dy)};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, like->ne[0], 1, 1, 1, args, 1, cpu_kernels::column_sums, GGML_N_TASKS_MAX, nullptr);
}

}  // namespace

// ---------------------------------------------------------------- embedding

ggml_tensor * embedding_forward(ggml_context * ctx, ggml_tensor * wte, ggml_tensor * wpe, ggml_tensor * tokens,
                                ggml_tensor * positions) {
    const int64_t T = tokens->ne[0], B = tokens->ne[1];
    ggml_tensor * tok = ggml_get_rows(ctx, wte, ggml_reshape_1d(ctx, tokens, T * B));  // [C, T·B]
    ggml_tensor * pos = ggml_get_rows(ctx, wpe, positions);                          // [C, T]
    return ggml_add(ctx, ggml_reshape_3d(ctx, tok, wte->ne[0], T, B), pos);            // broadcast over B
}

void embedding_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte,
                        ggml_tensor * dwpe) {
    const int64_t C = dx->ne[0], T = dx->ne[1], B = dx->ne[2];
    // positions 0..T-1 received dx summed over the batch
    ggml_tensor * dwpe_used = ggml_view_2d(ctx, dwpe, C, T, dwpe->nb[1], 0);
    ggml_tensor * dpos = B == 1 ? ggml_reshape_2d(ctx, dx, C, T) : ggml_repeat_back(ctx, dx, dwpe_used);
    sink.record(dwpe, ggml_add_inplace(ctx, ggml_view_2d(ctx, sink.current(dwpe), C, T, dwpe->nb[1], 0), dpos));
    // each token's row of wte received its positions' dx
    ggml_tensor * args[] = {as_rows(ctx, dx), ggml_reshape_1d(ctx, tokens, T * B)};
    sink.record(dwte, ggml_custom_inplace(ctx, sink.current(dwte), args, 2, cpu_kernels::embedding_backward,
                                          GGML_N_TASKS_MAX, nullptr));
}

// ---------------------------------------------------------------- layernorm

ggml_tensor * layernorm_forward(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b, float eps,
                                LayerNormSaved * saved) {
    ggml_tensor * xhat = ggml_norm(ctx, x, eps);
    if (saved) *saved = {x, xhat};
    return ggml_add(ctx, ggml_mul(ctx, xhat, w), b);
}

ggml_tensor * layernorm_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dy, const LayerNormSaved & saved,
                                 ggml_tensor * w, const float * eps, ggml_tensor * dw, ggml_tensor * db) {
    sink.accumulate(dw, sum_over_tokens(ctx, ggml_mul(ctx, dy, saved.xhat), dw));
    sink.accumulate(db, sum_over_tokens(ctx, dy, db));
    ggml_tensor * args[] = {dy, saved.x, w};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, dy->ne[0], dy->ne[1], dy->ne[2], dy->ne[3], args, 3,
                          cpu_kernels::layernorm_backward, GGML_N_TASKS_MAX, const_cast<float *>(eps));
}

// ---------------------------------------------------------------- linear

ggml_tensor * linear_forward(ggml_context * ctx, ggml_tensor * x, ggml_tensor * w, ggml_tensor * b) {
    // one product over all tokens of all sequences: ggml multiplies each sequence
    // separately otherwise, and a decode step's one token per sequence would miss
    // the fast matrix-matrix path
    ggml_tensor * y = ggml_mul_mat(ctx, w, as_rows(ctx, x));
    return ggml_add(ctx, ggml_reshape_4d(ctx, y, w->ne[1], x->ne[1], x->ne[2], x->ne[3]), b);
}

ggml_tensor * linear_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dy, ggml_tensor * x, ggml_tensor * w,
                              ggml_tensor * dw, ggml_tensor * db) {
    ggml_tensor * x2 = as_rows(ctx, x);    // [in, N]
    ggml_tensor * dy2 = as_rows(ctx, dy);  // [out, N]
    // the products run in the weights' type (bf16 in mixed precision), into f32
    // dW[o][i] = Σ_n dy[n][o] x[n][i]
    sink.accumulate(dw, sum_of_outer_products(ctx, x2, dy2, w->type));
    if (db) sink.accumulate(db, sum_over_tokens(ctx, dy, db));
    // dx[n][i] = Σ_o dy[n][o] W[o][i]
    ggml_tensor * dx = sum_of_outer_products(ctx, w, ggml_transpose(ctx, dy2), w->type);  // [in, N]
    return ggml_reshape(ctx, dx, x);
}

// ---------------------------------------------------------------- gelu

ggml_tensor * gelu_forward(ggml_context * ctx, ggml_tensor * x) {
    return ggml_map_custom1(ctx, x, cpu_kernels::gelu_forward, GGML_N_TASKS_MAX, nullptr);
}

ggml_tensor * gelu_backward(ggml_context * ctx, ggml_tensor * dy, ggml_tensor * x) {
    return ggml_map_custom2(ctx, dy, x, cpu_kernels::gelu_backward, GGML_N_TASKS_MAX, nullptr);
}

// ---------------------------------------------------------------- attention

namespace {

// One third of qkv [3C, T, B] as heads [hs, T, H, B] (contiguous), in `type`.
ggml_tensor * split_heads(ggml_context * ctx, ggml_tensor * qkv, int64_t which, int64_t n_head, ggml_type type) {
    const int64_t C = qkv->ne[0] / 3, hs = C / n_head, T = qkv->ne[1], B = qkv->ne[2];
    ggml_tensor * part = ggml_view_4d(ctx, qkv, hs, n_head, T, B, hs * sizeof(float), qkv->nb[1], qkv->nb[2],
                                      size_t(which * C) * sizeof(float));
    ggml_tensor * heads = ggml_permute(ctx, part, 0, 2, 1, 3);
    if (type == GGML_TYPE_F32) return ggml_cont(ctx, heads);
    return ggml_cpy(ctx, heads, ggml_new_tensor_4d(ctx, type, hs, T, n_head, B));
}

// Heads [hs, T, H, B] back to [C, T, B].
ggml_tensor * merge_heads(ggml_context * ctx, ggml_tensor * heads) {
    const int64_t hs = heads->ne[0], T = heads->ne[1], H = heads->ne[2], B = heads->ne[3];
    return ggml_reshape_3d(ctx, ggml_cont(ctx, ggml_permute(ctx, heads, 0, 2, 1, 3)), hs * H, T, B);
}

float attention_scale(ggml_tensor * q) { return 1.0f / std::sqrt(float(q->ne[0])); }

}  // namespace

ggml_tensor * attention_forward(ggml_context * ctx, ggml_tensor * qkv, int64_t n_head, ggml_type type, AttentionSaved * saved) {
    ggml_tensor * q = split_heads(ctx, qkv, 0, n_head, type);
    ggml_tensor * k = split_heads(ctx, qkv, 1, n_head, type);
    ggml_tensor * v = split_heads(ctx, qkv, 2, n_head, type);
    ggml_tensor * scores = ggml_mul_mat(ctx, k, q);  // [T_k, T_q, H, B]
    ggml_tensor * probs = ggml_soft_max(ctx, ggml_diag_mask_inf(ctx, ggml_scale(ctx, scores, attention_scale(q)), 0));
    ggml_tensor * v_t = transposed(ctx, v, type);  // [T_k, hs, H, B]
    ggml_tensor * y = ggml_mul_mat(ctx, v_t, probs);             // [hs, T_q, H, B]
    if (saved) *saved = {q, k, v, probs};
    return merge_heads(ctx, y);
}

ggml_tensor * attention_backward(ggml_context * ctx, ggml_tensor * dy, const AttentionSaved & s, int64_t n_head) {
    const int64_t C = dy->ne[0], hs = C / n_head, T = dy->ne[1], B = dy->ne[2];
    ggml_tensor * dy_heads = ggml_cont(ctx, ggml_permute(ctx, ggml_reshape_4d(ctx, dy, hs, n_head, T, B), 0, 2, 1, 3));
    const ggml_type type = s.q->type;  // the products run in the forward's type
    ggml_tensor * dprobs = ggml_mul_mat(ctx, s.v, dy_heads);  // dP[q][k] = Σ_d dY[q][d] V[k][d]
    ggml_tensor * dv = sum_of_outer_products(ctx, dy_heads, s.probs, type);  // dV[k][d] = Σ_q P[q][k] dY[q][d]
    // softmax backward, with the 1/√hs scale folded in; masked entries have P = 0 and get 0
    ggml_tensor * dscores = ggml_soft_max_ext_back(ctx, dprobs, s.probs, attention_scale(s.q), 0.0f);
    ggml_tensor * dq = sum_of_outer_products(ctx, s.k, ggml_transpose(ctx, dscores), type);  // dQ[q][d] = Σ_k dS[q][k] K[k][d]
    ggml_tensor * dk = sum_of_outer_products(ctx, s.q, dscores, type);                      // dK[k][d] = Σ_q dS[q][k] Q[q][d]
    return ggml_concat(ctx, ggml_concat(ctx, merge_heads(ctx, dq), merge_heads(ctx, dk), 0), merge_heads(ctx, dv), 0);
}

ggml_tensor * attention_forward_cached(ggml_context * ctx, ggml_tensor * qkv, ggml_tensor * k_cache, ggml_tensor * v_cache,
                                       const int64_t * n_past) {
    ggml_tensor * args[] = {qkv, k_cache, v_cache};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, qkv->ne[0] / 3, qkv->ne[1], qkv->ne[2], 1, args, 3, cpu_kernels::cached_attention,
                          GGML_N_TASKS_MAX, const_cast<int64_t *>(n_past));
}

// ---------------------------------------------------------------- cross-entropy

ggml_tensor * cross_entropy_forward(ggml_context * ctx, ggml_tensor * logits, ggml_tensor * targets) {
    ggml_tensor * args[] = {logits, targets};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, targets->ne[0], 1, 1, 1, args, 2, cpu_kernels::cross_entropy_forward,
                          GGML_N_TASKS_MAX, nullptr);
}

ggml_tensor * cross_entropy_backward(ggml_context * ctx, ggml_tensor * logits, ggml_tensor * targets, ggml_tensor * row_losses,
                                     const float * scale) {
    ggml_tensor * args[] = {logits, targets, row_losses};
    return ggml_custom_4d(ctx, GGML_TYPE_F32, padded_vocab(logits->ne[0]), targets->ne[0], 1, 1, args, 3,
                          cpu_kernels::cross_entropy_backward, GGML_N_TASKS_MAX, const_cast<float *>(scale));
}

// ---------------------------------------------------------------- output layer

int64_t padded_vocab(int64_t vocab_size) { return (vocab_size + 63) / 64 * 64; }

ggml_tensor * output_logits(ggml_context * ctx, ggml_tensor * w, ggml_tensor * x) {
    const int64_t C = w->ne[0], V = w->ne[1], V16 = V / 16 * 16;
    if (V16 == V || V16 == 0) return ggml_mul_mat(ctx, w, x);
    ggml_tensor * head = ggml_mul_mat(ctx, ggml_view_2d(ctx, w, C, V16, w->nb[1], 0), x);
    ggml_tensor * tail = ggml_mul_mat(ctx, ggml_view_2d(ctx, w, C, V - V16, w->nb[1], size_t(V16) * w->nb[1]), x);
    return ggml_concat(ctx, head, tail, 0);
}

ggml_tensor * pad_vocab(ggml_context * ctx, ggml_tensor * wte) {
    ggml_tensor * args[] = {wte};
    return ggml_custom_4d(ctx, wte->type, wte->ne[0], padded_vocab(wte->ne[1]), 1, 1, args, 1, cpu_kernels::pad_rows,
                          GGML_N_TASKS_MAX, nullptr);
}

ggml_tensor * lm_head_forward(ggml_context * ctx, ggml_tensor * x, ggml_tensor * wte_padded, int64_t vocab_size) {
    ggml_tensor * all = ggml_mul_mat(ctx, wte_padded, as_rows(ctx, x));  // [Vp, rows]
    return ggml_view_2d(ctx, all, vocab_size, all->ne[1], all->nb[1], 0);
}

ggml_tensor * lm_head_backward(ggml_context * ctx, GradSink & sink, ggml_tensor * dlogits_padded, ggml_tensor * x,
                               ggml_tensor * wte_padded, ggml_tensor * dwte) {
    const int64_t C = dwte->ne[0], V = dwte->ne[1];
    ggml_tensor * x2 = as_rows(ctx, x);
    // dwte[v][c] = Σ_n dlogits[n][v] x[n][c]; the padding rows are dropped
    ggml_tensor * dw = sum_of_outer_products(ctx, x2, dlogits_padded, wte_padded->type);  // [C, Vp]
    sink.accumulate(dwte, ggml_view_2d(ctx, dw, C, V, dw->nb[1], 0));
    // dx[n][c] = Σ_v dlogits[n][v] wte[v][c], over the padded vocabulary
    ggml_tensor * wte_t = transposed(ctx, wte_padded, wte_padded->type);  // [Vp, C]
    return ggml_reshape(ctx, ggml_mul_mat(ctx, wte_t, dlogits_padded), x);
}

}  // namespace tweetsmith
