#include "AddonModel.h"

#include "convert.h"
#include "promise_worker.h"
#include "sampling_weights.h"

namespace tweetsmith::addon {

namespace {

// Marks the JS objects that really wrap an AddonModel: napi_unwrap alone would take
// an AdamW or a Generator for one and read it as a Model.
constexpr napi_type_tag kModelTag = {0x7477656574736d69ULL, 0x6d6f64656c000001ULL};

}  // namespace

Napi::Function AddonModel::Define(Napi::Env env) {
    return DefineClass(env, "Model",
                       {
                           InstanceMethod("initRandom", &AddonModel::InitRandom),
                           InstanceMethod("load", &AddonModel::Load),
                           InstanceMethod("save", &AddonModel::Save),
                           InstanceMethod("logits", &AddonModel::Logits),
                           InstanceMethod("cachedLogits", &AddonModel::CachedLogits),
                           InstanceMethod("deviceInfo", &AddonModel::DeviceInfo),
                           InstanceMethod("weightsInfo", &AddonModel::WeightsInfo),
                           InstanceMethod("forwardBackward", &AddonModel::ForwardBackward),
                           InstanceMethod("loss", &AddonModel::Loss),
                           InstanceMethod("zeroGrads", &AddonModel::ZeroGrads),
                           InstanceMethod("readTensors", &AddonModel::ReadTensors),
                           InstanceMethod("writeTensor", &AddonModel::WriteTensor),
                           InstanceMethod("setThreads", &AddonModel::SetThreads),
                           InstanceMethod("setPrecision", &AddonModel::SetPrecision),
                           InstanceMethod("cancel", &AddonModel::Cancel),
                           InstanceMethod("dispose", &AddonModel::Dispose),
                           InstanceMethod("enableLora", &AddonModel::EnableLora),
                           InstanceMethod("readLora", &AddonModel::ReadLora),
                           InstanceMethod("writeLora", &AddonModel::WriteLora),
                           InstanceMethod("mergeLora", &AddonModel::MergeLora),
                           InstanceMethod("setLoraDropoutSeed", &AddonModel::SetLoraDropoutSeed),
                       });
}

// new Model(config, threads, { device?: "CPU" | "Vulkan0" | …, portable?: boolean })
AddonModel::AddonModel(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AddonModel>(info) {
    Napi::Env env = info.Env();
    info.This().As<Napi::Object>().TypeTag(&kModelTag);
    if (!info[0].IsObject() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "new Model(config, threads, options?)");
    const int threads = int(integer_arg(info, 1, "threads", 1, limits::kMaxThreads));
    if (!info[2].IsUndefined() && !info[2].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    Napi::Object o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
    const std::string device = string_option(o, "device", "CPU");
    const Napi::Value portable = o.Get("portable");
    if (!portable.IsUndefined() && !portable.IsBoolean()) throw Napi::TypeError::New(env, "option portable must be a boolean");
    try {
        slot_->model = std::make_unique<GPT2Model>(config_from_js(info[0].As<Napi::Object>()), threads, device, portable.IsBoolean() && portable.As<Napi::Boolean>().Value());
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
}

AddonModel * AddonModel::Unwrap(const Napi::Value & v) {
    if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kModelTag)) throw Napi::TypeError::New(v.Env(), "expected a Model");
    return Napi::ObjectWrap<AddonModel>::Unwrap(v.As<Napi::Object>());
}


Napi::Value AddonModel::RunOnModel(Napi::Env env, std::function<void(GPT2Model &)> work) {
    GPT2Model * m = &slot_->begin_call(env);
    return PromiseWorker::Run(
        env, slot_->on_device([m, work] { work(*m); }), [](Napi::Env e) { return e.Undefined(); }, [slot = slot_] { slot->end_call(); },
        {Value()});
}

// initRandom(seed): Promise<void>
Napi::Value AddonModel::InitRandom(const Napi::CallbackInfo & info) {
    const uint64_t seed = uint64_t(integer_arg(info, 0, "seed", 0, kMaxSafeInteger));
    return RunOnModel(info.Env(), [seed](GPT2Model & m) { m.init_random(seed); });
}

// load(path): Promise<void>
Napi::Value AddonModel::Load(const Napi::CallbackInfo & info) {
    const std::string path = string_arg(info, 0, "path");
    return RunOnModel(info.Env(), [path](GPT2Model & m) { m.load(path); });
}

// save(path): Promise<void>
Napi::Value AddonModel::Save(const Napi::CallbackInfo & info) {
    const std::string path = string_arg(info, 0, "path");
    return RunOnModel(info.Env(), [path](GPT2Model & m) { m.save(path); });
}

// logits(tokens: Int32Array): Promise<Float32Array> [T * vocab]
Napi::Value AddonModel::Logits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto tokens = std::make_shared<std::vector<int32_t>>(tokens_from_js(info[0], "tokens"));
    auto out = std::make_shared<std::vector<float>>();
    GPT2Model * m = &slot_->begin_call(env);
    return PromiseWorker::Run(
        env, slot_->on_device([m, tokens, out] { *out = m->logits(tokens->data(), int64_t(tokens->size())); }),
        [out](Napi::Env e) { return float32_to_js(e, *out); }, [slot = slot_] { slot->end_call(); }, {Value()});
}

// cachedLogits(tokens: Int32Array, promptLength): Promise<Float32Array> [T * vocab]
Napi::Value AddonModel::CachedLogits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto tokens = std::make_shared<std::vector<int32_t>>(tokens_from_js(info[0], "tokens"));
    const int64_t prompt_length = integer_arg(info, 1, "promptLength", -kMaxSafeInteger, kMaxSafeInteger);  // the engine checks its range
    auto out = std::make_shared<std::vector<float>>();
    GPT2Model * m = &slot_->begin_call(env);
    return PromiseWorker::Run(
        env, slot_->on_device([m, tokens, prompt_length, out] { *out = m->cached_logits(tokens->data(), int64_t(tokens->size()), prompt_length); }),
        [out](Napi::Env e) { return float32_to_js(e, *out); }, [slot = slot_] { slot->end_call(); }, {Value()});
}

// deviceInfo(): { name, description, backend, portable, fallbackOps }
// weightsInfo(): { bytes: the parameters' buffer, baseType: "f32" | "bf16" | "f16" (the block matrices') }
Napi::Value AddonModel::WeightsInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const ParameterSet & p = slot_->get(env).params();
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytes", double(p.bytes()));
    o.Set("baseType", ggml_type_name(p.matrix_type()));
    return o;
}

Napi::Value AddonModel::DeviceInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ComputeDevice & d = slot_->get(env).device();
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", d.description().name);
    o.Set("description", d.description().description);
    o.Set("backend", d.description().backend);
    o.Set("portable", d.portable());
    Napi::Array ops = Napi::Array::New(env);
    uint32_t i = 0;
    for (const std::string & op : d.fallback_ops()) ops.Set(i++, op);
    o.Set("fallbackOps", ops);
    return o;
}

// forwardBackward(tokens: Int32Array, T, B, scale): Promise<number> (mean loss)
Napi::Value AddonModel::ForwardBackward(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto tokens = std::make_shared<std::vector<int32_t>>(tokens_from_js(info[0], "tokens"));
    const int64_t T = integer_arg(info, 1, "T", 1, kMaxSafeInteger), B = integer_arg(info, 2, "B", 1, kMaxSafeInteger);
    const double scale = number_arg(info, 3, "scale");
    check_batch_shape(env, T, B, tokens->size());
    auto loss = std::make_shared<double>(0.0);
    GPT2Model * m = &slot_->begin_call(env);
    return PromiseWorker::Run(
        env, slot_->on_device([m, tokens, T, B, scale, loss] { *loss = m->forward_backward(tokens->data(), T, B, scale); }),
        [loss](Napi::Env e) { return Napi::Number::New(e, *loss); }, [slot = slot_] { slot->end_call(); }, {Value()});
}

// loss(tokens: Int32Array, T, B, weights?: 'f32' | 'f16' | 'bf16' | 'q8_0'): Promise<number> (mean loss, no gradients)
Napi::Value AddonModel::Loss(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    auto tokens = std::make_shared<std::vector<int32_t>>(tokens_from_js(info[0], "tokens"));
    const int64_t T = integer_arg(info, 1, "T", 1, kMaxSafeInteger), B = integer_arg(info, 2, "B", 1, kMaxSafeInteger);
    check_batch_shape(env, T, B, tokens->size());
    ggml_type weights = GGML_TYPE_F32;
    if (!info[3].IsUndefined() && !info[3].IsString()) throw Napi::TypeError::New(env, "weights must be a string");
    try {
        if (info[3].IsString()) weights = sampling_weight_type(info[3].As<Napi::String>().Utf8Value());
    } catch (const std::exception & e) {
        throw Napi::RangeError::New(env, e.what());
    }
    auto loss = std::make_shared<double>(0.0);
    GPT2Model * m = &slot_->begin_call(env);
    return PromiseWorker::Run(
        env, slot_->on_device([m, tokens, T, B, weights, loss] { *loss = m->loss(tokens->data(), T, B, weights); }),
        [loss](Napi::Env e) { return Napi::Number::New(e, *loss); }, [slot = slot_] { slot->end_call(); }, {Value()});
}

Napi::Value AddonModel::ZeroGrads(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    slot_->get(env).zero_grads();
    return env.Undefined();
}

// readTensors("param" | "grad"): { [hfName]: Float32Array } in the safetensors layout
Napi::Value AddonModel::ReadTensors(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    const std::string which = string_arg(info, 0, "which");
    if (which != "param" && which != "grad") throw Napi::RangeError::New(env, "readTensors takes 'param' or 'grad'");
    ParameterSet & set = which == "grad" ? slot_->get(env).grads() : slot_->get(env).params();
    Napi::Object out = Napi::Object::New(env);
    for (const ParameterEntry & e : set.entries()) out.Set(e.name, float32_to_js(env, set.read_hf_layout(e)));
    return out;
}

// writeTensor(hfName, Float32Array) in the safetensors layout
Napi::Value AddonModel::WriteTensor(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    const std::string name = string_arg(info, 0, "name");
    const ParameterEntry * e = slot_->get(env).params().find(name);
    if (!e) throw Napi::Error::New(env, "no parameter named " + name);
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throw Napi::TypeError::New(env, "values must be a Float32Array");
    Napi::Float32Array values = info[1].As<Napi::Float32Array>();
    if (int64_t(values.ElementLength()) != ggml_nelements(e->tensor))
        throw Napi::RangeError::New(env, name + " has " + std::to_string(ggml_nelements(e->tensor)) + " values, got " +
                                             std::to_string(values.ElementLength()));
    slot_->get(env).params().write_hf_layout(*e, values.Data());
    return env.Undefined();
}

Napi::Value AddonModel::SetThreads(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    try {
        slot_->get(env).set_threads(int(integer_arg(info, 0, "threads", 1, limits::kMaxThreads)));
    } catch (const EngineError & e) {
        throw Napi::RangeError::New(env, e.what());
    }
    return env.Undefined();
}

// setPrecision('fp32' | 'bf16')
Napi::Value AddonModel::SetPrecision(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (name != "fp32" && name != "bf16") throw Napi::RangeError::New(env, "precision must be 'fp32' or 'bf16'");
    slot_->get(env).set_precision(name == "bf16" ? Precision::kMixedBF16 : Precision::kFP32);
    return env.Undefined();
}

Napi::Value AddonModel::Cancel(const Napi::CallbackInfo & info) {
    if (slot_->model) slot_->model->cancel();
    return info.Env().Undefined();
}

Napi::Value AddonModel::Dispose(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->dispose(env);
    return env.Undefined();
}

// enableLora({rank, alpha, dropout, targets: bitmask (lora_set.h), base: "f32" | "bf16" | "f16"}, seed)
Napi::Value AddonModel::EnableLora(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "enableLora(config, seed)");
    Napi::Object o = info[0].As<Napi::Object>();
    LoraConfig c;
    c.rank = integer_option(o, "rank", c.rank, 1, limits::kMaxEmbd);
    c.alpha = float(number_option(o, "alpha", c.alpha));
    c.dropout = float(number_option(o, "dropout", c.dropout));
    c.targets = uint32_t(integer_option(o, "targets", c.targets, 1, 0xF));
    const uint64_t seed = uint64_t(integer_arg(info, 1, "seed", 0, kMaxSafeInteger));
    const Napi::Value base = o.Get("base");
    if (!base.IsUndefined() && !base.IsString()) throw Napi::TypeError::New(env, "enableLora: base must be \"f32\", \"bf16\" or \"f16\"");
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    try {
        const ggml_type base_type = base.IsString() ? base_weight_type(base.As<Napi::String>().Utf8Value()) : GGML_TYPE_F32;
        slot_->get(env).enable_lora(c, seed, base_type);
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
}

// readLora("param" | "grad"): { [name]: Float32Array } in PEFT's layout, or null without adapters
Napi::Value AddonModel::ReadLora(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    GPT2Model & m = slot_->get(env);
    if (!m.lora()) return env.Null();
    const std::string which = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "param";
    LoraSet & set = which == "grad" ? m.lora_grads() : *m.lora();
    Napi::Object out = Napi::Object::New(env);
    for (const ParameterEntry & e : set.entries()) out.Set(e.name, float32_to_js(env, set.read(e)));
    return out;
}

// writeLora(name, Float32Array) in PEFT's layout
Napi::Value AddonModel::WriteLora(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    LoraSet * set = slot_->get(env).lora();
    if (!set) throw Napi::Error::New(env, "this model has no LoRA adapters");
    const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    const ParameterEntry * e = set->find(name);
    if (!e) throw Napi::Error::New(env, "no LoRA tensor named " + name);
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throw Napi::TypeError::New(env, "values must be a Float32Array");
    Napi::Float32Array values = info[1].As<Napi::Float32Array>();
    if (int64_t(values.ElementLength()) != ggml_nelements(e->tensor))
        throw Napi::RangeError::New(env, name + " has " + std::to_string(ggml_nelements(e->tensor)) + " values, got " +
                                             std::to_string(values.ElementLength()));
    set->write(*e, values.Data());
    return env.Undefined();
}

// setLoraDropoutSeed(seed)
Napi::Value AddonModel::SetLoraDropoutSeed(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "setLoraDropoutSeed(seed)");
    slot_->check_idle(env);
    slot_->get(env).set_dropout_seed(uint64_t(info[0].As<Napi::Number>().Int64Value()));
    return env.Undefined();
}

// mergeLora(): Promise<void>
Napi::Value AddonModel::MergeLora(const Napi::CallbackInfo & info) {
    return RunOnModel(info.Env(), [](GPT2Model & m) { m.merge_lora(); });
}

}  // namespace tweetsmith::addon
