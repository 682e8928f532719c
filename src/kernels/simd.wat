;; collab's WebAssembly SIMD kernels, compiled by scripts/build-kernels.mjs into src/kernels/simd-wasm.ts.
;; The module imports its memory: each Param lives in a memory as [value | grad | m | v | r] (a factor model's
;; user and item tables share one, so the per-rating kernels see both; see src/kernels/param-memory.ts).
;; adamwRow computes in float32 (the JS loop rounds float64 intermediates on store): it differs from the JS path
;; by float32 rounding only, and stays deterministic (no fused multiply-add, IEEE sqrt and div). dotRows and
;; addPairGrad compute exactly what factor-kernels.ts's JS loops compute, bit for bit.
(module
  (import "env" "memory" (memory 0))
  ;; adamwRow: one AdamW row update (optimizers.ts AdamW.step) over n floats at byte offsets w, g, m, v, r:
  ;;   catch-up p ← A p - C r (folded into keepA = keep·A, keepC = keep·C, b1m = b1·mScale, b2v = b2·vScale), then
  ;;   m ← b1m m + c1 g; v ← b2v v + c2 g²; r ← m / (sqrt(v) isb + eps); p ← keepA p - keepC r_old - step r; g ← 0
  ;; with c1 = 1 - b1, c2 = 1 - b2, isb = 1 / sqrt(bc2), step = lr / bc1. f32x4 lanes, then an n % 4 scalar tail.
  (func (export "adamwRow")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $r i32) (param $n i32)
    (param $b1m f32) (param $b2v f32) (param $c1 f32) (param $c2 f32) (param $isb f32) (param $eps f32)
    (param $keepA f32) (param $keepC f32) (param $step f32)
    (local $i i32) (local $end4 i32) (local $off i32)
    (local $G v128) (local $M v128) (local $V v128) (local $R v128)
    (local $vb1m v128) (local $vb2v v128) (local $vc1 v128) (local $vc2 v128) (local $visb v128) (local $veps v128)
    (local $vkA v128) (local $vkC v128) (local $vst v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $rs f32)
    (local.set $vb1m (f32x4.splat (local.get $b1m)))
    (local.set $vb2v (f32x4.splat (local.get $b2v)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $visb (f32x4.splat (local.get $isb)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vkA (f32x4.splat (local.get $keepA)))
    (local.set $vkC (f32x4.splat (local.get $keepC)))
    (local.set $vst (f32x4.splat (local.get $step)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $G (v128.load (i32.add (local.get $g) (local.get $off))))
        (v128.store (i32.add (local.get $g) (local.get $off)) (v128.const i32x4 0 0 0 0))
        (local.set $M (f32x4.add (f32x4.mul (local.get $vb1m) (v128.load (i32.add (local.get $m) (local.get $off)))) (f32x4.mul (local.get $vc1) (local.get $G))))
        (local.set $V (f32x4.add (f32x4.mul (local.get $vb2v) (v128.load (i32.add (local.get $v) (local.get $off)))) (f32x4.mul (local.get $vc2) (f32x4.mul (local.get $G) (local.get $G)))))
        (local.set $R (f32x4.div (local.get $M) (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $V)) (local.get $visb)) (local.get $veps))))
        (v128.store (i32.add (local.get $w) (local.get $off))
          (f32x4.sub
            (f32x4.sub (f32x4.mul (local.get $vkA) (v128.load (i32.add (local.get $w) (local.get $off))))
                       (f32x4.mul (local.get $vkC) (v128.load (i32.add (local.get $r) (local.get $off)))))
            (f32x4.mul (local.get $vst) (local.get $R))))
        (v128.store (i32.add (local.get $m) (local.get $off)) (local.get $M))
        (v128.store (i32.add (local.get $v) (local.get $off)) (local.get $V))
        (v128.store (i32.add (local.get $r) (local.get $off)) (local.get $R))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lp)))
    (block $done2
      (loop $lp2
        (br_if $done2 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $off))))
        (f32.store (i32.add (local.get $g) (local.get $off)) (f32.const 0))
        (local.set $ms (f32.add (f32.mul (local.get $b1m) (f32.load (i32.add (local.get $m) (local.get $off)))) (f32.mul (local.get $c1) (local.get $gs))))
        (local.set $vs (f32.add (f32.mul (local.get $b2v) (f32.load (i32.add (local.get $v) (local.get $off)))) (f32.mul (local.get $c2) (f32.mul (local.get $gs) (local.get $gs)))))
        (local.set $rs (f32.div (local.get $ms) (f32.add (f32.mul (f32.sqrt (local.get $vs)) (local.get $isb)) (local.get $eps))))
        (f32.store (i32.add (local.get $w) (local.get $off))
          (f32.sub (f32.sub (f32.mul (local.get $keepA) (f32.load (i32.add (local.get $w) (local.get $off))))
                            (f32.mul (local.get $keepC) (f32.load (i32.add (local.get $r) (local.get $off)))))
                   (f32.mul (local.get $step) (local.get $rs))))
        (f32.store (i32.add (local.get $m) (local.get $off)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $off)) (local.get $vs))
        (f32.store (i32.add (local.get $r) (local.get $off)) (local.get $rs))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $lp2)))
  )
  ;; dotRows: acc + Σ_f P[u,f] Q[i,f] over n floats at byte offsets p and q, each product and the running sum in
  ;; float64, in order (the JS dotRows exactly: the chain of adds is the same, so the bits are).
  (func (export "dotRows") (param $p i32) (param $q i32) (param $n i32) (param $acc f64) (result f64)
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
  ;; addPairGrad: gP[u] += g Q[i], gQ[i] += g P[u] over n floats, each element as float32(float64(gP) + g float64(Q))
  ;; (the JS addPairGrad bit for bit), two elements per f64x2 lane pair, then a scalar element when n is odd.
  (func (export "addPairGrad") (param $gp i32) (param $gq i32) (param $p i32) (param $q i32) (param $n i32) (param $g f64)
    (local $off i32) (local $end2 i32) (local $end i32) (local $G v128)
    (local.set $G (f64x2.splat (local.get $g)))
    (local.set $end2 (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $off) (local.get $end2)))
        (v128.store64_lane 0 (i32.add (local.get $gp) (local.get $off))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gp) (local.get $off))))
            (f64x2.mul (local.get $G) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $q) (local.get $off))))))))
        (v128.store64_lane 0 (i32.add (local.get $gq) (local.get $off))
          (f32x4.demote_f64x2_zero (f64x2.add
            (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gq) (local.get $off))))
            (f64x2.mul (local.get $G) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p) (local.get $off))))))))
        (local.set $off (i32.add (local.get $off) (i32.const 8)))
        (br $lp)))
    (if (i32.lt_u (local.get $off) (local.get $end))
      (then
        (f32.store (i32.add (local.get $gp) (local.get $off))
          (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $gp) (local.get $off))))
            (f64.mul (local.get $g) (f64.promote_f32 (f32.load (i32.add (local.get $q) (local.get $off))))))))
        (f32.store (i32.add (local.get $gq) (local.get $off))
          (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $gq) (local.get $off))))
            (f64.mul (local.get $g) (f64.promote_f32 (f32.load (i32.add (local.get $p) (local.get $off)))))))))))
)
