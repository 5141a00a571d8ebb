// The JS class `Model` (lib/engine/native.ts): a GPT2Model and its lifetime.
#pragma once
#include <napi.h>

#include "model_slot.h"

#include <functional>

#include <memory>

namespace tweetsmith::addon {

class AddonModel : public Napi::ObjectWrap<AddonModel> {
public:
    static Napi::Function Define(Napi::Env env);
    explicit AddonModel(const Napi::CallbackInfo & info);

    static AddonModel * Unwrap(const Napi::Value & v);
    std::shared_ptr<ModelSlot> slot() const { return slot_; }

private:
    Napi::Value InitRandom(const Napi::CallbackInfo & info);
    Napi::Value Load(const Napi::CallbackInfo & info);
    Napi::Value Save(const Napi::CallbackInfo & info);
    Napi::Value Logits(const Napi::CallbackInfo & info);
    Napi::Value CachedLogits(const Napi::CallbackInfo & info);
    Napi::Value DeviceInfo(const Napi::CallbackInfo & info);
    Napi::Value WeightsInfo(const Napi::CallbackInfo & info);
    Napi::Value ForwardBackward(const Napi::CallbackInfo & info);
    Napi::Value Loss(const Napi::CallbackInfo & info);
    Napi::Value ZeroGrads(const Napi::CallbackInfo & info);
    Napi::Value ReadTensors(const Napi::CallbackInfo & info);
    Napi::Value WriteTensor(const Napi::CallbackInfo & info);
    Napi::Value SetThreads(const Napi::CallbackInfo & info);
    Napi::Value SetPrecision(const Napi::CallbackInfo & info);
    Napi::Value Cancel(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value EnableLora(const Napi::CallbackInfo & info);
    Napi::Value ReadLora(const Napi::CallbackInfo & info);
    Napi::Value WriteLora(const Napi::CallbackInfo & info);
    Napi::Value MergeLora(const Napi::CallbackInfo & info);
    Napi::Value SetLoraDropoutSeed(const Napi::CallbackInfo & info);
    // Runs `work` on the model off the JS thread; the promise resolves to undefined.
    Napi::Value RunOnModel(Napi::Env env, std::function<void(GPT2Model &)> work);

    std::shared_ptr<ModelSlot> slot_ = std::make_shared<ModelSlot>();
};

}  // namespace tweetsmith::addon
