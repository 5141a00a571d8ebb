// Converting between JS values and engine types; errors name the option.
#pragma once
#include <napi.h>

#include "gpt2_config.h"
#include "limits.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace tweetsmith::addon {

inline double number_option(const Napi::Object & o, const char * key, double fallback) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) throw Napi::RangeError::New(o.Env(), std::string("option ") + key + " must be a finite number");
    return d;
}

// The largest integer a JS number holds exactly (Number.MAX_SAFE_INTEGER).
constexpr int64_t kMaxSafeInteger = (int64_t(1) << 53) - 1;

// A double as an integer in [min, max], checked before the cast (casting a double
// outside int64's range is undefined behaviour); `what` names it in the error.
inline int64_t integer_in_range(Napi::Env env, double d, const std::string & what, int64_t min, int64_t max) {
    if (!std::isfinite(d) || d != std::trunc(d)) throw Napi::TypeError::New(env, what + " must be an integer");
    if (d < double(min) || d > double(max))
        throw Napi::RangeError::New(env, what + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    return int64_t(d);
}

inline int64_t integer_option(const Napi::Object & o, const char * key, int64_t fallback, int64_t min = INT32_MIN,
                              int64_t max = INT32_MAX) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a number");
    return integer_in_range(o.Env(), v.As<Napi::Number>().DoubleValue(), std::string("option ") + key, min, max);
}

// Positional arguments: a number, an integer in [min, max], a string.
inline double number_arg(const Napi::CallbackInfo & info, size_t i, const char * name) {
    if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
    const double d = info[i].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a finite number");
    return d;
}

inline int64_t integer_arg(const Napi::CallbackInfo & info, size_t i, const char * name, int64_t min, int64_t max) {
    if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
    return integer_in_range(info.Env(), info[i].As<Napi::Number>().DoubleValue(), name, min, max);
}

inline std::string string_arg(const Napi::CallbackInfo & info, size_t i, const char * name) {
    if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
    return info[i].As<Napi::String>().Utf8Value();
}

// T · B tokens in a batch, checked: the product must not wrap (a wrapped product
// could match a short array) and must be the array's length.
inline void check_batch_shape(Napi::Env env, int64_t T, int64_t B, size_t n_tokens) {
    const std::optional<int64_t> n = limits::checked_mul(T, B);
    if (!n || uint64_t(*n) != uint64_t(n_tokens))
        throw Napi::RangeError::New(env, "tokens.length (" + std::to_string(n_tokens) + ") must be T * B (" + std::to_string(T) +
                                             " * " + std::to_string(B) + ")");
}

inline std::string string_option(const Napi::Object & o, const char * key, const std::string & fallback) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return fallback;
    if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be a string");
    return v.As<Napi::String>().Utf8Value();
}

// The engine checks the shape (GPT2Config::validate); here only that each is an integer.
inline GPT2Config config_from_js(const Napi::Object & o) {
    GPT2Config c;
    c.n_layer = integer_option(o, "nLayer", c.n_layer, -kMaxSafeInteger, kMaxSafeInteger);
    c.n_head = integer_option(o, "nHead", c.n_head, -kMaxSafeInteger, kMaxSafeInteger);
    c.n_embd = integer_option(o, "nEmbd", c.n_embd, -kMaxSafeInteger, kMaxSafeInteger);
    c.n_positions = integer_option(o, "nPositions", c.n_positions, -kMaxSafeInteger, kMaxSafeInteger);
    c.vocab_size = integer_option(o, "vocabSize", c.vocab_size, -kMaxSafeInteger, kMaxSafeInteger);
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
