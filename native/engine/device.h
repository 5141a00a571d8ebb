// Where a model computes: one ggml device (the CPU, a Vulkan or a CUDA GPU),
// the CPU beside it for any operation the device lacks, and how graphs are
// planned and run there.
//
// Two paths. On the CPU the engine's graphs use its own fast kernels
// (cpu_kernels.h), which write into tensors in place and read a few values
// through host pointers: they run on the CPU backend alone, planned by ggml's
// graph allocator. Everywhere else (and on the CPU when `portable` is asked for,
// so that path can be tested on any machine) the graphs use standard ggml
// operations only, take every per-step value from small input tensors, and run
// under ggml_backend_sched with the CPU as the fallback.
#pragma once
#include <ggml-alloc.h>
#include <ggml-backend.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tweetsmith {

struct DeviceDescription {
    std::string name;         // ggml's: "CPU", "Vulkan0", "CUDA0"
    std::string description;  // the hardware, as its driver names it
    std::string backend;      // "cpu", "vulkan", "cuda", … (its ggml backend, lower case)
    int index = 0;            // among the devices of its backend
    bool software = false;    // a GPU emulated on the CPU (lavapipe, SwiftShader)
    size_t memory_free = 0, memory_total = 0;
};

// Every device the linked ggml backends found, the CPU last.
std::vector<DeviceDescription> list_devices();

// One graph with its memory plan, kept while its shape stays the same, so a
// training loop or a decoder builds and plans its graph once.
struct CachedGraph {
    ggml_context * ctx = nullptr;
    ggml_cgraph * graph = nullptr;
    ggml_gallocr_t allocr = nullptr;       // the CPU's fast path
    ggml_backend_sched_t sched = nullptr;  // the portable path
    int64_t T = 0, B = 0;
    ggml_tensor * tokens = nullptr;     // I32 [T, B]
    ggml_tensor * positions = nullptr;  // I32 [T]
    ggml_tensor * output = nullptr;     // what the caller reads
    void release();
    ~CachedGraph() { release(); }
};

// A context for building one graph's tensors (no data: the plan allocates them).
ggml_context * new_graph_context(size_t max_nodes);

class ComputeDevice {
public:
    // `name`: a DeviceDescription name; `portable`: the standard-ops path even on the CPU.
    ComputeDevice(const std::string & name, int n_threads, bool portable);
    ~ComputeDevice();
    ComputeDevice(const ComputeDevice &) = delete;
    ComputeDevice & operator=(const ComputeDevice &) = delete;

    // Where the model's tensors live (parameters, gradients, optimizer state, KV caches).
    ggml_backend_t backend() const { return backend_; }
    // What to allocate the model's tensors with: on a GPU its buffer pool (buffer_pool.h).
    ggml_backend_buffer_type_t buffer_type() const;
    bool portable() const { return portable_; }
    bool is_cpu() const { return backend_ == cpu_; }
    const DeviceDescription & description() const { return description_; }
    void set_threads(int n_threads);

    // Allocates a built graph's intermediate tensors (after which its inputs can be set).
    void plan(CachedGraph & g);
    // Runs a planned graph. `cancel`: checked between nodes on the CPU (by ggml's
    // threads, also for the operations a GPU left to the CPU), and before the graph
    // starts on a GPU; nullptr for a graph that must not stop halfway.
    ggml_status compute(CachedGraph & g, std::atomic<bool> * cancel);

    // Holds the device for one engine call. ggml's GPU backends share a device's
    // queues between the backends made on it, and are not safe for two threads at
    // once: models on the same GPU take turns, call by call. The CPU needs no turn.
    std::unique_lock<std::mutex> exclusive() const;

    // Operations of the graphs planned so far that the device lacks and the CPU ran.
    const std::set<std::string> & fallback_ops() const { return fallback_ops_; }

private:
    DeviceDescription description_;
    bool portable_;
    std::shared_ptr<struct SharedGpu> gpu_;  // a GPU's backend and buffer pool, shared by every model on it
    ggml_backend_t backend_ = nullptr;   // the CPU's, or gpu_
    ggml_backend_t cpu_ = nullptr;       // == backend_ when the device is the CPU
    std::set<std::string> fallback_ops_;
};

}  // namespace tweetsmith
