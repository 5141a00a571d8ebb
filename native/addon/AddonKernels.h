// Direct calls into the engine's own compute kernels, for tests that check a
// kernel against a reference computed in JS (test/engine-bf16-gemm.test.ts, test/engine-bf16-decode.test.ts,
// test/engine-low-rank.test.ts, test/engine-fused-attention.test.ts).
#pragma once
#include <napi.h>

namespace tweetsmith::addon {

// bf16ProductCheck({a, b: Float32Array, m, n, k, aTransposed, bTransposed, bBf16, bias, into, scale, causal, fill, threads})
//   → Float32Array c [n][m] (c[j·m + i] = into[j·m + i] + Σ A(i,k)·B(j,k) + bias[i], or scale·Σ; causal:
//   ProductOptions::Causal's number), or null where this CPU
//   lacks the kernels (see native/engine/bf16_product.h)
Napi::Value Bf16ProductCheck(const Napi::CallbackInfo & info);

// bf16DecodeCheck({w: Float32Array [n][k], x: Float32Array [cols][k], bias, n, k, cols, threads})
//   → Float32Array y [cols][n] (y[c·n + i] = Σ_k bf16(w)(i,k)·x[c·k + k'] + bias[i]) through the
//   decode product's node, or null where this CPU lacks AVX512-BF16 (see native/engine/bf16_decode.h)
Napi::Value Bf16DecodeCheck(const Napi::CallbackInfo & info);

// lowRankProductCheck({a, b: Float32Array, m, n, r, aTransposed, into, scale, threads})
//   → Float32Array c [n][m] (c[j·m + i] = into[j·m + i] + scale · Σ_k A(i,k)·b[j·r + k]), or null
//   where low_rank_product declines the shapes (see native/engine/low_rank_product.h)
Napi::Value LowRankProductCheck(const Napi::CallbackInfo & info);

// lowRankOuterProductsCheck({a: Float32Array [n][ma], b: Float32Array [n][mb], ma, mb, n, scale, threads})
//   → Float32Array c [mb][ma] (c[j·ma + i] = scale · Σ_t a[t·ma + i]·b[t·mb + j]), or null where
//   low_rank_outer_products declines the shapes (both sides wider than 64)
Napi::Value LowRankOuterProductsCheck(const Napi::CallbackInfo & info);

// fusedAttentionCheck({qkv: Float32Array [B][T][3C], dy: Float32Array [B][T][C], C, T, B, heads, threads})
//   → {y: [B][T][C], dqkv: [B][T][3C]} through fused attention's forward and backward nodes, or
//   null where this CPU lacks the kernels (see native/engine/fused_attention.h)
Napi::Value FusedAttentionCheck(const Napi::CallbackInfo & info);

}  // namespace tweetsmith::addon
