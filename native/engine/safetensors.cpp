#include "safetensors.h"

#include "engine_error.h"
#include "json_value.h"

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

size_t dtype_size(const std::string & dtype) {
    if (dtype == "F32") return 4;
    if (dtype == "F16" || dtype == "BF16") return 2;
    return 0;
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

    JsonValue root = parse_json(header, path + " header");
    if (root.kind != JsonValue::Kind::Object) throw EngineError(path + ": the header is not a JSON object");
    std::map<std::string, TensorRecord> records;
    for (const auto & [name, v] : root.object) {
        if (name == "__metadata__") continue;
        auto bad = [&](const std::string & why) { return EngineError(path + ": tensor " + name + ": " + why); };
        const JsonValue * dtype = v.find("dtype");
        const JsonValue * shape = v.find("shape");
        const JsonValue * offsets = v.find("data_offsets");
        if (!dtype || dtype->kind != JsonValue::Kind::String || !shape || shape->kind != JsonValue::Kind::Array || !offsets ||
            offsets->kind != JsonValue::Kind::Array || offsets->array.size() != 2)
            throw bad("header entry lacks dtype, shape or data_offsets");
        TensorRecord r;
        r.dtype = dtype->string;
        uint64_t count = 1;
        for (const auto & d : shape->array) {
            if (d.kind != JsonValue::Kind::Number || d.number < 0) throw bad("bad shape");
            r.shape.push_back(int64_t(d.number));
            count *= uint64_t(d.number);
        }
        r.begin = uint64_t(offsets->array[0].number);
        r.end = uint64_t(offsets->array[1].number);
        if (r.end < r.begin || r.end > data_size)
            throw bad("data [" + std::to_string(r.begin) + ", " + std::to_string(r.end) + ") lies beyond the " +
                      std::to_string(data_size) + " bytes of data in the file (truncated?)");
        const size_t es = dtype_size(r.dtype);
        if (es && r.end - r.begin != count * es)
            throw bad("holds " + std::to_string(r.end - r.begin) + " bytes but " + r.dtype + " " + shape_text(r.shape) +
                      " needs " + std::to_string(count * es));
        records[name] = std::move(r);
    }
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
        if (!es) throw EngineError(path + ": tensor " + it->first + " has dtype " + r.dtype + "; only F32, F16 and BF16 are supported");
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
