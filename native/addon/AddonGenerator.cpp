#include "AddonGenerator.h"

#include "AddonModel.h"
#include "convert.h"
#include "promise_worker.h"

namespace tweetsmith::addon {

Napi::Function AddonGenerator::Define(Napi::Env env) {
    return DefineClass(env, "Generator",
                       {
                           InstanceMethod("step", &AddonGenerator::Step),
                           InstanceAccessor("done", &AddonGenerator::Done, nullptr),
                           InstanceAccessor("length", &AddonGenerator::Length, nullptr),
                           InstanceMethod("release", &AddonGenerator::Release),
                       });
}

// new Generator(model, prompt: Int32Array, {n, maxLength, minLength, temperature, topP, topK, seed, eosTokenId, weights})
AddonGenerator::AddonGenerator(const Napi::CallbackInfo & info) : Napi::ObjectWrap<AddonGenerator>(info) {
    Napi::Env env = info.Env();
    slot_ = AddonModel::Unwrap(info[0])->slot();
    owner_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    std::vector<int32_t> prompt = tokens_from_js(info[1], "prompt");
    if (!info[2].IsUndefined() && !info[2].IsObject()) throw Napi::TypeError::New(env, "options must be an object");
    Napi::Object o = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
    SamplingConfig c;
    c.n_sequences = integer_option(o, "n", c.n_sequences, 1, limits::kMaxSequences);
    c.max_length = integer_option(o, "maxLength", c.max_length, 1, limits::kMaxPositions);
    c.min_length = integer_option(o, "minLength", c.min_length, 0, limits::kMaxPositions);
    c.temperature = float(number_option(o, "temperature", c.temperature));
    c.top_p = float(number_option(o, "topP", c.top_p));
    c.top_k = integer_option(o, "topK", c.top_k, 0, limits::kMaxVocab);
    c.seed = uint64_t(integer_option(o, "seed", 0, 0, kMaxSafeInteger));
    c.eos_token_id = int32_t(integer_option(o, "eosTokenId", c.eos_token_id, -1, limits::kMaxVocab));
    try {
        c.weight_type = sampling_weight_type(string_option(o, "weights", "f32"));
        generator_ = std::make_unique<Generator>(slot_->get(env), std::move(prompt), c);
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    slot_->dependents[this] = [this] { generator_.reset(); };
}

AddonGenerator::~AddonGenerator() {
    slot_->dependents.erase(this);
    // finalized by the garbage collector: its device memory is freed in the device's turn
    if (slot_->model && generator_) {
        auto turn = slot_->model->device().exclusive();
        generator_.reset();
    }
}

// step(): Promise<Int32Array> — each sequence's new token, -1 where it had finished
Napi::Value AddonGenerator::Step(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!generator_) throw Napi::Error::New(env, "the model of this generator was disposed");
    Generator * g = generator_.get();
    if (g->done()) throw Napi::Error::New(env, "generation is already finished");
    slot_->begin_call(env);
    stepping_ = true;
    auto tokens = std::make_shared<std::vector<int32_t>>();
    // `this` outlives the step: its JS object is among the values the worker holds
    return PromiseWorker::Run(
        env, slot_->on_device([g, tokens] { *tokens = g->step(); }),
        [tokens](Napi::Env e) {
            Napi::Int32Array out = Napi::Int32Array::New(e, tokens->size());
            std::copy(tokens->begin(), tokens->end(), out.Data());
            return out;
        },
        [this] {
            stepping_ = false;
            slot_->end_call();
        },
        {Value(), owner_ref_.Value()});
}

// release(): frees its KV cache and graphs now rather than when the garbage
// collector finalizes it, which can be many calls later: a server that generates
// again and again held one cache per finished generation (59 MB each for 10 ×
// 160 tokens of GPT-2 124M). `done` afterwards; calling it twice does nothing.
Napi::Value AddonGenerator::Release(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (stepping_) throw Napi::Error::New(env, "this generator is stepping; await the step before release()");
    // a disposed model's dependents hook has reset it already; else in the device's turn
    auto turn = generator_ && slot_->model ? slot_->device_turn(env) : std::unique_lock<std::mutex>();
    generator_.reset();
    return env.Undefined();
}

Napi::Value AddonGenerator::Done(const Napi::CallbackInfo & info) {
    return Napi::Boolean::New(info.Env(), !generator_ || generator_->done());
}

Napi::Value AddonGenerator::Length(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), generator_ ? double(generator_->length()) : 0.0);
}

}  // namespace tweetsmith::addon
