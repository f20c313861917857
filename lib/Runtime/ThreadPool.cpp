//===- ThreadPool.cpp - The runtime's persistent worker threads -*- C++ -*-===//
//
// This file implements the kernels' thread pool. A job is a function and a
// task count; the calling thread posts it, works on it itself, and waits for
// the workers. Workers spin briefly between jobs (kernels of one model run
// come back to back) and then sleep on a condition variable.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TMC_CPU_RELAX() _mm_pause()
#else
#define TMC_CPU_RELAX() ((void)0)
#endif

using namespace tmc::rt;

namespace {

/// Spin iterations (one pause each, about 10-50 ns) before sleeping: a few
/// hundred microseconds, the gap between two kernels of one model run.
constexpr int kSpinIterations = 8000;

/// Set on pool workers and on a thread that runs a job, so that nested
/// parallelFor calls run serially.
thread_local bool insideParallelRegion = false;

class ThreadPool {
public:
  explicit ThreadPool(int numThreads) {
    for (int i = 1; i < numThreads; ++i)
      workers.emplace_back([this] { workerLoop(); });
  }

  // The pool lives until the process exits (the library is linked with
  // -z nodelete), so workers are never joined.
  ~ThreadPool() = delete;

  int size() const { return static_cast<int>(workers.size()) + 1; }

  void run(int64_t numTasks, void (*fn)(void *, int64_t), void *ctx) {
    std::unique_lock<std::mutex> callerLock(callerMutex, std::try_to_lock);
    if (!callerLock.owns_lock() || workers.empty()) {
      runSerially(numTasks, fn, ctx);
      return;
    }
    jobFn = fn;
    jobCtx = ctx;
    jobTasks = numTasks;
    nextTask.store(0, std::memory_order_relaxed);
    pendingWorkers.store(static_cast<int>(workers.size()),
                         std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(wakeMutex);
      generation.fetch_add(1, std::memory_order_release);
    }
    wakeCv.notify_all();

    insideParallelRegion = true;
    drainTasks();
    insideParallelRegion = false;

    // Wait until every worker has checked in: the job refers to the caller's
    // stack.
    for (int i = 0; i < kSpinIterations; ++i) {
      if (pendingWorkers.load(std::memory_order_acquire) == 0)
        return;
      TMC_CPU_RELAX();
    }
    std::unique_lock<std::mutex> lock(doneMutex);
    doneCv.wait(lock, [this] {
      return pendingWorkers.load(std::memory_order_acquire) == 0;
    });
  }

  static void runSerially(int64_t numTasks, void (*fn)(void *, int64_t),
                          void *ctx) {
    bool wasInside = insideParallelRegion;
    insideParallelRegion = true;
    for (int64_t t = 0; t < numTasks; ++t)
      fn(ctx, t);
    insideParallelRegion = wasInside;
  }

private:
  void drainTasks() {
    while (true) {
      int64_t task = nextTask.fetch_add(1, std::memory_order_relaxed);
      if (task >= jobTasks)
        return;
      jobFn(jobCtx, task);
    }
  }

  void workerLoop() {
    insideParallelRegion = true;
    uint64_t seen = 0;
    while (true) {
      bool woke = false;
      for (int i = 0; i < kSpinIterations; ++i) {
        if (generation.load(std::memory_order_acquire) != seen) {
          woke = true;
          break;
        }
        TMC_CPU_RELAX();
      }
      if (!woke) {
        std::unique_lock<std::mutex> lock(wakeMutex);
        wakeCv.wait(lock, [&] {
          return generation.load(std::memory_order_acquire) != seen;
        });
      }
      seen = generation.load(std::memory_order_acquire);
      drainTasks();
      if (pendingWorkers.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(doneMutex);
        doneCv.notify_one();
      }
    }
  }

  std::vector<std::thread> workers;
  /// Held by the thread that currently owns the pool.
  std::mutex callerMutex;

  // The current job; written by the caller before `generation` is bumped.
  void (*jobFn)(void *, int64_t) = nullptr;
  void *jobCtx = nullptr;
  int64_t jobTasks = 0;
  std::atomic<int64_t> nextTask{0};
  std::atomic<int> pendingWorkers{0};

  std::atomic<uint64_t> generation{0};
  std::mutex wakeMutex;
  std::condition_variable wakeCv;
  std::mutex doneMutex;
  std::condition_variable doneCv;
};

int computeNumThreads() {
  if (const char *env = std::getenv("TMC_NUM_THREADS")) {
    char *end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value > 0)
      return value > 1024 ? 1024 : static_cast<int>(value);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool &getPool() {
  // Deliberately leaked; see ~ThreadPool.
  static ThreadPool *pool = new ThreadPool(getNumThreads());
  return *pool;
}

} // namespace

int tmc::rt::getNumThreads() {
  static const int numThreads = computeNumThreads();
  return numThreads;
}

void tmc::rt::parallelFor(int64_t numTasks, void (*fn)(void *, int64_t),
                          void *ctx) {
  if (numTasks <= 0)
    return;
  if (numTasks == 1 || insideParallelRegion || getNumThreads() == 1) {
    ThreadPool::runSerially(numTasks, fn, ctx);
    return;
  }
  getPool().run(numTasks, fn, ctx);
}
