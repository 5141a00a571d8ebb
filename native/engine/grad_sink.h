// Where a backward pass puts its parameter gradients: each contribution is added
// in place into the persistent gradient tensor, so gradients accumulate across
// micro-batches until the optimizer zeroes them. A tensor that receives several
// contributions (the tied wte: output layer and embedding) gets them chained, so
// the graph orders the in-place updates.
#pragma once
#include <ggml.h>

#include <map>
#include <vector>

namespace tweetsmith {

struct GradSink {
    ggml_context * ctx;
    std::map<ggml_tensor *, ggml_tensor *> latest;  // grad tensor -> its most recent in-place update
    std::vector<ggml_tensor *> updates;              // every update node, to expand into the graph

    ggml_tensor * current(ggml_tensor * grad) {
        auto it = latest.find(grad);
        return it == latest.end() ? grad : it->second;
    }
    void accumulate(ggml_tensor * grad, ggml_tensor * contribution) {
        record(grad, ggml_add_inplace(ctx, current(grad), contribution));
    }
    void record(ggml_tensor * grad, ggml_tensor * update) {
        latest[grad] = update;
        updates.push_back(update);
    }
};

}  // namespace tweetsmith
