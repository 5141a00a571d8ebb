// Just enough JSON to read a safetensors header: objects, arrays, strings,
// numbers, true/false/null. Parsing errors say at which byte they happened.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tweetsmith {

struct JsonValue {
    enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
    bool boolean = false;
    double number = 0.0;
    std::string string;
    std::vector<JsonValue> array;
    std::map<std::string, JsonValue> object;

    const JsonValue * find(const std::string & key) const {
        auto it = object.find(key);
        return it == object.end() ? nullptr : &it->second;
    }
};

// Throws EngineError("<what>: invalid JSON at byte N: ...").
JsonValue parse_json(const std::string & text, const std::string & what);

}  // namespace tweetsmith
