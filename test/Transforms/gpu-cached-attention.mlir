// RUN: tmc-opt %s --split-input-file --tmc-gpu-cached-attention=threads=8 --canonicalize --cse | FileCheck %s
// RUN: tmc-opt %s --split-input-file --tmc-gpu-cached-attention --canonicalize --cse | FileCheck %s --check-prefix=T128

// An f32 cache, 2 tokens, 4 heads over 2 key/value heads of 16, 32 rows.
// The cache's regions as typed views; an append kernel (a block per token
// and key/value head, a thread per value) that stores the chunk's rows at
// their positions when they fit; an attention kernel with a block per
// query and key/value head serving its group of 2 query heads: the scaled
// queries, a chunk of scores and probabilities per head, the chunk's rows
// and its keys (rows padded to 17 values) in workgroup memory; each cached
// key and value read once for both heads, the keys by consecutive threads
// along a row; each thread's output dimensions (two of 16 with 8 threads)
// of both heads carried in registers with the running maxima and sums.
// CHECK-LABEL: func.func @f32_cache
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: {{.*}}, %[[K:[a-z0-9]+]]: {{.*}}, %[[V:[a-z0-9]+]]: {{.*}}, %[[CACHE:[a-z0-9]+]]: memref<?xi8>, %[[START:[a-z0-9]+]]: i64, %[[OUT:[a-z0-9]+]]: memref<1x2x64xf32>)
// CHECK-NOT: tfm.fused_cached_attention
// CHECK: %[[S:.*]] = arith.index_cast %[[START]] : i64 to index
// CHECK: %[[KEYS:.*]] = memref.view %[[CACHE]][%c0][] : memref<?xi8> to memref<32x2x16xf32>
// CHECK: %[[VALUES:.*]] = memref.view %[[CACHE]][%c4096][] : memref<?xi8> to memref<32x2x16xf32>
// CHECK: gpu.launch blocks(%[[T:[a-z0-9]+]], %[[G:[a-z0-9]+]], %{{.*}}) in ({{.*}} = %c2, {{.*}} = %c2, {{.*}} = %c1) threads(%[[TID:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c16, {{.*}} = %c1, {{.*}} = %c1) {
// CHECK: %[[P:.*]] = arith.addi %[[S]], %[[T]]
// CHECK: %[[FITS:.*]] = arith.cmpi ult, %[[P]], %c32
// CHECK: scf.if %[[FITS]]
// CHECK: scf.for %[[D:.*]] = %[[TID]] to %c16 step %c16
// CHECK: %[[KX:.*]] = memref.load %[[K]]
// CHECK: memref.store %[[KX]], %[[KEYS]][%[[P]], %[[G]], %[[D]]]
// CHECK: %[[VX:.*]] = memref.load %[[V]]
// CHECK: memref.store %[[VX]], %[[VALUES]][%[[P]], %[[G]], %[[D]]]
// CHECK: gpu.terminator
// CHECK: gpu.launch blocks(%[[QI:[a-z0-9]+]], %[[KVH:[a-z0-9]+]], %{{.*}}) in ({{.*}} = %c2, {{.*}} = %c2, {{.*}} = %c1) threads(%[[TID:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c8, {{.*}} = %c1, {{.*}} = %c1)
// CHECK-SAME: workgroup(%[[QS:[a-z0-9]+]] : memref<2x16xf32, #gpu.address_space<workgroup>>, %[[SCORES:[a-z0-9]+]] : memref<2x8xf32, #gpu.address_space<workgroup>>, %[[PROBS:[a-z0-9]+]] : memref<2x8xf32, #gpu.address_space<workgroup>>, %[[ROWS:[a-z0-9]+]] : memref<8xi32, #gpu.address_space<workgroup>>, %[[KTILE:[a-z0-9]+]] : memref<8x17xf32, #gpu.address_space<workgroup>>)
// Positions [0, p] when p has a row; the group's query features from
// 32 g on.
// CHECK: %[[QP:.*]] = arith.addi %[[S]], %[[QI]]
// CHECK: %[[STORED:.*]] = arith.cmpi ult, %[[QP]], %c32
// CHECK: %[[END:.*]] = arith.addi %[[QP]], %c1
// CHECK: %[[COUNT:.*]] = arith.select %[[STORED]], %[[END]], %c0
// CHECK: %[[QF:.*]] = arith.muli %[[KVH]], %c32
// CHECK: scf.for %[[E:.*]] = %[[TID]] to %c32 step %c8
// CHECK: memref.load %[[Q]][%c0, %[[QI]], %{{.*}}]
// CHECK: %[[J:.*]] = arith.divui %[[E]], %c16
// CHECK: %[[DQ:.*]] = arith.remui %[[E]], %c16
// CHECK: arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[QS]][%[[J]], %[[DQ]]]
// CHECK: gpu.barrier
// CHECK: %[[STATE:.*]]:8 = scf.for %[[C0:.*]] = %c0 to %[[COUNT]] step %c8 iter_args(%[[MAX0:[a-z0-9]+]] = %cst{{.*}}, %[[MAX1:[a-z0-9]+]] = %cst{{.*}}, %[[SUM0:[a-z0-9]+]] = %cst{{.*}}, %[[SUM1:[a-z0-9]+]] = %cst{{.*}}, %[[ACC00:[a-z0-9]+]] = %cst{{.*}}, %[[ACC01:[a-z0-9]+]] = %cst{{.*}}, %[[ACC10:[a-z0-9]+]] = %cst{{.*}}, %[[ACC11:[a-z0-9]+]] = %cst{{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32)
// The rows of the chunk's positions, a position per thread.
// CHECK: %[[I:.*]] = arith.addi %[[C0]], %[[TID]]
// CHECK: %[[VALID:.*]] = arith.cmpi ult, %[[I]], %[[COUNT]]
// CHECK: scf.if %[[VALID]]
// CHECK: memref.store %{{.*}}, %[[ROWS]][%[[TID]]]
// CHECK: gpu.barrier
// The chunk's keys staged (one slice of 16 dimensions): element e of the
// chunk's rows x 16 is row e / 16's value e mod 16.
// CHECK: %[[LEFT:.*]] = arith.subi %[[COUNT]], %[[C0]]
// CHECK: %[[LEN:.*]] = arith.minui %[[LEFT]], %c8
// CHECK: %[[ELEMS:.*]] = arith.muli %[[LEN]], %c16
// CHECK: scf.for %[[E:.*]] = %[[TID]] to %[[ELEMS]] step %c8
// CHECK: %[[R:.*]] = arith.divui %[[E]], %c16
// CHECK: %[[C:.*]] = arith.remui %[[E]], %c16
// CHECK: %[[ROW32:.*]] = memref.load %[[ROWS]][%[[R]]]
// CHECK: %[[ROW:.*]] = arith.index_cast %[[ROW32]] : i32 to index
// CHECK: %[[KX:.*]] = memref.load %[[KEYS]][%[[ROW]], %[[KVH]], %[[C]]] : memref<32x2x16xf32>
// CHECK: memref.store %[[KX]], %[[KTILE]][%[[R]], %[[C]]]
// CHECK: gpu.barrier
// Scores: a position per thread from its row of the tile, for both heads,
// eight dimensions per trip, their loads first, then the FMAs in order.
// CHECK: %[[DOTS:.*]]:2 = scf.for %[[D:.*]] = %c0 to %c16 step %c8 iter_args(%[[DOT0:.*]] = %cst{{.*}}, %[[DOT1:.*]] = %cst{{.*}})
// CHECK: %[[KEY:.*]] = memref.load %[[KTILE]][%[[TID]], %[[D]]] : memref<8x17xf32, #gpu.address_space<workgroup>>
// CHECK: %[[Q0:.*]] = memref.load %[[QS]][%c0, %[[D]]]
// CHECK: %[[Q1:.*]] = memref.load %[[QS]][%c1, %[[D]]]
// CHECK-COUNT-7: memref.load %[[KTILE]]
// CHECK: math.fma %[[Q0]], %[[KEY]], %[[DOT0]]
// CHECK: math.fma %[[Q1]], %[[KEY]], %[[DOT1]]
// CHECK: gpu.barrier
// CHECK: %[[S0:.*]] = arith.select %[[VALID]], %[[DOTS]]#0, %cst
// CHECK: memref.store %[[S0]], %[[SCORES]][%c0, %[[TID]]]
// CHECK: %[[S1:.*]] = arith.select %[[VALID]], %[[DOTS]]#1, %cst
// CHECK: memref.store %[[S1]], %[[SCORES]][%c1, %[[TID]]]
// CHECK: gpu.barrier
// Per head: the chunk's maximum and rescale factor; a probability each.
// CHECK: %[[NEWMAX0:.*]] = arith.maximumf %[[MAX0]]
// CHECK: %[[DIFF0:.*]] = arith.subf %[[MAX0]], %[[NEWMAX0]]
// CHECK: %[[ALPHA0:.*]] = math.exp %[[DIFF0]]
// CHECK: %[[NEWMAX1:.*]] = arith.maximumf %[[MAX1]]
// CHECK: %[[ALPHA1:.*]] = math.exp
// CHECK: memref.store %{{.*}}, %[[PROBS]][%c0, %[[TID]]]
// CHECK: memref.store %{{.*}}, %[[PROBS]][%c1, %[[TID]]]
// CHECK: gpu.barrier
// CHECK: arith.mulf %[[SUM0]], %[[ALPHA0]]
// CHECK: arith.mulf %[[SUM1]], %[[ALPHA1]]
// The first output dimension of both heads, from one read of the value.
// CHECK: %[[R00:.*]] = arith.mulf %[[ACC00]], %[[ALPHA0]]
// CHECK: %[[R10:.*]] = arith.mulf %[[ACC10]], %[[ALPHA1]]
// CHECK: scf.if
// Eight positions per trip (their rows, values and probabilities loaded
// first), then the rest of the chunk one at a time.
// CHECK: %[[WHOLE:.*]]:2 = scf.for {{.*}} step %c8 iter_args(%[[P0:.*]] = %[[R00]], %[[P1:.*]] = %[[R10]])
// CHECK: memref.load %[[ROWS]]
// CHECK: %[[VALUE:.*]] = memref.load %[[VALUES]]
// CHECK: %[[PR0:.*]] = memref.load %[[PROBS]][%c0,
// CHECK: %[[PR1:.*]] = memref.load %[[PROBS]][%c1,
// CHECK-COUNT-7: memref.load %[[VALUES]]
// CHECK: math.fma %[[PR0]], %[[VALUE]], %[[P0]]
// CHECK: math.fma %[[PR1]], %[[VALUE]], %[[P1]]
// CHECK: scf.for {{.*}} step %c1 iter_args(%{{.*}} = %[[WHOLE]]#0, %{{.*}} = %[[WHOLE]]#1)
// CHECK: math.fma
// CHECK: gpu.barrier
// CHECK: scf.yield %[[NEWMAX0]], %[[NEWMAX1]]
// Normalized, zero for a query past the cache; head 1 at 16 features on.
// CHECK: %[[O:.*]] = arith.divf %[[STATE]]#4, %[[STATE]]#2
// CHECK: arith.select %[[STORED]], %[[O]], %cst
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: %[[O1:.*]] = arith.divf %[[STATE]]#6, %[[STATE]]#3
// CHECK: arith.addi %[[TID]], %c16
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: arith.divf %[[STATE]]#5, %[[STATE]]#2
// CHECK-NOT: memref.alloc
// CHECK: return

// With the default 128 threads, one output dimension each.
// T128-LABEL: func.func @f32_cache
// T128: threads({{.*}}) in ({{.*}} = %c128, {{.*}}) workgroup({{.*}} : memref<2x16xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<2x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<2x128xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<128xi32, #gpu.address_space<workgroup>>, {{.*}} : memref<128x17xf32, #gpu.address_space<workgroup>>)
// T128: scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32)
func.func @f32_cache(%q: memref<1x2x64xf32, strided<[?, ?, ?], offset: ?>>, %k: memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, %v: memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, %cache: memref<?xi8>, %start: i64, %out: memref<1x2x64xf32>) {
  tfm.fused_cached_attention %q, %k, %v, %cache from %start into %out {num_heads = 4, num_kv_heads = 2, scale = 0.25, k_offset = 0, v_offset = 4096, capacity = 32, window = 0, sinks = 0, cache_bits = 32} : memref<1x2x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, memref<?xi8>, memref<1x2x64xf32>
  return
}

// -----

// An int8 cache: values [rows][heads][16] bytes, then a scale per row and
// head (f32 at byte 512 = 16 x 2 x 16). The append kernel runs a thread
// per row (its largest magnitude / 127, values rounded to even and
// clamped); the scores and outputs read the bytes, scaled.
// CHECK-LABEL: func.func @int8_cache
// CHECK: %[[KVALS:.*]] = memref.view %{{.*}}[%c0][] : memref<?xi8> to memref<16x2x16xi8>
// CHECK: %[[KSCALES:.*]] = memref.view %{{.*}}[%c512][] : memref<?xi8> to memref<16x2xf32>
// CHECK: %[[VVALS:.*]] = memref.view %{{.*}}[%c1024][] : memref<?xi8> to memref<16x2x16xi8>
// CHECK: %[[VSCALES:.*]] = memref.view %{{.*}}[%c1536][] : memref<?xi8> to memref<16x2xf32>
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c1, {{.*}} = %c1, {{.*}} = %c1)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[SCALE:.*]] = arith.divf %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[CHOSEN:.*]] = arith.select %{{.*}}, %[[SCALE]], %cst
// CHECK: memref.store %[[CHOSEN]], %[[KSCALES]]
// CHECK: math.roundeven
// CHECK: arith.fptosi %{{.*}} : f32 to i32
// CHECK: arith.trunci %{{.*}} : i32 to i8
// CHECK: memref.store %{{.*}}, %[[KVALS]]
// CHECK: memref.store %{{.*}}, %[[VSCALES]]
// CHECK: memref.store %{{.*}}, %[[VVALS]]
// CHECK: gpu.launch
// CHECK: %[[KB:.*]] = memref.load %[[KVALS]]
// CHECK: %[[KF:.*]] = arith.sitofp %[[KB]] : i8 to f32
// CHECK: %[[KS:.*]] = memref.load %[[KSCALES]]
// CHECK: arith.mulf %[[KF]], %[[KS]]
// CHECK: memref.load %[[VVALS]]
// CHECK: memref.load %[[VSCALES]]
func.func @int8_cache(%q: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %k: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %v: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %cache: memref<?xi8>, %start: i64, %out: memref<1x1x32xf32>) {
  tfm.fused_cached_attention %q, %k, %v, %cache from %start into %out {num_heads = 2, num_kv_heads = 2, scale = 0.25, k_offset = 0, v_offset = 1024, capacity = 16, window = 0, sinks = 0, cache_bits = 8} : memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, memref<?xi8>, memref<1x1x32xf32>
  return
}

// -----

// An int4 cache with a window of 8 and 4 sinks over 12 rows: positions
// below 4 keep their rows, the others share a ring of 8 (row 4 + (p - 4)
// mod 8). Two values per byte, a scale per 32 values; a thread per group.
// The query at p sees the sinks below lo = max(0, p - 7), then [lo, p].
// CHECK-LABEL: func.func @int4_ring
// CHECK: %[[KVALS:.*]] = memref.view %{{.*}}[%c0][] : memref<?xi8> to memref<12x1x32xi8>
// CHECK: %[[KSCALES:.*]] = memref.view %{{.*}}[%c384][] : memref<?xi8> to memref<12x1x2xf32>
// CHECK: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c2, {{.*}} = %c1, {{.*}} = %c1)
// CHECK: %[[OFF:.*]] = arith.subi %[[P:.*]], %c4
// CHECK: %[[WRAP:.*]] = arith.remui %[[OFF]], %c8
// CHECK: %[[RINGROW:.*]] = arith.addi %[[WRAP]], %c4
// CHECK: %[[SINK:.*]] = arith.cmpi ult, %[[P]], %c4
// CHECK: %[[ROW:.*]] = arith.select %[[SINK]], %[[P]], %[[RINGROW]]
// CHECK-NOT: scf.if
// CHECK: memref.store %{{.*}}, %[[KSCALES]][%[[ROW]], %c0, %{{.*}}]
// CHECK: %[[HIGH:.*]] = arith.shli %{{.*}}, %c4_i32
// CHECK: %[[BYTE:.*]] = arith.ori %{{.*}}, %[[HIGH]]
// CHECK: %[[PACKED:.*]] = arith.trunci %[[BYTE]] : i32 to i8
// CHECK: memref.store %[[PACKED]], %[[KVALS]][%[[ROW]], %c0, %{{.*}}]
// CHECK: gpu.launch
// CHECK: %[[END:.*]] = arith.addi %{{.*}}, %c1
// CHECK: %[[SHORT:.*]] = arith.cmpi ult, %[[END]], %c8
// CHECK: %[[LOW:.*]] = arith.addi %{{.*}}, %c-7
// CHECK: %[[LO:.*]] = arith.select %[[SHORT]], %c0, %[[LOW]]
// CHECK: %[[SINKS:.*]] = arith.minui %[[LO]], %c4
// CHECK: %[[SPAN:.*]] = arith.subi %[[END]], %[[LO]]
// CHECK: %[[COUNT:.*]] = arith.addi %[[SINKS]], %[[SPAN]]
// CHECK: scf.for %{{.*}} = %c0 to %[[COUNT]] step %c8
// Heads of 64: the keys staged in two slices of 32 (rows padded to 33).
// CHECK: scf.for %[[D0:.*]] = %c0 to %c64 step %c32 iter_args
// CHECK: arith.addi %[[D0]], %{{.*}} : index
// CHECK: arith.shrui
// CHECK: arith.andi %{{.*}}, %c15_i32
// CHECK: arith.subi %{{.*}}, %c8_i32
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<8x33xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: memref.load %{{.*}} : memref<8x33xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.barrier
// CHECK: scf.yield
func.func @int4_ring(%q: memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, %k: memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, %v: memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, %cache: memref<?xi8>, %start: i64, %out: memref<1x1x64xf32>) {
  tfm.fused_cached_attention %q, %k, %v, %cache from %start into %out {num_heads = 1, num_kv_heads = 1, scale = 0.125, k_offset = 0, v_offset = 512, capacity = 12, window = 8, sinks = 4, cache_bits = 4} : memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x1x64xf32, strided<[?, ?, ?], offset: ?>>, memref<?xi8>, memref<1x1x64xf32>
  return
}

// -----

// Split into pieces of 8 positions (flash-decoding): the host computes how
// many pieces the chunk's last query sees (ceil(min(start + 2, 32) / 8));
// the attention kernel has a block per (query, key/value head, piece), runs
// the chunks of its piece's positions and leaves each head's maximum, sum
// and unnormalized outputs in the scratch buffer; a third kernel, a block
// per (query, head) and a thread per output dimension (up to the threads
// of the attention blocks: 8 here, two dimensions each), combines the pieces
// its query sees, each weighed by exp(its maximum - the largest).
// CHECK-LABEL: func.func @split
// CHECK-SAME: %[[START:[a-z0-9]+]]: i64, %[[SCRATCH:[a-z0-9]+]]: memref<2x4x4x18xf32>, %[[OUT:[a-z0-9]+]]: memref<1x2x64xf32>)
// CHECK: %[[S:.*]] = arith.index_cast %[[START]] : i64 to index
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: %[[LAST:.*]] = arith.addi %[[S]], %c2
// CHECK: %[[SEEN:.*]] = arith.minui %[[LAST]], %c32
// CHECK: %[[PIECES:.*]] = arith.ceildivui %[[SEEN]], %c8
// CHECK: gpu.launch blocks(%[[QI:[a-z0-9]+]], %[[KVH:[a-z0-9]+]], %[[PIECE:[a-z0-9]+]]) in ({{.*}} = %c2, {{.*}} = %c2, {{.*}} = %[[PIECES]]) threads(%[[TID:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c8, {{.*}} = %c1, {{.*}} = %c1)
// CHECK: %[[COUNT:.*]] = arith.select
// CHECK: %[[BEGIN:.*]] = arith.muli %[[PIECE]], %c8
// CHECK: %[[BEGIN8:.*]] = arith.addi %[[BEGIN]], %c8
// CHECK: %[[END:.*]] = arith.minui %[[COUNT]], %[[BEGIN8]]
// CHECK: %[[STATE:.*]]:8 = scf.for %{{.*}} = %[[BEGIN]] to %[[END]] step %c8
// CHECK-NOT: arith.divf
// CHECK: %[[NONEMPTY:.*]] = arith.cmpi ult, %[[BEGIN]], %[[END]]
// CHECK: scf.if %[[NONEMPTY]]
// CHECK: %[[H0:.*]] = arith.muli %[[KVH]], %c2
// CHECK: memref.store %[[STATE]]#0, %[[SCRATCH]][%[[QI]], %[[H0]], %[[PIECE]], %c0]
// CHECK: memref.store %[[STATE]]#2, %[[SCRATCH]][%[[QI]], %[[H0]], %[[PIECE]], %c1]
// CHECK: %[[H1:.*]] = arith.addi %[[H0]], %c1
// CHECK: memref.store %[[STATE]]#1, %[[SCRATCH]][%[[QI]], %[[H1]], %[[PIECE]], %c0]
// CHECK: memref.store %[[STATE]]#3, %[[SCRATCH]][%[[QI]], %[[H1]], %[[PIECE]], %c1]
// CHECK: %[[E0:.*]] = arith.addi %[[TID]], %c2
// CHECK: memref.store %[[STATE]]#4, %[[SCRATCH]][%[[QI]], %[[H0]], %[[PIECE]], %[[E0]]]
// CHECK: %[[H1B:.*]] = arith.addi %[[H0]], %c1
// CHECK: memref.store %[[STATE]]#6, %[[SCRATCH]][%[[QI]], %[[H1B]], %[[PIECE]], %[[E0]]]
// CHECK-NOT: %[[OUT]]
// CHECK: gpu.terminator
// CHECK: gpu.launch blocks(%[[CQ:[a-z0-9]+]], %[[CH:[a-z0-9]+]], %{{.*}}) in ({{.*}} = %c2, {{.*}} = %c4, {{.*}} = %c1) threads(%[[CTID:[a-z0-9]+]], {{.*}}) in ({{.*}} = %c8, {{.*}} = %c1, {{.*}} = %c1) {
// CHECK: %[[CCOUNT:.*]] = arith.select
// CHECK: %[[CPIECES:.*]] = arith.ceildivui %[[CCOUNT]], %c8
// CHECK: %[[MAX:.*]] = scf.for %[[P1:.*]] = %c0 to %[[CPIECES]] step %c1 iter_args(%[[M:.*]] = %cst
// CHECK: %[[PMAX:.*]] = memref.load %[[SCRATCH]][%[[CQ]], %[[CH]], %[[P1]], %c0]
// CHECK: arith.maximumf %[[M]], %[[PMAX]]
// CHECK: %[[SUM:.*]] = scf.for %[[P2:.*]] = %c0 to %[[CPIECES]] step %c1 iter_args(%[[L:.*]] = %cst
// CHECK: %[[M2:.*]] = memref.load %[[SCRATCH]][%[[CQ]], %[[CH]], %[[P2]], %c0]
// CHECK: %[[SHIFT:.*]] = arith.subf %[[M2]], %[[MAX]]
// CHECK: %[[W:.*]] = math.exp %[[SHIFT]]
// CHECK: %[[PSUM:.*]] = memref.load %[[SCRATCH]][%[[CQ]], %[[CH]], %[[P2]], %c1]
// CHECK: math.fma %[[W]], %[[PSUM]], %[[L]]
// CHECK: %[[SEES:.*]] = arith.cmpi ugt, %[[CCOUNT]], %c0
// CHECK: scf.for %[[D:.*]] = %[[CTID]] to %c16 step %c8
// CHECK: %[[E:.*]] = arith.addi %[[D]], %c2
// CHECK: memref.load %[[SCRATCH]][%[[CQ]], %[[CH]], %{{.*}}, %[[E]]]
// CHECK: %[[O:.*]] = arith.divf %{{.*}}, %[[SUM]]
// CHECK: %[[R:.*]] = arith.select %[[SEES]], %[[O]], %cst
// CHECK: %[[F0:.*]] = arith.muli %[[CH]], %c16
// CHECK: %[[F:.*]] = arith.addi %[[F0]], %[[D]]
// CHECK: memref.store %[[R]], %[[OUT]][%c0, %[[CQ]], %[[F]]]
func.func @split(%q: memref<1x2x64xf32, strided<[?, ?, ?], offset: ?>>, %k: memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, %v: memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, %cache: memref<?xi8>, %start: i64, %scratch: memref<2x4x4x18xf32>, %out: memref<1x2x64xf32>) {
  tfm.fused_cached_attention %q, %k, %v, %cache from %start split by %scratch : memref<2x4x4x18xf32> into %out {num_heads = 4, num_kv_heads = 2, scale = 0.25, k_offset = 0, v_offset = 4096, capacity = 32, window = 0, sinks = 0, cache_bits = 32, split = 8} : memref<1x2x64xf32, strided<[?, ?, ?], offset: ?>>, memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x2x32xf32, strided<[?, ?, ?], offset: ?>>, memref<?xi8>, memref<1x2x64xf32>
  return
}

// -----

// Rotated queries and keys (rope_query, rope_key) over an int8 cache: the
// append kernel rotates each key (at position start + token) as it reads it
// for the group's scale and again for its value, the attention kernel each
// query; the values are not rotated.
// CHECK-LABEL: func.func @rotated
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %[[K:[a-z0-9]+]]: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %[[V:[a-z0-9]+]]: memref
// CHECK: gpu.launch
// CHECK: memref.load %[[K]]
// CHECK: math.cos
// CHECK: math.absf
// CHECK: memref.load %[[K]]
// CHECK: math.cos
// CHECK: memref.load %[[V]]
// CHECK-NOT: math.cos
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: memref.load %[[Q]]
// CHECK: math.cos
// CHECK: gpu.terminator
func.func @rotated(%q: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %k: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %v: memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, %cache: memref<?xi8>, %start: i64, %out: memref<1x1x32xf32>) {
  tfm.fused_cached_attention %q, %k, %v, %cache from %start into %out {num_heads = 2, num_kv_heads = 2, scale = 0.25, k_offset = 0, v_offset = 1024, capacity = 16, window = 0, sinks = 0, cache_bits = 8, rope_query, rope_key, rope_theta = 10000.0} : memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, memref<1x1x32xf32, strided<[?, ?, ?], offset: ?>>, memref<?xi8>, memref<1x1x32xf32>
  return
}
