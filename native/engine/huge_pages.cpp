#include "huge_pages.h"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tweetsmith {

void advise_huge_pages(ggml_backend_buffer_t buffer) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (!buffer || !ggml_backend_buffer_is_host(buffer)) return;
    constexpr uintptr_t kHuge = uintptr_t(2) << 20;
    const uintptr_t base = reinterpret_cast<uintptr_t>(ggml_backend_buffer_get_base(buffer));
    const uintptr_t begin = (base + kHuge - 1) & ~(kHuge - 1), end = (base + ggml_backend_buffer_get_size(buffer)) & ~(kHuge - 1);
    // only the whole 2 MiB pages inside the buffer; a refusal (THP off) changes nothing
    if (end > begin) madvise(reinterpret_cast<void *>(begin), end - begin, MADV_HUGEPAGE);
#else
    (void)buffer;
#endif
}

}  // namespace tweetsmith
