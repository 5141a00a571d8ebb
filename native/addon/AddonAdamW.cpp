#include "AddonAdamW.h"

#include "AddonModel.h"
#include "convert.h"
#include "promise_worker.h"
#include "safetensors.h"

namespace tweetsmith::addon {

Napi::Function AddonAdamW::Define(Napi::Env env) {
    return DefineClass(env, "AdamW",
                       {
                           InstanceMethod("step", &AddonAdamW::Step),
                           InstanceMethod("saveState", &AddonAdamW::SaveState),
                           InstanceMethod("loadState", &AddonAdamW::LoadState),
                           InstanceMethod("loraMoments", &AddonAdamW::LoraMoments),
                           InstanceMethod("setLoraMoments", &AddonAdamW::SetLoraMoments),
                       });
}

// new AdamW(model, {beta1, beta2, eps, weightDecay, maxGradNorm})
AddonAdamW::AddonAdamW(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AddonAdamW>(info) {
    Napi::Env env = info.Env();
    slot_ = AddonModel::Unwrap(info[0])->slot();
    owner_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    if (!info[1].IsUndefined() && !info[1].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    AdamWConfig c;
    c.beta1 = float(number_option(o, "beta1", c.beta1));
    c.beta2 = float(number_option(o, "beta2", c.beta2));
    c.eps = float(number_option(o, "eps", c.eps));
    c.weight_decay = float(number_option(o, "weightDecay", c.weight_decay));
    c.max_grad_norm = float(number_option(o, "maxGradNorm", c.max_grad_norm));
    try {
        auto turn = slot_->device_turn(env);
        adamw_ = std::make_unique<AdamW>(slot_->get(env), c);
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    slot_->dependents[this] = [this] { adamw_.reset(); };
}

AddonAdamW::~AddonAdamW() {
    slot_->dependents.erase(this);
    // finalized by the garbage collector: its device memory is freed in the device's turn
    if (slot_->model && adamw_) {
        auto turn = slot_->model->device().exclusive();
        adamw_.reset();
    }
}

AdamW & AddonAdamW::optimizer(Napi::Env env) {
    if (!adamw_) throw Napi::Error::New(env, "the model of this optimizer was disposed");
    return *adamw_;
}

// step(lr): Promise<{gradNorm, clipCoef, step}>
Napi::Value AddonAdamW::Step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const float lr = float(number_arg(info, 0, "lr"));
    AdamW * opt = &optimizer(env);
    slot_->begin_call(env);
    auto result = std::make_shared<AdamWStepResult>();
    return PromiseWorker::Run(
        env, slot_->on_device([opt, lr, result] { *result = opt->step(lr); }),
        [result, opt](Napi::Env e) {
            Napi::Object o = Napi::Object::New(e);
            o.Set("gradNorm", result->grad_norm);
            o.Set("clipCoef", result->clip_coef);
            o.Set("step", double(opt->steps_taken()));
            return o;
        },
        [slot = slot_] { slot->end_call(); }, {Value(), owner_ref_.Value()});
}

// saveState(mPath, vPath): writes both moments as safetensors; returns the step count
Napi::Value AddonAdamW::SaveState(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    AdamW & opt = optimizer(env);
    const std::string m_path = string_arg(info, 0, "mPath"), v_path = string_arg(info, 1, "vPath");
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    try {
        save_safetensors(m_path, opt.first_moment());
        save_safetensors(v_path, opt.second_moment());
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    return Napi::Number::New(env, double(opt.steps_taken()));
}

// loadState(mPath, vPath, steps)
Napi::Value AddonAdamW::LoadState(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    AdamW & opt = optimizer(env);
    const std::string m_path = string_arg(info, 0, "mPath"), v_path = string_arg(info, 1, "vPath");
    const int64_t steps = integer_arg(info, 2, "steps", 0, kMaxSafeInteger);
    // the dropout masks' pass count, so a resumed LoRA run draws the masks it would have
    const bool has_runs = info.Length() > 3 && !info[3].IsUndefined();
    const int64_t dropout_runs = has_runs ? integer_arg(info, 3, "dropoutRuns", 0, kMaxSafeInteger) : 0;
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    try {
        load_safetensors(m_path, opt.first_moment());
        load_safetensors(v_path, opt.second_moment());
        opt.set_steps_taken(steps);
        if (has_runs) slot_->get(env).set_dropout_runs(uint64_t(dropout_runs));
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
}

// loraMoments(): { m, v, steps } keyed as the adapters are, or null when the optimizer trains the whole model
Napi::Value AddonAdamW::LoraMoments(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    AdamW & opt = optimizer(env);
    if (!opt.lora_moment(0)) return env.Null();
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    Napi::Object out = Napi::Object::New(env);
    const char * keys[2] = {"m", "v"};
    for (int which = 0; which < 2; which++) {
        LoraSet & set = *opt.lora_moment(which);
        Napi::Object o = Napi::Object::New(env);
        for (const ParameterEntry & e : set.entries()) o.Set(e.name, float32_to_js(env, set.read(e)));
        out.Set(keys[which], o);
    }
    out.Set("steps", double(opt.steps_taken()));
    out.Set("dropoutRuns", double(slot_->get(env).dropout_runs()));
    return out;
}

// setLoraMoments(m, v, steps, dropoutRuns): m and v as loraMoments() gives them
Napi::Value AddonAdamW::SetLoraMoments(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    AdamW & opt = optimizer(env);
    if (!opt.lora_moment(0)) throw Napi::Error::New(env, "this optimizer trains the whole model, not LoRA adapters");
    if (!info[0].IsObject() || !info[1].IsObject() || !info[2].IsNumber()) throw Napi::TypeError::New(env, "setLoraMoments(m, v, steps)");
    slot_->check_idle(env);
    auto turn = slot_->device_turn(env);
    for (int which = 0; which < 2; which++) {
        Napi::Object o = info[which].As<Napi::Object>();
        LoraSet & set = *opt.lora_moment(which);
        for (const ParameterEntry & e : set.entries()) {
            Napi::Value v = o.Get(e.name);
            if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
                int64_t(v.As<Napi::Float32Array>().ElementLength()) != ggml_nelements(e.tensor))
                throw Napi::RangeError::New(env, std::string("the optimizer state has no ") + std::to_string(ggml_nelements(e.tensor)) +
                                                     "-value Float32Array for " + e.name);
            set.write(e, v.As<Napi::Float32Array>().Data());
        }
    }
    opt.set_steps_taken(info[2].As<Napi::Number>().Int64Value());
    if (info[3].IsNumber()) slot_->get(env).set_dropout_runs(uint64_t(info[3].As<Napi::Number>().Int64Value()));
    return env.Undefined();
}

}  // namespace tweetsmith::addon
