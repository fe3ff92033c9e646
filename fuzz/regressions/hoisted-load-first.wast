;; Found by the differential target (2026-11-22): a function whose first
;; instruction needs a value the translator hoists into the entry block (the
;; vmctx's globals array, memory, tables) made Cranelift insert into the
;; entry block before the builder had put that block into the layout:
;; `assertion failed: self.layout().is_block_inserted(block)` with debug
;; assertions (cranelift cursor.rs), and reliance on unspecified layout
;; behaviour without them. Fixed in `FuncTranslator::hoisted_load`.
(module
  (global $g (mut i32) (i32.const 7))
  (global $h (mut i64) (i64.const -1))
  (memory 1)
  (data (i32.const 16) "\2a\00\00\00")
  (table $t 2 funcref)
  (elem (i32.const 0) $seven)
  (type $ri (func (result i32)))
  (func $seven (result i32) (i32.const 7))
  (func (export "get") (result i32) global.get $g)
  (func (export "set") (param i64) local.get 0 global.set $h)
  (func (export "h") (result i64) global.get $h)
  (func (export "load") (result i32) i32.const 16 i32.load)
  (func (export "size") (result i32) memory.size)
  (func (export "table") (result i32) i32.const 1 table.get $t ref.is_null)
  (func (export "indirect") (result i32) i32.const 0 call_indirect $t (type $ri))
  (func (export "grow") (result i32) global.get $g memory.grow)
  ;; The shape the fuzzer found: fuel check first, then a trap.
  (func (export "fuel") (result i64 i64 i64 f64)
    global.get $g
    i32.eqz
    if unreachable end
    global.get $g
    i32.const 1
    i32.sub
    global.set $g
    unreachable))
(assert_return (invoke "get") (i32.const 7))
(invoke "set" (i64.const 5))
(assert_return (invoke "h") (i64.const 5))
(assert_return (invoke "load") (i32.const 42))
(assert_return (invoke "size") (i32.const 1))
(assert_return (invoke "table") (i32.const 1))
(assert_return (invoke "indirect") (i32.const 7))
(assert_return (invoke "grow") (i32.const 1))
(assert_return (invoke "size") (i32.const 8))
(assert_trap (invoke "fuel") "unreachable")
(assert_return (invoke "get") (i32.const 6))
