// Converting between JS values and engine types; errors name the option.
#pragma once
#include <napi.h>

#include "gpt2_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tweetsmith::addon {

inline double number_option(const Napi::Object & o, const char * key, double fallback) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a number");
    return v.As<Napi::Number>().DoubleValue();
}

inline int64_t integer_option(const Napi::Object & o, const char * key, int64_t fallback) {
    const double d = number_option(o, key, double(fallback));
    if (d != double(int64_t(d))) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be an integer");
    return int64_t(d);
}

inline std::string string_option(const Napi::Object & o, const char * key, const std::string & fallback) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a string");
    return v.As<Napi::String>().Utf8Value();
}

inline GPT2Config config_from_js(const Napi::Object & o) {
    GPT2Config c;
    c.n_layer = integer_option(o, "nLayer", c.n_layer);
    c.n_head = integer_option(o, "nHead", c.n_head);
    c.n_embd = integer_option(o, "nEmbd", c.n_embd);
    c.n_positions = integer_option(o, "nPositions", c.n_positions);
    c.vocab_size = integer_option(o, "vocabSize", c.vocab_size);
    c.layer_norm_epsilon = float(number_option(o, "layerNormEpsilon", c.layer_norm_epsilon));
    return c;
}

// Copies an Int32Array's contents (the worker thread must not touch JS memory).
inline std::vector<int32_t> tokens_from_js(const Napi::Value & v, const char * what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw Napi::TypeError::New(v.Env(), std::string(what) + " must be an Int32Array");
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

inline Napi::Float32Array float32_to_js(Napi::Env env, const std::vector<float> & values) {
    Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
    std::copy(values.begin(), values.end(), out.Data());
    return out;
}

}  // namespace tweetsmith::addon
