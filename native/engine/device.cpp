#include "device.h"

#include "buffer_pool.h"
#include "huge_pages.h"
#include "engine_error.h"
#include "limits.h"
#include "op_profile.h"

#include <ggml-cpu.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>

namespace tweetsmith {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

// Mesa's lavapipe names itself "llvmpipe (LLVM …)"; Google's SwiftShader and Mesa's
// softpipe are the other CPU-emulated GPUs. Vulkan also reports them as
// VK_PHYSICAL_DEVICE_TYPE_CPU, but ggml does not pass that on.
bool looks_software(const std::string & description) {
    const std::string d = lower(description);
    for (const char * word : {"llvmpipe", "lavapipe", "swiftshader", "softpipe"})
        if (d.find(word) != std::string::npos) return true;
    return false;
}

std::mutex & device_mutex(const std::string & name) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::unique_ptr<std::mutex>> per_device;
    std::lock_guard<std::mutex> guard(registry_mutex);
    auto & m = per_device[name];
    if (!m) m = std::make_unique<std::mutex>();
    return *m;
}

DeviceDescription describe(ggml_backend_dev_t dev, std::map<std::string, int> & per_backend) {
    DeviceDescription d;
    d.name = ggml_backend_dev_name(dev);
    d.description = ggml_backend_dev_description(dev);
    d.backend = lower(ggml_backend_reg_name(ggml_backend_dev_backend_reg(dev)));
    d.index = per_backend[d.backend]++;
    d.software = looks_software(d.description);
    if (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU) {
        ggml_backend_dev_memory(dev, &d.memory_free, &d.memory_total);
    } else {
        std::lock_guard<std::mutex> turn(device_mutex(d.name));  // the driver may be busy with another model's work
        ggml_backend_dev_memory(dev, &d.memory_free, &d.memory_total);
    }
    return d;
}

bool computes(ggml_backend_dev_t dev) {
    const enum ggml_backend_dev_type type = ggml_backend_dev_type(dev);
    return type == GGML_BACKEND_DEVICE_TYPE_CPU || type == GGML_BACKEND_DEVICE_TYPE_GPU ||
           type == GGML_BACKEND_DEVICE_TYPE_IGPU;
}

bool moves_no_data(ggml_op op) {
    return op == GGML_OP_NONE || op == GGML_OP_VIEW || op == GGML_OP_RESHAPE || op == GGML_OP_PERMUTE || op == GGML_OP_TRANSPOSE;
}


}  // namespace

// One ggml backend per GPU for the whole process, shared by every model on it
// (they take turns: ComputeDevice::exclusive), with the pool its buffers come
// from. Two backends on one device would share its queue behind ggml's back.
struct SharedGpu {
    ggml_backend_t backend;
    std::unique_ptr<BufferPool> pool;
    ~SharedGpu() {
        pool.reset();  // no graph runs any more: the pooled memory can go
        ggml_backend_free(backend);
    }
};

namespace {

std::shared_ptr<SharedGpu> shared_gpu(ggml_backend_dev_t dev, const std::string & name) {
    static std::mutex registry_mutex;
    static std::map<std::string, std::weak_ptr<SharedGpu>> gpus;
    std::lock_guard<std::mutex> guard(registry_mutex);
    if (auto existing = gpus[name].lock()) return existing;
    ggml_backend_t backend = ggml_backend_dev_init(dev, nullptr);
    if (!backend) return nullptr;
    // released with the last model on the device, which holds the device's turn then
    auto shared = std::make_shared<SharedGpu>();
    shared->backend = backend;
    shared->pool = std::make_unique<BufferPool>(ggml_backend_get_default_buffer_type(backend));
    gpus[name] = shared;
    return shared;
}

// What the scheduler must hold: the graph's nodes and leaves (its inputs, the
// parameters), with room to spare. Not the graph's capacity: the scheduler
// reserves host memory in proportion (about 20 KiB per unit).
size_t scheduler_size(ggml_cgraph * graph) {
    std::set<const ggml_tensor *> nodes, leaves;
    const int n = ggml_graph_n_nodes(graph);
    for (int i = 0; i < n; i++) nodes.insert(ggml_graph_node(graph, i));
    for (int i = 0; i < n; i++)
        for (const ggml_tensor * src : ggml_graph_node(graph, i)->src)
            if (src && !nodes.count(src)) leaves.insert(src);
    return nodes.size() + leaves.size() + 64;
}

bool abort_requested(void * data) { return static_cast<std::atomic<bool> *>(data)->load(); }

}  // namespace

std::vector<DeviceDescription> list_devices() {
    std::vector<DeviceDescription> gpus, cpus;
    std::map<std::string, int> per_backend;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (!computes(dev)) continue;  // accelerators that only help the CPU (BLAS, AMX) are the CPU's business
        DeviceDescription d = describe(dev, per_backend);
        (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU ? cpus : gpus).push_back(d);
    }
    gpus.insert(gpus.end(), cpus.begin(), cpus.end());
    return gpus;
}

void CachedGraph::release() {
    if (sched) ggml_backend_sched_free(sched);
    if (allocr) ggml_gallocr_free(allocr);
    if (ctx) ggml_free(ctx);
    *this = CachedGraph{};
}

ggml_context * new_graph_context(size_t max_nodes) {
    ggml_init_params p = {ggml_tensor_overhead() * max_nodes + ggml_graph_overhead_custom(max_nodes, false), nullptr,
                          /*no_alloc*/ true};
    ggml_context * ctx = ggml_init(p);
    if (!ctx) throw EngineError("out of memory creating a graph");
    return ctx;
}

ComputeDevice::ComputeDevice(const std::string & name, int n_threads, bool portable) {
    ggml_backend_dev_t dev = ggml_backend_dev_by_name(name.c_str());
    if (!dev || !computes(dev)) {
        std::string known;
        for (const DeviceDescription & d : list_devices()) known += (known.empty() ? "" : ", ") + d.name;
        throw EngineError("no device named \"" + name + "\" in this build of the engine (it has: " + known + ")");
    }
    std::map<std::string, int> counts;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t other = ggml_backend_dev_get(i);
        if (!computes(other)) continue;
        DeviceDescription d = describe(other, counts);
        if (other == dev) description_ = d;
    }
    if (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_CPU) {
        backend_ = cpu_ = ggml_backend_dev_init(dev, nullptr);
    } else {
        {
            std::lock_guard<std::mutex> turn(device_mutex(name));  // others may be computing on it
            gpu_ = shared_gpu(dev, name);
        }
        backend_ = gpu_ ? gpu_->backend : nullptr;
        cpu_ = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, nullptr);
        if (!cpu_ && backend_) throw EngineError("could not start ggml's CPU backend beside " + description_.name);
    }
    if (!backend_) throw EngineError("could not start " + description_.name + " (" + description_.description + ")");
    portable_ = portable || !is_cpu();
    set_threads(n_threads);
}

ComputeDevice::~ComputeDevice() {
    if (cpu_) ggml_backend_free(cpu_);  // a GPU backend goes with the last model on it (gpu_)
}

ggml_backend_buffer_type_t ComputeDevice::buffer_type() const {
    return gpu_ ? gpu_->pool->buffer_type() : huge_page_buffer_type();
}

void ComputeDevice::set_threads(int n_threads) {
    if (n_threads < 1 || n_threads > limits::kMaxThreads)
        throw EngineError("threads must be between 1 and " + std::to_string(limits::kMaxThreads) + ", got " + std::to_string(n_threads));
    ggml_backend_cpu_set_n_threads(cpu_, n_threads);
}

void ComputeDevice::plan(CachedGraph & g) {
    if (!portable_) {
        g.allocr = ggml_gallocr_new(buffer_type());
        if (!ggml_gallocr_alloc_graph(g.allocr, g.graph)) throw EngineError("out of memory allocating the compute graph");
        return;
    }
    ggml_backend_t backends[2] = {backend_, cpu_};
    ggml_backend_buffer_type_t bufts[2] = {buffer_type(), ggml_backend_get_default_buffer_type(cpu_)};
    const int n_backends = is_cpu() ? 1 : 2;
    g.sched = ggml_backend_sched_new(backends, bufts, n_backends, scheduler_size(g.graph), false, false);
    if (!g.sched) throw EngineError("could not create ggml's scheduler");
    if (!ggml_backend_sched_alloc_graph(g.sched, g.graph))
        throw EngineError("out of memory allocating the compute graph on " + description_.name + " (" + description_.description + ")");
    if (is_cpu()) return;
    for (int i = 0; i < ggml_graph_n_nodes(g.graph); i++) {
        ggml_tensor * node = ggml_graph_node(g.graph, i);
        if (moves_no_data(node->op)) continue;
        if (ggml_backend_sched_get_tensor_backend(g.sched, node) == cpu_) fallback_ops_.insert(ggml_op_desc(node));
    }
}

std::unique_lock<std::mutex> ComputeDevice::exclusive() const {
    if (is_cpu()) return {};
    return std::unique_lock<std::mutex>(device_mutex(description_.name));
}

ggml_status ComputeDevice::compute(CachedGraph & g, std::atomic<bool> * cancel) {
    ggml_backend_cpu_set_abort_callback(cpu_, cancel ? abort_requested : nullptr, cancel);
    if (!g.sched) return op_profile_enabled() ? op_profile_compute(backend_, g.graph) : ggml_backend_graph_compute(backend_, g.graph);
    // A GPU graph runs to its end, and a cancel request stops a GPU run between
    // graphs: the caller sees it when this one ends. (The scheduler's per-node
    // callback could stop it between nodes, at the price of waiting for the device
    // at every check; it is not used.)
    if (cancel && cancel->load()) return GGML_STATUS_ABORTED;
    return ggml_backend_sched_graph_compute(g.sched, g.graph);
}

}  // namespace tweetsmith
