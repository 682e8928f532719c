;; collab's training kernels (minibatch models: dot, dotbias; the rows of every AdamW-stepped table), compiled by
;; scripts/build-kernels.mjs into src/kernels/adam-wasm.ts. The module imports its memory, laid out per Param as
;; [value | grad | state | row list | row scalars] with each row's AdamW moments side by side in state, [m | v]
;; (see src/kernels/param-memory.ts), and Math.exp (the sigmoid: the same float64 function JS calls, so the
;; per-batch kernel computes what the JS loop computes, bit for bit). No fused multiply-add, IEEE sqrt and div:
;; deterministic.
(module
  (import "env" "memory" (memory 0))
  (import "env" "exp" (func $exp (param f64) (result f64)))
  ;; $pairGrad's results: one rating's dL/dx and prediction error
  (global $g (mut f64) (f64.const 0))
  (global $err (mut f64) (f64.const 0))
  ;; adamwRows: one AdamW step (optimizers.ts AdamW.step) over `count` rows of k floats, the row numbers at `list`
  ;; (i32), each row's moments at s + 8k·row ([m | v], k floats each), and its catch-up scalars at sc + 40 j as
  ;; float64 [b1m, b2v, keepA, keepC, isb0] (b1m = b1·mScale, b2v = b2·vScale, keepA = keep·A, keepC = keep·C,
  ;; isb0 = 1/sqrt(bc2) of the row's last step; see the lazy-row note in optimizers.ts). Per element:
  ;;   r0 ← m / (sqrt(v) isb0 + eps) (only when keepC ≠ 0); m ← b1m m + c1 g; v ← b2v v + c2 g²;
  ;;   p ← keepA p - keepC r0 - step m / (sqrt(v) isb + eps); g ← 0
  ;; r0, the direction of the row's last update, is recomputed from its moments rather than stored: a stored
  ;; copy costs more in memory traffic on big tables than the square root and division cost here.
  ;; wide ≠ 0: float32 lanes (f32x4, then an n % 4 tail), the scalars rounded to float32; wide = 0: float64
  ;; intermediates rounded on store (the JS loop bit for bit: narrow rows such as biases, where lanes buy nothing).
  (func (export "adamwRows")
    (param $list i32) (param $count i32) (param $k i32)
    (param $w i32) (param $g i32) (param $s i32) (param $sc i32)
    (param $c1 f64) (param $c2 f64) (param $isb f64) (param $eps f64) (param $step f64) (param $wide i32)
    (local $j i32) (local $row i32) (local $off i32) (local $m i32) (local $x i32)
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $j) (local.get $count)))
        (local.set $row (i32.load (i32.add (local.get $list) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $off (i32.shl (i32.mul (local.get $row) (local.get $k)) (i32.const 2)))
        (local.set $m (i32.add (local.get $s) (i32.shl (local.get $off) (i32.const 1))))
        (local.set $x (i32.add (local.get $sc) (i32.mul (local.get $j) (i32.const 40))))
        (if (local.get $wide)
          (then
            (call $rowF32
              (i32.add (local.get $w) (local.get $off)) (i32.add (local.get $g) (local.get $off)) (local.get $m)
              (i32.add (local.get $m) (i32.shl (local.get $k) (i32.const 2))) (local.get $k)
              (f32.demote_f64 (f64.load (local.get $x))) (f32.demote_f64 (f64.load offset=8 (local.get $x)))
              (f32.demote_f64 (local.get $c1)) (f32.demote_f64 (local.get $c2)) (f32.demote_f64 (local.get $isb)) (f32.demote_f64 (local.get $eps))
              (f32.demote_f64 (f64.load offset=16 (local.get $x))) (f32.demote_f64 (f64.load offset=24 (local.get $x)))
              (f32.demote_f64 (f64.load offset=32 (local.get $x))) (f32.demote_f64 (local.get $step))))
          (else
            (call $rowF64
              (i32.add (local.get $w) (local.get $off)) (i32.add (local.get $g) (local.get $off)) (local.get $m)
              (i32.add (local.get $m) (i32.shl (local.get $k) (i32.const 2))) (local.get $k)
              (f64.load (local.get $x)) (f64.load offset=8 (local.get $x)) (local.get $c1) (local.get $c2) (local.get $isb) (local.get $eps)
              (f64.load offset=16 (local.get $x)) (f64.load offset=24 (local.get $x)) (f64.load offset=32 (local.get $x)) (local.get $step))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lp))))
  ;; rowF32: one row of adamwRows in float32 lanes.
  (func $rowF32
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1m f32) (param $b2v f32) (param $c1 f32) (param $c2 f32) (param $isb f32) (param $eps f32)
    (param $keepA f32) (param $keepC f32) (param $isb0 f32) (param $step f32)
    (local $i i32) (local $end4 i32) (local $off i32)
    (local $G v128) (local $M0 v128) (local $V0 v128) (local $M v128) (local $V v128) (local $P v128)
    (local $vb1m v128) (local $vb2v v128) (local $vc1 v128) (local $vc2 v128) (local $visb v128) (local $veps v128)
    (local $vkA v128) (local $vkC v128) (local $visb0 v128) (local $vst v128)
    (local $gs f32) (local $m0 f32) (local $v0 f32) (local $ms f32) (local $vs f32) (local $ps f32)
    (local.set $vb1m (f32x4.splat (local.get $b1m)))
    (local.set $vb2v (f32x4.splat (local.get $b2v)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $visb (f32x4.splat (local.get $isb)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vkA (f32x4.splat (local.get $keepA)))
    (local.set $vkC (f32x4.splat (local.get $keepC)))
    (local.set $visb0 (f32x4.splat (local.get $isb0)))
    (local.set $vst (f32x4.splat (local.get $step)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $G (v128.load (i32.add (local.get $g) (local.get $off))))
        (v128.store (i32.add (local.get $g) (local.get $off)) (v128.const i32x4 0 0 0 0))
        (local.set $M0 (v128.load (i32.add (local.get $m) (local.get $off))))
        (local.set $V0 (v128.load (i32.add (local.get $v) (local.get $off))))
        (local.set $P (f32x4.mul (local.get $vkA) (v128.load (i32.add (local.get $w) (local.get $off)))))
        (if (f32.ne (local.get $keepC) (f32.const 0))
          (then
            (local.set $P (f32x4.sub (local.get $P)
              (f32x4.mul (local.get $vkC) (f32x4.div (local.get $M0) (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $V0)) (local.get $visb0)) (local.get $veps))))))))
        (local.set $M (f32x4.add (f32x4.mul (local.get $vb1m) (local.get $M0)) (f32x4.mul (local.get $vc1) (local.get $G))))
        (local.set $V (f32x4.add (f32x4.mul (local.get $vb2v) (local.get $V0)) (f32x4.mul (local.get $vc2) (f32x4.mul (local.get $G) (local.get $G)))))
        (v128.store (i32.add (local.get $w) (local.get $off))
          (f32x4.sub (local.get $P)
            (f32x4.mul (local.get $vst) (f32x4.div (local.get $M) (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $V)) (local.get $visb)) (local.get $veps))))))
        (v128.store (i32.add (local.get $m) (local.get $off)) (local.get $M))
        (v128.store (i32.add (local.get $v) (local.get $off)) (local.get $V))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lp)))
    (block $done2
      (loop $lp2
        (br_if $done2 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $off))))
        (f32.store (i32.add (local.get $g) (local.get $off)) (f32.const 0))
        (local.set $m0 (f32.load (i32.add (local.get $m) (local.get $off))))
        (local.set $v0 (f32.load (i32.add (local.get $v) (local.get $off))))
        (local.set $ps (f32.mul (local.get $keepA) (f32.load (i32.add (local.get $w) (local.get $off)))))
        (if (f32.ne (local.get $keepC) (f32.const 0))
          (then
            (local.set $ps (f32.sub (local.get $ps)
              (f32.mul (local.get $keepC) (f32.div (local.get $m0) (f32.add (f32.mul (f32.sqrt (local.get $v0)) (local.get $isb0)) (local.get $eps))))))))
        (local.set $ms (f32.add (f32.mul (local.get $b1m) (local.get $m0)) (f32.mul (local.get $c1) (local.get $gs))))
        (local.set $vs (f32.add (f32.mul (local.get $b2v) (local.get $v0)) (f32.mul (local.get $c2) (f32.mul (local.get $gs) (local.get $gs)))))
        (f32.store (i32.add (local.get $w) (local.get $off))
          (f32.sub (local.get $ps)
                   (f32.mul (local.get $step) (f32.div (local.get $ms) (f32.add (f32.mul (f32.sqrt (local.get $vs)) (local.get $isb)) (local.get $eps))))))
        (f32.store (i32.add (local.get $m) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $off)) (local.get $vs))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $lp2))))
  ;; rowF64: one row of adamwRows with float64 intermediates, in the JS loop's order of operations.
  (func $rowF64
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1m f64) (param $b2v f64) (param $c1 f64) (param $c2 f64) (param $isb f64) (param $eps f64)
    (param $keepA f64) (param $keepC f64) (param $isb0 f64) (param $step f64)
    (local $off i32) (local $end i32) (local $gs f64) (local $m0 f64) (local $v0 f64) (local $ms f64) (local $vs f64) (local $ps f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (local.set $gs (f64.promote_f32 (f32.load (i32.add (local.get $g) (local.get $off)))))
        (f32.store (i32.add (local.get $g) (local.get $off)) (f32.const 0))
        (local.set $m0 (f64.promote_f32 (f32.load (i32.add (local.get $m) (local.get $off)))))
        (local.set $v0 (f64.promote_f32 (f32.load (i32.add (local.get $v) (local.get $off)))))
        (local.set $ps (f64.mul (local.get $keepA) (f64.promote_f32 (f32.load (i32.add (local.get $w) (local.get $off))))))
        (if (f64.ne (local.get $keepC) (f64.const 0))
          (then
            (local.set $ps (f64.sub (local.get $ps)
              (f64.mul (local.get $keepC) (f64.div (local.get $m0) (f64.add (f64.mul (f64.sqrt (local.get $v0)) (local.get $isb0)) (local.get $eps))))))))
        (local.set $ms (f64.add (f64.mul (local.get $b1m) (local.get $m0)) (f64.mul (local.get $c1) (local.get $gs))))
        (local.set $vs (f64.add (f64.mul (local.get $b2v) (local.get $v0)) (f64.mul (f64.mul (local.get $c2) (local.get $gs)) (local.get $gs))))
        (f32.store (i32.add (local.get $w) (local.get $off))
          (f32.demote_f64 (f64.sub (local.get $ps)
            (f64.mul (local.get $step) (f64.div (local.get $ms) (f64.add (f64.mul (f64.sqrt (local.get $vs)) (local.get $isb)) (local.get $eps)))))))
        (f32.store (i32.add (local.get $m) (local.get $off)) (f32.demote_f64 (local.get $ms)))
        (f32.store (i32.add (local.get $v) (local.get $off)) (f32.demote_f64 (local.get $vs)))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br $lp))))
  ;; dotRows: acc + Σ_f P[u,f] Q[i,f] over n floats at byte offsets p and q, each product and the running sum in
  ;; float64, in order (the JS dotRows exactly: the chain of adds is the same, so the bits are).
  (func $dotRows (export "dotRows") (param $p i32) (param $q i32) (param $n i32) (param $acc f64) (result f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $acc (f64.add (local.get $acc)
          (f64.mul (f64.promote_f32 (f32.load (local.get $p))) (f64.promote_f32 (f32.load (local.get $q))))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $lp)))
    (local.get $acc))
  ;; addPairGrad: gP[u] += g Q[i], gQ[i] += g P[u] over n floats (the JS addPairGrad bit for bit): addGrad on each
  ;; side (the two halves write different tables and read only values, so their order does not change a bit).
  (func $addPairGrad (export "addPairGrad") (param $gp i32) (param $gq i32) (param $p i32) (param $q i32) (param $n i32) (param $g f64)
    (call $addGrad (local.get $gp) (local.get $q) (local.get $n) (local.get $g))
    (call $addGrad (local.get $gq) (local.get $p) (local.get $n) (local.get $g)))
  ;; addGrad: gX += g Y over n floats, each element as float32(float64(gX) + g float64(Y)), two elements per f64x2
  ;; lane pair, then a scalar element when n is odd.
  (func $addGrad (param $gx i32) (param $y i32) (param $n i32) (param $g f64)
    (local $off i32) (local $end2 i32) (local $end i32) (local $G v128)
    (local.set $G (f64x2.splat (local.get $g)))
    (local.set $end2 (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $off) (local.get $end2)))
        (v128.store64_lane 0 (i32.add (local.get $gx) (local.get $off))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gx) (local.get $off))))
            (f64x2.mul (local.get $G) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $y) (local.get $off))))))))
        (local.set $off (i32.add (local.get $off) (i32.const 8)))
        (br $lp)))
    (if (i32.lt_u (local.get $off) (local.get $end))
      (then
        (f32.store (i32.add (local.get $gx) (local.get $off))
          (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $gx) (local.get $off))))
            (f64.mul (local.get $g) (f64.promote_f32 (f32.load (i32.add (local.get $y) (local.get $off)))))))))))
  ;; pairBatch: forward and backward of n ratings of a dot or dotbias model in one call (the models' trainBatch
  ;; loops, bit for bit). The ratings are 12-byte records at `batch`: user i32, item i32, rating f32. With bias
  ;; tables (bu ≠ 0): x = (bu[u] + bi[i]) + P[u]·Q[i], s = 1 / (1 + exp(-x)), pred = s span + lo,
  ;; g = scale err s (1 - s), and gbu[u] += g, gbi[i] += g; without: pred = P[u]·Q[i], g = scale err. Then
  ;; gP[u] += g Q[i], gQ[i] += g P[u]. Returns sse plus the batch's squared errors, summed in order.
  (func (export "pairBatch")
    (param $batch i32) (param $n i32) (param $k i32)
    (param $p i32) (param $q i32) (param $gp i32) (param $gq i32)
    (param $bu i32) (param $bi i32) (param $gbu i32) (param $gbi i32)
    (param $lo f64) (param $span f64) (param $scale f64) (param $sse f64) (result f64)
    (local $at i32) (local $end i32) (local $urow i32) (local $irow i32)
    (local.set $at (local.get $batch))
    (local.set $end (i32.add (local.get $batch) (i32.mul (local.get $n) (i32.const 12))))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (call $pairGrad (local.get $at) (local.get $k) (local.get $p) (local.get $q) (local.get $bu) (local.get $bi) (local.get $lo) (local.get $span) (local.get $scale))
        (local.set $sse (f64.add (local.get $sse) (f64.mul (global.get $err) (global.get $err))))
        (if (local.get $bu)
          (then
            (call $addBias (local.get $gbu) (i32.load (local.get $at)) (global.get $g))
            (call $addBias (local.get $gbi) (i32.load offset=4 (local.get $at)) (global.get $g))))
        (local.set $urow (i32.shl (i32.mul (i32.load (local.get $at)) (local.get $k)) (i32.const 2)))
        (local.set $irow (i32.shl (i32.mul (i32.load offset=4 (local.get $at)) (local.get $k)) (i32.const 2)))
        (call $addPairGrad (i32.add (local.get $gp) (local.get $urow)) (i32.add (local.get $gq) (local.get $irow))
          (i32.add (local.get $p) (local.get $urow)) (i32.add (local.get $q) (local.get $irow)) (local.get $k) (global.get $g))
        (local.set $at (i32.add (local.get $at) (i32.const 12)))
        (br $lp)))
    (local.get $sse))
  ;; pairForward: the forward half of pairBatch over records from..to-1 at `batch`: each rating's g and err as
  ;; float64 pairs at out + 16 j (two threads each take part of a batch; nothing in the tables changes).
  (func (export "pairForward")
    (param $batch i32) (param $from i32) (param $to i32) (param $k i32) (param $p i32) (param $q i32) (param $bu i32) (param $bi i32)
    (param $lo f64) (param $span f64) (param $scale f64) (param $out i32)
    (local $j i32)
    (local.set $j (local.get $from))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $j) (local.get $to)))
        (call $pairGrad (i32.add (local.get $batch) (i32.mul (local.get $j) (i32.const 12))) (local.get $k) (local.get $p) (local.get $q)
          (local.get $bu) (local.get $bi) (local.get $lo) (local.get $span) (local.get $scale))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 4))) (global.get $g))
        (f64.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 4))) (global.get $err))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lp))))
  ;; pairAccumulate: one side of pairBatch's backward from pairForward's g values at `gin`, over n records at
  ;; `batch`: own = 0 takes the user side (gb[u] += g, gX[u] += g Q[i]), own = 4 the item side (gb[i] += g,
  ;; gX[i] += g P[u]); y is the other side's factor table, gb 0 when there are no biases. Only rows with
  ;; row & mask = part (mask 0: every row). In record order, with pairBatch's arithmetic: each row's sum is its
  ;; one-thread sum, whichever thread adds it.
  (func (export "pairAccumulate")
    (param $batch i32) (param $n i32) (param $k i32) (param $own i32) (param $gx i32) (param $y i32) (param $gb i32) (param $gin i32)
    (param $mask i32) (param $part i32)
    (local $at i32) (local $end i32) (local $g f64) (local $row i32)
    (local.set $at (local.get $batch))
    (local.set $end (i32.add (local.get $batch) (i32.mul (local.get $n) (i32.const 12))))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $row (i32.load (i32.add (local.get $at) (local.get $own))))
        (if (i32.eq (i32.and (local.get $row) (local.get $mask)) (local.get $part))
          (then
            (local.set $g (f64.load (local.get $gin)))
            (if (local.get $gb) (then (call $addBias (local.get $gb) (local.get $row) (local.get $g))))
            (call $addGrad (i32.add (local.get $gx) (i32.shl (i32.mul (local.get $row) (local.get $k)) (i32.const 2)))
              (i32.add (local.get $y) (i32.shl (i32.mul (i32.load (i32.add (local.get $at) (i32.sub (i32.const 4) (local.get $own)))) (local.get $k)) (i32.const 2)))
              (local.get $k) (local.get $g))))
        (local.set $gin (i32.add (local.get $gin) (i32.const 16)))
        (local.set $at (i32.add (local.get $at) (i32.const 12)))
        (br $lp))))
  ;; addBias: gb[row] += g, as float32(float64(gb[row]) + g).
  (func $addBias (param $gb i32) (param $row i32) (param $g f64)
    (local $a i32)
    (local.set $a (i32.add (local.get $gb) (i32.shl (local.get $row) (i32.const 2))))
    (f32.store (local.get $a) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $a))) (local.get $g)))))
  ;; pairGrad: one rating's forward at record `at` into the globals $g (dL/dx) and $err (prediction - rating).
  (func $pairGrad
    (param $at i32) (param $k i32) (param $p i32) (param $q i32) (param $bu i32) (param $bi i32)
    (param $lo f64) (param $span f64) (param $scale f64)
    (local $u i32) (local $i i32) (local $x f64) (local $s f64) (local $err f64)
    (local.set $u (i32.shl (i32.load (local.get $at)) (i32.const 2)))
    (local.set $i (i32.shl (i32.load offset=4 (local.get $at)) (i32.const 2)))
    (if (local.get $bu)
      (then
        (local.set $x (call $dotRows (i32.add (local.get $p) (i32.mul (local.get $u) (local.get $k))) (i32.add (local.get $q) (i32.mul (local.get $i) (local.get $k))) (local.get $k)
          (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $bu) (local.get $u)))) (f64.promote_f32 (f32.load (i32.add (local.get $bi) (local.get $i)))))))
        (local.set $s (f64.div (f64.const 1) (f64.add (f64.const 1) (call $exp (f64.neg (local.get $x))))))
        (local.set $err (f64.sub (f64.add (f64.mul (local.get $s) (local.get $span)) (local.get $lo)) (f64.promote_f32 (f32.load offset=8 (local.get $at)))))
        (global.set $g (f64.mul (f64.mul (f64.mul (local.get $scale) (local.get $err)) (local.get $s)) (f64.sub (f64.const 1) (local.get $s)))))
      (else
        (local.set $err (f64.sub
          (call $dotRows (i32.add (local.get $p) (i32.mul (local.get $u) (local.get $k))) (i32.add (local.get $q) (i32.mul (local.get $i) (local.get $k))) (local.get $k) (f64.const 0))
          (f64.promote_f32 (f32.load offset=8 (local.get $at)))))
        (global.set $g (f64.mul (local.get $scale) (local.get $err)))))
    (global.set $err (local.get $err)))
)
