#include "AddonKernels.h"

#include "bf16_product.h"
#include "convert.h"

namespace tweetsmith::addon {

Napi::Value Bf16ProductCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "bf16ProductCheck(spec)");
    const Napi::Object o = info[0].As<Napi::Object>();
    const int64_t m = integer_option(o, "m", 0, 1, 1 << 16), n = integer_option(o, "n", 0, 1, 1 << 16),
                  k = integer_option(o, "k", 0, 1, 1 << 16);
    const Napi::Value av = o.Get("a"), bv = o.Get("b");
    if (!av.IsTypedArray() || av.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !bv.IsTypedArray() ||
        bv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throw Napi::TypeError::New(env, "options a and b must be Float32Arrays");
    const Napi::Float32Array a = av.As<Napi::Float32Array>(), b = bv.As<Napi::Float32Array>();
    if (int64_t(a.ElementLength()) != m * k || int64_t(b.ElementLength()) != n * k)
        throw Napi::RangeError::New(env, "a must hold m·k values and b n·k");
    auto flag = [&](const char * key) { return o.Get(key).ToBoolean().Value(); };
    // an optional Float32Array of `length` values
    auto optional = [&](const char * key, int64_t length) -> const float * {
        const Napi::Value v = o.Get(key);
        if (v.IsUndefined() || v.IsNull()) return nullptr;
        if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
            int64_t(v.As<Napi::Float32Array>().ElementLength()) != length)
            throw Napi::TypeError::New(env, std::string("option ") + key + " must be a Float32Array of " + std::to_string(length) + " values");
        return v.As<Napi::Float32Array>().Data();
    };
    const float * bias = optional("bias", m);
    const float * into = optional("into", m * n);
    const int threads = int(integer_option(o, "threads", 1, 1, 64));
    const std::vector<float> c =
        bf16_product_check(a.Data(), b.Data(), m, n, k, flag("aTransposed"), flag("bTransposed"), flag("bBf16"), bias, into, float(number_option(o, "scale", 1.0)),
                           int(integer_option(o, "causal", 0, 0, 3)), float(number_option(o, "fill", 0.0)), threads);
    if (c.empty()) return env.Null();
    return float32_to_js(env, c);
}

}  // namespace tweetsmith::addon
