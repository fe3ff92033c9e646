;; memory_sweep.wat: checks `memory.copy` and `memory.fill` against byte
;; loops, for tests/boards.rs. Both instructions call the runtime's own
;; memmove and memset (runtime-nostd/src/memory/), which are assembly with
;; size classes, head/tail handling and aligned loops per architecture; run
;; on every board, this executes each architecture's version.
;;
;; Layout: P at 0x1000 is a pseudo-random pattern (1024 bytes, never written
;; after setup); W at 0x2000 is where memory.copy and memory.fill run; E at
;; 0x3000 receives the expected bytes from byte loops that read P. Before
;; each case W and E are reset to P over a window starting at offset 0 and
;; extending past the case's last byte, and after it the whole window must
;; match: bytes around the range catch stray writes.
;;
;; Sweeps (every case counted; stdout ends with the counts):
;; 1. copies: every length below 700 at every distance below 70 (and 128,
;;    261), in both directions, from offset 3 (the x86_64 unit tests' sweep);
;; 2. copies: every length below 300 at every distance below 17, in both
;;    directions, from every offset below 16 (every alignment of both ends);
;; 3. fills: every length below 700 at every offset below 64.
;; A mismatch prints the case and exits with status 1.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (data (i32.const 0x400) "memtest: ")
  (data (i32.const 0x410) " copies, ")
  (data (i32.const 0x420) " fills\n")
  (data (i32.const 0x430) "copy mismatch, src dst len:")
  (data (i32.const 0x450) "fill mismatch, dst len value:")
  (global $copies (mut i32) (i32.const 0))
  (global $fills (mut i32) (i32.const 0))
  ;; Output text is assembled at 0x100 upwards.
  (global $pos (mut i32) (i32.const 0x100))

  (func $put_byte (param $b i32)
    (i32.store8 (global.get $pos) (local.get $b))
    (global.set $pos (i32.add (global.get $pos) (i32.const 1))))

  ;; A byte loop, not memory.copy: the report must not use what it tests.
  (func $put_str (param $p i32) (param $n i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (call $put_byte (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))

  (func $put_num (param $v i32)
    (local $p i32)
    (local.set $p (i32.const 0x90))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $digit (local.get $v)))
    (call $put_str (local.get $p) (i32.sub (i32.const 0x90) (local.get $p))))

  (func $flush
    (i32.store (i32.const 0) (i32.const 0x100))
    (i32.store (i32.const 4) (i32.sub (global.get $pos) (i32.const 0x100)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (global.set $pos (i32.const 0x100)))

  (func $fail (param $msg i32) (param $n i32) (param $a i32) (param $b i32) (param $c i32)
    (call $put_str (i32.const 0x400) (i32.const 9))
    (call $put_str (local.get $msg) (local.get $n))
    (call $put_byte (i32.const 32))
    (call $put_num (local.get $a))
    (call $put_byte (i32.const 32))
    (call $put_num (local.get $b))
    (call $put_byte (i32.const 32))
    (call $put_num (local.get $c))
    (call $put_byte (i32.const 10))
    (call $flush)
    (call $exit (i32.const 1)))

  ;; W[0..n) = E[0..n) = P[0..n); n is a multiple of 8.
  (func $reset (param $n i32)
    (local $i i32)
    (local $v i64)
    (loop $l
      (local.set $v (i64.load offset=0x1000 (local.get $i)))
      (i64.store offset=0x2000 (local.get $i) (local.get $v))
      (i64.store offset=0x3000 (local.get $i) (local.get $v))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))

  ;; Whether W[0..n) == E[0..n); n is a multiple of 8.
  (func $same (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (if (i64.ne (i64.load offset=0x2000 (local.get $i))
                  (i64.load offset=0x3000 (local.get $i)))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.const 1))

  ;; The window of a case whose last byte is below `end`: 64 bytes more,
  ;; rounded up to 8, at most the 1024 bytes of P.
  (func $window (param $end i32) (result i32)
    (local $n i32)
    (local.set $n (i32.and (i32.add (local.get $end) (i32.const 71)) (i32.const -8)))
    (select (local.get $n) (i32.const 1024) (i32.lt_u (local.get $n) (i32.const 1024))))

  (func $copy_case (param $src i32) (param $dst i32) (param $len i32) (param $n i32)
    (local $k i32)
    (call $reset (local.get $n))
    (memory.copy
      (i32.add (i32.const 0x2000) (local.get $dst))
      (i32.add (i32.const 0x2000) (local.get $src))
      (local.get $len))
    ;; E[dst + k] = P[src + k]: P is never written, so overlap does not matter.
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (i32.store8 offset=0x3000 (i32.add (local.get $dst) (local.get $k))
          (i32.load8_u offset=0x1000 (i32.add (local.get $src) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (if (i32.eqz (call $same (local.get $n)))
      (then (call $fail (i32.const 0x430) (i32.const 27)
        (local.get $src) (local.get $dst) (local.get $len))))
    (global.set $copies (i32.add (global.get $copies) (i32.const 1))))

  ;; Both directions at `distance` from `base`.
  (func $copy_pair (param $base i32) (param $distance i32) (param $len i32) (param $n i32)
    (local $far i32)
    (local.set $far (i32.add (local.get $base) (local.get $distance)))
    (call $copy_case (local.get $base) (local.get $far) (local.get $len) (local.get $n))
    (call $copy_case (local.get $far) (local.get $base) (local.get $len) (local.get $n)))

  (func $fill_case (param $dst i32) (param $len i32) (param $value i32)
    (local $k i32)
    (call $reset (i32.const 1024))
    ;; memory.fill stores the low byte of the value only.
    (memory.fill (i32.add (i32.const 0x2000) (local.get $dst)) (local.get $value) (local.get $len))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (i32.store8 offset=0x3000 (i32.add (local.get $dst) (local.get $k)) (local.get $value))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (if (i32.eqz (call $same (i32.const 1024)))
      (then (call $fail (i32.const 0x450) (i32.const 29)
        (local.get $dst) (local.get $len) (local.get $value))))
    (global.set $fills (i32.add (global.get $fills) (i32.const 1))))

  (func (export "_start")
    (local $i i32) (local $len i32) (local $d i32) (local $base i32)
    ;; P: the top byte of a multiplicative hash, so that no shift or period
    ;; of the pattern matches itself.
    (loop $p
      (i32.store8 offset=0x1000 (local.get $i)
        (i32.shr_u (i32.mul (i32.add (local.get $i) (i32.const 1)) (i32.const 0x9e3779b1))
          (i32.const 24)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $p (i32.lt_u (local.get $i) (i32.const 1024))))

    ;; Sweep 1: lengths 0..699, distances 0..69, 128 and 261, from offset 3.
    (loop $len1
      (local.set $d (i32.const 0))
      (loop $d1
        (call $copy_pair (i32.const 3) (local.get $d) (local.get $len) (i32.const 1024))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br_if $d1 (i32.lt_u (local.get $d) (i32.const 70))))
      (call $copy_pair (i32.const 3) (i32.const 128) (local.get $len) (i32.const 1024))
      (call $copy_pair (i32.const 3) (i32.const 261) (local.get $len) (i32.const 1024))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br_if $len1 (i32.lt_u (local.get $len) (i32.const 700))))

    ;; Sweep 2: offsets 0..15, distances 0..16, lengths 0..299.
    (loop $base2
      (local.set $d (i32.const 0))
      (loop $d2
        (local.set $len (i32.const 0))
        (loop $len2
          (call $copy_pair (local.get $base) (local.get $d) (local.get $len)
            (call $window (i32.add (i32.add (local.get $base) (local.get $d)) (local.get $len))))
          (local.set $len (i32.add (local.get $len) (i32.const 1)))
          (br_if $len2 (i32.lt_u (local.get $len) (i32.const 300))))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br_if $d2 (i32.lt_u (local.get $d) (i32.const 17))))
      (local.set $base (i32.add (local.get $base) (i32.const 1)))
      (br_if $base2 (i32.lt_u (local.get $base) (i32.const 16))))

    ;; Sweep 3: fills of every length 0..699 at every offset 0..63, with a
    ;; value whose upper bits must be ignored.
    (local.set $len (i32.const 0))
    (loop $len3
      (local.set $d (i32.const 0))
      (loop $d3
        (call $fill_case (local.get $d) (local.get $len)
          (i32.or (i32.const 0x12345600)
            (i32.and (i32.add (i32.mul (local.get $len) (i32.const 13)) (local.get $d))
              (i32.const 0xff))))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br_if $d3 (i32.lt_u (local.get $d) (i32.const 64))))
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (br_if $len3 (i32.lt_u (local.get $len) (i32.const 700))))

    (call $put_str (i32.const 0x400) (i32.const 9))
    (call $put_num (global.get $copies))
    (call $put_str (i32.const 0x410) (i32.const 9))
    (call $put_num (global.get $fills))
    (call $put_str (i32.const 0x420) (i32.const 7))
    (call $flush)))
