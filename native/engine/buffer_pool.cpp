#include "buffer_pool.h"

#include <ggml-backend-impl.h>  // the buffer and buffer-type interfaces, to wrap them

namespace tweetsmith {

namespace {

// The device backend reads its own context from the buffer type, so the outer
// type keeps it: the pool is found by the outer type's address instead.
std::mutex registry_mutex;
std::map<ggml_backend_buffer_type_t, BufferPool *> registry;

BufferPool * pool_of(ggml_backend_buffer_type_t buft) {
    std::lock_guard<std::mutex> guard(registry_mutex);
    return registry.at(buft);
}

// Reuse a parked buffer only when it is not much larger than asked for.
constexpr size_t kMaxWaste = 2;

}  // namespace

BufferPool::BufferPool(ggml_backend_buffer_type_t inner) : inner_(inner) {
    outer_ = std::make_unique<ggml_backend_buffer_type>(*inner);
    outer_->iface.alloc_buffer = alloc_buffer;
    std::lock_guard<std::mutex> guard(registry_mutex);
    registry[outer_.get()] = this;
}

BufferPool::~BufferPool() {
    {
        std::lock_guard<std::mutex> guard(registry_mutex);
        registry.erase(outer_.get());
    }
    for (auto & [size, p] : parked_) {
        ggml_backend_buffer_i iface = *buffer_iface_;
        iface.free_buffer = free_buffer_;
        ggml_backend_buffer_free(ggml_backend_buffer_init(inner_, iface, p.context, p.size));
    }
}

ggml_backend_buffer_type_t BufferPool::buffer_type() { return outer_.get(); }

ggml_backend_buffer_t BufferPool::wrap(void * context, size_t size) {
    return ggml_backend_buffer_init(outer_.get(), *buffer_iface_, context, size);
}

ggml_backend_buffer_t BufferPool::alloc_buffer(ggml_backend_buffer_type_t buft, size_t size) {
    BufferPool * pool = pool_of(buft);
    {
        std::lock_guard<std::mutex> guard(pool->mutex_);
        auto it = pool->parked_.lower_bound(size);
        if (it != pool->parked_.end() && it->first <= kMaxWaste * size + 4096) {
            const Parked p = it->second;
            pool->parked_.erase(it);
            return pool->wrap(p.context, p.size);
        }
    }
    ggml_backend_buffer_t fresh = pool->inner_->iface.alloc_buffer(pool->inner_, size);
    if (!fresh) return nullptr;
    std::lock_guard<std::mutex> guard(pool->mutex_);
    if (!pool->buffer_iface_) {
        pool->free_buffer_ = fresh->iface.free_buffer;
        pool->buffer_iface_ = std::make_unique<ggml_backend_buffer_i>(fresh->iface);
        pool->buffer_iface_->free_buffer = park;
    }
    void * context = fresh->context;
    const size_t fresh_size = fresh->size;
    fresh->iface.free_buffer = nullptr;  // the struct goes; the device memory stays, now ours
    ggml_backend_buffer_free(fresh);
    return pool->wrap(context, fresh_size);
}

void BufferPool::park(ggml_backend_buffer_t buffer) {
    BufferPool * pool = pool_of(buffer->buft);
    std::lock_guard<std::mutex> guard(pool->mutex_);
    pool->parked_.insert({buffer->size, {buffer->context, buffer->size}});
}

}  // namespace tweetsmith
