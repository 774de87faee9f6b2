;; Vitrine's similarity kernels (WebAssembly SIMD): int8 rows (score) and 4-bit codes (score4).
;; Compiled by scripts/build-knn-wasm.mjs into knn-simd.ts; the module is about a kilobyte, so it
;; ships inline with the worker.
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
      (br_if $group (i32.lt_u (local.get $out) (local.get $end)))))

  ;; score4(codes, query, out, rows, stride, width, scale, add, floor) → hits:
  ;;   score(r) = add + scale * Σ_j (lo(codes[r*stride + j]) * query[j] + hi(codes[r*stride + j]) * query[width + j])
  ;;   for j in [0, width); writes (r: i32, score(r): f32) to `out` for each r in [0, rows) with
  ;;   score(r) > floor, in order, and returns how many it wrote.
  ;; - codes: 4-bit codes packed two to a byte, `stride` bytes a row, read `width` bytes at a time
  ;;   (width a multiple of 16, ≥ stride: the bytes past a row belong to the next one, and their
  ;;   query lanes must be 0); low nibble and high nibble are two different dimensions;
  ;; - query: int8, 2·width lanes; reads go up to three rows and `width` bytes past the last row.
  ;; A product of a code (0..15) and a query lane (−128..127) fits an i16, four of them too (≤ 8160),
  ;; so each 16-byte chunk is summed in i16 lanes and widened once; four rows share each query load;
  ;; only rows above the floor leave the kernel (a scan's floor rises fast, so few do).
  (func (export "score4")
    (param $codes i32) (param $query i32) (param $out i32) (param $rows i32) (param $stride i32) (param $width i32)
    (param $scale f32) (param $add f32) (param $floor f32) (result i32)
    (local $r i32) (local $o i32) (local $m i32) (local $c i32) (local $p i32) (local $s2 i32) (local $s3 i32)
    (local $ql v128) (local $qh v128) (local $v v128) (local $lo v128) (local $mask v128) (local $sc v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $o (local.get $out))
    (if (i32.eqz (local.get $rows)) (then (return (i32.const 0))))
    (local.set $mask (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
    (local.set $s2 (i32.shl (local.get $stride) (i32.const 1)))
    (local.set $s3 (i32.add (local.get $s2) (local.get $stride)))
    (loop $group
      (local.set $a0 (v128.const i32x4 0 0 0 0))
      (local.set $a1 (v128.const i32x4 0 0 0 0))
      (local.set $a2 (v128.const i32x4 0 0 0 0))
      (local.set $a3 (v128.const i32x4 0 0 0 0))
      (local.set $c (i32.const 0))
      (loop $chunk
        (local.set $ql (v128.load (i32.add (local.get $query) (local.get $c))))
        (local.set $qh (v128.load (i32.add (i32.add (local.get $query) (local.get $width)) (local.get $c))))
        (local.set $p (i32.add (local.get $codes) (local.get $c)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (v128.and (local.get $v) (local.get $mask)))
        (local.set $v (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.extadd_pairwise_i16x8_s (i16x8.add
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $ql)) (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $ql)))
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $v) (local.get $qh)) (i16x8.extmul_high_i8x16_s (local.get $v) (local.get $qh)))))))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $stride))))
        (local.set $lo (v128.and (local.get $v) (local.get $mask)))
        (local.set $v (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.extadd_pairwise_i16x8_s (i16x8.add
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $ql)) (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $ql)))
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $v) (local.get $qh)) (i16x8.extmul_high_i8x16_s (local.get $v) (local.get $qh)))))))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $s2))))
        (local.set $lo (v128.and (local.get $v) (local.get $mask)))
        (local.set $v (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $a2 (i32x4.add (local.get $a2) (i32x4.extadd_pairwise_i16x8_s (i16x8.add
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $ql)) (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $ql)))
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $v) (local.get $qh)) (i16x8.extmul_high_i8x16_s (local.get $v) (local.get $qh)))))))
        (local.set $v (v128.load (i32.add (local.get $p) (local.get $s3))))
        (local.set $lo (v128.and (local.get $v) (local.get $mask)))
        (local.set $v (i8x16.shr_u (local.get $v) (i32.const 4)))
        (local.set $a3 (i32x4.add (local.get $a3) (i32x4.extadd_pairwise_i16x8_s (i16x8.add
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $lo) (local.get $ql)) (i16x8.extmul_high_i8x16_s (local.get $lo) (local.get $ql)))
          (i16x8.add (i16x8.extmul_low_i8x16_s (local.get $v) (local.get $qh)) (i16x8.extmul_high_i8x16_s (local.get $v) (local.get $qh)))))))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br_if $chunk (i32.lt_u (local.get $c) (local.get $width))))
      (local.set $a0 (i32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a1))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a1))))
      (local.set $a2 (i32x4.add
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $a3))
        (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $a3))))
      (local.set $a0 (i32x4.add
        (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a0) (local.get $a2))
        (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a0) (local.get $a2))))
      (local.set $sc (f32x4.add (f32x4.mul (f32x4.convert_i32x4_s (local.get $a0)) (f32x4.splat (local.get $scale))) (f32x4.splat (local.get $add))))
      (local.set $m (i32x4.bitmask (f32x4.gt (local.get $sc) (f32x4.splat (local.get $floor)))))
      (if (local.get $m)
        (then
          (if (i32.and (i32.shr_u (local.get $m) (i32.const 0)) (i32.lt_u (i32.add (local.get $r) (i32.const 0)) (local.get $rows)))
            (then
              (i32.store (local.get $o) (i32.add (local.get $r) (i32.const 0)))
              (f32.store offset=4 (local.get $o) (f32x4.extract_lane 0 (local.get $sc)))
              (local.set $o (i32.add (local.get $o) (i32.const 8)))))
          (if (i32.and (i32.shr_u (local.get $m) (i32.const 1)) (i32.lt_u (i32.add (local.get $r) (i32.const 1)) (local.get $rows)))
            (then
              (i32.store (local.get $o) (i32.add (local.get $r) (i32.const 1)))
              (f32.store offset=4 (local.get $o) (f32x4.extract_lane 1 (local.get $sc)))
              (local.set $o (i32.add (local.get $o) (i32.const 8)))))
          (if (i32.and (i32.shr_u (local.get $m) (i32.const 2)) (i32.lt_u (i32.add (local.get $r) (i32.const 2)) (local.get $rows)))
            (then
              (i32.store (local.get $o) (i32.add (local.get $r) (i32.const 2)))
              (f32.store offset=4 (local.get $o) (f32x4.extract_lane 2 (local.get $sc)))
              (local.set $o (i32.add (local.get $o) (i32.const 8)))))
          (if (i32.and (i32.shr_u (local.get $m) (i32.const 3)) (i32.lt_u (i32.add (local.get $r) (i32.const 3)) (local.get $rows)))
            (then
              (i32.store (local.get $o) (i32.add (local.get $r) (i32.const 3)))
              (f32.store offset=4 (local.get $o) (f32x4.extract_lane 3 (local.get $sc)))
              (local.set $o (i32.add (local.get $o) (i32.const 8)))))
))
      (local.set $codes (i32.add (local.get $codes) (i32.shl (local.get $stride) (i32.const 2))))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br_if $group (i32.lt_u (local.get $r) (local.get $rows))))
    (i32.shr_u (i32.sub (local.get $o) (local.get $out)) (i32.const 3)))
)
