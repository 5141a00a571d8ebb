// Numbers a custom ggml node carries for its kernel (an epilogue's scale, a mode),
// kept in the node's op_params after the record ggml_custom_4d writes there: the
// kernel reads them when the graph runs, with nothing allocated beside the graph.
#pragma once
#include "ggml-impl.h"  // ggml_custom_op_params: what ggml keeps at the start of a custom node's op_params

#include <cstring>
#include <type_traits>

namespace tweetsmith {

constexpr size_t kCustomExtrasAt = 32;

template <class T>
void set_custom_extras(ggml_tensor * node, const T & extras) {
    static_assert(std::is_trivially_copyable_v<T>, "plain numbers only");
    static_assert(sizeof(ggml_custom_op_params) <= kCustomExtrasAt && kCustomExtrasAt + sizeof(T) <= GGML_MAX_OP_PARAMS,
                  "the node's op_params hold ggml's custom-op record and the extras");
    std::memcpy(reinterpret_cast<char *>(node->op_params) + kCustomExtrasAt, &extras, sizeof extras);
}

template <class T>
T custom_extras(const ggml_tensor * node) {
    T extras;
    std::memcpy(&extras, reinterpret_cast<const char *>(node->op_params) + kCustomExtrasAt, sizeof extras);
    return extras;
}

}  // namespace tweetsmith
