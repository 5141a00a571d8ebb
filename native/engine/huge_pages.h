// The CPU's memory for the engine's tensors in 2 MiB pages where Linux grants them
// (transparent huge pages asked for with madvise, the usual default setting).
//
// Why: the first write to each 4 KiB page of a fresh buffer is a page fault, and
// in a virtual machine a fault costs 10-20 µs. A generation's KV cache (59 MB for
// 10 × 160 tokens of GPT-2 124M) took 230 ms to clear, every call, and its q8_0
// weights 0.6 s to write; 2 MiB pages need 512 times fewer faults. Streaming
// the weights through a decode step also crosses fewer pages (TLB misses, and
// hardware prefetchers stop at a page's end). TWEETSMITH_NO_HUGE_PAGES=1 turns it off (to compare).
#pragma once
#include <ggml-backend.h>

namespace tweetsmith {

// The CPU backend's buffer type, whose buffers of a few MiB and more are mapped
// 2 MiB-aligned and advised as huge pages (small ones are the CPU's own). Elsewhere
// than Linux it is the CPU's buffer type.
ggml_backend_buffer_type_t huge_page_buffer_type();

}  // namespace tweetsmith
