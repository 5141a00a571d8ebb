#include "AddonKernels.h"

#include "bf16_decode.h"
#include "bf16_product.h"
#include "convert.h"
#include "fused_attention.h"
#include "low_rank_product.h"

namespace tweetsmith::addon {

namespace {

// option `key` of o: a Float32Array of `length` values, or null where it is absent and not `required`
const float * floats_option(const Napi::Env & env, const Napi::Object & o, const char * key, int64_t length, bool required) {
    const Napi::Value v = o.Get(key);
    if (!required && (v.IsUndefined() || v.IsNull())) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        int64_t(v.As<Napi::Float32Array>().ElementLength()) != length)
        throw Napi::TypeError::New(env, std::string("option ") + key + " must be a Float32Array of " + std::to_string(length) + " values");
    return v.As<Napi::Float32Array>().Data();
}

// info[0], the call's spec object, or a TypeError naming the call
Napi::Object spec_of(const Napi::CallbackInfo & info, const char * call) {
    if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), std::string(call) + "(spec)");
    return info[0].As<Napi::Object>();
}

int threads_option(const Napi::Object & o) { return int(integer_option(o, "threads", 1, 1, 64)); }

// a kernel's values, or null where it declined (an empty result)
Napi::Value floats_or_null(const Napi::Env & env, const std::vector<float> & values) {
    return values.empty() ? env.Null() : float32_to_js(env, values);
}

}  // namespace

Napi::Value Bf16ProductCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const Napi::Object o = spec_of(info, "bf16ProductCheck");
    const int64_t m = integer_option(o, "m", 0, 1, 1 << 16), n = integer_option(o, "n", 0, 1, 1 << 16),
                  k = integer_option(o, "k", 0, 1, 1 << 16);
    const float * a = floats_option(env, o, "a", m * k, true);
    const float * b = floats_option(env, o, "b", n * k, true);
    auto flag = [&](const char * key) { return o.Get(key).ToBoolean().Value(); };
    const float * bias = floats_option(env, o, "bias", m, false);
    const float * into = floats_option(env, o, "into", m * n, false);
    if (flag("f32") && flag("bBf16")) throw Napi::TypeError::New(env, "bf16ProductCheck: f32 products take f32 operands, not bBf16");
    return floats_or_null(env, bf16_product_check(a, b, m, n, k, flag("aTransposed"), flag("bTransposed"), flag("bBf16"), bias, into,
                                                  float(number_option(o, "scale", 1.0)), int(integer_option(o, "causal", 0, 0, 3)),
                                                  float(number_option(o, "fill", 0.0)), threads_option(o), flag("f32")));
}

Napi::Value Bf16DecodeCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const Napi::Object o = spec_of(info, "bf16DecodeCheck");
    const int64_t n = integer_option(o, "n", 0, 1, 1 << 17), k = integer_option(o, "k", 0, 1, 1 << 14),
                  cols = integer_option(o, "cols", 0, 1, 1 << 10);
    const float * w = floats_option(env, o, "w", n * k, true);
    const float * x = floats_option(env, o, "x", cols * k, true);
    const float * bias = floats_option(env, o, "bias", n, false);
    return floats_or_null(env, bf16_decode_check(w, x, bias, n, k, cols, threads_option(o)));
}

Napi::Value LowRankProductCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const Napi::Object o = spec_of(info, "lowRankProductCheck");
    const int64_t m = integer_option(o, "m", 0, 1, 1 << 16), n = integer_option(o, "n", 0, 1, 1 << 16),
                  r = integer_option(o, "r", 0, 1, 1 << 10);
    const float * a = floats_option(env, o, "a", m * r, true);
    const float * b = floats_option(env, o, "b", n * r, true);
    const float * into = floats_option(env, o, "into", m * n, false);
    return floats_or_null(env, low_rank_product_check(a, b, into, m, n, r, o.Get("aTransposed").ToBoolean().Value(),
                                                      float(number_option(o, "scale", 1.0)), threads_option(o)));
}

Napi::Value LowRankOuterProductsCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const Napi::Object o = spec_of(info, "lowRankOuterProductsCheck");
    const int64_t ma = integer_option(o, "ma", 0, 1, 1 << 16), mb = integer_option(o, "mb", 0, 1, 1 << 16),
                  n = integer_option(o, "n", 0, 1, 1 << 16);
    const float * a = floats_option(env, o, "a", ma * n, true);
    const float * b = floats_option(env, o, "b", mb * n, true);
    return floats_or_null(env, low_rank_outer_products_check(a, b, ma, mb, n, float(number_option(o, "scale", 1.0)), threads_option(o)));
}

Napi::Value FusedAttentionCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const Napi::Object o = spec_of(info, "fusedAttentionCheck");
    const int64_t C = integer_option(o, "C", 0, 1, 1 << 14), T = integer_option(o, "T", 0, 1, 1 << 14),
                  B = integer_option(o, "B", 0, 1, 64), heads = integer_option(o, "heads", 0, 1, 1 << 10);
    if (C % heads != 0) throw Napi::RangeError::New(env, "fusedAttentionCheck: C must be a multiple of heads");
    const float * qkv = floats_option(env, o, "qkv", 3 * C * T * B, true);
    const float * dy = floats_option(env, o, "dy", C * T * B, true);
    const bool f32 = o.Get("f32").ToBoolean().Value();
    const tweetsmith::FusedAttentionCheck r = fused_attention_check(qkv, dy, C, T, B, heads, threads_option(o), f32);
    if (r.y.empty() || r.dqkv.empty()) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("y", float32_to_js(env, r.y));
    out.Set("dqkv", float32_to_js(env, r.dqkv));
    return out;
}

}  // namespace tweetsmith::addon
