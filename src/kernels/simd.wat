;; collab's WebAssembly SIMD kernels, compiled by scripts/build-kernels.mjs into src/kernels/simd-wasm.ts.
;; The module imports its memory (a scratch memory of the caller's). The training kernels (AdamW rows, the
;; per-rating dot and gradient) live in src/kernels/adam.wat.
(module
  (import "env" "memory" (memory 0))
  ;; EmbeddingNN's dense layer products (src/models/nn.ts) over a scratch region: activations x (n × dp) and weights
  ;; W (c × dp) have rows padded with zeros to dp floats, dp a multiple of 4, so every row is whole f32x4 lanes;
  ;; z and dz are n × c. Sums are float32 (f32x4 partial sums, no fused multiply-add: deterministic).
  ;; nnForward: z[b, j] = bias[j] + Σ_k x[b, k] W[j, k], four units at a time (one x load feeds four products).
  (func (export "nnForward") (param $x i32) (param $w i32) (param $bias i32) (param $z i32) (param $n i32) (param $dp i32) (param $c i32)
    (local $rowB i32) (local $c4 i32) (local $b i32) (local $j i32) (local $k i32) (local $xr i32) (local $zr i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32)
    (local $X v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $rowB (i32.shl (local.get $dp) (i32.const 2)))
    (local.set $c4 (i32.and (local.get $c) (i32.const -4)))
    (block $bdone
      (loop $blp
        (br_if $bdone (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $xr (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $rowB))))
        (local.set $zr (i32.add (local.get $z) (i32.shl (i32.mul (local.get $b) (local.get $c)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jlp
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $c4)))
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $rowB))))
            (local.set $w1 (i32.add (local.get $w0) (local.get $rowB)))
            (local.set $w2 (i32.add (local.get $w1) (local.get $rowB)))
            (local.set $w3 (i32.add (local.get $w2) (local.get $rowB)))
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $s1 (v128.const i32x4 0 0 0 0))
            (local.set $s2 (v128.const i32x4 0 0 0 0))
            (local.set $s3 (v128.const i32x4 0 0 0 0))
            (local.set $k (i32.const 0))
            (block $kdone
              (loop $klp
                (br_if $kdone (i32.ge_u (local.get $k) (local.get $rowB)))
                (local.set $X (v128.load (i32.add (local.get $xr) (local.get $k))))
                (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (local.get $X) (v128.load (i32.add (local.get $w0) (local.get $k))))))
                (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (local.get $X) (v128.load (i32.add (local.get $w1) (local.get $k))))))
                (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (local.get $X) (v128.load (i32.add (local.get $w2) (local.get $k))))))
                (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (local.get $X) (v128.load (i32.add (local.get $w3) (local.get $k))))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $klp)))
            (f32.store (i32.add (local.get $zr) (i32.shl (local.get $j) (i32.const 2)))
              (f32.add (call $hsum (local.get $s0)) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
            (f32.store offset=4 (i32.add (local.get $zr) (i32.shl (local.get $j) (i32.const 2)))
              (f32.add (call $hsum (local.get $s1)) (f32.load offset=4 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
            (f32.store offset=8 (i32.add (local.get $zr) (i32.shl (local.get $j) (i32.const 2)))
              (f32.add (call $hsum (local.get $s2)) (f32.load offset=8 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
            (f32.store offset=12 (i32.add (local.get $zr) (i32.shl (local.get $j) (i32.const 2)))
              (f32.add (call $hsum (local.get $s3)) (f32.load offset=12 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jlp)))
        (block $tdone
          (loop $tlp
            (br_if $tdone (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $w0 (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $rowB))))
            (local.set $s0 (v128.const i32x4 0 0 0 0))
            (local.set $k (i32.const 0))
            (block $kdone2
              (loop $klp2
                (br_if $kdone2 (i32.ge_u (local.get $k) (local.get $rowB)))
                (local.set $s0 (f32x4.add (local.get $s0)
                  (f32x4.mul (v128.load (i32.add (local.get $xr) (local.get $k))) (v128.load (i32.add (local.get $w0) (local.get $k))))))
                (local.set $k (i32.add (local.get $k) (i32.const 16)))
                (br $klp2)))
            (f32.store (i32.add (local.get $zr) (i32.shl (local.get $j) (i32.const 2)))
              (f32.add (call $hsum (local.get $s0)) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tlp)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $blp))))
  ;; nnGradW: dW[j, :] = Σ_b dz[b, j] x[b, :] (written, not added: the caller adds it to the param's grad), skipping
  ;; the zeros of dz (the ReLU was off); idx and val are scratch for one column's nonzeros (n entries each).
  (func (export "nnGradW") (param $dz i32) (param $x i32) (param $gw i32) (param $n i32) (param $dp i32) (param $c i32) (param $idx i32) (param $val i32)
    (local $rowB i32) (local $j i32) (local $cnt i32)
    (local.set $rowB (i32.shl (local.get $dp) (i32.const 2)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $j) (local.get $c)))
        (local.set $cnt (call $gatherNz (i32.add (local.get $dz) (i32.shl (local.get $j) (i32.const 2))) (i32.shl (local.get $c) (i32.const 2))
          (local.get $n) (local.get $idx) (local.get $val) (local.get $x) (local.get $rowB)))
        (call $combineRows (i32.add (local.get $gw) (i32.mul (local.get $j) (local.get $rowB))) (local.get $idx) (local.get $val) (local.get $cnt) (local.get $rowB))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lp))))
  ;; nnGradX: dx[b, :] = Σ_j dz[b, j] W[j, :], skipping the zeros of dz; idx and val hold one row's nonzeros (c entries).
  (func (export "nnGradX") (param $dz i32) (param $w i32) (param $dx i32) (param $n i32) (param $dp i32) (param $c i32) (param $idx i32) (param $val i32)
    (local $rowB i32) (local $b i32) (local $cnt i32)
    (local.set $rowB (i32.shl (local.get $dp) (i32.const 2)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $b) (local.get $n)))
        (local.set $cnt (call $gatherNz (i32.add (local.get $dz) (i32.shl (i32.mul (local.get $b) (local.get $c)) (i32.const 2))) (i32.const 4)
          (local.get $c) (local.get $idx) (local.get $val) (local.get $w) (local.get $rowB)))
        (call $combineRows (i32.add (local.get $dx) (i32.mul (local.get $b) (local.get $rowB))) (local.get $idx) (local.get $val) (local.get $cnt) (local.get $rowB))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $lp))))
  ;; gatherNz: the nonzero values v_t of `count` floats at src + t·stride, with the byte offset base + t·rowB of the
  ;; row each one scales, into val and idx; returns how many.
  (func $gatherNz (param $src i32) (param $stride i32) (param $count i32) (param $idx i32) (param $val i32) (param $base i32) (param $rowB i32) (result i32)
    (local $t i32) (local $cnt i32) (local $v f32)
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $t) (local.get $count)))
        (local.set $v (f32.load (i32.add (local.get $src) (i32.mul (local.get $t) (local.get $stride)))))
        (if (f32.ne (local.get $v) (f32.const 0))
          (then
            (i32.store (i32.add (local.get $idx) (i32.shl (local.get $cnt) (i32.const 2)))
              (i32.add (local.get $base) (i32.mul (local.get $t) (local.get $rowB))))
            (f32.store (i32.add (local.get $val) (i32.shl (local.get $cnt) (i32.const 2))) (local.get $v))
            (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $lp)))
    (local.get $cnt))
  ;; combineRows: dst = Σ_t val[t] row(idx[t]) over rowB bytes, four source rows per pass over dst (one load and
  ;; store of dst per four multiply-adds), then one at a time.
  (func $combineRows (param $dst i32) (param $idx i32) (param $val i32) (param $cnt i32) (param $rowB i32)
    (local $k i32) (local $t i32) (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $d v128)
    (block $zdone
      (loop $zlp
        (br_if $zdone (i32.ge_u (local.get $k) (local.get $rowB)))
        (v128.store (i32.add (local.get $dst) (local.get $k)) (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $zlp)))
    (block $qdone
      (loop $qlp
        (br_if $qdone (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $cnt)))
        (local.set $o0 (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $o1 (i32.load offset=4 (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $o2 (i32.load offset=8 (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $o3 (i32.load offset=12 (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $g0 (f32x4.splat (f32.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
        (local.set $g1 (f32x4.splat (f32.load offset=4 (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
        (local.set $g2 (f32x4.splat (f32.load offset=8 (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
        (local.set $g3 (f32x4.splat (f32.load offset=12 (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $klp
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $rowB)))
            (v128.store (i32.add (local.get $dst) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $k)))
                (f32x4.add
                  (f32x4.add (f32x4.mul (local.get $g0) (v128.load (i32.add (local.get $o0) (local.get $k))))
                             (f32x4.mul (local.get $g1) (v128.load (i32.add (local.get $o1) (local.get $k)))))
                  (f32x4.add (f32x4.mul (local.get $g2) (v128.load (i32.add (local.get $o2) (local.get $k))))
                             (f32x4.mul (local.get $g3) (v128.load (i32.add (local.get $o3) (local.get $k))))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $klp)))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $qlp)))
    (block $sdone
      (loop $slp
        (br_if $sdone (i32.ge_u (local.get $t) (local.get $cnt)))
        (local.set $o0 (i32.load (i32.add (local.get $idx) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $g0 (f32x4.splat (f32.load (i32.add (local.get $val) (i32.shl (local.get $t) (i32.const 2))))))
        (local.set $k (i32.const 0))
        (block $kdone2
          (loop $klp2
            (br_if $kdone2 (i32.ge_u (local.get $k) (local.get $rowB)))
            (v128.store (i32.add (local.get $dst) (local.get $k))
              (f32x4.add (v128.load (i32.add (local.get $dst) (local.get $k)))
                (f32x4.mul (local.get $g0) (v128.load (i32.add (local.get $o0) (local.get $k))))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (br $klp2)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $slp))))
  ;; The dense float64 linear algebra of src/maths/dense.ts (EASE's Cholesky inverse) rests on one product:
  ;;   gemmNT: C[i, j] += alpha · Σ_{p<k} A[i, p] B[j, p]   for i < m, j < n
  ;; with A, B and C row-major float64 at byte offsets a, b, c and row strides lda, ldb, ldc in elements. Rows of A
  ;; and B are read along p (contiguous), four rows of A against two of B at a time: 8 f64x2 partial sums share 6
  ;; loads per pair of p; the caller keeps k a cache-sized chunk. No fused multiply-add: deterministic.
  (func (export "gemmNT") (param $c i32) (param $a i32) (param $b i32) (param $m i32) (param $n i32) (param $k i32)
    (param $ldc i32) (param $lda i32) (param $ldb i32) (param $alpha f64)
    (local $i i32) (local $j i32) (local $off i32) (local $kb2 i32) (local $kb i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $b0 i32) (local $b1 i32) (local $cr i32)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $va v128) (local $vb0 v128) (local $vb1 v128)
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 3)))
    (local.set $lda (i32.shl (local.get $lda) (i32.const 3)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 3)))
    (local.set $kb (i32.shl (local.get $k) (i32.const 3)))
    (local.set $kb2 (i32.shl (i32.and (local.get $k) (i32.const -2)) (i32.const 3)))
    (block $idone
      (loop $ilp
        (br_if $idone (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $m)))
        (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $a1 (i32.add (local.get $a0) (local.get $lda)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $lda)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $lda)))
        (local.set $cr (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jlp
            (br_if $jdone (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
            (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $ldb))))
            (local.set $b1 (i32.add (local.get $b0) (local.get $ldb)))
            (local.set $s00 (v128.const i64x2 0 0)) (local.set $s01 (v128.const i64x2 0 0))
            (local.set $s10 (v128.const i64x2 0 0)) (local.set $s11 (v128.const i64x2 0 0))
            (local.set $s20 (v128.const i64x2 0 0)) (local.set $s21 (v128.const i64x2 0 0))
            (local.set $s30 (v128.const i64x2 0 0)) (local.set $s31 (v128.const i64x2 0 0))
            (local.set $off (i32.const 0))
            (block $pdone
              (loop $plp
                (br_if $pdone (i32.ge_u (local.get $off) (local.get $kb2)))
                (local.set $vb0 (v128.load (i32.add (local.get $b0) (local.get $off))))
                (local.set $vb1 (v128.load (i32.add (local.get $b1) (local.get $off))))
                (local.set $va (v128.load (i32.add (local.get $a0) (local.get $off))))
                (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load (i32.add (local.get $a1) (local.get $off))))
                (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load (i32.add (local.get $a2) (local.get $off))))
                (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load (i32.add (local.get $a3) (local.get $off))))
                (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $off (i32.add (local.get $off) (i32.const 16)))
                (br $plp)))
            ;; an odd k leaves one p: its products go into lane 0
            (if (i32.lt_u (local.get $off) (local.get $kb))
              (then
                (local.set $vb0 (v128.load64_zero (i32.add (local.get $b0) (local.get $off))))
                (local.set $vb1 (v128.load64_zero (i32.add (local.get $b1) (local.get $off))))
                (local.set $va (v128.load64_zero (i32.add (local.get $a0) (local.get $off))))
                (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load64_zero (i32.add (local.get $a1) (local.get $off))))
                (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load64_zero (i32.add (local.get $a2) (local.get $off))))
                (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $va (v128.load64_zero (i32.add (local.get $a3) (local.get $off))))
                (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $va) (local.get $vb0))))
                (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $va) (local.get $vb1))))))
            (call $addC (i32.add (local.get $cr) (i32.shl (local.get $j) (i32.const 3))) (local.get $s00) (local.get $alpha))
            (call $addC (i32.add (local.get $cr) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))) (local.get $s01) (local.get $alpha))
            (call $addC (i32.add (i32.add (local.get $cr) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 3))) (local.get $s10) (local.get $alpha))
            (call $addC (i32.add (i32.add (local.get $cr) (local.get $ldc)) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))) (local.get $s11) (local.get $alpha))
            (call $addC (i32.add (i32.add (local.get $cr) (i32.shl (local.get $ldc) (i32.const 1))) (i32.shl (local.get $j) (i32.const 3))) (local.get $s20) (local.get $alpha))
            (call $addC (i32.add (i32.add (local.get $cr) (i32.shl (local.get $ldc) (i32.const 1))) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))) (local.get $s21) (local.get $alpha))
            (call $addC (i32.add (i32.add (local.get $cr) (i32.mul (local.get $ldc) (i32.const 3))) (i32.shl (local.get $j) (i32.const 3))) (local.get $s30) (local.get $alpha))
            (call $addC (i32.add (i32.add (local.get $cr) (i32.mul (local.get $ldc) (i32.const 3))) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))) (local.get $s31) (local.get $alpha))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $jlp)))
        ;; an odd n leaves one column for these four rows
        (if (i32.lt_u (local.get $j) (local.get $n))
          (then
            (local.set $b0 (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $ldb))))
            (call $dotC (i32.add (local.get $cr) (i32.shl (local.get $j) (i32.const 3))) (local.get $a0) (local.get $b0) (local.get $kb) (local.get $alpha))
            (call $dotC (i32.add (i32.add (local.get $cr) (local.get $ldc)) (i32.shl (local.get $j) (i32.const 3))) (local.get $a1) (local.get $b0) (local.get $kb) (local.get $alpha))
            (call $dotC (i32.add (i32.add (local.get $cr) (i32.shl (local.get $ldc) (i32.const 1))) (i32.shl (local.get $j) (i32.const 3))) (local.get $a2) (local.get $b0) (local.get $kb) (local.get $alpha))
            (call $dotC (i32.add (i32.add (local.get $cr) (i32.mul (local.get $ldc) (i32.const 3))) (i32.shl (local.get $j) (i32.const 3))) (local.get $a3) (local.get $b0) (local.get $kb) (local.get $alpha))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $ilp)))
    ;; the last m % 4 rows, one entry at a time
    (block $rdone
      (loop $rlp
        (br_if $rdone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $lda))))
        (local.set $cr (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $j (i32.const 0))
        (block $cdone
          (loop $clp
            (br_if $cdone (i32.ge_u (local.get $j) (local.get $n)))
            (call $dotC (i32.add (local.get $cr) (i32.shl (local.get $j) (i32.const 3)))
              (local.get $a0) (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $ldb))) (local.get $kb) (local.get $alpha))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $clp)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rlp))))
  ;; addC: C[at] += alpha · (s0 + s1) of a f64x2 partial sum.
  (func $addC (param $at i32) (param $s v128) (param $alpha f64)
    (f64.store (local.get $at) (f64.add (f64.load (local.get $at))
      (f64.mul (local.get $alpha) (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))))))
  ;; dotC: C[at] += alpha · Σ_p A[p] B[p] over kb bytes (float64) at byte offsets pa and pb.
  (func $dotC (param $at i32) (param $pa i32) (param $pb i32) (param $kb i32) (param $alpha f64)
    (local $off i32) (local $kb2 i32) (local $s v128)
    (local.set $kb2 (i32.and (local.get $kb) (i32.const -16)))
    (local.set $s (v128.const i64x2 0 0))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $off) (local.get $kb2)))
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (v128.load (i32.add (local.get $pa) (local.get $off))) (v128.load (i32.add (local.get $pb) (local.get $off))))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br $lp)))
    (if (i32.lt_u (local.get $off) (local.get $kb))
      (then
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (v128.load64_zero (i32.add (local.get $pa) (local.get $off))) (v128.load64_zero (i32.add (local.get $pb) (local.get $off))))))))
    (call $addC (local.get $at) (local.get $s) (local.get $alpha)))
  ;; hsum: (s0 + s1) + (s2 + s3) of a f32x4.
  (func $hsum (param $s v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
      (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
)
