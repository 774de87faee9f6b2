;; Vitrine's int8 similarity kernel (WebAssembly SIMD). Compiled by scripts/build-knn-wasm.mjs into
;; knn-simd.ts; the module is a few hundred bytes, so it ships inline with the worker.
;;
;; score(codes, scales, query, out, rows, stride):
;;   out[r] = scales[r] * Σ_d codes[r*stride + d] * query[d]    for r in [0, rows)
;; - codes: int8, row-major, `stride` bytes a row; stride a multiple of 16 (rows zero-padded);
;; - query: int16, `stride` lanes (zero-padded), |q| small enough that a row's sum fits an i32;
;; - scales, out: f32; rows a multiple of 4 (padding rows have scale 0).
;; Four rows at a time, so each query vector loaded is used four times and the four i32x4
;; accumulators are reduced to one f32x4 with three shuffles' worth of adds instead of four
;; horizontal sums.
(module
  (memory (export "memory") 1)

  (func (export "score")
    (param $codes i32) (param $scales i32) (param $query i32) (param $out i32) (param $rows i32) (param $stride i32)
    (local $end i32) (local $c i32) (local $p i32) (local $s2 i32) (local $s3 i32)
    (local $ql v128) (local $qh v128) (local $v v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (if (i32.eqz (local.get $rows)) (then (return)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $rows) (i32.const 2))))
    (local.set $s2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $s3 (i32.add (local.get $s2) (local.get $stride)))
    (loop $group
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $c (i32.const 0))
      (loop $chunk
        ;; 16 query lanes (two i16x8) against 16 code bytes of each of the four rows.
        (local.set $ql (v128.load (i32.add (local.get $query) (i32.shl (local.get $c) (i32.const 1)))))
        (local.set $qh (v128.load offset=16 (i32.add (local.get $query) (i32.shl (local.get $c) (i32.const 1)))))
        (local.set $p (i32.add (local.get $codes) (local.get $c)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.add
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $stride))))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.add
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $s2))))
        (local.set $a2 (i32x4.add (local.get $a2) (i32x4.add
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $s3))))
        (local.set $a3 (i32x4.add (local.get $a3) (i32x4.add
          (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh)))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $chunk (i32.lt_u (local.get $c) (local.get $stride))))
      ;; [Σa0, Σa1, Σa2, Σa3]: pairwise lane sums, twice.
      (local.set $a0 (i32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
      (local.set $a2 (i32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
      (local.set $a0 (i32x4.add
        (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a0) (local.get $a2))
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a0) (local.get $a2))))
      (v128.store (local.get $out)
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $a0)) (v128.load (local.get $scales))))
      (local.set $codes (i32.add (local.get $codes) (i32.shl (local.get $stride) (i32.const 2))))
      (local.set $scales (i32.add (local.get $scales) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br_if $group (i32.lt_u (local.get $out) (local.get $end))))))
