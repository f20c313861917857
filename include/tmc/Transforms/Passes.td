//===- Passes.td - TMC memref- and LLVM-level passes -------*- tablegen -*-===//
//
// Passes that work below the tfm dialect: on bufferized code and on the
// LLVM dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TMC_TRANSFORMS_PASSES_TD
#define TMC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def TmcPackWeights : Pass<"tmc-pack-weights", "::mlir::ModuleOp"> {
  let summary = "Write the packed weights file and record its hash";
  let description = [{
    Reads the layout that `tfm-bind-weights` recorded (`tmc.weight_layout`),
    takes every parameter's data from its inline value or from the
    safetensors file named by the module's `tfm.weights_file` (resolved
    against `base-dir` when relative), checks its shape and dtype, and
    writes the packed weights to `output`, zero-padded between parameters.
    Records the FNV-1a 64 hash of the written bytes as `tmc.weights_hash`,
    which the exported code checks at load time. Without `output`, only the
    hash is computed.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"\"",
           "Path of the packed weights file to write">,
    Option<"baseDir", "base-dir", "std::string", /*default=*/"\"\"",
           "Directory against which a relative tfm.weights_file resolves">
  ];
}

def TmcReuseDyingOperands
    : Pass<"tmc-reuse-dying-operands", "::mlir::func::FuncOp"> {
  let summary = "Let elementwise ops write their result over a dying input";
  let description = [{
    On linalg on tensors, before bufferization: an elementwise
    `linalg.generic` (all loops parallel, identity maps) whose output starts
    as a `tensor.empty` and whose payload never reads it gets, as its
    destination, one of its inputs of the same type that it is the only
    user of. One-shot bufferization then computes the result in place, in
    the input's buffer: a residual add, an activation or a normalization
    needs no second buffer, and the buffer planner's lower bound (and arena)
    shrink accordingly. Function arguments and weights (read through
    `bufferization.to_tensor`) are never reused: they belong to the caller.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TmcGpuDeferNorms : Pass<"tmc-gpu-defer-norms", "::mlir::func::FuncOp"> {
  let summary = "Leave the norms that only matmuls read to the matmul kernels";
  let description = [{
    On buffers, before the buffer plan (CUDA builds): a `tfm.fused_norm`
    whose output only contractions that `tmc-gpu-tile-matmuls` makes
    kernels of read, each as its (m, k) input, becomes a `tfm.lazy_norm` of
    its input, which those kernels compute as they stage the rows: the norm
    launches no kernel, and its output, no longer a buffer, takes no room in
    the arena (the plan keeps the norm's input live until the last reader
    instead). Conditions: the norm's output is an allocation (or an arena
    buffer) of its block, not overlapping its input; its input is
    contiguous (through casts) and normalized over its last dimension K;
    every use of the output (through reshapes in its block) is the norm's
    or that of a contraction later in the block reading it only as a
    contiguous [M][K] input indexed (m, k), and nothing else from the norm
    to the last of them reads or writes the output's bytes; and nothing in
    that range writes the norm's input, scale or shift. Other norms (a post-norm
    layer's, whose output the residual add reads too) stay.
  }];
}

def TmcFuseElementwise
    : Pass<"tmc-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise linalg ops on tensors into one";
  let description = [{
    On linalg on tensors, before bufferization: a `linalg.generic` whose
    loops are all parallel and whose result has one use, by another such
    `linalg.generic`, is fused into it (upstream's `fuseElementwiseOps`: the
    producer's payload is inlined into the consumer's), so that a GPU build
    launches one kernel for the chain and no buffer holds the intermediate
    values: the embeddings' lookups, the positions and their sum become one
    op. Contractions, reductions and reshapes are left alone (no reshape is
    propagated), so the matmul kernels and the fused norms find their ops
    as they were.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TmcForwardOutParams : Pass<"tmc-forward-out-params", "::mlir::func::FuncOp"> {
  let dependentDialects = ["::mlir::scf::SCFDialect"];
  let summary = "Compute results directly in the caller's output buffers";
  let description = [{
    After `buffer-results-to-out-params`, a function's result is computed in
    a local allocation and copied into the out-parameter at the end
    (`memref.copy %alloc, %out` before the return): for a model's logits
    that is a second buffer of the output's size and a copy. When the
    allocation is in the entry block (possibly carried unchanged through
    `scf.for` loops that update it in place), has the out-parameter's type,
    and the copy is its last use, this pass makes the computation write into
    the out-parameter itself and removes the allocation and the copy.
  }];
}

def TmcPlanBuffers : Pass<"tmc-plan-buffers", "::mlir::ModuleOp"> {
  let summary = "Place every buffer of the model in one arena";
  let description = [{
    Runs on bufferized code, before deallocation. For every function with an
    `arena` argument (named by `tfm.name = "arena"`, added by
    `tfm-bind-weights`), computes the live range of each statically shaped
    `memref.alloc` (following views, casts and loop-carried aliases; see
    BufferLiveness.h), assigns each an offset in the arena so that buffers
    live at the same time never overlap, and rewrites the allocation into a
    `memref.view` of the arena. Several strategies are tried (largest first
    with best fit, largest first with first fit, in order of first use with
    first fit) and the smallest arena is kept; offsets are aligned to
    `alignment` bytes. Records on the module `tmc.arena_bytes`, the plan
    (`tmc.buffer_plan`: name, size, offset, first and last use of each
    buffer), `tmc.lower_bound_bytes` (the peak of live bytes over program
    points, which no plan can beat) and `tmc.buffers_total_bytes`.
    Allocations that escape (returned), are carried from one loop iteration
    to the next, sit in a parallel loop, are dynamically shaped, have a
    non-identity layout, elements without a byte size (index) or another
    memory space than the arena stay heap allocations. The arena argument
    must be a 1-D memref of i8.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer's offset in the arena">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcCheckBufferPlan : Pass<"tmc-check-buffer-plan", "::mlir::ModuleOp"> {
  let summary = "Verify that no two live views of the arena overlap";
  let description = [{
    An independent check of a buffer plan, on the rewritten IR: collects
    every `memref.view` of a function's arena argument, recomputes its live
    range and its byte range from the IR, and fails with a diagnostic naming
    both views when two of them are live at the same time and overlap, or
    when one does not fit in `tmc.arena_bytes`.
  }];
}

def TmcLinalgToKernels : Pass<"tmc-linalg-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Replace f32 matmuls on memrefs by calls to TMC's kernels";
  let description = [{
    Rewrites every `linalg.matmul` on f32 memrefs whose indexing maps are
    the plain `(m, k) x (k, n)` or the transposed-B `(m, k) x (n, k)` form
    into a call to the runtime's packed, AVX2/FMA-vectorized, multi-threaded
    GEMM (`tmc_rt_matmul_nn_f32` / `tmc_rt_matmul_nt_f32`, which accumulate
    into C). Operands are passed as strided memrefs, so views (a head's
    slice of the queries, say) need no copy. Strided `memref.copy` ops,
    which would otherwise call MLIR's runtime library, become `linalg.copy`
    (and then loops): compiled models depend on TMC's runtime only.
  }];
  let options = [
    Option<"matmuls", "matmuls", "bool", /*default=*/"true",
           "Replace matmuls by kernel calls (copies are rewritten always)">
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcApproximateMath : Pass<"tmc-approximate-math"> {
  let summary = "Replace transcendental math by vectorizable polynomials";
  let description = [{
    Rewrites `math.tanh`, `math.erf`, `math.exp` and `math.expm1` on f32 into
    MLIR's polynomial approximations (arith ops and bit casts), so that the
    loops computing activations and softmax vectorize instead of calling
    scalar libm functions. The approximations are accurate to a few ulp,
    far below the 1e-4 relative tolerance of TMC's fp32 numerics tests;
    `sin`/`cos` stay libm calls because rotary angles reach thousands of
    radians.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def TmcExportAbi : Pass<"tmc-export-abi", "::mlir::ModuleOp"> {
  let summary = "Emit the compiled-model ABI entry points";
  let description = [{
    Runs on the LLVM dialect, after the model function `forward` was lowered
    with its C interface (`_mlir_ciface_forward`). Adds the entry points of
    the compiled-model ABI (docs/ABI.md): `tmc_model_abi_version`,
    `tmc_model_signature`, `tmc_model_weights_bytes`,
    `tmc_model_weights_hash`, `tmc_model_arena_bytes` and
    `tmc_model_forward(void **args)`, from the module attributes
    `tmc.signature`, `tmc.weights_bytes`, `tmc.weights_hash` and
    `tmc.arena_bytes` (0 when absent). The attributes stay on the module for
    the driver's report. With a `target` other than `cpu` (e.g. `cuda
    sm_90`), it also adds `tmc_model_target()`, returning that text: every
    buffer passed to such a model is device memory (docs/GPU.md).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Where the model's buffers live: cpu, or 'cuda <arch>'">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

//===----------------------------------------------------------------------===//
// GPU (NVIDIA) lowering
//===----------------------------------------------------------------------===//

def TmcCopyToLinalg : Pass<"tmc-copy-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    On the GPU every buffer lives in device memory, and the host code of a
    model only computes addresses and launches kernels. A `memref.copy`
    (left by bufferization, e.g. into an output buffer) would lower to a
    host `memcpy` on device pointers; as a `linalg.copy` it becomes a
    parallel loop and then a kernel like every other linalg op.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TmcGpuMapParallelLoops
    : Pass<"tmc-gpu-map-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Tile outermost scf.parallel loops and map them to blocks "
                "and threads";
  let description = [{
    Tiles every outermost `scf.parallel` loop (as produced by
    `convert-linalg-to-parallel-loops`; reductions are `scf.for` loops
    inside it) so that its innermost dimension gets `threads` iterations per
    block (fewer, rounded up to a multiple of 32, when its trip count is a
    smaller constant) and every other dimension one. Iterations past the end
    are guarded by an `scf.if` (upstream `tileParallelLoop` with
    `noMinMaxBounds`), so the inner loop has constant bounds, which
    `convert-parallel-loops-to-gpu` needs for the block size.

    Then it sets the mapping that `convert-parallel-loops-to-gpu` reads: the
    tiled innermost dimension goes to `block_x` / `thread_x` (x allows
    2^31-1 blocks and 1024 threads), the next two outer dimensions to
    `block_y` and `block_z`, any further ones stay sequential, and the
    one-iteration inner dimensions are sequential.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block along the innermost parallel dimension">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect"];
}

def TmcGpuCachedAttention
    : Pass<"tmc-gpu-cached-attention", "::mlir::func::FuncOp"> {
  let summary = "tfm.fused_cached_attention to GPU kernels over a device "
                "KV cache";
  let description = [{
    Rewrites every `tfm.fused_cached_attention` (a decoding build's
    attention over its KV cache, in device memory) into two `gpu.launch`
    ops on the model's stream, three with a split:

    - the append kernel, a block per (token, key/value head), writes the
      chunk's keys and values into the cache rows of their positions (the
      ring buffer of a sliding window included): f32 rows are copied a
      thread per value; int8 and int4 rows are quantized by a thread per
      group (the row, or 32 values for int4), which finds the group's
      largest magnitude, stores the scale and packs the values;
    - the attention kernel, a block of `threads` threads per (query,
      key/value head), serves the query heads that share that key/value
      head (grouped-query attention: each cached value is read once per
      group). It keeps their scaled queries in shared memory and visits the
      positions the query sees (`[0, p]`, or the window and the sinks) in
      chunks of `threads`: the block stages the chunk's keys (dequantized)
      in shared memory a slice of up to 32 dimensions at a time,
      consecutive threads reading consecutive values of a row; each thread
      computes its position's score for every head of the group, the
      block takes each head's chunk maximum and the thread its
      probabilities, and each thread accumulates its dimensions of every
      head's output from the cached values with the online softmax's
      rescaling, in registers across the chunks. Only `threads` scores per
      head are in shared memory, whatever the cache length;
    - with `split = L` on the op (flash-decoding), the attention kernel also
      has a block per piece of `L` visible positions, as many as the
      chunk's last query sees, and writes each piece's maxima, sums and
      unnormalized outputs to the op's scratch buffer; a combining kernel,
      a block per (query, head), weighs the pieces into the output.

    The positions come from `start`, a host value passed to the kernels, so
    the launches need no copy back. Run after bufferization and before the
    parallel loops are mapped.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block of the attention kernel (also the positions "
           "per chunk)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuFusedAttention
    : Pass<"tmc-gpu-fused-attention", "::mlir::ModuleOp"> {
  let summary = "tfm.fused_attention to one GPU kernel per op";
  let description = [{
    Rewrites every `tfm.fused_attention` into one `gpu.launch`
    (FlashAttention's schedule, one block per tile of queries): the grid is
    (query tiles, heads, batch); each block owns `block_q` queries of one
    head and keeps, per query, its query row, running maximum, running sum
    and output accumulator: in registers (loop-carried values) with one
    query per thread and heads of up to 64, else in private memory. It
    visits the key
    blocks the mask leaves (all of them, those at or below the diagonal with
    `causal`, or those of the sparsity pattern's block table, a constant
    global with the element masks of partially kept blocks), staging each
    in chunks of keys and values in workgroup (shared) memory that all
    threads copy cooperatively between two barriers; every thread then runs
    the online softmax over the chunk for its queries. There is no n x n
    buffer, no host loop and one launch per attention op. The chunk holds
    `min(block_k, 4096 / head_dim)` keys (32 KiB of keys and values), so
    any head size fits the static shared memory.

    `threads` is the block size: 0 gives one thread per query of the tile
    (`block_q`); fewer threads each own several queries. With one thread
    per block the barriers are no-ops, which `tmc-gpu-launch-to-loops` can
    run on the CPU to check the kernel's numerics.

    With `tensor-cores=f16` or `bf16` (sm_80 and later), ops whose head size
    is a multiple of 16 and whose tiles have at most 512 queries get a
    kernel on tensor cores instead: a warp per 16 queries of the tile, the
    queries' fragments in registers, per chunk of (up to 64) keys the keys
    and the transposed values staged as f16/bf16, the scores Q K^T and the
    product P V computed with `nvvm.mma.sync` m16n8k16 (f32 accumulation),
    the online softmax run by a thread per query on a shared f32 score
    tile, and the output accumulated in f32 registers across the key loop.
    Queries, keys, values and probabilities are rounded to the 16-bit type
    as MMA operands. With `tensor-cores=tf32` the same kernel takes f32
    operands rounded to TF32 (10 mantissa bits, to nearest, ties away from
    zero) and `nvvm.mma.sync` m16n8k8, two per 16 of k. Other ops keep the
    scalar kernel.

    With `key-split` = P > 1, the scalar kernel with one query per thread
    in registers (`threads` 0, heads of up to 64, a tile of at most as
    many queries as the staged chunk has keys, P times that many threads
    at most 1024) has P threads per query: thread t serves query t mod
    block_q and the keys t / block_q, t / block_q + P, ... of every chunk,
    with its own running maximum, sum and accumulator; after the key loop
    the parts 1 to P - 1 in turn leave their states in the workgroup tiles
    and part 0 folds each in, both rescaled to the larger maximum, then
    stores the row. Other ops keep one thread per query.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"0",
           "Threads per block of the scalar kernel (0: block_q, one per "
           "query of the tile)">,
    Option<"keySplit", "key-split", "int64_t", /*default=*/"1",
           "Threads per query of the scalar kernel with one query per "
           "thread (threads 0, heads of up to 64, block_q <= the staged "
           "chunk): each takes every key-split-th key of a chunk, and the "
           "threads' softmax states are merged at the end">,
    Option<"tensorCores", "tensor-cores", "std::string", /*default=*/"\"\"",
           "Tensor-core kernel operand type: none (default), f16, bf16, or "
           "tf32 (f32 operands rounded to TF32)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuTileMatmuls : Pass<"tmc-gpu-tile-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Matmul-like linalg ops to GPU kernels with shared-memory tiles";
  let description = [{
    Runs on bufferized code, before `convert-linalg-to-parallel-loops`.
    Rewrites every linalg op on statically shaped memrefs that is a plain
    contraction (two parallel loops M and N, one reduction loop K, two
    inputs each indexed by K and one of M and N in either order, an output
    indexed by (M, N), a payload without `linalg.index` or side effects) —
    `linalg.matmul` with or without transposed indexing maps, and generic
    forms of it — into a `gpu.launch` of `tile` x `tile` threads per block,
    each block computing a `tile` x `tile` tile of the output: per step of
    `tile` along K, the block copies a tile of each input into workgroup
    (shared) memory, synchronizes, and every thread accumulates its output
    element with the op's own payload, which is cloned. Edges are guarded:
    any M, N and K work. The op's accumulate-into-output semantics are kept
    (the output's value is the initial accumulator).

    Weight-only quantized contractions — `out += x * D` where `x` is the
    first input, indexed by (M, K), and `D` is computed in the payload from
    the other inputs (packed int8/int4/ternary/binary weights, scales, zero
    points: any affine maps of N and K, e.g. `k floordiv 2` for two int4
    values per byte) and `linalg.index` of N and K — get the same tiling,
    but per step of `tile` along K the block stages `x` and the
    *dequantized* weights: consecutive threads dequantize consecutive k
    (contiguous packed rows) with a clone of the payload's dequantization,
    so each packed weight is read from global memory and dequantized once
    per block instead of once per output row, and never expanded in global
    memory.

    With `tensor-cores`, contractions that multiply-accumulate f16 inputs
    into f32 (`out += f32(a) * f32(b)`, one input f16 at least, the other
    f16 or f32) use warp-level matrix multiply-accumulate instead
    (`gpu.subgroup_mma_*`, WMMA on tensor cores, sm_70 and later): a block
    of 4 warps computes a 32 x 32 output tile; per step of 32 along K the
    block stages both inputs as f16 (an f32 input is rounded to f16, as
    cuBLAS's f16 GEMMs with f32 accumulation do) in zero-padded workgroup
    tiles, and each warp accumulates its 16 x 16 quarter in f32 with two
    16 x 16 x 16 MMAs. The accumulator starts from the output's tile and
    goes back through a workgroup tile, so any M, N and K work.

    bf16 contractions (`out += f32(a) * f32(b)`, one input bf16 at least,
    the other bf16 or f32) get the same 32 x 32 tiles of 4 warps with
    `nvvm.mma.sync` m16n8k16 (bf16 in, f32 accumulate; sm_80 and later),
    since upstream's WMMA fragment types have no bf16: each thread gathers
    its fragment registers from the workgroup tiles (A staged [m][k], B
    [n][k], both as bf16) in the layout of the PTX ISA and keeps its eight
    f32 accumulators in registers across the K loop.

    With `tf32`, f32 contractions (`out += a * b`, all three f32) get the
    same tiles with `nvvm.mma.sync` m16n8k8 (tf32 in, f32 accumulate; sm_80
    and later): both inputs are staged rounded to TF32 (10 mantissa bits,
    to nearest, ties away from zero, as `cvt.rna.tf32.f32`), each fragment
    register one element. Products of TF32 values are exact in f32, so the
    results differ from f32 ones by the inputs' rounding (about 2^-11
    relative each), as cuBLAS's TF32 mode does. Weight-only quantized
    contractions with f32 dequantized weights get the same kernel, their
    B tile the dequantized weights (rounded to TF32 too).

    With `row-kernel-rows` = R > 0, contractions with at most R rows (M;
    a decoding step's token), plain ones whose payload adds to the output
    (`out + g(a, b)`) and weight-only quantized ones, get the row kernel
    instead: such a product reads each weight once and is bound by the
    weights' bytes, where the tiled kernels would leave most threads idle
    and few blocks reading. A block of 256 threads owns 8 output columns;
    each thread sums the products of every row over one 32nd of K (k =
    slice, slice + 32, ..., four steps per iteration with their loads
    issued first), consecutive threads taking consecutive k where the
    weights are contiguous (or packed) along K and consecutive columns
    otherwise; the partial sums meet in workgroup memory and one thread
    per output adds them, in slice order, to the output's start and
    stores the result through the epilogue.

    Every kernel starts its accumulators from the output, or, when the op
    right before the contraction is a `linalg.fill` of the same output
    buffer (a linear layer without bias) or a `linalg.generic` that only
    broadcasts one input into it (a linear layer's bias), from that scalar
    or input, and the fill or broadcast is erased: one launch fewer per
    linear layer.

    With `epilogues`, every kernel also applies the elementwise ops right
    after the contraction (a residual add, an activation, a gated unit's
    product, the copy to the model's output) to each result before storing
    it, and those ops are erased; the kernel takes the place of the last
    one. Such an op is a `linalg.generic` or `linalg.copy`, all loops
    parallel, whose one output (identity map) is a contiguous buffer of the
    contraction's M * N elements, its leading dimensions indexing the rows:
    the contraction's contiguous output or a reshape of it (in place), a
    buffer an earlier such op wrote, or a new one that neither the
    contraction nor an earlier op reads. It reads the buffers written so
    far, and its own output, only at the element it writes, any other input
    through a projected permutation from a buffer nothing before it writes,
    and has a payload without side effects. Only reshapes may come between
    the ops. Distinct function arguments and allocations are taken not to
    overlap, as the compiled-model ABI guarantees; two `memref.view`s of
    one buffer must have constant, disjoint byte ranges. The kernel stores
    the contraction's output itself only if something reads it afterwards
    or might be: an arena buffer (a `memref.view` of the function's
    argument named `arena`, its bytes its own while it is live) or an
    allocation, defined in the contraction's block, that nothing but the
    folded ops reads (through any view) is not stored. A bias the kernel
    starts from counts as read by the kernel: the epilogue may not write
    over it.

    A contraction whose (m, k) input is (a reshape of) the result of a
    `tfm.lazy_norm` (`tmc-gpu-defer-norms`) applies the norm itself: each
    block first computes the mean and inverse standard deviation of its
    rows of the norm's input (groups of threads sum strided parts of a row,
    the group's sums then added in a tree, with the norm kernel's formulas, the sums in another order, in two
    passes for a layer norm) into workgroup memory, then stages `(x - mean) * rstd * gamma (+ beta)`
    where it would have loaded its input. Its epilogue is then folded only
    if the epilogue writes nothing the norm reads (the buffer plan keeps the
    norm's input live through the contraction only). The `tfm.lazy_norm`
    ops and their reshapes are erased; any other reader of them is an
    error.
  }];
  let options = [
    Option<"tile", "tile", "int64_t", /*default=*/"16",
           "Threads per block edge (threads per block = tile * tile)">,
    Option<"registerTile", "register-tile", "int64_t", /*default=*/"1",
           "Outputs per thread along m and n of the plain contractions "
           "(register blocking: a block computes (tile * register-tile)^2 "
           "outputs)">,
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"false",
           "f16 (WMMA) and bf16 (mma.sync) multiply-accumulate "
           "contractions on tensor cores">,
    Option<"tf32", "tf32", "bool", /*default=*/"false",
           "f32 multiply-accumulate contractions on tensor cores with "
           "their inputs rounded to TF32 (mma.sync m16n8k8; sm_80 and "
           "later)">,
    Option<"epilogues", "epilogues", "bool", /*default=*/"true",
           "Apply the elementwise ops right after a contraction (residual "
           "adds, activations, gates, the copy to the output) in its "
           "kernel">,
    Option<"minBlocks", "min-blocks", "int64_t", /*default=*/"0",
           "Blocks a scalar kernel should have at least: the tiled kernel "
           "halves its register tile (down to 2) and the row kernel its "
           "columns per block (down to 1) while the grid has fewer">,
    Option<"rowKernelRows", "row-kernel-rows", "int64_t", /*default=*/"0",
           "Contractions with at most this many rows (M) get the row "
           "kernel, split along K, instead of the tiled ones (0: none)">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuAlignWorkgroupMemory
    : Pass<"tmc-gpu-align-workgroup-memory", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Align the workgroup (shared) memory buffers of kernels";
  let description = [{
    Sets `llvm.align` to `alignment` bytes on every workgroup attribution of
    the module's `gpu.func`s (keeping a larger one), which the NVVM lowering
    carries to the `.shared` variable. Warp-level MMA loads and stores need
    their tiles 32-byte aligned; the lowering's default is the element
    size.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"32",
           "Alignment in bytes (a power of two)">
  ];
}

def TmcGpuRowReductions
    : Pass<"tmc-gpu-row-reductions", "::mlir::func::FuncOp"> {
  let summary = "Row reductions to kernels with a block per row";
  let description = [{
    Runs on bufferized code, before `convert-linalg-to-parallel-loops`.
    Rewrites every linalg op on statically shaped memrefs whose only
    reduction loop is its innermost one, whose output is indexed by the
    other loops in order, and whose payload yields `combine(out, v)` (either
    operand order) with `combine` an f32 `addf`, `mulf`, `maximumf`,
    `minimumf`, `maxnumf` or `minnumf` and `v` computed without the
    accumulator (the means and variances of norms, softmax maxima and sums)
    into a `gpu.launch` with one block per row: each of the block's
    `threads` (rounded down to a power of two no larger than the row)
    folds elements `tid, tid + threads, ...` of the row with the cloned
    payload, then a tree in workgroup memory combines the partial results
    and thread 0 folds the total into the output. The order of the
    floating-point operations changes (a tree instead of a sequence).
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block (a power of two is used, at most the row)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuFusedNorms : Pass<"tmc-gpu-fused-norms", "::mlir::func::FuncOp"> {
  let summary = "tfm.fused_norm to one GPU kernel per op";
  let description = [{
    Rewrites every `tfm.fused_norm` (a layer or RMS normalization on
    buffers) into one `gpu.launch` with a block per row: the block's threads
    sum the row (strided over it) and combine their sums with a tree in
    workgroup memory, for the mean, then, for a layer norm, the squared
    deviations from it the same way (two passes, as the CPU build), and
    write the normalized row scaled by `gamma` (and shifted by `beta`). One
    launch instead of the five (layer) or three (RMS) of the linalg form's
    fills, reductions and elementwise op. Run after bufferization and
    before the parallel loops are mapped.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"128",
           "Threads per block (a power of two is used, at most the row)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuSinkGlobals : Pass<"tmc-gpu-sink-globals", "::mlir::func::FuncOp"> {
  let summary = "Move constant globals used by a gpu.launch into its body";
  let description = [{
    Runs after `convert-parallel-loops-to-gpu`, before
    `gpu-kernel-outlining`. A `memref.get_global` of a constant global (the
    block tables and masks of a sparse attention pattern) defined on the
    host and read inside a `gpu.launch` would pass a host address to the
    kernel. This pass clones such `memref.get_global` ops into the launch
    bodies that use them (with upstream `sinkOperationsIntoLaunchOp`), so
    that outlining copies the global into the kernels' `gpu.module`, i.e.
    into device memory. Host reads of the same global stay valid: it is
    ordinary host data.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuCheckHostCode
    : Pass<"tmc-gpu-check-host-code", "::mlir::func::FuncOp"> {
  let summary = "Check that host code never touches device memory";
  let description = [{
    Runs after `convert-parallel-loops-to-gpu`. In a model compiled for the
    GPU, every memref the host function sees (weights, arena, inputs and
    outputs) is device memory: host code may compute views of it and launch
    kernels, but any remaining operation that reads or writes a memref
    outside `gpu.launch` would dereference a device pointer on the host.
    Each such operation gets an error at its location. Reads of constant
    globals (`memref.get_global`, e.g. a sparse pattern's block table that
    host loops iterate over) are host data and allowed, and so are loads of
    arguments marked `tfm.host` (a decoding step's position and length,
    which the runtime passes in host memory).
  }];
}

def TmcGpuLaunchToLoops
    : Pass<"tmc-gpu-launch-to-loops", "::mlir::func::FuncOp"> {
  let summary = "Run gpu.launch bodies as host loops (testing on a CPU)";
  let description = [{
    For testing the GPU mapping without a GPU: replaces every `gpu.launch`
    by loops over its blocks (z, y, x) and threads (z, y, x) around a copy
    of its body, so that the rest of the CPU pipeline can compile and run it
    and its results can be compared with the CPU build. Workgroup memory
    becomes a buffer per block.

    Threads that share memory or synchronize (a static block size is then
    required) run phase by phase: the body is cut at its `gpu.barrier`s and
    each phase runs for every thread in turn, which is what a barrier
    guarantees. An `scf.for` or `scf.if` containing barriers must have
    bounds or a condition that are the same for every thread (computed from
    block ids, constants, values from outside the launch and constant
    globals) and runs once per block around its phases. Scalars a thread
    computes before a barrier and uses after it, and the iteration
    arguments of loops with barriers, are kept in per-thread buffers; views
    are recomputed; private memory is one buffer per thread. A loop that
    reads or writes workgroup memory both before its first barrier and
    after its last is refused: on a GPU its iterations race, which the
    sequential emulation would hide. Warp-level matrix operations
    (`gpu.subgroup_mma_*`, warps of 32 consecutive threads) are done whole
    by lane 0 of each warp on 16 x 16 fragment buffers (row-major memrefs
    whose row stride is the leading dimension; fragments must be used in
    the phase that defines them). An `nvvm.mma.sync` (m16n8k16, f16 or
    bf16 in, f32 accumulate) also cuts phases: between them, once per warp,
    each result element is computed from the registers of the lanes that
    hold its row of A and column of B in the PTX ISA's fragment layout; its
    results, read with `llvm.extractvalue`, are kept per thread. Since an
    mma.sync orders only a warp, no workgroup buffer may be both written
    and read between two barriers around one. Vectors (such as f16
    fragment registers) are kept per thread like scalars, unless they can
    be recomputed, like views, from what is.

    With `check-races`, every read and write of workgroup memory also
    checks, as it runs, that no other thread of the block wrote (or, for a
    write, read) the same element since the last barrier the emulation
    passed (each element keeps its last writer, and its reader or that
    several threads read it, and when): such a
    pair is unordered on a GPU, whatever order the emulation ran them in.
    A race stops the program with `cf.assert`, naming the access's
    location. Warp-level MMA fragments are read and written by lane 0 of
    their warp; accesses through views of workgroup buffers are not
    checked.
  }];
  let options = [
    Option<"checkRaces", "check-races", "bool", /*default=*/"false",
           "Check at run time that no two threads access one workgroup "
           "element between barriers, one of them writing">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def TmcGpuMergeModules : Pass<"tmc-gpu-merge-modules", "::mlir::ModuleOp"> {
  let summary = "Put every outlined kernel in one gpu.module";
  let description = [{
    `gpu-kernel-outlining` creates one `gpu.module` per kernel. This pass
    moves every kernel into one module, named `module-name`, renaming each
    kernel after the module it came from (so names stay unique), and points
    every `gpu.launch_func` at its new place. A model then has one PTX
    file, one cubin and one module load at run time.
  }];
  let options = [
    Option<"moduleName", "module-name", "std::string",
           /*default=*/"\"tmc_kernels\"",
           "Name of the merged gpu.module">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

#endif // TMC_TRANSFORMS_PASSES_TD
