#include "huge_pages.h"

#include <ggml-backend-impl.h>  // the buffer and buffer-type interfaces, to wrap them
#include <ggml-cpu.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <string>

namespace tweetsmith {

#if defined(__linux__)
namespace {

constexpr size_t kHugePage = size_t(2) << 20;
// below this a buffer is the CPU's own: rounding it up to whole huge pages would waste more than it saves
constexpr size_t kMinBytes = 2 * kHugePage;

void unmap_buffer(ggml_backend_buffer_t buffer) { munmap(buffer->context, buffer->size); }

ggml_backend_buffer_type_t cpu_type() { return ggml_backend_cpu_buffer_type(); }

// TWEETSMITH_NO_HUGE_PAGES=1: ordinary pages (to compare)
bool wanted() {
    static const bool off = [] {
        const char * v = std::getenv("TWEETSMITH_NO_HUGE_PAGES");
        return v && *v && std::string(v) != "0";
    }();
    return !off;
}

ggml_backend_buffer_t alloc_buffer(ggml_backend_buffer_type_t buft, size_t size) {
    if (size < kMinBytes || !wanted()) return cpu_type()->iface.alloc_buffer(cpu_type(), size);
    const size_t bytes = (size + kHugePage - 1) / kHugePage * kHugePage;
    // one huge page more than needed, then the unaligned ends given back
    void * mapped = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return nullptr;
    const uintptr_t start = uintptr_t(mapped), aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > start) munmap(mapped, aligned - start);
    if (start + kHugePage > aligned) munmap(reinterpret_cast<void *>(aligned + bytes), start + kHugePage - aligned);
    void * data = reinterpret_cast<void *>(aligned);
    madvise(data, bytes, MADV_HUGEPAGE);  // a refusal (THP off) leaves ordinary pages: still correct
    // the CPU's buffer over memory it does not own, with this type and an unmapping free
    ggml_backend_buffer_t view = ggml_backend_cpu_buffer_from_ptr(data, bytes);
    ggml_backend_buffer_i iface = view->iface;
    ggml_backend_buffer_free(view);  // only the struct: a from-pointer buffer frees no memory
    iface.free_buffer = unmap_buffer;
    return ggml_backend_buffer_init(buft, iface, data, bytes);
}

ggml_backend_buffer_type make_type() {
    ggml_backend_buffer_type t = *cpu_type();
    t.iface.alloc_buffer = alloc_buffer;
    return t;
}

}  // namespace

ggml_backend_buffer_type_t huge_page_buffer_type() {
    static ggml_backend_buffer_type type = make_type();
    return &type;
}
#else
ggml_backend_buffer_type_t huge_page_buffer_type() { return ggml_backend_cpu_buffer_type(); }
#endif

}  // namespace tweetsmith
