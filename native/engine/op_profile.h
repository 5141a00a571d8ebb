// Per-operation timings of the CPU's graphs, for finding where a training step's
// time goes (perf is often refused in containers). Off unless the environment
// sets TWEETSMITH_PROFILE_OPS=1: then each CPU graph runs one node at a time,
// every node is timed, and the totals per kind of operation (op, types, shape)
// are printed to stderr every TWEETSMITH_PROFILE_OPS_EVERY graphs (default 1).
// Running node by node adds a thread-pool start per node, so the totals include
// a few microseconds per node more than a normal run.
#pragma once
#include <ggml-backend.h>
#include <ggml.h>

namespace tweetsmith {

bool op_profile_enabled();
// Computes `graph` on the CPU backend node by node, timing each.
ggml_status op_profile_compute(ggml_backend_t backend, ggml_cgraph * graph);

}  // namespace tweetsmith
