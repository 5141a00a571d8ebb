// Errors the engine reports to its caller. Every message names what is wrong
// (the file, the tensor, the option) so that the user can act on it.
#pragma once
#include <stdexcept>
#include <string>

namespace tweetsmith {

struct EngineError : std::runtime_error {
    explicit EngineError(const std::string & message) : std::runtime_error(message) {}
};

// A long call stopped because its caller asked it to.
struct CancelledError : EngineError {
    CancelledError() : EngineError("cancelled") {}
};

}  // namespace tweetsmith
