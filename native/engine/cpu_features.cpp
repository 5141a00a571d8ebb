#include "cpu_features.h"

#include <cstdlib>
#include <string>

namespace tweetsmith::cpu_features {

bool env_off(const char * name) {
    const char * value = std::getenv(name);
    return value && *value && std::string(value) != "0";
}

bool avx512() {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
    static const bool yes = [] {
        if (env_off("TWEETSMITH_NO_AVX512")) return false;
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq");
    }();
    return yes;
#else
    return false;
#endif
}

bool avx2_fma() {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(_M_X64))
    static const bool yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return yes;
#else
    return false;
#endif
}

}  // namespace tweetsmith::cpu_features
