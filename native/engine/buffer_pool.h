// A GPU's memory for the engine's tensors, handed back to a pool instead of to
// the driver until the device's last model is gone.
//
// Why: ggml's Vulkan backend keeps its descriptor sets from one graph to the
// next, and a set can still name a buffer that was freed since. Binding it again
// made Mesa's lavapipe read the freed buffer (found with valgrind: a
// use-after-free in its queue thread, then heap corruption), whenever a graph's
// compute buffers, a KV cache or a disposed model's weights were freed while
// other graphs went on running. Buffers kept in the pool are never freed while
// the backend that may name them lives; a later allocation reuses them.
#pragma once
#include <ggml-backend.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

struct ggml_backend_buffer_i;  // ggml-backend-impl.h

namespace tweetsmith {

class BufferPool {
public:
    // Wraps `inner`, the device's own buffer type.
    explicit BufferPool(ggml_backend_buffer_type_t inner);
    ~BufferPool();  // frees every pooled buffer: call after the last graph on the device
    BufferPool(const BufferPool &) = delete;
    BufferPool & operator=(const BufferPool &) = delete;

    // Allocate with this instead of the device's buffer type.
    ggml_backend_buffer_type_t buffer_type();

private:
    struct Parked {
        void * context;  // the device backend's buffer context
        size_t size;
    };
    static ggml_backend_buffer_t alloc_buffer(ggml_backend_buffer_type_t buft, size_t size);
    static void park(ggml_backend_buffer_t buffer);
    ggml_backend_buffer_t wrap(void * context, size_t size);

    ggml_backend_buffer_type_t inner_;
    std::unique_ptr<::ggml_backend_buffer_type> outer_;
    std::unique_ptr<::ggml_backend_buffer_i> buffer_iface_;  // the device's, but freeing parks
    void (*free_buffer_)(ggml_backend_buffer_t) = nullptr;         // the device's own
    std::mutex mutex_;
    std::multimap<size_t, Parked> parked_;  // by size
};

}  // namespace tweetsmith
