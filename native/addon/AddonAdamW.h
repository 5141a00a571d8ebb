// The JS class `AdamW` (lib/engine/native.ts): the optimizer of one Model.
#pragma once
#include <napi.h>

#include "adamw.h"
#include "model_slot.h"

#include <memory>

namespace tweetsmith::addon {

class AddonModel;

class AddonAdamW : public Napi::ObjectWrap<AddonAdamW> {
public:
    static Napi::Function Define(Napi::Env env);
    explicit AddonAdamW(const Napi::CallbackInfo & info);
    ~AddonAdamW() override;

private:
    Napi::Value Step(const Napi::CallbackInfo & info);
    Napi::Value SaveState(const Napi::CallbackInfo & info);
    Napi::Value LoadState(const Napi::CallbackInfo & info);
    Napi::Value LoraMoments(const Napi::CallbackInfo & info);
    Napi::Value SetLoraMoments(const Napi::CallbackInfo & info);
    AdamW & optimizer(Napi::Env env);

    std::shared_ptr<ModelSlot> slot_;
    Napi::ObjectReference owner_ref_;
    std::unique_ptr<AdamW> adamw_;
};

}  // namespace tweetsmith::addon
