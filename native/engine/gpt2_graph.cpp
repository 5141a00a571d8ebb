#include "gpt2_graph.h"

#include "grad_sink.h"
#include "sampling_weights.h"

namespace tweetsmith {

namespace {

// One transformer block, pre-LN (nanoGPT's Block): x + attn(ln_1(x)), then + mlp(ln_2(·)).
// With a cache the attention is the decoding one: the new tokens' keys and values
// go into the cache and the queries attend to everything cached so far.
ggml_tensor * transformer_block(Ops & ops, const GPT2Config & c, const LayerTensors & w, ForwardResult::Layer & L, ggml_tensor * x,
                                ggml_type attention_type, const KVCacheLayer * cache, const DecodeInputs * decode) {
    const float eps = c.layer_norm_epsilon;
    L.ln_1_out = layernorm_forward(ops, x, w.ln_1_w, w.ln_1_b, eps, &L.ln_1);
    L.qkv = linear_forward(ops, L.ln_1_out, L.w_qkv, w.attn_qkv_b, &L.lora[0], &L.lora_saved[0]);
    L.attn_out = cache ? ops.cached_attention(L.qkv, *cache, *decode) : attention_forward(ops, L.qkv, c.n_head, attention_type, &L.attn);
    L.x_mid = ggml_add(ops.ctx, x, linear_forward(ops, L.attn_out, L.w_attn_proj, w.attn_proj_b, &L.lora[1], &L.lora_saved[1]));
    L.ln_2_out = layernorm_forward(ops, L.x_mid, w.ln_2_w, w.ln_2_b, eps, &L.ln_2);
    L.fc = linear_forward(ops, L.ln_2_out, L.w_fc, w.mlp_fc_b, &L.lora[2], &L.lora_saved[2]);
    L.fc_gelu = ops.gelu(L.fc);
    return ggml_add(ops.ctx, L.x_mid, linear_forward(ops, L.fc_gelu, L.w_mlp_proj, w.mlp_proj_b, &L.lora[3], &L.lora_saved[3]));
}

}  // namespace

ForwardResult gpt2_forward(Ops & ops, const GPT2Config & c, ParameterSet & p, ggml_tensor * tokens, ggml_tensor * positions,
                           const ForwardOptions & o) {
    ggml_context * ctx = ops.ctx;
    ForwardResult r;
    const ggml_type type = o.matmul_type;
    // An f32 parameter is multiplied in the precision's type (a bf16 copy made in the
    // graph in mixed precision); a matrix stored narrower (a frozen LoRA base in bf16
    // or f16) is multiplied as it is stored, whatever the precision: every product
    // with it, forward and backward, runs in its type (see linear_forward), and no
    // f32 copy of it is ever made.
    auto as_multiplied = [&](ggml_tensor * w) { return w->type == type || w->type != GGML_TYPE_F32 ? w : ggml_cast(ctx, w, type); };
    ggml_tensor * x = embedding_forward(ops, p.wte, p.wpe, tokens, positions);
    r.layers.resize(p.h.size());
    for (size_t l = 0; l < p.h.size(); l++) {
        const LayerTensors & w = p.h[l];
        ForwardResult::Layer & L = r.layers[l];
        if (o.converted) {
            const SamplingLayerMatrices & m = o.converted->h[l];
            L.w_qkv = m.attn_qkv_w, L.w_attn_proj = m.attn_proj_w, L.w_fc = m.mlp_fc_w, L.w_mlp_proj = m.mlp_proj_w;
        } else {
            L.w_qkv = as_multiplied(w.attn_qkv_w);
            L.w_attn_proj = as_multiplied(w.attn_proj_w);
            L.w_fc = as_multiplied(w.mlp_fc_w);
            L.w_mlp_proj = as_multiplied(w.mlp_proj_w);
        }
        if (o.lora) {
            const LoraLayer & a = o.lora->h[l];
            const float s = o.lora->config().scale();
            const LoraAdapter * adapters[4] = {&a.attn_qkv, &a.attn_proj, &a.mlp_fc, &a.mlp_proj};
            for (int i = 0; i < 4; i++) {
                L.lora[i].w = *adapters[i];
                L.lora[i].scale = s;
                if (o.lora_dropout && *adapters[i]) L.lora[i].mask = (*o.lora_dropout)[l][i];
            }
        }
        const KVCacheLayer * cache = o.cache ? &(*o.cache)[l] : nullptr;
        x = transformer_block(ops, c, w, L, x, o.converted ? GGML_TYPE_F32 : type, cache, o.decode);
    }
    if (o.last_position_only) {
        const int64_t t = x->ne[1], B = x->ne[2];
        x = ggml_cont(ctx, ggml_view_2d(ctx, x, c.n_embd, B, x->nb[2], size_t(t - 1) * x->nb[1]));  // [C, B]
    }
    r.final_norm_out = layernorm_forward(ops, x, p.ln_f_w, p.ln_f_b, c.layer_norm_epsilon, &r.ln_f);
    // the output layer is tied to wte
    if (o.output_weights && !o.converted) {
        r.w_out = ops.output_weights(as_multiplied(p.wte));
        r.logits = lm_head_forward(ops, r.final_norm_out, r.w_out, c.vocab_size);
    } else {
        r.w_out = o.converted ? o.converted->output : as_multiplied(p.wte);
        r.logits = output_logits(ops, r.w_out, r.final_norm_out);
    }
    return r;
}

void gpt2_backward(Ops & ops, GradSink & sink, const GPT2Config & c, ParameterSet & p, ParameterSet * g, LoraSet * lora_grads,
                   const ForwardResult & f, ggml_tensor * dlogits, ggml_tensor * tokens) {
    const float * eps = &c.layer_norm_epsilon;
    // A frozen parameter's gradient is null: its product is never built. (The graph
    // holds only what the gradient updates need, so with LoRA the dx below the
    // first adapter is never computed either.)
    auto grad = [&](ggml_tensor * ParameterSet::*member) { return g ? g->*member : nullptr; };
    ggml_tensor * dx = lm_head_backward(ops, sink, dlogits, f.final_norm_out, f.w_out, grad(&ParameterSet::wte));
    dx = layernorm_backward(ops, sink, dx, f.ln_f, p.ln_f_w, eps, grad(&ParameterSet::ln_f_w), grad(&ParameterSet::ln_f_b));
    const LayerTensors frozen{};
    for (size_t l = p.h.size(); l-- > 0;) {
        const LayerTensors & w = p.h[l];
        const LayerTensors & dw = g ? g->h[l] : frozen;
        const ForwardResult::Layer & L = f.layers[l];
        const LoraLayer * dl = lora_grads ? &lora_grads->h[l] : nullptr;
        auto lora = [&](int i) { return &L.lora[i]; };
        auto saved = [&](int i) { return &L.lora_saved[i]; };
        // x_out = x_mid + mlp(ln_2(x_mid))
        ggml_tensor * d = linear_backward(ops, sink, dx, L.fc_gelu, L.w_mlp_proj, dw.mlp_proj_w, dw.mlp_proj_b, lora(3), saved(3),
                                          dl ? &dl->mlp_proj : nullptr);
        d = ops.gelu_backward(d, L.fc);
        d = linear_backward(ops, sink, d, L.ln_2_out, L.w_fc, dw.mlp_fc_w, dw.mlp_fc_b, lora(2), saved(2), dl ? &dl->mlp_fc : nullptr);
        d = layernorm_backward(ops, sink, d, L.ln_2, w.ln_2_w, eps, dw.ln_2_w, dw.ln_2_b);
        ggml_tensor * dx_mid = ggml_add(ops.ctx, dx, d);
        // x_mid = x_in + attn(ln_1(x_in))
        d = linear_backward(ops, sink, dx_mid, L.attn_out, L.w_attn_proj, dw.attn_proj_w, dw.attn_proj_b, lora(1), saved(1),
                            dl ? &dl->attn_proj : nullptr);
        d = attention_backward(ops, d, L.attn, c.n_head);
        d = linear_backward(ops, sink, d, L.ln_1_out, L.w_qkv, dw.attn_qkv_w, dw.attn_qkv_b, lora(0), saved(0),
                            dl ? &dl->attn_qkv : nullptr);
        d = layernorm_backward(ops, sink, d, L.ln_1, w.ln_1_w, eps, dw.ln_1_w, dw.ln_1_b);
        dx = ggml_add(ops.ctx, dx_mid, d);
    }
    if (g) embedding_backward(ops, sink, dx, tokens, g->wte, g->wpe);
}

}  // namespace tweetsmith
