/*===- tmc-rt/Runtime.h - TMC runtime C API ----------------------*- C -*-===*\
|*                                                                            *|
|* The C interface of libtmcrt, the runtime library that compiled models      *|
|* link against. It loads a compiled-model directory (docs/ABI.md), runs the  *|
|* model, and provides the matmul kernels the generated code calls. It does   *|
|* not depend on MLIR or LLVM.                                                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TMC_RT_RUNTIME_H
#define TMC_RT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TMC_RT_API
#else
#define TMC_RT_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*\
|* Status codes and element types                                             *|
\*===----------------------------------------------------------------------===*/

/// Result of the functions that can fail. On failure, a message is written to
/// the caller's `err` buffer (when it is not NULL).
typedef enum tmc_status {
  TMC_OK = 0,
  /// A file is missing or cannot be read or mapped.
  TMC_ERROR_IO = 1,
  /// The model directory is not a compiled model of a supported ABI version,
  /// or its signature cannot be parsed.
  TMC_ERROR_ABI = 2,
  /// weights.bin does not match the compiled code (size or hash).
  TMC_ERROR_WEIGHTS = 3,
  /// A bad argument (index out of range, NULL buffer, unknown name).
  TMC_ERROR_ARGUMENT = 4,
  /// Out of memory.
  TMC_ERROR_MEMORY = 5,
} tmc_status;

/// Element types of model inputs and outputs (the `dtype` of the signature).
typedef enum tmc_dtype {
  TMC_DTYPE_F32 = 0,
  TMC_DTYPE_F16 = 1,
  TMC_DTYPE_BF16 = 2,
  TMC_DTYPE_I64 = 3,
  TMC_DTYPE_I32 = 4,
  TMC_DTYPE_I8 = 5,
} tmc_dtype;

/// The signature spelling of `dtype` ("f32", "i64", ...), or "?".
TMC_RT_API const char *tmc_dtype_name(tmc_dtype dtype);

/// The size in bytes of one element of `dtype` (0 for an invalid value).
TMC_RT_API size_t tmc_dtype_size(tmc_dtype dtype);

/*===----------------------------------------------------------------------===*\
|* Compiled models                                                            *|
\*===----------------------------------------------------------------------===*/

/// A loaded compiled model: its code, its mapped weights and its arena.
typedef struct tmc_model tmc_model;

/// Describes one input or output of a model. The pointers stay valid until
/// the model is freed.
typedef struct tmc_tensor_info {
  const char *name;
  tmc_dtype dtype;
  int64_t rank;
  /// `rank` extents, outermost first. Tensors are dense and row-major.
  const int64_t *dims;
  /// The product of `dims` (1 for rank 0).
  int64_t num_elements;
  /// num_elements * tmc_dtype_size(dtype).
  uint64_t num_bytes;
} tmc_tensor_info;

/// Loads the compiled model in directory `dir`: opens `dir/model.so`, checks
/// its ABI version and signature, maps `dir/weights.bin` and verifies its size
/// and FNV-1a hash against the code, and allocates the activation arena.
/// Returns NULL on failure and writes a one-line message naming the offending
/// file to `err` (of `errlen` bytes; may be NULL).
TMC_RT_API tmc_model *tmc_model_load(const char *dir, char *err, size_t errlen);

/// Like tmc_model_load, and also reports the status code.
TMC_RT_API tmc_model *tmc_model_load_ex(const char *dir, tmc_status *status,
                                        char *err, size_t errlen);

/// Unloads a model and releases its weights mapping and arena. NULL is a no-op.
TMC_RT_API void tmc_model_free(tmc_model *model);

/// The number of inputs / outputs of the model.
TMC_RT_API size_t tmc_model_num_inputs(const tmc_model *model);
TMC_RT_API size_t tmc_model_num_outputs(const tmc_model *model);

/// Describes input / output `index`. Returns TMC_ERROR_ARGUMENT when the index
/// is out of range.
TMC_RT_API tmc_status tmc_model_input_info(const tmc_model *model, size_t index,
                                           tmc_tensor_info *info);
TMC_RT_API tmc_status tmc_model_output_info(const tmc_model *model,
                                            size_t index,
                                            tmc_tensor_info *info);

/// The index of the input / output called `name`, or -1.
TMC_RT_API int64_t tmc_model_find_input(const tmc_model *model,
                                        const char *name);
TMC_RT_API int64_t tmc_model_find_output(const tmc_model *model,
                                         const char *name);

/// The size of weights.bin and of the activation arena, in bytes.
TMC_RT_API uint64_t tmc_model_weights_size(const tmc_model *model);
TMC_RT_API uint64_t tmc_model_arena_size(const tmc_model *model);

/// The signature text of the model (docs/ABI.md), as the code reports it.
TMC_RT_API const char *tmc_model_signature_text(const tmc_model *model);

/// Where the model runs: "cpu", or what its tmc_model_target() says
/// ("cuda sm_90"): then the runtime keeps the weights, the arena, inputs and
/// outputs in device memory and copies inputs and outputs on every run.
TMC_RT_API const char *tmc_model_target_text(const tmc_model *model);

/// Writes where the model runs into `buffer`: "cpu", or the CUDA device's
/// name and compute capability ("NVIDIA H100 (sm_90)").
TMC_RT_API tmc_status tmc_model_device_name(const tmc_model *model,
                                            char *buffer, size_t size);

/// The GPU time of one kernel over the launches of a profile.
typedef struct tmc_kernel_time {
  const char *kernel; ///< The kernel's name (as in the model's kernels.tsv).
  int64_t launches;
  double milliseconds; ///< Total over its launches.
} tmc_kernel_time;

/// Kernel timing of a CUDA model (TMC_ERROR_ARGUMENT for a CPU model): from
/// tmc_model_profile_start on, every kernel launch is timed on the GPU (a
/// pair of CUDA events around it, which costs a little host time per
/// launch). tmc_model_profile_stop waits for those launches, stops timing,
/// writes up to `capacity` kernels to `entries`, most total time first (the
/// names stay valid until the next start), and how many kernels ran to
/// `*count`. Timing is process-wide (every model's launches are timed);
/// TMC_ERROR_ABI for a model directory whose libtmcrt_cuda predates it.
TMC_RT_API tmc_status tmc_model_profile_start(tmc_model *model, char *err,
                                              size_t errlen);
TMC_RT_API tmc_status tmc_model_profile_stop(tmc_model *model,
                                             tmc_kernel_time *entries,
                                             size_t capacity, size_t *count,
                                             char *err, size_t errlen);

/// Runs the model once. `inputs[i]` points to the dense row-major data of
/// input i and `outputs[j]` to a caller-allocated buffer of
/// `tmc_tensor_info.num_bytes` for output j, which is written in full.
/// Buffers aligned to 64 bytes are recommended. Calls on one model are
/// serialized (they share its arena); separate models run concurrently.
TMC_RT_API tmc_status tmc_model_run(tmc_model *model, const void *const *inputs,
                                    void *const *outputs, char *err,
                                    size_t errlen);

/*===----------------------------------------------------------------------===*\
|* Decoding builds (tmc-compile --decode)                                     *|
\*===----------------------------------------------------------------------===*/

/// What a decoding build is compiled for (docs/ABI.md).
typedef struct tmc_decoder_info {
  /// Bytes of the KV cache the runtime allocates with the model.
  uint64_t cache_bytes;
  /// Positions the cache holds; 0 when a sliding window makes it unbounded.
  int64_t max_tokens;
  /// Tokens per prefill call (a longer prompt is run in chunks).
  int64_t chunk;
  /// Size of the vocabulary: the logits' length and the bound of token ids.
  int64_t vocab;
  /// Sliding window (0: none) and attention-sink positions.
  int64_t window;
  int64_t sinks;
  /// "f32", "int8" or "int4".
  const char *cache_type;
} tmc_decoder_info;

/// Fills `info` for a decoding build; TMC_ERROR_ARGUMENT for other builds.
TMC_RT_API tmc_status tmc_decoder_get_info(const tmc_model *model,
                                           tmc_decoder_info *info);

/// The number of tokens in the cache (the position of the next token).
TMC_RT_API int64_t tmc_decoder_position(const tmc_model *model);

/// Empties the cache (the next prefill starts at position 0).
TMC_RT_API void tmc_decoder_reset(tmc_model *model);

/// Appends `n` tokens to the cache, in chunks, and writes the logits of the
/// last one (`vocab` floats) to `logits`. Fails, changing nothing, when an id
/// is outside the vocabulary or the tokens do not fit in the cache.
TMC_RT_API tmc_status tmc_decoder_prefill(tmc_model *model,
                                          const int64_t *ids, size_t n,
                                          float *logits, char *err,
                                          size_t errlen);

/// Appends one token and writes its logits; the same errors as prefill.
TMC_RT_API tmc_status tmc_decoder_step(tmc_model *model, int64_t id,
                                       float *logits, char *err,
                                       size_t errlen);

/*===----------------------------------------------------------------------===*\
|* Kernels called by generated code                                           *|
\*===----------------------------------------------------------------------===*/

/// MLIR's strided memref descriptor of rank 2 and element type f32. Element
/// (i, j) is at `(aligned + offset)[i * strides[0] + j * strides[1]]`.
typedef struct tmc_memref_2d_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} tmc_memref_2d_f32;

/// C[M,N] += A[M,K] * B[N,K]^T, with any strides.
TMC_RT_API void _mlir_ciface_tmc_rt_matmul_nt_f32(tmc_memref_2d_f32 *A,
                                                  tmc_memref_2d_f32 *B,
                                                  tmc_memref_2d_f32 *C);

/// C[M,N] += A[M,K] * B[K,N], with any strides.
TMC_RT_API void _mlir_ciface_tmc_rt_matmul_nn_f32(tmc_memref_2d_f32 *A,
                                                  tmc_memref_2d_f32 *B,
                                                  tmc_memref_2d_f32 *C);

/// MLIR's memref descriptor of rank 1 and element type i8 (a byte buffer).
typedef struct tmc_memref_1d_i8 {
  int8_t *allocated;
  int8_t *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} tmc_memref_1d_i8;

/// tfm.cached_attention: appends the chunk's keys K and values V ([seq,
/// kv_heads * head_dim]) at positions start .. start + seq - 1 to one layer's
/// region of the KV cache (keys at byte k_offset, values at v_offset, each
/// `capacity` rows stored with `bits` = 32, 8 or 4 bits), then writes to O
/// each query's attention (Q: [seq, heads * head_dim], query s at position
/// start + s) over the cached positions it sees: all earlier ones, or with a
/// `window` the last `window` plus the first `sinks`.
TMC_RT_API void _mlir_ciface_tmc_rt_cached_attention(
    tmc_memref_2d_f32 *Q, tmc_memref_2d_f32 *K, tmc_memref_2d_f32 *V,
    tmc_memref_1d_i8 *cache, tmc_memref_2d_f32 *O, int64_t start,
    int64_t num_heads, int64_t num_kv_heads, int64_t k_offset,
    int64_t v_offset, int64_t capacity, int64_t window, int64_t sinks,
    int64_t bits, float scale);

/// tfm.attention_grad: the gradients dQ, dK, dV (written in full) of
/// softmax(scale Q K^T) V for the incoming gradient dO. Q, dO and dQ are
/// [batch * seq_q, num_heads * head_dim], K, V, dK and dV [batch * seq_k,
/// num_kv_heads * head_dim]; query head h reads key/value head
/// h / (num_heads / num_kv_heads). Query i sees key j when `causal` is 0 or
/// j <= i + seq_k - seq_q, and `window` is 0 or |i - j| < window. The scores
/// are recomputed block by block (FlashAttention-2's backward): the kernel
/// allocates nothing of size seq_q x seq_k.
TMC_RT_API void _mlir_ciface_tmc_rt_attention_grad(
    tmc_memref_2d_f32 *Q, tmc_memref_2d_f32 *K, tmc_memref_2d_f32 *V,
    tmc_memref_2d_f32 *dO, tmc_memref_2d_f32 *dQ, tmc_memref_2d_f32 *dK,
    tmc_memref_2d_f32 *dV, int64_t batch, int64_t num_heads,
    int64_t num_kv_heads, int64_t causal, int64_t window, float scale);

/*===----------------------------------------------------------------------===*\
|* Runtime settings                                                           *|
\*===----------------------------------------------------------------------===*/

/// The number of threads the kernels use (the caller included): the value of
/// the environment variable TMC_NUM_THREADS when set, else the number of
/// hardware threads.
TMC_RT_API int tmc_rt_num_threads(void);

/// Selects the matmul implementation: "auto" (the best the CPU supports, the
/// default; also set by TMC_RT_ISA), "avx512", "avx2" or "generic". Returns
/// TMC_ERROR_ARGUMENT, changing nothing, when the CPU lacks the ISA or the
/// name is unknown. Meant for tests and benchmarks.
TMC_RT_API tmc_status tmc_rt_set_matmul_isa(const char *isa);

/// The name of the matmul implementation in use ("avx512", "avx2", "generic").
TMC_RT_API const char *tmc_rt_matmul_isa(void);

/// The peak resident memory of this process image in bytes (VmHWM from
/// /proc/self/status; getrusage's maximum where that cannot be read).
TMC_RT_API uint64_t tmc_rt_peak_resident_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* TMC_RT_RUNTIME_H */

/*===----------------------------------------------------------------------===*\
|* Weight-quantized matmul kernels called by generated code                   *|
\*===----------------------------------------------------------------------===*/

#ifndef TMC_RT_RUNTIME_QMATMUL_H
#define TMC_RT_RUNTIME_QMATMUL_H

#ifdef __cplusplus
extern "C" {
#endif

/// Rank-2 memref descriptors of the packed weight, scale and zero-point
/// element types (the layout of tmc_memref_2d_f32).
typedef struct tmc_memref_2d_i8 {
  int8_t *allocated;
  int8_t *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} tmc_memref_2d_i8;

typedef struct tmc_memref_2d_u8 {
  uint8_t *allocated;
  uint8_t *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} tmc_memref_2d_u8;

/// Holds fp16 or bf16 bit patterns.
typedef struct tmc_memref_2d_u16 {
  uint16_t *allocated;
  uint16_t *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} tmc_memref_2d_u16;

/// All of these compute C[M,N] += A[M,K] * W^T, where W is the N x K weight
/// dequantized from its packed form, accumulating in fp32. M = A.sizes[0],
/// K = A.sizes[1], N = C.sizes[1]. A and C may have any strides; W's rows
/// hold their bytes contiguously (inner stride 1) and may be padded
/// (strides[0]). Operands a format does not use are [1, 1] dummies.

/// W [N, K] int8: w[n,k] = W[n,k] * S[n,0]; S [N, 1].
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_int8_f32(tmc_memref_2d_f32 *A,
                                                     tmc_memref_2d_i8 *W,
                                                     tmc_memref_2d_f32 *S,
                                                     tmc_memref_2d_f32 *Z,
                                                     tmc_memref_2d_f32 *C);

/// W [N, K/2]: weight k of row n is the low (even k) or high (odd k) nibble
/// of byte k/2. S [N, G] holds a scale per group of g = K / G weights. When
/// Z has S's shape [N, G] (other than [1, 1]) the nibble q is unsigned and
/// w = (q - Z[n, k/g]) * S[n, k/g]; when Z is [1, 1] q is signed (-8..7)
/// and w = q * S[n, k/g].
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_int4_f32(tmc_memref_2d_f32 *A,
                                                     tmc_memref_2d_u8 *W,
                                                     tmc_memref_2d_f32 *S,
                                                     tmc_memref_2d_f32 *Z,
                                                     tmc_memref_2d_f32 *C);

/// As _mlir_ciface_tmc_rt_qmatmul_int4_f32, with fp16 scales and zero points.
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_int4h_f32(tmc_memref_2d_f32 *A,
                                                      tmc_memref_2d_u8 *W,
                                                      tmc_memref_2d_u16 *S,
                                                      tmc_memref_2d_u16 *Z,
                                                      tmc_memref_2d_f32 *C);

/// W [N, K/4]: weight k is bits 2*(k%4)..2*(k%4)+1 of byte k/4, code 0 -> 0,
/// 1 -> +1, 2 -> -1; w = code * S[0, 0] (S [1, 1]).
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_ternary_f32(tmc_memref_2d_f32 *A,
                                                        tmc_memref_2d_u8 *W,
                                                        tmc_memref_2d_f32 *S,
                                                        tmc_memref_2d_f32 *Z,
                                                        tmc_memref_2d_f32 *C);

/// W [N, K/8]: weight k is bit k%8 of byte k/8, 1 -> +1, 0 -> -1;
/// w = sign * S[n, 0] (S [N, 1]).
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_binary_f32(tmc_memref_2d_f32 *A,
                                                       tmc_memref_2d_u8 *W,
                                                       tmc_memref_2d_f32 *S,
                                                       tmc_memref_2d_f32 *Z,
                                                       tmc_memref_2d_f32 *C);

/// W [N, K] of fp16 / bf16 bit patterns; S and Z are unused.
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_f16_f32(tmc_memref_2d_f32 *A,
                                                    tmc_memref_2d_u16 *W,
                                                    tmc_memref_2d_f32 *S,
                                                    tmc_memref_2d_f32 *Z,
                                                    tmc_memref_2d_f32 *C);
TMC_RT_API void _mlir_ciface_tmc_rt_qmatmul_bf16_f32(tmc_memref_2d_f32 *A,
                                                     tmc_memref_2d_u16 *W,
                                                     tmc_memref_2d_f32 *S,
                                                     tmc_memref_2d_f32 *Z,
                                                     tmc_memref_2d_f32 *C);

#ifdef __cplusplus
}
#endif

#endif /* TMC_RT_RUNTIME_QMATMUL_H */
