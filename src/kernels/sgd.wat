;; collab's per-rating SGD kernel for matrix factorization (LIBMF's FPSGD inner loop), compiled by
;; scripts/build-kernels.mjs into src/kernels/sgd-wasm.ts. The module imports its memory, which holds the
;; factor tables (rows padded to kp floats, a multiple of 4, so every row is whole f32x4 lanes), the bias
;; tables and the rating columns stored block by block (see src/kernels/sgd-memory.ts), so one call trains a
;; whole block without a call per rating. Deterministic: float32 lanes in a fixed order, no fused multiply-add.
(module
  (import "env" "memory" (memory 0))
  ;; sgdRange: Funk SGD (models/mf.ts's funkSgd) over ratings [start, end) of the columns us, is, ys:
  ;;   err = y - (mu + bu[u] + bi[i] + P[u]·Q[i])
  ;;   bu[u] ← keep bu[u] + lr err;  bi[i] ← keep bi[i] + lr err
  ;;   P[u] ← keep P[u] + lr err Q[i];  Q[i] ← keep Q[i] + lr err P[u]   (both from the old values)
  ;; with keep = 1 - lr reg. P and Q are byte offsets of row-major tables of kp floats per row; returns the sum
  ;; of the squared errors seen before each update, in float64.
  (func (export "sgdRange")
    (param $P i32) (param $Q i32) (param $bu i32) (param $bi i32)
    (param $us i32) (param $is i32) (param $ys i32)
    (param $start i32) (param $end i32) (param $kp i32)
    (param $mu f32) (param $lr f32) (param $reg f32)
    (result f64)
    (local $r i32) (local $u i32) (local $i i32) (local $pu i32) (local $qi i32) (local $f i32) (local $rowBytes i32)
    (local $bua i32) (local $bia i32)
    (local $acc v128) (local $acc2 v128) (local $p v128) (local $q v128) (local $vkeep v128) (local $vstep v128)
    (local $err f32) (local $step f32) (local $keep f32) (local $sse f64)
    (local.set $rowBytes (i32.shl (local.get $kp) (i32.const 2)))
    (local.set $keep (f32.sub (f32.const 1) (f32.mul (local.get $lr) (local.get $reg))))
    (local.set $vkeep (f32x4.splat (local.get $keep)))
    (local.set $r (local.get $start))
    (block $done
      (loop $rating
        (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $u (i32.load (i32.add (local.get $us) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $i (i32.load (i32.add (local.get $is) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $pu (i32.add (local.get $P) (i32.mul (local.get $u) (local.get $rowBytes))))
        (local.set $qi (i32.add (local.get $Q) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $bua (i32.add (local.get $bu) (i32.shl (local.get $u) (i32.const 2))))
        (local.set $bia (i32.add (local.get $bi) (i32.shl (local.get $i) (i32.const 2))))
        ;; the dot product in two chains of f32x4 lanes (even and odd vectors), so the adds overlap
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $acc2 (v128.const f32x4 0 0 0 0))
        (local.set $f (i32.const 0))
        (block $dotDone
          (loop $dot
            (br_if $dotDone (i32.gt_u (i32.add (local.get $f) (i32.const 32)) (local.get $rowBytes)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load (i32.add (local.get $pu) (local.get $f))) (v128.load (i32.add (local.get $qi) (local.get $f))))))
            (local.set $acc2 (f32x4.add (local.get $acc2)
              (f32x4.mul (v128.load offset=16 (i32.add (local.get $pu) (local.get $f))) (v128.load offset=16 (i32.add (local.get $qi) (local.get $f))))))
            (local.set $f (i32.add (local.get $f) (i32.const 32)))
            (br $dot)))
        (if (i32.lt_u (local.get $f) (local.get $rowBytes))
          (then
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load (i32.add (local.get $pu) (local.get $f))) (v128.load (i32.add (local.get $qi) (local.get $f))))))))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $acc2)))
        (local.set $err
          (f32.sub (f32.load (i32.add (local.get $ys) (i32.shl (local.get $r) (i32.const 2))))
            (f32.add
              (f32.add (f32.add (local.get $mu) (f32.load (local.get $bua))) (f32.load (local.get $bia)))
              (f32.add
                (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))))
        (local.set $sse (f64.add (local.get $sse) (f64.promote_f32 (f32.mul (local.get $err) (local.get $err)))))
        (local.set $step (f32.mul (local.get $lr) (local.get $err)))
        (f32.store (local.get $bua) (f32.add (f32.mul (local.get $keep) (f32.load (local.get $bua))) (local.get $step)))
        (f32.store (local.get $bia) (f32.add (f32.mul (local.get $keep) (f32.load (local.get $bia))) (local.get $step)))
        (local.set $vstep (f32x4.splat (local.get $step)))
        (local.set $f (i32.const 0))
        (block $updDone
          (loop $upd
            (br_if $updDone (i32.ge_u (local.get $f) (local.get $rowBytes)))
            (local.set $p (v128.load (i32.add (local.get $pu) (local.get $f))))
            (local.set $q (v128.load (i32.add (local.get $qi) (local.get $f))))
            (v128.store (i32.add (local.get $pu) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $vkeep) (local.get $p)) (f32x4.mul (local.get $vstep) (local.get $q))))
            (v128.store (i32.add (local.get $qi) (local.get $f))
              (f32x4.add (f32x4.mul (local.get $vkeep) (local.get $q)) (f32x4.mul (local.get $vstep) (local.get $p))))
            (local.set $f (i32.add (local.get $f) (i32.const 16)))
            (br $upd)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rating)))
    (local.get $sse))
)
