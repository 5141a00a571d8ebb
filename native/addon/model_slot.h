// What a JS Model shares with the objects built on it (an optimizer, a
// generator): the engine model, the one-call-at-a-time flag, and what to drop
// when the model is disposed. Shared ownership keeps it valid for whichever of
// them the garbage collector finalizes last.
#pragma once
#include <napi.h>

#include "compute_thread.h"
#include "gpt2_model.h"

#include <functional>
#include <map>
#include <memory>

namespace tweetsmith::addon {

struct ModelSlot {
    std::unique_ptr<GPT2Model> model;
    bool busy = false;
    std::map<const void *, std::function<void()>> dependents;

    // A model the garbage collector finalizes frees device memory: it takes its turn too.
    ~ModelSlot() {
        if (!model) return;
        auto turn = model->device().exclusive();
        model.reset();
    }

    GPT2Model & get(Napi::Env env) {
        if (!model) throw Napi::Error::New(env, "this model was disposed");
        return *model;
    }
    void check_idle(Napi::Env env) const {
        if (busy) throw Napi::Error::New(env, "this model is busy with another call; await it first");
    }
    // One engine call at a time per model: mark it busy for a call's duration.
    GPT2Model & begin_call(Napi::Env env) {
        GPT2Model & m = get(env);
        check_idle(env);
        busy = true;
        m.clear_cancel();
        return m;
    }
    void end_call() { busy = false; }
    // The device for a call made on the JS thread (reading or writing tensors).
    std::unique_lock<std::mutex> device_turn(Napi::Env env) { return get(env).device().exclusive(); }
    // Wraps work on this model so it runs on its device's compute thread
    // (compute_thread.h), holding the device (ComputeDevice::exclusive).
    std::function<void()> on_device(std::function<void()> work) {
        return [m = model.get(), work = std::move(work)] {
            run_on_compute_thread(m->device().description().name, [m, &work] {
                auto turn = m->device().exclusive();
                work();
            });
        };
    }
    void dispose(Napi::Env env) {
        if (busy) throw Napi::Error::New(env, "this model is busy with another call; await or cancel it before dispose()");
        auto turn = model ? model->device().exclusive() : std::unique_lock<std::mutex>();
        auto hooks = std::move(dependents);
        for (auto & [owner, release] : hooks) release();
        model.reset();
    }
};

}  // namespace tweetsmith::addon
