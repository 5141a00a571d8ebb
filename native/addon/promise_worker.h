// Runs engine work off the JS thread and settles a promise with the result.
// A CancelledError becomes a rejection whose error has name "AbortError".
#pragma once
#include <napi.h>

#include "engine_error.h"

#include <functional>
#include <vector>

namespace tweetsmith::addon {

class PromiseWorker : public Napi::AsyncWorker {
public:
    using Work = std::function<void()>;                       // worker thread; may throw
    using Settle = std::function<Napi::Value(Napi::Env)>;     // JS thread: the resolved value
    using Finally = std::function<void()>;                    // JS thread, success or not

    static Napi::Promise Run(Napi::Env env, Work work, Settle settle, Finally finally,
                             std::vector<Napi::Value> keep_alive = {}) {
        auto * worker = new PromiseWorker(env, std::move(work), std::move(settle), std::move(finally), keep_alive);
        Napi::Promise promise = worker->deferred_.Promise();
        worker->Queue();
        return promise;
    }

protected:
    void Execute() override {
        try {
            work_();
        } catch (const CancelledError &) {
            cancelled_ = true;
            SetError("the operation was cancelled");
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }
    void OnOK() override {
        finally_();
        Napi::Env env = Env();
        Napi::Value value;
        try {
            value = settle_(env);
        } catch (const Napi::Error & e) {
            deferred_.Reject(e.Value());
            return;
        } catch (const std::exception & e) {
            deferred_.Reject(Napi::Error::New(env, e.what()).Value());
            return;
        }
        deferred_.Resolve(value);
    }
    void OnError(const Napi::Error & error) override {
        finally_();
        Napi::Object err = error.Value();
        if (cancelled_) err.Set("name", Napi::String::New(Env(), "AbortError"));
        deferred_.Reject(err);
    }

private:
    PromiseWorker(Napi::Env env, Work work, Settle settle, Finally finally, const std::vector<Napi::Value> & keep_alive)
        : Napi::AsyncWorker(env, "tweetsmith"), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)),
          settle_(std::move(settle)), finally_(std::move(finally)) {
        for (const auto & v : keep_alive) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }

    Napi::Promise::Deferred deferred_;
    Work work_;
    Settle settle_;
    Finally finally_;
    bool cancelled_ = false;
    std::vector<Napi::ObjectReference> refs_;  // the JS objects the work uses stay alive until it ends
};

}  // namespace tweetsmith::addon
