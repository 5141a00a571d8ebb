// A std::vector whose data starts on a cache line (64 bytes; operator new gives 16):
// the packed products' 64-byte loads of it then never straddle two lines, which cost
// the f32 product ~9% (bf16_gemm.h's packed operands 32 bytes off a line, against on one:
// ~126 against ~138 GFLOP/s a thread in a standalone timing on an Ice Lake Xeon).
#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace tweetsmith {

constexpr std::size_t kCacheLine = 64;

template <typename T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <typename U>
    CacheLineAllocator(const CacheLineAllocator<U> &) {}
    T * allocate(std::size_t n) { return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(kCacheLine))); }
    void deallocate(T * p, std::size_t) { ::operator delete(p, std::align_val_t(kCacheLine)); }
    template <typename U>
    bool operator==(const CacheLineAllocator<U> &) const { return true; }
    template <typename U>
    bool operator!=(const CacheLineAllocator<U> &) const { return false; }
};

template <typename T>
using CacheLineVector = std::vector<T, CacheLineAllocator<T>>;

}  // namespace tweetsmith
