;; vector_loops.wat: two loops the loop vectorizer takes (an a·x + y row
;; update and a three-point smoothing with a recurrence, from
;; tests/wast/vectorize.wast), over 1,000 doubles, and a row update
;; inside an outer loop (whose constant Cranelift would hoist out of both
;; loops), and an i32 loop inside an outer loop with the vector constants
;; the vectorizer makes itself (a sum's zeros, an induction's steps, a
;; select's zero test) and a 16-bit store; prints the bits of a checksum
;; of the results in hex, for tests/boards.rs. On riscv64 the
;; vector loop runs only where the core has the V extension, so the same
;; firmware must print the same line on a core with V and on one without.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $fill (param $p i32) (param $n i32) (param $seed f64)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (f64.store
          (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))
          (f64.add
            (f64.mul (local.get $seed) (f64.convert_i32_s (i32.add (local.get $i) (i32.const 1))))
            (f64.div (f64.convert_i32_s (local.get $i)) (f64.const 7))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  (func $checksum (param $p i32) (param $n i32) (result f64)
    (local $i i32) (local $sum f64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $sum
          (f64.add (local.get $sum)
            (f64.mul
              (f64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))
              (f64.convert_i32_s (i32.add (local.get $i) (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func $axpy (param $x i32) (param $y i32) (param $n i32) (param $a f64)
    (local $i i32) (local $t i32)
    (loop $l
      (f64.store
        (local.tee $t (i32.add (local.get $y) (local.get $i)))
        (f64.add
          (f64.mul (local.get $a) (f64.load (i32.add (local.get $x) (local.get $i))))
          (f64.load (local.get $t))))
      (br_if $l (i32.ne
        (local.tee $i (i32.add (local.get $i) (i32.const 8)))
        (i32.shl (local.get $n) (i32.const 3))))))
  (func $smooth (param $in i32) (param $out i32) (param $n i32)
    (local $j i32) (local $prev f64) (local $cur f64) (local $end i32)
    (local.set $end (i32.shl (i32.sub (local.get $n) (i32.const 1)) (i32.const 3)))
    (local.set $prev (f64.load (local.get $in)))
    (local.set $cur (f64.load offset=8 (local.get $in)))
    (local.set $j (i32.sub (i32.const 8) (local.get $end)))
    (loop $l
      (f64.store
        (i32.add (i32.add (local.get $out) (local.get $end)) (local.get $j))
        (f64.mul (f64.const 0.25)
          (f64.add
            (f64.add (local.get $prev) (f64.mul (f64.const 2) (local.get $cur)))
            (local.tee $cur (f64.load offset=8
              (i32.add (i32.add (local.get $in) (local.get $end)) (local.get $j)))))))
      (local.set $prev (f64.load
        (i32.add (i32.add (local.get $in) (local.get $end)) (local.get $j))))
      (br_if $l (local.tee $j (i32.add (local.get $j) (i32.const 8))))))
  ;; y[r][i] = 0.5 * y[r][i] + x[i] for 20 rows of 40.
  (func $rows (param $x i32) (param $y i32)
    (local $r i32) (local $i i32) (local $row i32)
    (loop $rows
      (local.set $row (i32.add (local.get $y) (i32.mul (local.get $r) (i32.const 320))))
      (local.set $i (i32.const 0))
      (loop $l
        (f64.store (i32.add (local.get $row) (local.get $i))
          (f64.add (f64.mul (f64.const 0.5) (f64.load (i32.add (local.get $row) (local.get $i))))
                   (f64.load (i32.add (local.get $x) (local.get $i)))))
        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 8))) (i32.const 320))))
      (br_if $rows (i32.ne (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 20)))))
;; For 10 rows: s += a[i]; b[i] = a[i] & 4 ? a[i] : 3k; h[k] = a[i]
  ;; (16 bits), with k counting elements; returns s.
  (func $ints (param $a i32) (param $b i32) (result i32)
    (local $r i32) (local $i i32) (local $k i32) (local $s i32)
    (loop $rows
      (local.set $i (i32.const 0))
      (local.set $k (i32.const 0))
      (loop $l
        (local.set $s (i32.add (local.get $s) (i32.load (i32.add (local.get $a) (local.get $i)))))
        (i32.store (i32.add (local.get $b) (local.get $i))
          (select (i32.load (i32.add (local.get $a) (local.get $i)))
                  (i32.mul (local.get $k) (i32.const 3))
                  (i32.and (i32.load (i32.add (local.get $a) (local.get $i))) (i32.const 4))))
        (i32.store16 offset=4096 (i32.add (local.get $b) (i32.shl (local.get $k) (i32.const 1)))
          (i32.load (i32.add (local.get $a) (local.get $i))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $l (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 160))))
      (br_if $rows (i32.ne (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 10))))
    (local.get $s))
  ;; Σ 31^(n-1-i) · p[i] over n i32s (wrapping), as an f64.
  (func $checksumi (param $p i32) (param $n i32) (result f64)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (i32.mul (local.get $sum) (i32.const 31))
          (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f64.convert_i32_s (local.get $sum)))
  (func (export "_start")
    (local $bits i64) (local $i i32) (local $nibble i32)
    (call $fill (i32.const 0x1000) (i32.const 1000) (f64.const 1.5))
    (call $fill (i32.const 0x3000) (i32.const 1000) (f64.const -0.75))
    (call $axpy (i32.const 0x1000) (i32.const 0x3000) (i32.const 999) (f64.const 0.3))
    (call $smooth (i32.const 0x3000) (i32.const 0x5000) (i32.const 1000))
    (call $rows (i32.const 0x1000) (i32.const 0x7000))
    (local.set $bits (i64.reinterpret_f64
      (f64.add
        (f64.add
          (f64.add (call $checksum (i32.const 0x3000) (i32.const 1000))
                   (call $checksum (i32.const 0x5000) (i32.const 1000)))
          (call $checksum (i32.const 0x7000) (i32.const 800)))
        (f64.add
          (f64.convert_i32_s (call $ints (i32.const 0x1000) (i32.const 0x9000)))
          (f64.add (call $checksumi (i32.const 0x9000) (i32.const 40))
                   (call $checksumi (i32.const 0xa000) (i32.const 20)))))))
    ;; "vector loops: " then 16 hex digits and a newline at 0x100.
    (i64.store (i32.const 0x100) (i64.const 0x6c20726f74636576)) ;; "vector l"
    (i64.store (i32.const 0x108) (i64.const 0x203a73706f6f)) ;; "oops: "
    (loop $digit
      (local.set $nibble (i32.wrap_i64 (i64.and
        (i64.shr_u (local.get $bits) (i64.extend_i32_u
          (i32.sub (i32.const 60) (i32.shl (local.get $i) (i32.const 2)))))
        (i64.const 15))))
      (i32.store8 (i32.add (i32.const 0x10e) (local.get $i))
        (i32.add (local.get $nibble)
          (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $nibble) (i32.const 10)))))
      (br_if $digit (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 16))))
    (i32.store8 (i32.const 0x11e) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 0x100))
    (i32.store (i32.const 4) (i32.const 31))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
