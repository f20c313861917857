// RUN: tmc-opt %s --tmc-plan-buffers -split-input-file | FileCheck %s
// RUN: tmc-opt %s --tmc-plan-buffers=alignment=16 -split-input-file | FileCheck %s --check-prefix=ALIGN16

// Program points number the ops of a function in pre-order, from 0; an op
// with regions is followed by the points of its body (implicit scf.yield
// terminators included). Every buffer below is named by its location, so
// that the recorded plan (`tmc.buffer_plan`, sorted by first use) shows each
// live range [first_use, last_use]. Each case is built so that a live range
// one op too short lets two buffers that are both live share a place, and a
// live range too long forbids a reuse that the expected plan makes.

// Straight-line code: `a` dies at its last use (point 3), so `c`, defined at
// point 4, takes its place; `b` overlaps both.
// CHECK: module attributes {tmc.arena_bytes = 128 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 3 : i64, name = "a#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 2 : i64, last_use = 5 : i64, name = "b#1", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 4 : i64, last_use = 6 : i64, name = "c#2", offset = 0 : i64, size = 64 : i64}],
// CHECK-SAME: tmc.buffers_total_bytes = 192 : i64, tmc.lower_bound_bytes = 128 : i64}
// CHECK-LABEL: func.func @straight_line
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}, %[[IN:[^:]*]]: memref<16xf32>, %[[OUT:[^:]*]]: memref<16xf32>)
// CHECK-NOT: memref.alloc
// CHECK:      %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<?xi8> to memref<16xf32>
// CHECK-NEXT: memref.copy %[[IN]], %[[A]]
// CHECK-NEXT: %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[ARENA]][%[[C64]]][] : memref<?xi8> to memref<16xf32>
// CHECK-NEXT: memref.copy %[[A]], %[[B]]
// CHECK-NEXT: %[[C0B:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[C:.*]] = memref.view %[[ARENA]][%[[C0B]]][] : memref<?xi8> to memref<16xf32>
// CHECK-NEXT: memref.copy %[[B]], %[[C]]
// CHECK-NEXT: memref.copy %[[C]], %[[OUT]]
// CHECK-NEXT: return
func.func @straight_line(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() : memref<16xf32> loc("b")
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() : memref<16xf32> loc("c")
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer defined before a loop and used in its body is live for the whole
// loop (points 3 to 13, the loop's yield): the next iteration reads it again,
// so `t3`, defined after its textual last use, must not take its place.
// Buffers defined and dying in the body live only for part of an iteration:
// `t3` reuses `t1`'s place, and `after` reuses `outer`'s once the loop ends.
// CHECK: module attributes {tmc.arena_bytes = 192 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 3 : i64, last_use = 13 : i64, name = "outer#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 6 : i64, last_use = 9 : i64, name = "t1#1", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 8 : i64, last_use = 11 : i64, name = "t2#2", offset = 128 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 10 : i64, last_use = 12 : i64, name = "t3#3", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 14 : i64, last_use = 16 : i64, name = "after#4", offset = 0 : i64, size = 64 : i64}],
// CHECK-SAME: tmc.lower_bound_bytes = 192 : i64}
// CHECK-LABEL: func.func @loop
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}, %[[IN:[^:]*]]: memref<16xf32>, %[[OUT:[^:]*]]: memref<16xf32>)
// CHECK-NOT: memref.alloc
// CHECK:      arith.constant 4 : index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[OUTER:.*]] = memref.view %[[ARENA]][%[[C0]]][]
// CHECK:      scf.for
// CHECK-NEXT:   %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT:   %[[T1:.*]] = memref.view %[[ARENA]][%[[C64]]][]
// CHECK-NEXT:   memref.copy %[[OUTER]], %[[T1]]
// CHECK-NEXT:   %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT:   %[[T2:.*]] = memref.view %[[ARENA]][%[[C128]]][]
// CHECK-NEXT:   memref.copy %[[T1]], %[[T2]]
// CHECK-NEXT:   %[[C64B:.*]] = arith.constant 64 : index
// CHECK-NEXT:   %[[T3:.*]] = memref.view %[[ARENA]][%[[C64B]]][]
// CHECK-NEXT:   memref.copy %[[T2]], %[[T3]]
// CHECK-NEXT:   memref.copy %[[T3]], %[[OUT]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[C0B:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[AFTER:.*]] = memref.view %[[ARENA]][%[[C0B]]][]
// CHECK-NEXT: memref.copy %[[IN]], %[[AFTER]]
func.func @loop(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %outer = memref.alloc() : memref<16xf32> loc("outer")
  memref.copy %in, %outer : memref<16xf32> to memref<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %t1 = memref.alloc() : memref<16xf32> loc("t1")
    memref.copy %outer, %t1 : memref<16xf32> to memref<16xf32>
    %t2 = memref.alloc() : memref<16xf32> loc("t2")
    memref.copy %t1, %t2 : memref<16xf32> to memref<16xf32>
    %t3 = memref.alloc() : memref<16xf32> loc("t3")
    memref.copy %t2, %t3 : memref<16xf32> to memref<16xf32>
    memref.copy %t3, %out : memref<16xf32> to memref<16xf32>
  }
  %after = memref.alloc() : memref<16xf32> loc("after")
  memref.copy %in, %after : memref<16xf32> to memref<16xf32>
  memref.copy %after, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// `a` is used in both branches of an scf.if: it is live until the end of the
// if (point 11), after its use in the else branch, so the else branch's `e`
// (defined before that use) cannot take its place. Buffers of the two
// branches are never live together and share a place; `c` after the if
// reuses `a`'s.
// CHECK: module attributes {tmc.arena_bytes = 128 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 11 : i64, name = "a#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 3 : i64, last_use = 5 : i64, name = "t#1", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 7 : i64, last_use = 10 : i64, name = "e#2", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 12 : i64, last_use = 14 : i64, name = "c#3", offset = 0 : i64, size = 64 : i64}],
// CHECK-SAME: tmc.lower_bound_bytes = 128 : i64}
// CHECK-LABEL: func.func @if_branches
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}
// CHECK-NOT: memref.alloc
// CHECK:      %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][]
// CHECK:      scf.if
// CHECK-NEXT:   %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT:   %[[T:.*]] = memref.view %[[ARENA]][%[[C64]]][]
// CHECK-NEXT:   memref.copy %[[A]], %[[T]]
// CHECK:      } else {
// CHECK-NEXT:   %[[C64B:.*]] = arith.constant 64 : index
// CHECK-NEXT:   %[[E:.*]] = memref.view %[[ARENA]][%[[C64B]]][]
// CHECK:      }
// CHECK-NEXT: %[[C0B:.*]] = arith.constant 0 : index
// CHECK-NEXT: memref.view %[[ARENA]][%[[C0B]]][]
func.func @if_branches(%arena: memref<?xi8> {tfm.name = "arena"}, %cond: i1, %in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  scf.if %cond {
    %t = memref.alloc() : memref<16xf32> loc("t")
    memref.copy %a, %t : memref<16xf32> to memref<16xf32>
    memref.copy %t, %out : memref<16xf32> to memref<16xf32>
  } else {
    %e = memref.alloc() : memref<16xf32> loc("e")
    memref.copy %in, %e : memref<16xf32> to memref<16xf32>
    memref.copy %a, %out : memref<16xf32> to memref<16xf32>
    memref.copy %e, %out : memref<16xf32> to memref<16xf32>
  }
  %c = memref.alloc() : memref<16xf32> loc("c")
  memref.copy %in, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer defined in a branch and yielded lives on through the if's result:
// `t` is live from the if (point 0) to the result's last use (point 7), so
// `b`, defined after the if, cannot take its place.
// CHECK: module attributes {tmc.arena_bytes = 128 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 7 : i64, name = "t#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 5 : i64, last_use = 8 : i64, name = "b#1", offset = 64 : i64, size = 64 : i64}],
// CHECK-LABEL: func.func @if_result
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}
// CHECK:      %[[R:.*]] = scf.if
// CHECK-NEXT:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:   %[[T:.*]] = memref.view %[[ARENA]][%[[C0]]][]
// CHECK:        scf.yield %[[T]]
// CHECK:      %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[ARENA]][%[[C64]]][]
// CHECK:      memref.copy %[[R]]
func.func @if_result(%arena: memref<?xi8> {tfm.name = "arena"}, %cond: i1, %in: memref<16xf32>, %out: memref<16xf32>) {
  %r = scf.if %cond -> memref<16xf32> {
    %t = memref.alloc() : memref<16xf32> loc("t")
    memref.copy %in, %t : memref<16xf32> to memref<16xf32>
    scf.yield %t : memref<16xf32>
  } else {
    scf.yield %in : memref<16xf32>
  }
  %b = memref.alloc() : memref<16xf32> loc("b")
  memref.copy %in, %b : memref<16xf32> to memref<16xf32>
  memref.copy %r, %out : memref<16xf32> to memref<16xf32>
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A loop in a loop: `a` (defined outside both) is live for the whole outer
// loop, `b` (defined in the outer body, used in the inner one) for the whole
// inner loop (to point 14), so neither can hold `d`, defined in the inner
// body after their textual last uses. `e`, after the inner loop, reuses `b`'s
// place. Four buffers are live at point 12: 256 bytes is optimal.
// CHECK: module attributes {tmc.arena_bytes = 256 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 3 : i64, last_use = 18 : i64, name = "a#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 6 : i64, last_use = 14 : i64, name = "b#1", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 9 : i64, last_use = 12 : i64, name = "c#2", offset = 128 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 11 : i64, last_use = 13 : i64, name = "d#3", offset = 192 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 15 : i64, last_use = 17 : i64, name = "e#4", offset = 64 : i64, size = 64 : i64}],
// CHECK-SAME: tmc.lower_bound_bytes = 256 : i64}
// CHECK-LABEL: func.func @nested_loops
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}
// CHECK-NOT: memref.alloc
// CHECK:      scf.for
// CHECK-NEXT:   %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT:   %[[B:.*]] = memref.view %[[ARENA]][%[[C64]]][]
// CHECK:        scf.for
// CHECK-NEXT:     %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT:     %[[C:.*]] = memref.view %[[ARENA]][%[[C128]]][]
// CHECK-NEXT:     memref.copy %[[B]], %[[C]]
// CHECK-NEXT:     %[[C192:.*]] = arith.constant 192 : index
// CHECK-NEXT:     memref.view %[[ARENA]][%[[C192]]][]
// CHECK:        }
// CHECK-NEXT:   %[[C64B:.*]] = arith.constant 64 : index
// CHECK-NEXT:   memref.view %[[ARENA]][%[[C64B]]][]
func.func @nested_loops(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %b = memref.alloc() : memref<16xf32> loc("b")
    memref.copy %a, %b : memref<16xf32> to memref<16xf32>
    scf.for %j = %c0 to %c4 step %c1 {
      %c = memref.alloc() : memref<16xf32> loc("c")
      memref.copy %b, %c : memref<16xf32> to memref<16xf32>
      %d = memref.alloc() : memref<16xf32> loc("d")
      memref.copy %c, %d : memref<16xf32> to memref<16xf32>
      memref.copy %d, %out : memref<16xf32> to memref<16xf32>
    }
    %e = memref.alloc() : memref<16xf32> loc("e")
    memref.copy %in, %e : memref<16xf32> to memref<16xf32>
    memref.copy %e, %out : memref<16xf32> to memref<16xf32>
  }
  return
}

// -----

// Views keep their buffer alive: `a` is last used through an expand_shape,
// a subview of it and a cast of that (point 10), so `d`, defined at point 8,
// cannot take its place; it takes `b`'s, dead since point 7.
// CHECK: module attributes {tmc.arena_bytes = 512 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 10 : i64, name = "a#0", offset = 0 : i64, size = 256 : i64},
// CHECK-SAME: {first_use = 4 : i64, last_use = 7 : i64, name = "b#1", offset = 256 : i64, size = 256 : i64},
// CHECK-SAME: {first_use = 8 : i64, last_use = 11 : i64, name = "d#2", offset = 256 : i64, size = 256 : i64}],
// CHECK-SAME: tmc.lower_bound_bytes = 512 : i64}
// CHECK-LABEL: func.func @views
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}
// CHECK-NOT: memref.alloc
// CHECK:      %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<?xi8> to memref<64xf32>
// CHECK:      %[[X:.*]] = memref.expand_shape %[[A]]
// CHECK-NEXT: %[[S:.*]] = memref.subview %[[X]]
// CHECK-NEXT: %[[C256:.*]] = arith.constant 256 : index
// CHECK-NEXT: memref.view %[[ARENA]][%[[C256]]][]
// CHECK:      %[[CAST:.*]] = memref.cast %[[S]]
// CHECK:      %[[C256B:.*]] = arith.constant 256 : index
// CHECK-NEXT: memref.view %[[ARENA]][%[[C256B]]][]
// CHECK:      memref.copy %[[CAST]]
func.func @views(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<64xf32>, %out: memref<64xf32>, %row: memref<16xf32>) {
  %a = memref.alloc() : memref<64xf32> loc("a")
  memref.copy %in, %a : memref<64xf32> to memref<64xf32>
  %v = memref.expand_shape %a [[0, 1]] output_shape [4, 16] : memref<64xf32> into memref<4x16xf32>
  %s = memref.subview %v[1, 0] [1, 16] [1, 1] : memref<4x16xf32> to memref<16xf32, strided<[1], offset: 16>>
  %b = memref.alloc() : memref<64xf32> loc("b")
  memref.copy %in, %b : memref<64xf32> to memref<64xf32>
  %c = memref.cast %s : memref<16xf32, strided<[1], offset: 16>> to memref<16xf32, strided<[?], offset: ?>>
  memref.copy %b, %out : memref<64xf32> to memref<64xf32>
  %d = memref.alloc() : memref<64xf32> loc("d")
  memref.copy %in, %d : memref<64xf32> to memref<64xf32>
  memref.copy %c, %row : memref<16xf32, strided<[?], offset: ?>> to memref<16xf32>
  memref.copy %d, %out : memref<64xf32> to memref<64xf32>
  return
}

// -----

// Any other op that takes a buffer may return it: `a` lives until the last
// use of the call's result (point 10) and `c` until that of the scf.while's
// (point 11), so all three buffers are live at point 10.
// CHECK: module attributes {tmc.arena_bytes = 192 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 10 : i64, name = "a#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 3 : i64, last_use = 11 : i64, name = "c#1", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 8 : i64, last_use = 12 : i64, name = "b#2", offset = 128 : i64, size = 64 : i64}],
// CHECK-LABEL: func.func @other_aliases
// CHECK-NOT:  memref.alloc
// CHECK:      return
func.func private @identity(memref<16xf32>) -> memref<16xf32>
func.func @other_aliases(%arena: memref<?xi8> {tfm.name = "arena"}, %cond: i1, %in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %r = func.call @identity(%a) : (memref<16xf32>) -> memref<16xf32>
  %c = memref.alloc() : memref<16xf32> loc("c")
  memref.copy %in, %c : memref<16xf32> to memref<16xf32>
  %w = scf.while (%x = %c) : (memref<16xf32>) -> memref<16xf32> {
    scf.condition(%cond) %x : memref<16xf32>
  } do {
  ^bb0(%y: memref<16xf32>):
    scf.yield %y : memref<16xf32>
  }
  %b = memref.alloc() : memref<16xf32> loc("b")
  memref.copy %in, %b : memref<16xf32> to memref<16xf32>
  memref.copy %r, %out : memref<16xf32> to memref<16xf32>
  memref.copy %w, %out : memref<16xf32> to memref<16xf32>
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer passed to a loop as an iteration argument aliases the argument
// and the loop's result: `init` is live until the result's last use (point
// 12), so `b`, defined after the loop (point 10), cannot take its place; it
// takes that of `t`, which lives in the body.
// CHECK: module attributes {tmc.arena_bytes = 128 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 3 : i64, last_use = 12 : i64, name = "init#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 6 : i64, last_use = 8 : i64, name = "t#1", offset = 64 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 10 : i64, last_use = 13 : i64, name = "b#2", offset = 64 : i64, size = 64 : i64}],
// CHECK-LABEL: func.func @loop_carried
// CHECK-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}
// CHECK-NOT: memref.alloc
// CHECK:      arith.constant 4 : index
// CHECK-NEXT: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[INIT:.*]] = memref.view %[[ARENA]][%[[C0]]][]
// CHECK:      %[[R:.*]] = scf.for {{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (memref<16xf32>) {
// CHECK:        scf.yield %[[ACC]] : memref<16xf32>
// CHECK:      %[[C64:.*]] = arith.constant 64 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[ARENA]][%[[C64]]][]
// CHECK:      memref.copy %[[R]]
func.func @loop_carried(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %init = memref.alloc() : memref<16xf32> loc("init")
  memref.copy %in, %init : memref<16xf32> to memref<16xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> memref<16xf32> {
    %t = memref.alloc() : memref<16xf32> loc("t")
    memref.copy %acc, %t : memref<16xf32> to memref<16xf32>
    memref.copy %t, %acc : memref<16xf32> to memref<16xf32>
    scf.yield %acc : memref<16xf32>
  }
  %b = memref.alloc() : memref<16xf32> loc("b")
  memref.copy %in, %b : memref<16xf32> to memref<16xf32>
  memref.copy %r, %out : memref<16xf32> to memref<16xf32>
  memref.copy %b, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// A buffer allocated in a loop body and yielded is the next iteration's
// argument: each iteration needs a fresh one, which no fixed place gives
// (`t` would overwrite it before the next iteration reads it), so `n` stays
// a heap allocation. The body's own scratch buffer is still planned.
// CHECK: module attributes {tmc.arena_bytes = 128 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 3 : i64, last_use = 11 : i64, name = "init#0", offset = 0 : i64, size = 64 : i64},
// CHECK-SAME: {first_use = 6 : i64, last_use = 10 : i64, name = "t#1", offset = 64 : i64, size = 64 : i64}],
// CHECK-LABEL: func.func @carried_across_iterations
// CHECK:      scf.for
// CHECK:        memref.view
// CHECK:        %[[N:.*]] = memref.alloc() : memref<16xf32>
// CHECK:        scf.yield %[[N]]
func.func @carried_across_iterations(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %init = memref.alloc() : memref<16xf32> loc("init")
  memref.copy %in, %init : memref<16xf32> to memref<16xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> memref<16xf32> {
    %t = memref.alloc() : memref<16xf32> loc("t")
    memref.copy %in, %t : memref<16xf32> to memref<16xf32>
    memref.copy %acc, %out : memref<16xf32> to memref<16xf32>
    %n = memref.alloc() : memref<16xf32> loc("n")
    memref.copy %t, %n : memref<16xf32> to memref<16xf32>
    scf.yield %n : memref<16xf32>
  }
  return
}

// -----

// Returned buffers, directly or through a cast, escape and stay heap
// allocations; the plan holds only `a`.
// CHECK: module attributes {tmc.arena_bytes = 64 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 3 : i64, name = "a#0", offset = 0 : i64, size = 64 : i64}],
// CHECK-LABEL: func.func @escaping
// CHECK:      memref.view
// CHECK:      %[[R:.*]] = memref.alloc() : memref<16xf32>
// CHECK:      %[[S:.*]] = memref.alloc() : memref<16xf32>
// CHECK:      %[[CAST:.*]] = memref.cast %[[S]]
// CHECK:      return %[[R]], %[[CAST]]
func.func @escaping(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<16xf32>) -> (memref<16xf32>, memref<?xf32>) {
  %a = memref.alloc() : memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  %r = memref.alloc() : memref<16xf32> loc("r")
  memref.copy %a, %r : memref<16xf32> to memref<16xf32>
  %s = memref.alloc() : memref<16xf32> loc("s")
  memref.copy %in, %s : memref<16xf32> to memref<16xf32>
  %cast = memref.cast %s : memref<16xf32> to memref<?xf32>
  return %r, %cast : memref<16xf32>, memref<?xf32>
}

// -----

// Left alone: a dynamically shaped buffer, a non-identity layout, an element
// type without a byte size (index), another memory space than the arena's,
// and a buffer in a parallel loop (one per concurrent iteration). Only `ok`
// is planned.
// CHECK: module attributes {tmc.arena_bytes = 64 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 17 : i64, last_use = 18 : i64, name = "ok#0", offset = 0 : i64, size = 64 : i64}],
// CHECK-LABEL: func.func @not_planned
// CHECK:      memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK:      memref.alloc() : memref<16xf32, strided<[1], offset: 4>>
// CHECK:      memref.alloc() : memref<4xindex>
// CHECK:      memref.alloc() : memref<16xf32, 1>
// CHECK:      scf.parallel
// CHECK-NEXT:   memref.alloc() : memref<16xf32>
// CHECK:      scf.reduce
// CHECK:      memref.view
// CHECK-NOT:  memref.alloc
func.func @not_planned(%arena: memref<?xi8> {tfm.name = "arena"}, %n: index, %in: memref<16xf32>, %out: memref<4x16xf32>, %idx: memref<4xindex>, %far: memref<16xf32, 1>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %dyn = memref.alloc(%n) : memref<?xf32> loc("dyn")
  memref.copy %dyn, %dyn : memref<?xf32> to memref<?xf32>
  %strided = memref.alloc() : memref<16xf32, strided<[1], offset: 4>> loc("strided")
  memref.copy %in, %strided : memref<16xf32> to memref<16xf32, strided<[1], offset: 4>>
  %i = memref.alloc() : memref<4xindex> loc("index")
  memref.copy %i, %idx : memref<4xindex> to memref<4xindex>
  %space = memref.alloc() : memref<16xf32, 1> loc("space")
  memref.copy %space, %far : memref<16xf32, 1> to memref<16xf32, 1>
  scf.parallel (%p) = (%c0) to (%c4) step (%c1) {
    %t = memref.alloc() : memref<16xf32> loc("parallel")
    memref.copy %in, %t : memref<16xf32> to memref<16xf32>
    %row = memref.subview %out[%p, 0] [1, 16] [1, 1] : memref<4x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    memref.copy %t, %row : memref<16xf32> to memref<16xf32, strided<[1], offset: ?>>
    scf.reduce
  }
  %ok = memref.alloc() : memref<16xf32> loc("ok")
  memref.copy %in, %ok : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Without an arena argument nothing is planned, and the module records an
// empty plan.
// CHECK: module attributes {tmc.arena_bytes = 0 : i64, tmc.buffer_plan = [], tmc.buffers_total_bytes = 0 : i64, tmc.lower_bound_bytes = 0 : i64}
// CHECK-LABEL: func.func @no_arena
// CHECK:      memref.alloc() : memref<16xf32>
// CHECK-NOT:  memref.view
func.func @no_arena(%in: memref<16xf32>, %out: memref<16xf32>) {
  %a = memref.alloc() : memref<16xf32> loc("a")
  memref.copy %in, %a : memref<16xf32> to memref<16xf32>
  memref.copy %a, %out : memref<16xf32> to memref<16xf32>
  return
}

// -----

// Offsets are multiples of the alignment and the arena is rounded up to it:
// three live 40-byte buffers take 192 bytes at 64-byte alignment and 144 at
// 16-byte alignment; the lower bound is the 120 bytes live at once.
// CHECK: module attributes {tmc.arena_bytes = 192 : i64, tmc.buffer_plan = [
// CHECK-SAME: {first_use = 0 : i64, last_use = 6 : i64, name = "a#0", offset = 0 : i64, size = 40 : i64},
// CHECK-SAME: {first_use = 2 : i64, last_use = 7 : i64, name = "b#1", offset = 64 : i64, size = 40 : i64},
// CHECK-SAME: {first_use = 4 : i64, last_use = 8 : i64, name = "c#2", offset = 128 : i64, size = 40 : i64}],
// CHECK-SAME: tmc.buffers_total_bytes = 120 : i64, tmc.lower_bound_bytes = 120 : i64}
// CHECK-LABEL: func.func @alignment
// CHECK:      arith.constant 0 : index
// CHECK:      arith.constant 64 : index
// CHECK:      arith.constant 128 : index
// ALIGN16: module attributes {tmc.arena_bytes = 144 : i64, tmc.buffer_plan = [
// ALIGN16-SAME: {first_use = 0 : i64, last_use = 6 : i64, name = "a#0", offset = 0 : i64, size = 40 : i64},
// ALIGN16-SAME: {first_use = 2 : i64, last_use = 7 : i64, name = "b#1", offset = 48 : i64, size = 40 : i64},
// ALIGN16-SAME: {first_use = 4 : i64, last_use = 8 : i64, name = "c#2", offset = 96 : i64, size = 40 : i64}],
// ALIGN16-SAME: tmc.buffers_total_bytes = 120 : i64, tmc.lower_bound_bytes = 120 : i64}
// ALIGN16-LABEL: func.func @alignment
// ALIGN16-SAME: (%[[ARENA:[^:]*]]: memref<?xi8> {tfm.name = "arena"}
// ALIGN16:      %[[C0:.*]] = arith.constant 0 : index
// ALIGN16-NEXT: memref.view %[[ARENA]][%[[C0]]][] : memref<?xi8> to memref<10xf32>
// ALIGN16:      %[[C48:.*]] = arith.constant 48 : index
// ALIGN16-NEXT: memref.view %[[ARENA]][%[[C48]]][] : memref<?xi8> to memref<10xf32>
// ALIGN16:      %[[C96:.*]] = arith.constant 96 : index
// ALIGN16-NEXT: memref.view %[[ARENA]][%[[C96]]][] : memref<?xi8> to memref<10xf32>
func.func @alignment(%arena: memref<?xi8> {tfm.name = "arena"}, %in: memref<10xf32>, %out: memref<10xf32>) {
  %a = memref.alloc() : memref<10xf32> loc("a")
  memref.copy %in, %a : memref<10xf32> to memref<10xf32>
  %b = memref.alloc() : memref<10xf32> loc("b")
  memref.copy %in, %b : memref<10xf32> to memref<10xf32>
  %c = memref.alloc() : memref<10xf32> loc("c")
  memref.copy %in, %c : memref<10xf32> to memref<10xf32>
  memref.copy %a, %out : memref<10xf32> to memref<10xf32>
  memref.copy %b, %out : memref<10xf32> to memref<10xf32>
  memref.copy %c, %out : memref<10xf32> to memref<10xf32>
  return
}
