#!/usr/bin/env python3
"""Writes the commands of tests/wast/vectorize.wast: the answers of
Wasmtime (PyPI `wasmtime`) for the script's module, so that every board
must give what the reference gives.

Edit the module in the .wast itself, add its cases here, then run
`python3 tests/wast/vectorize.py` from the repository's root; the header
comment and the module are kept, the commands after the module rewritten.
"""
import pathlib
import struct

import wasmtime

SCRIPT = pathlib.Path(__file__).with_suffix(".wast")
text = SCRIPT.read_text()
start = text.index("(module\n")
end = text.index("\n)\n", start) + len("\n)\n")
store = wasmtime.Store()
module = wasmtime.Module(store.engine, text[start:end])
inst = wasmtime.Instance(store, module, [])
ex = inst.exports(store)
out = []
def lit(v, ty):
    if ty in ('f64', 'f32'):
        return f"({ty}.const {float(v).hex()})" if v == v else f"({ty}.const nan)"
    return f"({ty}.const {v})"
def call(name, *args, result=None):
    # args: (ty, value)
    a = " ".join(lit(v, t) for t, v in args)
    try:
        r = ex[name](store, *[v for _, v in args])
    except wasmtime.Trap as e:
        out.append(f'(assert_trap (invoke "{name}" {a}) "out of bounds memory access")')
        return
    if result is None:
        out.append(f'(invoke "{name}" {a})')
    else:
        out.append(f'(assert_return (invoke "{name}" {a}) {lit(r, result)})')
I = lambda v: ('i32', v)
F = lambda v: ('f64', v)
def fill(p, n, seed): call("fill", I(p), I(n), F(seed))
def check(p, n): call("checksum", I(p), I(n), result='f64')
X, Y = 1024, 8192
W, V = 24576, 32768
for n in [1, 2, 3, 16, 17, 18, 19, 20, 21, 100, 101]:
    fill(X, 110, 1.5); fill(Y, 110, -0.75)
    call("axpy", I(X), I(Y), I(n), F(0.3), result='i32'); check(Y, 110)
# Overlapping x and y: the run-time check picks the scalar loop.
for d in [-16, -8, 8, 16, 0]:
    fill(X, 130, 1.25)
    call("axpy", I(X), I(X + d), I(100), F(0.5), result='i32'); check(X - 16, 140)
for n in [3, 48, 51, 54, 57, 99]:
    fill(X, 110, 2.5); fill(Y, 110, -1.5)
    call("unrolled", I(X), I(Y), I(n), F(1.75)); check(Y, 110)
for n in [3, 4, 18, 19, 20, 21, 50, 51]:
    fill(X, 60, 0.5); fill(Y, 60, 9.0)
    call("smooth", I(X), I(Y), I(n), result='f64'); check(Y, 60)
for d in [8, 16, -8, 24, 800]:
    for n in [1, 2, 17, 18, 40]:
        fill(X, 60, 1.0)
        call("shift", I(X + 8), I(n), I(d)); check(X, 160)
        fill(X, 60, 1.0)
        call("shift_up", I(X + 8), I(n), I(d)); check(X, 160)
for n in [1, 2, 17, 18, 19, 30]:
    fill(X, 40, 1.0); call("shift_same2", I(X), I(n)); check(X, 40)
    fill(X, 40, 1.0); call("shift_same1", I(X), I(n)); check(X, 40)
for n in [1, 2, 20, 21]:
    fill(X, 50, 1.0); call("store_then_load", I(X), I(n)); check(X, 50)
for n in [1, 17, 18, 24]:
    fill(X, 30, 1.0); call("negative_constant", I(X), I(n)); check(X - 1024, 30); check(X + 1024, 30)
END = 65536
def axpy_at_the_end(axpy, fill_, check_, kind, one, size, exact=True):
    """y near the memory's end. Traps: the stores before the faulting
    iteration happen, as in the scalar loop; with `exact`, a run that ends
    with the memory. Last, the vector part's last element the first out
    of bounds: the scalar loop must write everything before it."""
    fill_(X, 40, one); fill_(END - 5 * size, 5, 2 * one)
    call(axpy, I(X), I(END - 5 * size), I(30), kind(one), result='i32'); check_(END - 5 * size, 5)
    if exact:
        fill_(END - 20 * size, 20, 2 * one)
        call(axpy, I(X), I(END - 20 * size), I(20), kind(one), result='i32'); check_(END - 20 * size, 20)
    fill_(END - 19 * size, 19, 3 * one)
    call(axpy, I(X), I(END - 19 * size), I(21), kind(one), result='i32'); check_(END - 19 * size, 19)
axpy_at_the_end("axpy", fill, check, F, 1.0, 8)
call("axpy", I(-8), I(Y), I(30), F(1.0), result='i32'); check(Y, 30)
call("axpy", I(X), I(-16), I(30), F(1.0), result='i32')
fill(X, 60, 0.5)
call("smooth", I(X), I(END - 80), I(40), result='f64'); check(END - 80, 10)

# -- f32, four lanes -----------------------------------------------------
import struct as _s
def f32(v): return _s.unpack('<f', _s.pack('<f', v))[0]
F32 = lambda v: ('f32', f32(v))
def fill32(p, n, seed): call("fill32", I(p), I(n), F32(seed))
def check32(p, n): call("checksum32", I(p), I(n), result='f32')
for n in [1, 2, 3, 16, 17, 18, 19, 20, 21, 22, 23, 100, 101, 102, 103]:
    fill32(X, 110, 1.5); fill32(Y, 110, -0.75)
    call("axpy32", I(X), I(Y), I(n), F32(0.3), result='i32'); check32(Y, 110)
for d in [-12, -8, -4, 4, 8, 12, 16, 0]:
    fill32(X, 130, 1.25)
    call("axpy32", I(X), I(X + d), I(100), F32(0.5), result='i32'); check32(X - 16, 140)
for n in [3, 48, 51, 54, 57, 60, 63, 99]:
    fill32(X, 110, 2.5); fill32(Y, 110, -1.5)
    call("unrolled32", I(X), I(Y), I(n), F32(1.75)); check32(Y, 110)
for n in [3, 4, 18, 19, 20, 21, 22, 23, 50, 51, 52, 53]:
    fill32(X, 60, 0.5); fill32(Y, 60, 9.0)
    call("smooth32", I(X), I(Y), I(n), result='f32'); check32(Y, 60)
for d in [4, 8, 12, 16, -4, 400]:
    for n in [1, 2, 17, 18, 19, 20, 40]:
        fill32(X, 60, 1.0)
        call("shift32", I(X + 16), I(n), I(d)); check32(X, 160)
        fill32(X, 60, 1.0)
        call("shift_up32", I(X + 16), I(n), I(d)); check32(X, 160)
for k in [1, 2, 3, 4]:
    for n in [1, 4, 17, 18, 19, 20, 21, 30]:
        fill32(X, 40, 1.0); call(f"shift_same32_{k}", I(X), I(n)); check32(X, 40)
for n in [1, 2, 20, 21]:
    fill32(X, 50, 1.0); call("store_then_load32", I(X), I(n)); check32(X, 50)
for n in [1, 17, 18, 19, 20, 24]:
    fill32(X, 30, 1.0); call("negative_constant32", I(X), I(n)); check32(X - 1024, 30); check32(X + 1024, 30)
axpy_at_the_end("axpy32", fill32, check32, F32, 1.0, 4)
call("axpy32", I(X), I(-4), I(30), F32(1.0), result='i32')
fill32(X, 60, 0.5)
call("smooth32", I(X), I(END - 40), I(40), result='f32'); check32(END - 40, 10)
# -- i32, four lanes -----------------------------------------------------
def filli(p, n, seed): call("filli", I(p), I(n), I(seed))
def checki(p, n): call("checksumi", I(p), I(n), result='i32')
for n in [1, 2, 16, 17, 18, 19, 20, 100, 101, 102, 103]:
    filli(X, 110, 12345); filli(Y, 110, -777)
    call("axpyi", I(X), I(Y), I(n), I(-3), result='i32'); checki(Y, 110)
for d in [-8, -4, 4, 8, 12, 16, 0]:
    filli(X, 130, 99)
    call("axpyi", I(X), I(X + d), I(100), I(7), result='i32'); checki(X - 16, 140)
for n in [2, 34, 36, 38, 40, 100]:
    filli(X, 110, 31); filli(Y, 110, -5)
    call("mixi", I(X), I(Y), I(n)); checki(Y, 110)
for n in [8, 136, 144, 152, 160, 800]:
    filli(X, 820, 1)
    call("splati", I(X), I(n), I(-42)); checki(X, 820)
for n in [3, 18, 19, 20, 21, 22, 50, 51]:
    filli(X, 60, 5); filli(Y, 60, 9)
    call("smoothi", I(X), I(Y), I(n), result='i32'); checki(Y, 60)
for k in [1, 2, 3, 4]:
    for n in [1, 17, 18, 19, 20, 30]:
        filli(X, 40, 3); call(f"shift_samei_{k}", I(X), I(n)); checki(X, 40)
axpy_at_the_end("axpyi", filli, checki, I, 1, 4, exact=False)
filli(X, 60, 5)
call("smoothi", I(X), I(END - 40), I(40), result='i32'); checki(END - 40, 10)

# -- comparisons and selects, four 32-bit lanes -------------------------
def fillcmp32(p, n, seed): call("fillcmp32", I(p), I(n), I(seed))
def fillcmpi(p, n, seed): call("fillcmpi", I(p), I(n), I(seed))
Z = 16384
for n in [1, 2, 16, 17, 18, 19, 20, 100, 101, 102, 103]:
    fillcmp32(X, 110, 3); fillcmp32(Y, 110, 5); filli(Z, 110, 1)
    call("cmpf32", I(X), I(Y), I(Z), I(n)); checki(Z, 110)
    fillcmpi(X, 110, 2); fillcmpi(Y, 110, 7); filli(Z, 110, 1)
    call("cmpi", I(X), I(Y), I(Z), I(n)); checki(Z, 110)
    fillcmp32(X, 110, 4); fillcmp32(Y, 110, 3); filli(Z, 110, 1)
    call("selectf32", I(X), I(Y), I(Z), I(n), F32(0.5)); checki(Z, 110)
    fillcmpi(X, 110, 5); fillcmpi(Y, 110, 2); fillcmpi(Z, 110, 4); filli(W, 110, 1)
    fillcmp32(V, 110, 5)
    call("selectmixed", I(X), I(Y), I(Z), I(W), I(V), I(n)); checki(W, 110); checki(V, 110)
    filli(Z, 110, 1)
    call("cmpf64", I(X), I(Y), I(Z), I(n)); checki(Z, 110)
for n in [2, 16, 18, 20, 34, 100]:
    filli(X, 110, 7); filli(Y, 110, 1)
    call("selecti", I(X), I(Y), I(n), I(-9), I(123)); checki(Y, 110)
# The output overlapping an input: the run-time check picks the scalar loop.
for d in [-8, -4, 4, 8, 0]:
    fillcmp32(X, 130, 3); fillcmp32(Y, 130, 5)
    call("cmpf32", I(X), I(Y), I(X + d), I(100)); checki(X - 16, 140)
# Traps after the stores before them, as in the scalar loop.
fillcmpi(X, 40, 2); fillcmpi(Y, 40, 7); filli(END - 20, 5, 2)
call("cmpi", I(X), I(Y), I(END - 20), I(30)); checki(END - 20, 5)
fillcmp32(X, 40, 4); fillcmp32(Y, 40, 3)
call("selectf32", I(X), I(Y), I(END - 76), I(21), F32(1.0)); checki(END - 76, 19)

# -- 8- and 16-bit elements in 32-bit lanes ------------------------------
for n in [2, 16, 18, 20, 34, 36, 100]:
    fillcmpi(X, 110, 3); filli(Y, 110, 1)
    call("widen16", I(X), I(Y), I(n)); checki(Y, 110)
    fillcmpi(X, 110, 3); filli(Y, 110, 1)
    call("widen16b", I(X), I(Y), I(n)); checki(Y, 110)
for n in [1, 16, 17, 18, 19, 20, 101]:
    filli(X, 110, 5); filli(Y, 110, 6); filli(Z, 110, 7)
    fillcmpi(W, 110, 2); fillcmpi(V, 110, 3)
    call("mixed16", I(X), I(Y), I(Z), I(W + 2), I(V), I(W), I(n), result='i32')
    checki(X, 110); checki(W, 110)
for n in [1, 16, 17, 18, 19, 20, 33, 100, 103]:
    fillcmpi(X, 40, 7); filli(Y, 40, 9)
    call("bytes", I(X), I(Y), I(n), I(-100)); checki(Y, 40)
for k in [1, 3, 4]:
    for n in [1, 17, 18, 19, 20, 30]:
        fillcmpi(X, 40, 5); call(f"shift16_{k}", I(X), I(n)); checki(X, 40)
for n in [1, 17, 18, 19, 20, 30]:
    fillcmpi(X, 40, 5); call("overlap16", I(X), I(n)); checki(X, 40)
# The 16-bit output overlapping an input by a few bytes: sent to the
# scalar loop by the run-time check.
for d in [-6, -2, 2, 6]:
    fillcmpi(W, 110, 2); fillcmpi(V, 110, 3)
    call("mixed16", I(X), I(Y), I(Z), I(W + d), I(V), I(W), I(40), result='i32'); checki(W - 8, 110)
# Traps: the bytes and halves before the fault are written.
fillcmpi(X, 40, 7); filli(END - 20, 5, 2)
call("bytes", I(X), I(END - 19), I(30), I(1)); checki(END - 20, 5)
fillcmpi(X, 40, 3); filli(END - 40, 10, 2)
call("widen16", I(X), I(END - 40), I(20)); checki(END - 40, 10)

# -- sums into an i32 local -----------------------------------------------
for n in [1, 2, 16, 17, 18, 19, 20, 21, 100, 103]:
    filli(X, 110, 12345); filli(Y, 110, -777)
    call("sumi", I(X), I(Y), I(n), I(99), result='i32')
    filli(Z, 110, 3); fillcmpi(W, 40, 5)
    call("dot", I(X), I(Y), I(Z), I(W), I(n), result='i32'); checki(Z, 110)
    for f in ["prefix", "twice", "alternate"]:
        filli(X, 110, 777); call(f, I(X), I(n), result='i32'); checki(X, 110)
    fill32(X, 110, 1.25); call("sumf32", I(X), I(n), result='f32')
for n in [4, 16, 20, 64, 68, 100]:
    filli(X, 110, 4321); call("sum_down", I(X), I(n), result='i32')
# The dot product's output over its input: the scalar loop.
filli(X, 110, 5); filli(Y, 110, 6)
call("dot", I(X), I(Y), I(X + 4), I(W), I(40), result='i32'); checki(X, 110)
# A trap part way: the sum is lost, the stores before it made.
filli(X, 40, 5); filli(Y, 40, 6); filli(END - 20, 5, 2)
call("dot", I(X), I(Y), I(END - 20), I(W), I(30), result='i32'); checki(END - 20, 5)
call("sumi", I(X), I(END - 40), I(30), I(1), result='i32')

# -- strided loads --------------------------------------------------------
for n in [1, 16, 17, 18, 19, 20, 21, 100]:
    filli(X, 220, 31); filli(Y, 220, -7); filli(Z, 1200, 1)
    call("complex", I(X), I(Y), I(Z), I(n)); checki(Z, 110); checki(Z + 4096, 110)
    fill(X, 220, 1.5); fill(Z, 110, 0.0)
    call("pairs64", I(X), I(Z), I(n)); check(Z, 110)
    fill32(X, 220, 1.5); fill32(Z, 110, 0.0)
    call("pairs32", I(X), I(Z), I(n)); checki(Z, 110)
    filli(X, 330, 9); filli(Z, 110, 1)
    call("evens", I(X), I(Z), I(n)); checki(Z, 110)
    call("thirds", I(X), I(Z), I(n)); checki(Z, 110)
# The last element read ends the memory: no false trap; one more traps.
for n in [20, 21]:
    filli(END - 160, 40, 3)
    call("evens", I(END - 156), I(Z), I(n)); checki(Z, 30)
filli(X, 220, 31); filli(Y, 220, -7)
call("complex", I(X), I(END - 160), I(Z), I(21)); checki(Z, 30)

# -- trip counts known when compiling ---------------------------------------
for f in ["const16", "const17", "const20down"]:
    filli(X, 40, 5); filli(Y, 40, 6)
    call(f, I(X), I(Y)); checki(Y, 40)

# -- inductions as data -----------------------------------------------------
for n in [1, 2, 16, 17, 18, 19, 20, 34, 100]:
    filli(X, 110, 1); call("iota", I(X), I(n), I(-5)); checki(X, 110)
    if n % 2 == 0:
        filli(X, 110, 7); filli(Y, 110, 1)
        call("iota_mix", I(X), I(Y), I(n)); checki(Y, 110)

SCRIPT.write_text(text[:end] + "\n" + "\n".join(out) + "\n")
