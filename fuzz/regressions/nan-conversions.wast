;; Found by the differential target on qemu-virt-riscv64 (2026-11-22): a
;; global differed after `f64.promote_f32` of a NaN with a payload was
;; reinterpreted as an integer. Not a Kiln bug: the spec lets promotion and
;; demotion of a NaN give any arithmetic NaN, and riscv64 gives the canonical
;; one where x86_64, aarch64 and wasmi keep the payload. The fuzzer now makes
;; such NaNs canonical itself (fuzz/src/generate.rs, `instrument`). These
;; assertions hold on every board.
(module
  (func (export "promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
  (func (export "demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
  (func (export "is_nan") (param i32) (result i32)
    (local f64)
    (local.set 1 (f64.promote_f32 (f32.reinterpret_i32 (local.get 0))))
    (f64.ne (local.get 1) (local.get 1))))
(assert_return (invoke "promote" (f32.const nan)) (f64.const nan:canonical))
(assert_return (invoke "promote" (f32.const -nan:0x7ff7ff)) (f64.const nan:arithmetic))
(assert_return (invoke "promote" (f32.const nan:0x200000)) (f64.const nan:arithmetic))
(assert_return (invoke "demote" (f64.const nan)) (f32.const nan:canonical))
(assert_return (invoke "demote" (f64.const -nan:0xfffffffffffff)) (f32.const nan:arithmetic))
(assert_return (invoke "promote" (f32.const -0x1.8p+1)) (f64.const -0x1.8p+1))
(assert_return (invoke "demote" (f64.const 0x1.fffffep+127)) (f32.const 0x1.fffffep+127))
(assert_return (invoke "is_nan" (i32.const 0xfffff7ff)) (i32.const 1))
(assert_return (invoke "is_nan" (i32.const 0x7f800001)) (i32.const 1))
