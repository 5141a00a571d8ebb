// The seam between GPT-2's layers and a backend: the few operations whose best
// form differs between the CPU and every other ggml backend.
//
// CpuOps (ops_cpu.cpp) is the engine's fast CPU path: its own kernels
// (cpu_kernels.h) for the exact GELU, the LayerNorm and cross-entropy backward,
// transposes, bias sums and cached attention, some of which write in place or
// read a value through a host pointer when the graph runs.
// PortableOps (ops_portable.cpp) composes the same math from standard ggml
// operations, which every backend implements (or ggml_backend_sched runs on the
// CPU for it), and takes every per-step value from an input tensor.
//
// The layers (gpt2_layers.h) and the graphs (gpt2_graph.h) call these and plain
// ggml operations, and nothing else.
#pragma once
#include <ggml.h>

#include <cstdint>
#include <memory>

namespace tweetsmith {

struct GradSink;

struct LayerNormSaved {
    ggml_tensor * x;     // the input
    ggml_tensor * xhat;  // (x - mean) · rstd
};

// What the loss needs besides the logits; the model sets whichever exist
// before each run (see GPT2Model::run_loss_graph).
struct LossInputs {
    ggml_tensor * targets = nullptr;    // I32 [rows], -1 where a position predicts nothing (CPU)
    ggml_tensor * picks = nullptr;      // I32 [rows]: row·V + target, into the flattened logits (portable)
    ggml_tensor * row_scale = nullptr;  // F32 [1, rows]: the loss scale, 0 where ignored (portable)
    const float * scale = nullptr;      // the loss scale, read when the graph runs (CPU)
};

struct CrossEntropySaved {
    ggml_tensor * losses;  // [rows]
    ggml_tensor * probs;   // softmax of the logits [V, rows] (portable; the CPU recomputes it)
};

// One layer's key and value caches for sampling.
struct KVCacheLayer {
    ggml_tensor * k;  // [hs, L, H, B]
    ggml_tensor * v;  // [hs, L, H, B]
};

// What cached attention reads besides q, k and v.
struct DecodeInputs {
    const int64_t * n_past = nullptr;  // tokens already cached, read when the graph runs (CPU)
    ggml_tensor * rows = nullptr;      // I64 [t]: the cache rows of the new tokens, n_past.. (portable)
    ggml_tensor * mask = nullptr;      // F32 [L, t]: 0 where query i may see key j (j ≤ n_past + i), -inf elsewhere (portable)
};

// Causal self-attention fused into one node (Ops::fused_attention).
struct FusedAttention {
    ggml_tensor * y = nullptr;    // [C, T, B]: each head's output, heads side by side
    ggml_tensor * out = nullptr;  // the node, which the backward pass reads: y, then what it saves
};

// What Ops::fast_product does besides the product.
struct ProductOptions {
    ggml_tensor * bias = nullptr;  // [rows of the result] f32, added to every column
    ggml_tensor * into = nullptr;  // f32 of the result's shape: the product is added into it in place, a view of it returned
    float scale = 1.0f;            // the product times this (fast_product: without bias or into)
    // Causal attention, per batch: kMaskAbove: the result's entries below its
    // diagonal's columns (row i > column j: a key after its query) are `fill`, not
    // computed; kDepthToColumn / kDepthFromColumn: column j's sum runs over k ≤ j /
    // k ≥ j only, the caller promising that b's other entries are exactly 0.
    enum class Causal { kNone, kMaskAbove, kDepthToColumn, kDepthFromColumn } causal = Causal::kNone;
    float fill = 0.0f;
};

class Ops {
public:
    explicit Ops(ggml_context * ctx) : ctx(ctx) {}
    virtual ~Ops() = default;
    ggml_context * const ctx;  // where the graph is being built

    virtual bool portable() const = 0;

    // gelu_new (tanh form), exactly; and dy · gelu_new'(x)
    virtual ggml_tensor * gelu(ggml_tensor * x) = 0;
    virtual ggml_tensor * gelu_backward(ggml_tensor * dy, ggml_tensor * x) = 0;
    // d/dx of LayerNorm(x)·w + b:  rstd · (g - mean(g) - x̂ · mean(g·x̂)),  g = dy·w
    // (eps: the model's; the CPU reads it when the graph runs)
    virtual ggml_tensor * layernorm_backward(ggml_tensor * dy, const LayerNormSaved & saved, ggml_tensor * w, const float * eps) = 0;
    // Σ over every token of dy [C, tokens…] → [C] (a bias or LayerNorm gradient)
    virtual ggml_tensor * sum_over_tokens(ggml_tensor * dy) = 0;
    // ggml_mul_mat(a, b) with its operands in `type`, on the backend's own faster
    // product, where it has one for this type and these shapes: a and b may be any
    // views (transposed ones too, with no copy made); `o` adds epilogues. Null where
    // it has none: the caller then takes ggml_mul_mat (on contiguous copies where
    // needed) and does the rest itself.
    virtual ggml_tensor * fast_product(ggml_tensor * a, ggml_tensor * b, ggml_type type, const ProductOptions & o = {}) {
        (void)a, (void)b, (void)type, (void)o;
        return nullptr;
    }
    // ggml_mul_mat(a, b) · o.scale in f32 (added into o.into where given) where a's
    // rows are a LoRA adapter's rank long, on the backend's own product where it
    // has one (the CPU's, low_rank_product.h: ggml's is slow there); a may be a
    // transposed view. Null where it has none.
    virtual ggml_tensor * low_rank_product(ggml_tensor * a, ggml_tensor * b, const ProductOptions & o) {
        (void)a, (void)b, (void)o;
        return nullptr;
    }
    // Causal self-attention of qkv [3C, T, B] → [C, T, B] per head with its products'
    // operands in `type`, in one node whose scores never leave the cache; and its
    // backward, dqkv [3C, T, B] from dy [C, T, B]. Empty (y null) where the backend
    // has none; the backward is then never asked for.
    virtual FusedAttention fused_attention(ggml_tensor * qkv, int64_t n_head, ggml_type type) {
        (void)qkv, (void)n_head, (void)type;
        return {};
    }
    virtual ggml_tensor * fused_attention_backward(ggml_tensor * dy, ggml_tensor * qkv, const FusedAttention & forward, int64_t n_head) {
        (void)dy, (void)qkv, (void)forward, (void)n_head;
        return nullptr;
    }
    // scale · Σ over tokens of a ⊗ b, a [ma, N] and b [mb, N] f32, one of them a LoRA
    // adapter's rank wide → [ma, mb] (its gradients), on the backend's own kernel
    // where it has one (the CPU's reads both in place). Null where it has none.
    virtual ggml_tensor * low_rank_outer_products(ggml_tensor * a, ggml_tensor * b, float scale) {
        (void)a, (void)b, (void)scale;
        return nullptr;
    }
    // a contiguous copy of t with its first two dimensions swapped, in `type`
    virtual ggml_tensor * transposed(ggml_tensor * t, ggml_type type) = 0;
    // dwte[tokens[i]] += dx[:, i]
    virtual void embedding_backward(GradSink & sink, ggml_tensor * dx, ggml_tensor * tokens, ggml_tensor * dwte) = 0;

    // The output layer's weights for training and scoring: wte, or on the CPU wte
    // padded with zero rows to a multiple of 64, because ggml's fast CPU matrix
    // multiply (llamafile's tinyBLAS) needs the first operand's row count in
    // multiples of 4 and the contracted length in multiples of 16, and both
    // products of the output layer have the vocabulary there.
    virtual ggml_tensor * output_weights(ggml_tensor * wte) = 0;
    // `scale`: the host's loss scale (the CPU reads it when the graph runs)
    virtual LossInputs loss_inputs(int64_t rows, bool with_backward, const float * scale) = 0;
    // per-row losses for logits [V, rows] (rows may be strided)
    virtual CrossEntropySaved cross_entropy(ggml_tensor * logits, const LossInputs & in) = 0;
    // dlogits [rows of output_weights, rows] = (softmax - onehot(target)) · scale, zero in padding and ignored rows
    virtual ggml_tensor * cross_entropy_backward(ggml_tensor * logits, const CrossEntropySaved & saved, const LossInputs & in) = 0;

    virtual DecodeInputs decode_inputs(int64_t t, int64_t cache_length, const int64_t * n_past) = 0;
    // Attention of t new tokens per sequence over the cache: writes their keys and
    // values at rows n_past.. and attends causally. qkv [3C, t, B] → [C, t, B].
    virtual ggml_tensor * cached_attention(ggml_tensor * qkv, const KVCacheLayer & cache, const DecodeInputs & in) = 0;

    // Σx² of a gradient, as a few partial sums (the caller adds them up)
    virtual ggml_tensor * sum_of_squares(ggml_tensor * g) = 0;
    // One AdamW step of parameter w, in place, from its gradient g times the clipping
    // coefficient, with its moments m and v: ggml_opt_step_adamw's math, `params` its
    // seven values (lr, β1, β2, eps, weight decay, 1/(1-β1ᵗ), 1/(1-β2ᵗ)). The CPU reads
    // *coef when the graph runs and makes it one pass over the four tensors; the
    // portable path scales g in place by the one-element coef_tensor first (the
    // gradients are zeroed after the step anyway).
    virtual ggml_tensor * adamw_step(ggml_tensor * w, ggml_tensor * g, ggml_tensor * m, ggml_tensor * v, ggml_tensor * params,
                                     ggml_tensor * coef_tensor, const float * coef) = 0;
};

std::unique_ptr<Ops> make_ops(ggml_context * ctx, bool portable);

// One layer's caches (unallocated; the decoder allocates them on the device).
KVCacheLayer new_kv_cache_layer(ggml_context * ctx, int64_t head_size, int64_t length, int64_t n_head, int64_t n_sequences);

}  // namespace tweetsmith
