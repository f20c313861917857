// RUN: tmc-opt %s --tmc-check-buffer-plan -split-input-file -verify-diagnostics

// The checker recomputes, from the IR alone, the live range and the byte
// range of every constant-offset view of the arena. Views are named by their
// locations and numbered in order of use of the arena.

// A correct hand plan: `a` and `c` share offset 0 with disjoint live ranges;
// `b` is live with both and sits right after them, touching but not
// overlapping.
module attributes {tmc.arena_bytes = 128 : i64} {
func.func @correct(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %b = memref.view %arena[%c64][] : memref<?xi8> to memref<16xf32> loc("b")
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  %c = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("c")
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}
}

// -----

// The same place for two buffers live at the same time.
module attributes {tmc.arena_bytes = 128 : i64} {
// expected-error @+1 {{buffer plan check failed: buffers 'a#0' and 'b#1' are live at the same time (points [2, 5] and [4, 6]) and overlap in the arena}}
func.func @same_place(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c64 = arith.constant 64 : index
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %b = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("b")
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}
}

// -----

// A partial overlap: [0, 64) and [32, 96), both live from point 3 to 5.
module attributes {tmc.arena_bytes = 128 : i64} {
// expected-error @+1 {{buffers 'a#0' and 'b#1' are live at the same time (points [2, 5] and [3, 5]) and overlap in the arena}}
func.func @partial_overlap(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("a")
  %b = memref.view %arena[%c32][] : memref<?xi8> to memref<16xf32> loc("b")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  return
}
}

// -----

// `outer` is read in every iteration of the loop, so it is live for the
// whole loop: `t`, defined in the body after the textual last use of
// `outer`, overwrites it for the next iteration.
module attributes {tmc.arena_bytes = 128 : i64} {
// expected-error @+1 {{buffers 'outer#0' and 't#2' are live at the same time (points [4, 12] and [9, 11]) and overlap in the arena}}
func.func @loop(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %outer = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("outer")
  memref.copy %in, %outer : memref<16xf32> to memref<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %s = memref.view %arena[%c64][] : memref<?xi8> to memref<16xf32> loc("s")
    memref.copy %outer, %s : memref<16xf32> to memref<16xf32>
    %t = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32> loc("t")
    memref.copy %s, %t : memref<16xf32> to memref<16xf32>
    memref.copy %t, %out : memref<16xf32> to memref<16xf32>
  }
  return
}
}

// -----

// A view past the end of the recorded arena.
module attributes {tmc.arena_bytes = 64 : i64} {
// expected-error @+1 {{buffer plan check failed: buffer 'a#0' [32, 96) does not fit in the arena of 64 bytes}}
func.func @beyond_arena(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>) {
  %c32 = arith.constant 32 : index
  %a = memref.view %arena[%c32][] : memref<?xi8> to memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  return
}
}

// -----

// A view before the start of the arena.
module attributes {tmc.arena_bytes = 64 : i64} {
// expected-error @+1 {{buffer 'a#0' [-4, 60) does not fit in the arena of 64 bytes}}
func.func @negative_offset(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>) {
  %c = arith.constant -4 : index
  %a = memref.view %arena[%c][] : memref<?xi8> to memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  return
}
}

// -----

// Without a recorded arena size only overlaps are checked.
func.func @no_arena_size(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>) {
  %c4096 = arith.constant 4096 : index
  %a = memref.view %arena[%c4096][] : memref<?xi8> to memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Views of an argument that is not the arena are not checked.
func.func @other_buffer(%arena: memref<?xi8> {tfm.name = "arena"}, %other: memref<?xi8>, %in: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %a = memref.view %other[%c0][] : memref<?xi8> to memref<16xf32>
  %b = memref.view %other[%c0][] : memref<?xi8> to memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  return
}

// -----

func.func @dynamic_offset(%arena: memref<?xi8> {tfm.name = "arena"}, %offset: index, %in: memref<16xf32>) {
  // expected-error @+1 {{'memref.view' op arena view with a dynamic offset or shape, or elements without a byte size, cannot be checked}}
  %a = memref.view %arena[%offset][] : memref<?xi8> to memref<16xf32>
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  return
}

// -----

func.func @dynamic_shape(%arena: memref<?xi8> {tfm.name = "arena"}, %n: index) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.view' op arena view with a dynamic offset or shape, or elements without a byte size, cannot be checked}}
  %a = memref.view %arena[%c0][%n] : memref<?xi8> to memref<?xf32>
  return
}

// -----

func.func @index_elements(%arena: memref<?xi8> {tfm.name = "arena"}) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.view' op arena view with a dynamic offset or shape, or elements without a byte size, cannot be checked}}
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<4xindex>
  return
}

// -----

func.func @escaping(%arena: memref<?xi8> {tfm.name = "arena"}) -> memref<16xf32> {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'memref.view' op arena view escapes the function or is carried across loop iterations}}
  %a = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
  return %a : memref<16xf32>
}

// -----

// A view made in a loop body and yielded is the same memory in every
// iteration: the next iteration's view overwrites the one it reads.
func.func @carried(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %in) -> memref<16xf32> {
    // expected-error @+1 {{'memref.view' op arena view escapes the function or is carried across loop iterations}}
    %n = memref.view %arena[%c0][] : memref<?xi8> to memref<16xf32>
    memref.copy %acc, %n : memref<16xf32> to memref<16xf32>
    scf.yield %n : memref<16xf32>
  }
  return
}
