#include "compute_thread.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace tweetsmith::addon {

namespace {

class ComputeThread {
public:
    ComputeThread() { std::thread([this] { loop(); }).detach(); }

    void post(std::function<void()> task) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            tasks_.push_back(std::move(task));
        }
        ready_.notify_one();
    }

private:
    [[noreturn]] void loop() {
        for (;;) {
            std::function<void()> task;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                ready_.wait(lock, [this] { return !tasks_.empty(); });
                task = std::move(tasks_.front());
                tasks_.pop_front();
            }
            task();
        }
    }

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> tasks_;
};

ComputeThread & thread_for(const std::string & device) {
    static std::mutex mutex;
    // never destroyed: the threads wait for work until the process exits
    static auto * threads = new std::map<std::string, std::unique_ptr<ComputeThread>>();
    std::lock_guard<std::mutex> lock(mutex);
    std::unique_ptr<ComputeThread> & t = (*threads)[device];
    if (!t) t = std::make_unique<ComputeThread>();
    return *t;
}

}  // namespace

void run_on_compute_thread(const std::string & device, const std::function<void()> & work) {
    std::packaged_task<void()> task(work);
    std::future<void> done = task.get_future();
    thread_for(device).post([&task] { task(); });  // the caller waits below: `task` outlives the call
    done.get();
}

}  // namespace tweetsmith::addon
