/*===- Cuda.h - TMC's CUDA host runtime (libtmcrt_cuda) -----------*- C -*-===*\
 *
 * This file declares the C API of libtmcrt_cuda.so, the host runtime of
 * models compiled with `tmc-compile --target=cuda` (docs/GPU.md). The
 * library implements, over the CUDA driver API, the mgpu* functions that
 * MLIR's GPU-to-LLVM lowering calls (module loading, kernel launches,
 * streams, events, device memory), and the functions below, which the
 * model loader (libtmcrt) and tools use to manage device buffers. It has no
 * MLIR or LLVM dependency; it needs the driver's libcuda.so.1 at run time.
 *
 * Every function works on one CUDA context: the primary context of device
 * $TMC_CUDA_DEVICE (default 0), created on first use. The first CUDA error
 * is kept and reported by tmc_cuda_error() until tmc_cuda_clear_error().
 *
 *===----------------------------------------------------------------------===*/

#ifndef TMC_RT_CUDA_H
#define TMC_RT_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "tmc-rt/Runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Initializes the driver and makes the device's primary context current;
/// 0 on success, otherwise -1 with the reason in tmc_cuda_error().
TMC_RT_API int tmc_cuda_init(void);

/// The first error since the last tmc_cuda_clear_error(), or NULL.
TMC_RT_API const char *tmc_cuda_error(void);
TMC_RT_API void tmc_cuda_clear_error(void);

/// Device memory: NULL (and an error) on failure; 0 bytes gives NULL.
TMC_RT_API void *tmc_cuda_alloc(size_t bytes);
TMC_RT_API void tmc_cuda_free(void *device);

/// Synchronous copies; 0 on success, -1 on failure.
TMC_RT_API int tmc_cuda_copy_to_device(void *device, const void *host,
                                       size_t bytes);
TMC_RT_API int tmc_cuda_copy_to_host(void *host, const void *device,
                                     size_t bytes);

/// Sets `bytes` bytes of device memory to zero; 0 on success, -1 on
/// failure.
TMC_RT_API int tmc_cuda_zero(void *device, size_t bytes);

/// Waits for all work of the context; 0 on success, -1 on failure.
TMC_RT_API int tmc_cuda_synchronize(void);

/// Writes the device's name and compute capability ("NVIDIA H100 (sm_90)").
TMC_RT_API int tmc_cuda_device_name(char *buffer, size_t size);

/// Kernel timing: after tmc_cuda_profile_start (0 on success), every
/// mgpuLaunchKernel records a CUDA event before and after its launch on the
/// launch's stream. tmc_cuda_profile_stop waits for those events, stops
/// timing, sums the elapsed times per kernel name and writes up to
/// `capacity` of them to `entries`, most total time first (the names live
/// until the next start); it returns how many kernels ran, or -1 with the
/// reason in tmc_cuda_error(). A stop without a start since the last one
/// returns that profile again (none: 0). Profiling is process-wide: the
/// launches of every model in the process are timed.
TMC_RT_API int tmc_cuda_profile_start(void);
TMC_RT_API int64_t tmc_cuda_profile_stop(tmc_kernel_time *entries,
                                         int64_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* TMC_RT_CUDA_H */
