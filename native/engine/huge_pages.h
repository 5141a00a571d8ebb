// Asks the kernel to back a ggml buffer with 2 MiB pages where it can (Linux
// transparent huge pages in "madvise" mode, the common default).
//
// Why: a GPT-2 124M training run touches about 4 GiB. In 4 KiB pages that is a
// million page faults on the first step (seconds in a virtual machine) and a TLB
// that covers a sliver of the matrices the products stream through. Call it
// right after the buffer is allocated, before anything writes to it.
#pragma once
#include <ggml-backend.h>

namespace tweetsmith {

void advise_huge_pages(ggml_backend_buffer_t buffer);

}  // namespace tweetsmith
