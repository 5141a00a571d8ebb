// q8ProductCheck(w, x, K, N, cols, threads): the q8_0 decode product beside
// ggml's on one matrix (native/engine/q8_decode_check.h), for the tests.
#pragma once
#include <napi.h>

namespace tweetsmith::addon {

Napi::Value Q8ProductCheck(const Napi::CallbackInfo & info);

}  // namespace tweetsmith::addon
