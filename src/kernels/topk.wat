;; collab's top-N kernel, compiled by scripts/build-kernels.mjs into src/kernels/topk-wasm.ts (loaded by
;; src/kernels/topk-kernels.ts). It scores a list of movies for one user exactly as models/scoring.ts's rawScores
;; does in JS: every product of two float32 values is exact in float64, and each movie's sum is its own chain of
;; float64 adds in factor order, so the bits are the same (no fused multiply-add).
(module
  (import "env" "memory" (memory 0))
  ;; scoreRows: out[t] = init + bi[i] + Σ_f p[f] Q[i, f] for i = list[t], t < n.
  ;;   Q: float32 rows of k at byte q (row i at q + 4·k·i); bi: float32 at byte bi; p: k float64 at byte p;
  ;;   list: int32 at byte list; out: float64 at byte out.
  ;; Four movies at a time, two per f64x2 (one per lane): the two chains in flight hide the add latency.
  (func $scoreRows (export "scoreRows") (param $out i32) (param $p i32) (param $q i32) (param $init f64) (param $bi i32)
    (param $list i32) (param $n i32) (param $k i32)
    (local $t i32) (local $f i32) (local $kb i32) (local $fb i32)
    (local $i0 i32) (local $i1 i32) (local $i2 i32) (local $i3 i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $x v128) (local $a v128) (local $b v128) (local $s f64)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $done4
      (loop $lp4
        (br_if $done4 (i32.gt_u (i32.add (local.get $t) (i32.const 4)) (local.get $n)))
        (local.set $i0 (i32.load (i32.add (local.get $list) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $i1 (i32.load offset=4 (i32.add (local.get $list) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $i2 (i32.load offset=8 (i32.add (local.get $list) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $i3 (i32.load offset=12 (i32.add (local.get $list) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $r0 (i32.add (local.get $q) (i32.mul (local.get $i0) (local.get $kb))))
        (local.set $r1 (i32.add (local.get $q) (i32.mul (local.get $i1) (local.get $kb))))
        (local.set $r2 (i32.add (local.get $q) (i32.mul (local.get $i2) (local.get $kb))))
        (local.set $r3 (i32.add (local.get $q) (i32.mul (local.get $i3) (local.get $kb))))
        (local.set $x (f64x2.splat (local.get $init)))
        (local.set $a (f64x2.add (local.get $x) (f64x2.promote_low_f32x4
          (v128.load32_lane 1 (i32.add (local.get $bi) (i32.shl (local.get $i1) (i32.const 2)))
            (v128.load32_zero (i32.add (local.get $bi) (i32.shl (local.get $i0) (i32.const 2))))))))
        (local.set $b (f64x2.add (local.get $x) (f64x2.promote_low_f32x4
          (v128.load32_lane 1 (i32.add (local.get $bi) (i32.shl (local.get $i3) (i32.const 2)))
            (v128.load32_zero (i32.add (local.get $bi) (i32.shl (local.get $i2) (i32.const 2))))))))
        (local.set $f (i32.const 0))
        (block $fdone
          (loop $flp
            (br_if $fdone (i32.ge_u (local.get $f) (local.get $k)))
            (local.set $fb (i32.shl (local.get $f) (i32.const 2)))
            (local.set $x (v128.load64_splat (i32.add (local.get $p) (i32.shl (local.get $f) (i32.const 3)))))
            (local.set $a (f64x2.add (local.get $a) (f64x2.mul (local.get $x) (f64x2.promote_low_f32x4
              (v128.load32_lane 1 (i32.add (local.get $r1) (local.get $fb))
                (v128.load32_zero (i32.add (local.get $r0) (local.get $fb))))))))
            (local.set $b (f64x2.add (local.get $b) (f64x2.mul (local.get $x) (f64x2.promote_low_f32x4
              (v128.load32_lane 1 (i32.add (local.get $r3) (local.get $fb))
                (v128.load32_zero (i32.add (local.get $r2) (local.get $fb))))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $flp)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))) (local.get $a))
        (v128.store offset=16 (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))) (local.get $b))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $lp4)))
    ;; the last n % 4 movies, one scalar chain each
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $i0 (i32.load (i32.add (local.get $list) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $r0 (i32.add (local.get $q) (i32.mul (local.get $i0) (local.get $kb))))
        (local.set $s (f64.add (local.get $init)
          (f64.promote_f32 (f32.load (i32.add (local.get $bi) (i32.shl (local.get $i0) (i32.const 2)))))))
        (local.set $f (i32.const 0))
        (block $fdone1
          (loop $flp1
            (br_if $fdone1 (i32.ge_u (local.get $f) (local.get $k)))
            (local.set $s (f64.add (local.get $s)
              (f64.mul (f64.load (i32.add (local.get $p) (i32.shl (local.get $f) (i32.const 3))))
                (f64.promote_f32 (f32.load (i32.add (local.get $r0) (i32.shl (local.get $f) (i32.const 2))))))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $flp1)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))) (local.get $s))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $lp)))
  )
;; The layout of a PrunedTopN's memory (byte offsets) and its ranking, set once by setLayout and setRank so each
  ;; scanChunk call passes only what changes: a JS-to-wasm call costs per argument until its caller is optimised.
  (global $bias (mut i32) (i32.const 0))
  (global $norm (mut i32) (i32.const 0))
  (global $popA (mut i32) (i32.const 0))
  (global $popB (mut i32) (i32.const 0))
  (global $excl (mut i32) (i32.const 0))
  (global $pos (mut i32) (i32.const 0))
  (global $p (mut i32) (i32.const 0))
  (global $q (mut i32) (i32.const 0))
  (global $bi (mut i32) (i32.const 0))
  (global $list (mut i32) (i32.const 0))
  (global $out (mut i32) (i32.const 0))
  (global $stats (mut i32) (i32.const 0))
  (global $k (mut i32) (i32.const 0))
  (global $sig (mut i32) (i32.const 0))
  (global $lo (mut f64) (f64.const 0))
  (global $span (mut f64) (f64.const 0))
  (global $w (mut f64) (f64.const 0))
  ;; setLayout: bias, norm, popA, popB: float64 per scan position; excl: int32 per position; pos: int32 per dense
  ;; movie (its position, -1 if not a candidate); p: k float64; q: float32 rows of k in scan order; bi: float32 per
  ;; position; list: int32, out: float64 (a chunk each); stats: an int32 counter.
  (func (export "setLayout") (param $bias i32) (param $norm i32) (param $popA i32) (param $popB i32) (param $excl i32)
    (param $pos i32) (param $p i32) (param $q i32) (param $bi i32) (param $list i32) (param $out i32) (param $stats i32)
    (param $k i32)
    (global.set $bias (local.get $bias))
    (global.set $norm (local.get $norm))
    (global.set $popA (local.get $popA))
    (global.set $popB (local.get $popB))
    (global.set $excl (local.get $excl))
    (global.set $pos (local.get $pos))
    (global.set $p (local.get $p))
    (global.set $q (local.get $q))
    (global.set $bi (local.get $bi))
    (global.set $list (local.get $list))
    (global.set $out (local.get $out))
    (global.set $stats (local.get $stats))
    (global.set $k (local.get $k)))
  ;; setRank: the link (sig 1: lo + span·sigmoid; sig 0: clip to [lo, span]) and the popularity weight w.
  (func (export "setRank") (param $sig i32) (param $lo f64) (param $span f64) (param $w f64)
    (global.set $sig (local.get $sig))
    (global.set $lo (local.get $lo))
    (global.set $span (local.get $span))
    (global.set $w (local.get $w)))
  ;; sigmoidUpper: a value ≥ 1/(1 + e^-x), within 1.1e-4 of it, from the table at byte $sigT of the sigmoid at
  ;; -40 + j/16 (j = 0..1281): the chord between two entries plus 6e-5 (a chord under the concave half of the curve
  ;; lies at most (1/16)²/8 · max|σ''| = 4.7e-5 below it, one over the convex half as much above); below -40 the
  ;; first entry, from 40 on 1; NaN stays NaN. The same operations in the same order as pruned-top-n.ts's sigmoidUpper, so both give the same bits.
  (global $sigT (mut i32) (i32.const 0))
  (func $sigmoidUpper (export "sigmoidUpper") (param $x f64) (result f64)
    (local $u f64) (local $j f64) (local $at i32) (local $t0 f64)
    (local.set $u (f64.mul (f64.add (local.get $x) (f64.const 40)) (f64.const 16)))
    (if (f64.ne (local.get $u) (local.get $u)) (then (return (local.get $u))))
    (if (f64.lt (local.get $u) (f64.const 0)) (then (return (f64.add (f64.load (global.get $sigT)) (f64.const 6e-5)))))
    (if (f64.ge (local.get $u) (f64.const 1280)) (then (return (f64.const 1))))
    (local.set $j (f64.floor (local.get $u)))
    (local.set $at (i32.add (global.get $sigT) (i32.shl (i32.trunc_f64_s (local.get $j)) (i32.const 3))))
    (local.set $t0 (f64.load (local.get $at)))
    (f64.add (f64.add (local.get $t0)
      (f64.mul (f64.sub (f64.load offset=8 (local.get $at)) (local.get $t0)) (f64.sub (local.get $u) (local.get $j))))
      (f64.const 6e-5)))
  ;; setSigmoidTable: where the table of sigmoidUpper is.
  (func (export "setSigmoidTable") (param $at i32)
    (global.set $sigT (local.get $at)))
  ;; rankUpper: an upper bound of the rank score of a movie whose raw score is at most x and whose popularity term
  ;; is at most pop: link(x) + w·pop, with sigmoidUpper for the sigmoid.
  (func $rankUpper (param $x f64) (param $pop f64) (result f64)
    (f64.add
      (if (result f64) (global.get $sig)
        (then (f64.add (global.get $lo) (f64.mul (global.get $span) (call $sigmoidUpper (local.get $x)))))
        (else (f64.min (f64.max (local.get $x) (global.get $lo)) (global.get $span))))
      (f64.mul (global.get $w) (local.get $pop))))
  ;; markExcluded: excl[pos[m]] = mark for the n dense movies m at byte src (movies that are not candidates skipped).
  (func (export "markExcluded") (param $src i32) (param $n i32) (param $mark i32)
    (local $t i32) (local $at i32)
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $at (i32.load (i32.add (global.get $pos)
          (i32.shl (i32.load (i32.add (local.get $src) (i32.shl (local.get $t) (i32.const 2)))) (i32.const 2)))))
        (if (i32.ge_s (local.get $at) (i32.const 0))
          (then (i32.store (i32.add (global.get $excl) (i32.shl (local.get $at) (i32.const 2))) (local.get $mark))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $lp))))
  ;; scanChunk: one chunk of a user's scan (src/recommend/pruned-top-n.ts), positions t in [from, to). A movie can
  ;; reach the list only when x is not below floor (the chunk's, a cheap first test) and rankUpper(x, popA[t] +
  ;; a2·popB[t]) + eps is not below theta, first with its bound x = init + bias[t] + a·norm[t], then with its raw
  ;; score (scoreRows' over row t of q with bi[t]); NaN bounds pass, NaN scores do not. Scored: the positions that pass the first test and whose excl[t] is not mark. The
  ;; positions that pass both go to list[0..m), their scores to out[0..m); returns m and adds the number scored
  ;; to stats.
  (func (export "scanChunk") (param $from i32) (param $to i32) (param $floor f64) (param $theta f64) (param $eps f64)
    (param $init f64) (param $a f64) (param $a2 f64) (param $mark i32) (result i32)
    (local $t i32) (local $n i32) (local $m i32) (local $j i32) (local $s f64) (local $pop f64) (local $x f64)
    (local.set $t (local.get $from))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $t) (local.get $to)))
        (local.set $x (f64.add (f64.add (local.get $init) (f64.load (i32.add (global.get $bias) (i32.shl (local.get $t) (i32.const 3)))))
          (f64.mul (local.get $a) (f64.load (i32.add (global.get $norm) (i32.shl (local.get $t) (i32.const 3)))))))
        (if (i32.eqz (f64.lt (local.get $x) (local.get $floor)))
          (then
            (local.set $pop (f64.add (f64.load (i32.add (global.get $popA) (i32.shl (local.get $t) (i32.const 3))))
              (f64.mul (local.get $a2) (f64.load (i32.add (global.get $popB) (i32.shl (local.get $t) (i32.const 3)))))))
            (if (i32.and
                  (i32.eqz (f64.lt (f64.add (call $rankUpper (local.get $x) (local.get $pop)) (local.get $eps)) (local.get $theta)))
                  (i32.ne (i32.load (i32.add (global.get $excl) (i32.shl (local.get $t) (i32.const 2)))) (local.get $mark)))
              (then
                (i32.store (i32.add (global.get $list) (i32.shl (local.get $n) (i32.const 2))) (local.get $t))
                (local.set $n (i32.add (local.get $n) (i32.const 1)))))))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $lp)))
    (call $scoreRows (global.get $out) (global.get $p) (global.get $q) (local.get $init) (global.get $bi) (global.get $list)
      (local.get $n) (global.get $k))
    (i32.store (global.get $stats) (i32.add (i32.load (global.get $stats)) (local.get $n)))
    (block $kept
      (loop $klp
        (br_if $kept (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $s (f64.load (i32.add (global.get $out) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $t (i32.load (i32.add (global.get $list) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $pop (f64.add (f64.load (i32.add (global.get $popA) (i32.shl (local.get $t) (i32.const 3))))
          (f64.mul (local.get $a2) (f64.load (i32.add (global.get $popB) (i32.shl (local.get $t) (i32.const 3)))))))
        (if (i32.and (f64.ge (local.get $s) (local.get $floor))
              (i32.eqz (f64.lt (f64.add (call $rankUpper (local.get $s) (local.get $pop)) (local.get $eps)) (local.get $theta))))
          (then
            (i32.store (i32.add (global.get $list) (i32.shl (local.get $m) (i32.const 2))) (local.get $t))
            (f64.store (i32.add (global.get $out) (i32.shl (local.get $m) (i32.const 3))) (local.get $s))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $klp)))
    (local.get $m))
  ;; rowNorms: out[t] = sqrt(Σ_f src[t, f]²) over n float32 rows of k at byte src, each sum a float64 chain in factor
  ;; order (bit for bit the JS loop), into float64 at byte out.
  (func (export "rowNorms") (param $src i32) (param $n i32) (param $k i32) (param $out i32)
    (local $t i32) (local $f i32) (local $row i32) (local $x f64) (local $s f64)
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $row (i32.add (local.get $src) (i32.mul (local.get $t) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $s (f64.const 0))
        (local.set $f (i32.const 0))
        (block $fdone
          (loop $flp
            (br_if $fdone (i32.ge_u (local.get $f) (local.get $k)))
            (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $f) (i32.const 2))))))
            (local.set $s (f64.add (local.get $s) (f64.mul (local.get $x) (local.get $x))))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $flp)))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $t) (i32.const 3))) (f64.sqrt (local.get $s)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $lp))))
  ;; gatherRows: row t of dst = row from[t] of src, for n float32 rows of k (from: int32 at byte from).
  (func (export "gatherRows") (param $dst i32) (param $src i32) (param $from i32) (param $n i32) (param $k i32)
    (local $t i32) (local $f i32) (local $kb i32) (local $s i32) (local $d i32)
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (block $done
      (loop $lp
        (br_if $done (i32.ge_u (local.get $t) (local.get $n)))
        (local.set $s (i32.add (local.get $src)
          (i32.mul (i32.load (i32.add (local.get $from) (i32.shl (local.get $t) (i32.const 2)))) (local.get $kb))))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $t) (local.get $kb))))
        (local.set $f (i32.const 0))
        (block $fdone
          (loop $flp
            (br_if $fdone (i32.ge_u (local.get $f) (local.get $kb)))
            (i32.store (i32.add (local.get $d) (local.get $f)) (i32.load (i32.add (local.get $s) (local.get $f))))
            (local.set $f (i32.add (local.get $f) (i32.const 4)))
            (br $flp)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $lp))))
)
