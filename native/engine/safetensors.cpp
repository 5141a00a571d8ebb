#include "safetensors.h"

#include "engine_error.h"
#include "json_value.h"
#include "limits.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

namespace tweetsmith {
namespace {

struct TensorRecord {
    std::string dtype;
    std::vector<int64_t> shape;
    uint64_t begin = 0, end = 0;
};

std::string shape_text(const std::vector<int64_t> & shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Bytes per element of the dtypes the format defines; 0 for a name it does not.
// Only F32, F16 and BF16 can be loaded, but any tensor's size is checked.
size_t dtype_size(const std::string & dtype) {
    static const std::map<std::string, size_t> sizes = {
        {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I64", 8}, {"U64", 8},
        {"I32", 4}, {"U32", 4}, {"I16", 2}, {"U16", 2}, {"I8", 1}, {"U8", 1}, {"BOOL", 1},
    };
    auto it = sizes.find(dtype);
    return it == sizes.end() ? 0 : it->second;
}

bool loadable(const std::string & dtype) { return dtype == "F32" || dtype == "F16" || dtype == "BF16"; }

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool valid_utf8(const std::string & s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const unsigned char c = (unsigned char)s[i];
        size_t extra;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
        else return false;
        if (n - i <= extra) return false;
        for (size_t k = 1; k <= extra; k++) {
            const unsigned char d = (unsigned char)s[i + k];
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += extra + 1;
    }
    return true;
}

// A JSON number that is a non-negative integer a double holds exactly: up to 2^53 - 1,
// as lib/model/safetensors.ts reads it. (The format's offsets and dimensions are
// u64; beyond 2^53 they would not survive most JSON writers, and no real file comes near.)
bool as_size(const JsonValue & v, uint64_t & out) {
    if (v.kind != JsonValue::Kind::Number || !(v.number >= 0.0) || v.number > 9007199254740991.0 || v.number != std::floor(v.number))
        return false;
    out = uint64_t(v.number);
    return true;
}

float half_to_float(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while (!(mant & 0x400)) { mant <<= 1; exp--; }
            bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7F800000 | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float bf16_to_float(uint16_t b) {
    const uint32_t bits = uint32_t(b) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

std::map<std::string, TensorRecord> read_header(std::ifstream & in, const std::string & path, uint64_t file_size,
                                                uint64_t & data_start) {
    unsigned char len_bytes[8];
    if (file_size < 8 || !in.read(reinterpret_cast<char *>(len_bytes), 8))
        throw EngineError(path + ": not a safetensors file (shorter than its 8-byte header length)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = (n << 8) | len_bytes[i];
    if (n > 100u * 1024 * 1024 || n + 8 > file_size)
        throw EngineError(path + ": not a safetensors file or truncated (header length " + std::to_string(n) +
                          " does not fit in the file's " + std::to_string(file_size) + " bytes)");
    std::string header(size_t(n), '\0');
    if (!in.read(header.data(), std::streamsize(n))) throw EngineError(path + ": could not read the header");
    data_start = 8 + n;
    const uint64_t data_size = file_size - data_start;

    if (!valid_utf8(header)) throw EngineError(path + ": the header is not valid UTF-8 (not a safetensors file?)");
    JsonValue root = parse_json(header, path + " header");
    if (root.kind != JsonValue::Kind::Object) throw EngineError(path + ": the header is not a JSON object");
    std::map<std::string, TensorRecord> records;
    for (const auto & [name, v] : root.object) {
        if (name == "__metadata__") {
            if (v.kind != JsonValue::Kind::Object) throw EngineError(path + ": __metadata__ is not a JSON object");
            continue;
        }
        auto bad = [&](const std::string & why) { return EngineError(path + ": tensor " + name + ": " + why); };
        if (v.kind != JsonValue::Kind::Object) throw bad("the header entry is not a JSON object");
        const JsonValue * dtype = v.find("dtype");
        const JsonValue * shape = v.find("shape");
        const JsonValue * offsets = v.find("data_offsets");
        if (!dtype || dtype->kind != JsonValue::Kind::String || !shape || shape->kind != JsonValue::Kind::Array || !offsets ||
            offsets->kind != JsonValue::Kind::Array || offsets->array.size() != 2)
            throw bad("header entry lacks dtype, shape or data_offsets");
        TensorRecord r;
        r.dtype = dtype->string;
        const size_t es = dtype_size(r.dtype);
        if (!es) throw bad("unknown dtype \"" + r.dtype + "\"");
        if (shape->array.size() > 8) throw bad("shape has " + std::to_string(shape->array.size()) + " dimensions");
        // the element count and byte size, checked: a product that wraps could match a small range
        std::optional<int64_t> bytes = int64_t(es);
        for (const auto & d : shape->array) {
            uint64_t n;
            if (!as_size(d, n)) throw bad("shape holds something other than non-negative integers");
            r.shape.push_back(int64_t(n));
            bytes = bytes ? limits::checked_mul(*bytes, int64_t(n)) : std::nullopt;
        }
        if (!bytes) throw bad("shape " + shape_text(r.shape) + " has more than 2^63 bytes");
        if (!as_size(offsets->array[0], r.begin) || !as_size(offsets->array[1], r.end))
            throw bad("data_offsets are not two non-negative integers");
        if (r.end < r.begin || r.end > data_size)
            throw bad("data [" + std::to_string(r.begin) + ", " + std::to_string(r.end) + ") lies beyond the " +
                      std::to_string(data_size) + " bytes of data in the file (truncated?)");
        if (r.end - r.begin != uint64_t(*bytes))
            throw bad("holds " + std::to_string(r.end - r.begin) + " bytes but " + r.dtype + " " + shape_text(r.shape) +
                      " needs " + std::to_string(*bytes));
        records[name] = std::move(r);
    }
    // no two tensors share bytes (writing one would change another)
    std::vector<std::pair<uint64_t, const std::string *>> by_start;
    for (const auto & [name, r] : records)
        if (r.end > r.begin) by_start.push_back({r.begin, &name});
    std::sort(by_start.begin(), by_start.end());
    for (size_t i = 1; i < by_start.size(); i++)
        if (by_start[i].first < records.at(*by_start[i - 1].second).end)
            throw EngineError(path + ": tensors " + *by_start[i - 1].second + " and " + *by_start[i].second + " overlap in the file");
    return records;
}

}  // namespace

void load_safetensors(const std::string & path, ParameterSet & params) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw EngineError(path + ": cannot open (" + std::strerror(errno) + ")");
    const uint64_t file_size = uint64_t(in.tellg());
    in.seekg(0);
    uint64_t data_start = 0;
    const auto records = read_header(in, path, file_size, data_start);

    std::vector<unsigned char> raw;
    std::vector<float> values;
    for (const ParameterEntry & e : params.entries()) {
        auto it = records.find(e.name);
        if (it == records.end()) it = records.find("transformer." + e.name);
        if (it == records.end())
            throw EngineError(path + ": tensor " + e.name + " is missing (expected shape " + shape_text(e.hf_shape) +
                              "); is this a GPT-2 checkpoint matching config.json?");
        const TensorRecord & r = it->second;
        if (r.shape != e.hf_shape)
            throw EngineError(path + ": tensor " + it->first + " has shape " + shape_text(r.shape) + " but config.json implies " +
                              shape_text(e.hf_shape));
        const size_t es = dtype_size(r.dtype);
        if (!loadable(r.dtype)) throw EngineError(path + ": tensor " + it->first + " has dtype " + r.dtype + "; only F32, F16 and BF16 are supported");
        const size_t n = size_t(ggml_nelements(e.tensor));
        raw.resize(n * es);
        in.seekg(std::streamoff(data_start + r.begin));
        if (!in.read(reinterpret_cast<char *>(raw.data()), std::streamsize(raw.size())))
            throw EngineError(path + ": tensor " + it->first + ": read failed (file truncated?)");
        values.resize(n);
        if (r.dtype == "F32") std::memcpy(values.data(), raw.data(), n * 4);
        else {
            const bool bf16 = r.dtype == "BF16";
            for (size_t i = 0; i < n; i++) {
                uint16_t h;
                std::memcpy(&h, raw.data() + 2 * i, 2);
                values[i] = bf16 ? bf16_to_float(h) : half_to_float(h);
            }
        }
        params.write_hf_layout(e, values.data());
    }
}

void save_safetensors(const std::string & path, const ParameterSet & params) {
    std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
    uint64_t offset = 0;
    for (const ParameterEntry & e : params.entries()) {
        const uint64_t bytes = uint64_t(ggml_nelements(e.tensor)) * 4;
        header += ",\"" + e.name + "\":{\"dtype\":\"F32\",\"shape\":[";
        for (size_t i = 0; i < e.hf_shape.size(); i++) header += (i ? "," : "") + std::to_string(e.hf_shape[i]);
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
        offset += bytes;
    }
    header += "}";
    while ((8 + header.size()) % 8) header += ' ';  // keep the data 8-byte aligned, as other writers do

    const std::string tmp = path + ".partial";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw EngineError(tmp + ": cannot create (" + std::strerror(errno) + ")");
        unsigned char len_bytes[8];
        uint64_t n = header.size();
        for (int i = 0; i < 8; i++) len_bytes[i] = (unsigned char)((n >> (8 * i)) & 0xFF);
        out.write(reinterpret_cast<char *>(len_bytes), 8);
        out.write(header.data(), std::streamsize(header.size()));
        for (const ParameterEntry & e : params.entries()) {
            const std::vector<float> values = params.read_hf_layout(e);
            out.write(reinterpret_cast<const char *>(values.data()), std::streamsize(values.size() * 4));
        }
        out.flush();
        if (!out) {
            std::remove(tmp.c_str());
            throw EngineError(path + ": write failed (disk full?)");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw EngineError(path + ": cannot rename the finished file into place (" + std::strerror(errno) + ")");
    }
}

}  // namespace tweetsmith
