//===- ThreadPool.h - The runtime's persistent worker threads ---*- C++ -*-===//
//
// This file declares the small thread pool the kernels use to split work
// across cores. Workers are created once, on first use, and live until the
// process exits.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_LIB_RUNTIME_THREADPOOL_H
#define TMC_LIB_RUNTIME_THREADPOOL_H

#include <cstdint>
#include <type_traits>

namespace tmc::rt {

/// The number of threads parallelFor uses, the caller included:
/// TMC_NUM_THREADS when set to a positive number, else the number of hardware
/// threads.
int getNumThreads();

/// Runs `fn(ctx, task)` for every task in [0, numTasks), spread over the pool
/// and the calling thread, and returns when all have finished. Tasks are
/// handed out dynamically. Nested calls, and calls made while another thread
/// uses the pool, run serially on the calling thread.
void parallelFor(int64_t numTasks, void (*fn)(void *ctx, int64_t task),
                 void *ctx);

/// Convenience overload for a callable `f(int64_t task)`.
template <typename Fn> void parallelFor(int64_t numTasks, Fn &&f) {
  using Callable = std::remove_reference_t<Fn>;
  parallelFor(
      numTasks,
      [](void *ctx, int64_t task) { (*static_cast<Callable *>(ctx))(task); },
      const_cast<void *>(static_cast<const void *>(&f)));
}

} // namespace tmc::rt

#endif // TMC_LIB_RUNTIME_THREADPOOL_H
