#include "AddonQ8Check.h"

#include "engine_error.h"
#include "q8_decode_check.h"

namespace tweetsmith::addon {

namespace {

Napi::Float32Array to_js(Napi::Env env, const std::vector<float> & v) {
    Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), a.Data());
    return a;
}

}  // namespace

// q8ProductCheck(w: Float32Array [N·K], x: Float32Array [cols·K], K, N, cols, threads)
//   → {packed: boolean, packedProduct: Float32Array | null, ggmlProduct, weights} (products [cols][N])
Napi::Value Q8ProductCheck(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() != 6 || !info[0].IsTypedArray() || !info[1].IsTypedArray())
        throw Napi::TypeError::New(env, "q8ProductCheck(w, x, K, N, cols, threads): w and x must be Float32Arrays");
    for (size_t i = 2; i < 6; i++)
        if (!info[i].IsNumber()) throw Napi::TypeError::New(env, "q8ProductCheck: K, N, cols and threads must be numbers");
    Napi::TypedArray wa = info[0].As<Napi::TypedArray>(), xa = info[1].As<Napi::TypedArray>();
    if (wa.TypedArrayType() != napi_float32_array || xa.TypedArrayType() != napi_float32_array)
        throw Napi::TypeError::New(env, "q8ProductCheck: w and x must be Float32Arrays");
    const int64_t K = info[2].As<Napi::Number>().Int64Value(), N = info[3].As<Napi::Number>().Int64Value();
    const int64_t cols = info[4].As<Napi::Number>().Int64Value();
    const int threads = info[5].As<Napi::Number>().Int32Value();
    if (K < 32 || K > (1 << 16) || N < 1 || N > (1 << 20) || cols < 1 || cols > 4096 || threads < 1 || threads > 256)
        throw Napi::RangeError::New(env, "q8ProductCheck: K in [32, 65536], N in [1, 2^20], cols in [1, 4096], threads in [1, 256]");
    if (int64_t(wa.ElementLength()) != K * N || int64_t(xa.ElementLength()) != K * cols)
        throw Napi::RangeError::New(env, "q8ProductCheck: w must hold N·K numbers and x cols·K");
    try {
        const q8_decode::ProductCheck r = q8_decode::check_product(wa.As<Napi::Float32Array>().Data(), K, N,
                                                                   xa.As<Napi::Float32Array>().Data(), cols, threads);
        Napi::Object o = Napi::Object::New(env);
        o.Set("packed", r.packed);
        o.Set("packedProduct", r.packed ? Napi::Value(to_js(env, r.packed_y)) : env.Null());
        o.Set("ggmlProduct", to_js(env, r.ggml_y));
        o.Set("weights", to_js(env, r.weights));
        return o;
    } catch (const EngineError & e) {
        throw Napi::Error::New(env, e.what());
    }
}

}  // namespace tweetsmith::addon
