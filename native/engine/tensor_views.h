// Reshapes between GPT-2's activation layouts, shared by the layers and both
// backends' operations. Activations are [features, tokens, sequences] (ne order).
#pragma once
#include <ggml.h>

namespace tweetsmith {

// A contiguous activation seen as a matrix [features, all tokens].
inline ggml_tensor * as_rows(ggml_context * ctx, ggml_tensor * t) {
    return ggml_reshape_2d(ctx, t, t->ne[0], ggml_nelements(t) / t->ne[0]);
}

// One third of qkv [3C, T, B] as heads [hs, T, H, B]: a strided view into qkv.
inline ggml_tensor * head_view(ggml_context * ctx, ggml_tensor * qkv, int64_t which, int64_t n_head) {
    const int64_t C = qkv->ne[0] / 3, hs = C / n_head, T = qkv->ne[1], B = qkv->ne[2];
    ggml_tensor * part = ggml_view_4d(ctx, qkv, hs, n_head, T, B, hs * sizeof(float), qkv->nb[1], qkv->nb[2],
                                      size_t(which * C) * sizeof(float));
    return ggml_permute(ctx, part, 0, 2, 1, 3);
}

// One third of qkv [3C, T, B] as heads [hs, T, H, B] (contiguous), in `type`.
inline ggml_tensor * split_heads(ggml_context * ctx, ggml_tensor * qkv, int64_t which, int64_t n_head, ggml_type type) {
    const int64_t hs = qkv->ne[0] / 3 / n_head, T = qkv->ne[1], B = qkv->ne[2];
    ggml_tensor * heads = head_view(ctx, qkv, which, n_head);
    if (type == GGML_TYPE_F32) return ggml_cont(ctx, heads);
    return ggml_cpy(ctx, heads, ggml_new_tensor_4d(ctx, type, hs, T, n_head, B));
}

// Heads [hs, T, H, B] back to [C, T, B].
inline ggml_tensor * merge_heads(ggml_context * ctx, ggml_tensor * heads) {
    const int64_t hs = heads->ne[0], T = heads->ne[1], H = heads->ne[2], B = heads->ne[3];
    return ggml_reshape_3d(ctx, ggml_cont(ctx, ggml_permute(ctx, heads, 0, 2, 1, 3)), hs * H, T, B);
}

}  // namespace tweetsmith
