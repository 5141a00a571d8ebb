#include "op_profile.h"

#include "ggml-impl.h"  // ggml_graph_view

#if defined(__GNUC__) && !defined(_WIN32)
#include <cxxabi.h>
#include <dlfcn.h>
#define TWEETSMITH_SYMBOL_NAMES 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tweetsmith {
namespace {

struct Totals {
    double seconds = 0;
    long count = 0;
};

std::mutex mutex;
std::map<std::string, Totals> totals;
long graphs = 0;

// A custom operation's kernel, by its symbol's name (ggml keeps its function
// pointer first in the node's op_params).
std::string custom_name(const ggml_tensor * node) {
#ifndef TWEETSMITH_SYMBOL_NAMES
    (void)node;
    return "custom";
#else
    void * fun = *reinterpret_cast<void * const *>(node->op_params);
    Dl_info info{};
    if (!fun || !dladdr(fun, &info) || !info.dli_sname) return "custom";
    int status = 0;
    char * demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
    std::string name = status == 0 && demangled ? demangled : info.dli_sname;
    std::free(demangled);
    const size_t paren = name.find('(');
    if (paren != std::string::npos) name.resize(paren);
    const size_t colon = name.rfind("::");
    return colon == std::string::npos ? name : name.substr(colon + 2);
#endif
}

std::string label(const ggml_tensor * node) {
    std::string op = ggml_op_desc(node);
    if (node->op == GGML_OP_CUSTOM || node->op == GGML_OP_MAP_CUSTOM1 || node->op == GGML_OP_MAP_CUSTOM2 ||
        node->op == GGML_OP_MAP_CUSTOM3)
        op += " " + custom_name(node);
    char text[320];
    if (node->op == GGML_OP_MUL_MAT) {
        const ggml_tensor * a = node->src[0];
        const ggml_tensor * b = node->src[1];
        std::snprintf(text, sizeof text, "%s %s x %s k=%lld m=%lld n=%lld batch=%lld", op.c_str(), ggml_type_name(a->type),
                      ggml_type_name(b->type), (long long)a->ne[0], (long long)a->ne[1], (long long)b->ne[1],
                      (long long)(b->ne[2] * b->ne[3]));
    } else if (node->op == GGML_OP_CUSTOM && node->src[0]) {
        // the operands' shapes and strides (in elements) tell the custom products and packs apart
        auto operand = [](const ggml_tensor * t) {
            char part[96];
            const size_t size = ggml_type_size(t->type);
            std::snprintf(part, sizeof part, "%s [%lld,%lld,%lld] strides [%lld,%lld]", ggml_type_name(t->type), (long long)t->ne[0],
                          (long long)t->ne[1], (long long)(t->ne[2] * t->ne[3]), (long long)(t->nb[0] / size), (long long)(t->nb[1] / size));
            return std::string(part);
        };
        const std::string b = node->src[1] ? "  src1 " + operand(node->src[1]) : "";
        std::snprintf(text, sizeof text, "%s -> %s  src0 %s%s", op.c_str(), ggml_type_name(node->type), operand(node->src[0]).c_str(),
                      b.c_str());
    } else {
        std::snprintf(text, sizeof text, "%s -> %s", op.c_str(), ggml_type_name(node->type));
    }
    return text;
}

void report() {
    std::vector<std::pair<std::string, Totals>> rows(totals.begin(), totals.end());
    double all = 0;
    for (auto & r : rows) all += r.second.seconds;
    std::sort(rows.begin(), rows.end(), [](auto & a, auto & b) { return a.second.seconds > b.second.seconds; });
    std::fprintf(stderr, "op profile after %ld graphs: %.3f s in nodes\n", graphs, all);
    for (auto & r : rows)
        std::fprintf(stderr, "  %6.2f%% %9.3f s %6ld  %s\n", 100 * r.second.seconds / all, r.second.seconds, r.second.count, r.first.c_str());
}

}  // namespace

bool op_profile_enabled() {
    static const bool enabled = [] {
        const char * v = std::getenv("TWEETSMITH_PROFILE_OPS");
        return v && *v && std::string(v) != "0";
    }();
    return enabled;
}

ggml_status op_profile_compute(ggml_backend_t backend, ggml_cgraph * graph) {
    std::lock_guard<std::mutex> lock(mutex);
    for (int i = 0; i < ggml_graph_n_nodes(graph); i++) {
        ggml_tensor * node = ggml_graph_node(graph, i);
        ggml_cgraph view = ggml_graph_view(graph, i, i + 1);
        const auto start = std::chrono::steady_clock::now();
        const ggml_status status = ggml_backend_graph_compute(backend, &view);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (status != GGML_STATUS_SUCCESS) return status;
        Totals & t = totals[label(node)];
        t.seconds += s;
        t.count++;
    }
    graphs++;
    static const long every = [] {
        const char * v = std::getenv("TWEETSMITH_PROFILE_OPS_EVERY");
        return v ? std::max(1L, std::atol(v)) : 1L;
    }();
    if (graphs % every == 0) report();
    return GGML_STATUS_SUCCESS;
}

}  // namespace tweetsmith
