// The JS class `Generator` (lib/engine/native.ts): one sampling run of a Model.
#pragma once
#include <napi.h>

#include "generator.h"
#include "model_slot.h"

#include <memory>

namespace tweetsmith::addon {

class AddonGenerator : public Napi::ObjectWrap<AddonGenerator> {
public:
    static Napi::Function Define(Napi::Env env);
    explicit AddonGenerator(const Napi::CallbackInfo & info);
    ~AddonGenerator() override;

private:
    Napi::Value Step(const Napi::CallbackInfo & info);
    Napi::Value Done(const Napi::CallbackInfo & info);
    Napi::Value Length(const Napi::CallbackInfo & info);
    Napi::Value Release(const Napi::CallbackInfo & info);

    std::shared_ptr<ModelSlot> slot_;
    Napi::ObjectReference owner_ref_;
    std::unique_ptr<Generator> generator_;
    bool stepping_ = false;  // a step of this generator is running off the JS thread
};

}  // namespace tweetsmith::addon
