// Every engine call's work on a device runs on one thread of the addon's own (one
// per device), not on whichever of libuv's pool threads took the call.
//
// Why: ggml's CPU backend, built with OpenMP, runs each graph as a parallel
// region of the calling thread, and libgomp keeps a team of threads per calling
// thread. libuv's four pool threads taking turns made up to four teams: more
// threads than cores, and then libgomp spins only about a thousand times at a
// barrier before it sleeps in the kernel. A decode step has ~220 barriers, a
// training step thousands; each became a futex sleep and wake (10 µs and more in
// a virtual machine). One calling thread keeps one team, which spins as it
// should. Measured on 2 cores: a 10 × 160 q8_0 decode step 10.8 → 8.5 ms.
// One team is no longer throttled, so libgomp would spin ~3 ms at a barrier and
// starve another busy process on the same cores; the loader bounds the spin
// (GOMP_SPINCOUNT, ENGINE_DEFAULTS.openMpSpinCount in lib/defaults.ts).
// (A build without OpenMP, the portable prebuild, loses nothing by it.)
#pragma once
#include <functional>
#include <string>

namespace tweetsmith::addon {

// Runs `work` on `device`'s compute thread (started on first use, kept until the
// process exits) and waits for it; rethrows what it threw.
void run_on_compute_thread(const std::string & device, const std::function<void()> & work);

}  // namespace tweetsmith::addon
