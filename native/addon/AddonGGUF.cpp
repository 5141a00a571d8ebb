#include "AddonGGUF.h"

#include "convert.h"
#include "gguf_export.h"
#include "promise_worker.h"

#include <memory>

namespace tweetsmith::addon {

namespace {

std::vector<std::string> strings_from_js(const Napi::Object & o, const char * key) {
    Napi::Value v = o.Get(key);
    if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + " must be an array of strings");
    Napi::Array a = v.As<Napi::Array>();
    std::vector<std::string> out;
    out.reserve(a.Length());
    for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value s = a.Get(i);
        if (!s.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option ") + key + "[" + std::to_string(i) + "] must be a string");
        out.push_back(s.As<Napi::String>().Utf8Value());
    }
    return out;
}

GGUFWeightType weight_type_from_js(const Napi::Object & o) {
    const std::string t = string_option(o, "type", "f32");
    if (t == "f32") return GGUFWeightType::F32;
    if (t == "f16") return GGUFWeightType::F16;
    if (t == "q8_0") return GGUFWeightType::Q8_0;
    throw Napi::TypeError::New(o.Env(), "option type must be f32, f16 or q8_0, not " + t);
}

}  // namespace

// exportGGUF({config, weightsPath, type, tokens, tokenTypes: Int32Array, merges,
//             bosId, eosId, name, generatorVersion}, path)
//   → Promise<{bytes, tensorTypes: {[ggmlType]: count}}>
Napi::Value ExportGGUF(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[1].IsString()) throw Napi::TypeError::New(env, "exportGGUF(spec, path)");
    const Napi::Object o = info[0].As<Napi::Object>();
    auto spec = std::make_shared<GGUFExportSpec>();
    if (!o.Get("config").IsObject()) throw Napi::TypeError::New(env, "option config must be an object");
    spec->config = config_from_js(o.Get("config").As<Napi::Object>());
    spec->weights_path = string_option(o, "weightsPath", "");
    spec->type = weight_type_from_js(o);
    spec->vocab.tokens = strings_from_js(o, "tokens");
    spec->vocab.token_types = tokens_from_js(o.Get("tokenTypes"), "option tokenTypes");
    spec->vocab.merges = strings_from_js(o, "merges");
    spec->vocab.bos_id = int32_t(integer_option(o, "bosId", -1));
    spec->vocab.eos_id = int32_t(integer_option(o, "eosId", -1));
    spec->name = string_option(o, "name", "");
    spec->generator_version = string_option(o, "generatorVersion", "");
    const std::string path = info[1].As<Napi::String>().Utf8Value();
    auto result = std::make_shared<GGUFExportResult>();
    return PromiseWorker::Run(
        env, [spec, path, result] { *result = export_gguf(*spec, path); },
        [result](Napi::Env e) {
            Napi::Object out = Napi::Object::New(e);
            out.Set("bytes", double(result->bytes));
            Napi::Object types = Napi::Object::New(e);
            for (const auto & [name, n] : result->tensor_types) types.Set(name, n);
            out.Set("tensorTypes", types);
            return Napi::Value(out);
        },
        [] {});
}

// inspectGGUF(path) → {isGGUF, generatorVersion}: synchronous, reads only the header.
Napi::Value InspectGGUF(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "inspectGGUF(path)");
    const GGUFFileKind kind = inspect_gguf(info[0].As<Napi::String>().Utf8Value());
    Napi::Object out = Napi::Object::New(env);
    out.Set("isGGUF", kind.is_gguf);
    out.Set("generatorVersion", kind.generator_version);
    return out;
}

}  // namespace tweetsmith::addon
