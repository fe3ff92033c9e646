#!/usr/bin/env bash
# boards/smoke-test.sh: builds each QEMU board and boots it under QEMU with
# test manifests, without the compiler, to prove boot, console (both streams
# and stdin), heap, clocks, entropy, exit, the Wasm trap path and the fault
# path, and the image seal. Prints boot times and sizes.
#
#   boards/smoke-test.sh [BOARD...]     default: all three QEMU boards
#
# Per board it builds the board library twice, as `kiln build` does
# (`--profile firmware`, the board.toml rustflags) and with the `selftest`
# feature; builds a small object with test manifests (`smoke_*_manifest`,
# linked as `kiln_app_manifest` with --defsym); links with the board's
# link.ld exactly like `kiln build`; seals each firmware as `kiln build` does
# after linking (seal.py, a copy of `firmware::manifest::seal`, plus one
# copy with a flipped code bit that the runtime must refuse); and runs the
# firmware with board.toml's `run` command, demultiplexing stdout/stderr
# from the stream switches.
#
# KILN_SMOKE_RUNTIME=DIR builds against another copy of runtime-nostd.
# Needs: cargo with the board targets, qemu-system-*, python3 (3.11+).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -gt 0 ]; then boards=("$@"); else boards=(qemu-virt-riscv64 qemu-virt-aarch64 qemu-x86_64); fi
work=$root/target/boards/smoke
host=$(rustc -vV | sed -n 's/^host: //p')
lld=$(rustc --print sysroot)/lib/rustlib/$host/bin/rust-lld
patch=()
if [ -n "${KILN_SMOKE_RUNTIME:-}" ]; then
  patch=(--config "patch.\"file://$root/runtime-nostd\".kiln-runtime.path=\"$KILN_SMOKE_RUNTIME\"")
fi
mkdir -p "$work/manifest/src"

# --- the test manifests: one object per target --------------------------------
cat >"$work/manifest/Cargo.toml" <<EOF
[package]
name = "kiln-smoke-manifest"
version = "0.1.0"
edition = "2024"
publish = false
[lib]
crate-type = ["rlib"]
[dependencies]
kiln-runtime = { path = "$root/runtime-nostd" }
[workspace]
[profile.release]
panic = "abort"
codegen-units = 1
EOF
cat >"$work/manifest/src/lib.rs" <<'EOF'
//! Test manifests for boards/smoke-test.sh: what `kiln build` would link.
#![no_std]
#![allow(non_upper_case_globals)]
use kiln_runtime::abi::*;

#[repr(transparent)]
pub struct S<T>(T);
// SAFETY: immutable data in the image.
unsafe impl<T> Sync for S<T> {}

const fn s(b: &'static [u8]) -> Str {
    Str { ptr: b.as_ptr(), len: b.len() }
}
const fn sl<T>(v: &'static [T]) -> Slice<T> {
    Slice { ptr: v.as_ptr(), len: v.len() }
}

unsafe extern "C" {
    /// The program entry `export_board!` defines (what `kiln build` names
    /// for a program without folders).
    fn kiln_run_program(board: *mut core::ffi::c_void, manifest: &'static AppManifest) -> u32;
}

const fn manifest(abi_version: u32, modules: Slice<*const ModuleDescriptor>) -> AppManifest {
    AppManifest {
        magic: APP_MAGIC,
        abi_version,
        mode: app_mode::RUN,
        flags: 0,
        entry: Some(kiln_run_program),
        modules,
        args: Slice::EMPTY,
        env: Slice::EMPTY,
        preopens: Slice::EMPTY,
        script: Slice::EMPTY,
        deadline_ms: 0,
        // Left empty as `kiln build` leaves it: seal.py fills it in after linking.
        seal: ImageSeal::NONE,
    }
}

// seal.py writes the seal at these offsets (abi.rs pins them too).
const _: () = assert!(
    core::mem::offset_of!(AppManifest, seal) == 120
        && core::mem::offset_of!(ImageSeal, digest) == 0
        && core::mem::offset_of!(ImageSeal, digest_at) == 32
        && core::mem::offset_of!(ImageSeal, ranges) == 40
        && SEAL_RANGES == 6,
    "the ImageSeal layout changed: update seal.py in boards/smoke-test.sh"
);

/// No module: `kiln: error: firmware has no module`, status 126.
#[unsafe(no_mangle)]
pub static smoke_empty_manifest: AppManifest = manifest(ABI_VERSION, Slice::EMPTY);

/// Another ABI version: a load error, status 126.
#[unsafe(no_mangle)]
pub static smoke_badabi_manifest: AppManifest = manifest(999, Slice::EMPTY);

// `smoke_trap` (the module's `_start`) zeroes the stack pointer, then
// executes an illegal instruction at TRAP_OFFSET, a trap site: a Wasm trap
// with a wrecked stack, which the board must still resume from.
#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".section .text.smoke_trap, \"ax\"", ".globl smoke_trap", ".option push", ".option norvc",
    "smoke_trap:", "li sp, 0", "unimp", ".option pop"
);
#[cfg(target_arch = "riscv64")]
const TRAP_OFFSET: u32 = 4;
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".section .text.smoke_trap, \"ax\"", ".globl smoke_trap",
    "smoke_trap:", "mov x9, #0", "mov sp, x9", "udf #0"
);
#[cfg(target_arch = "aarch64")]
const TRAP_OFFSET: u32 = 8;
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".section .text.smoke_trap, \"ax\"", ".globl smoke_trap",
    "smoke_trap:", "xor esp, esp", "ud2"
);
#[cfg(target_arch = "x86_64")]
const TRAP_OFFSET: u32 = 2;

unsafe extern "C" {
    fn smoke_trap(vmctx: *mut VmCtx, values: *mut u64);
}

static TRAPS: S<[TrapSite; 1]> = S([TrapSite { offset: TRAP_OFFSET, kind: TrapKind::Unreachable as u32 }]);
static TYPES: S<[FuncTypeDesc; 1]> = S([FuncTypeDesc {
    signature_id: signature_id(&[], &[]),
    params: Slice::EMPTY,
    results: Slice::EMPTY,
}]);
static FUNCS: S<[FuncDesc; 1]> = S([FuncDesc {
    code: smoke_trap as *const u8,
    code_len: TRAP_OFFSET + 4,
    type_index: 0,
    traps: sl(&TRAPS.0),
    name: s(b"smoke_trap"),
}]);
static EXPORTS: S<[ExportDesc; 1]> = S([ExportDesc {
    name: s(b"_start"),
    kind: extern_kind::FUNC,
    index: 0,
    trampoline: Some(smoke_trap),
}]);
static MODULE: ModuleDescriptor = ModuleDescriptor {
    magic: MODULE_MAGIC,
    abi_version: ABI_VERSION,
    flags: FLAG_EXPLICIT_BOUNDS_CHECKS,
    wasm_sha256: [0; 32],
    name: s(b"smoke"),
    types: sl(&TYPES.0),
    funcs: sl(&FUNCS.0),
    num_imported_funcs: 0,
    start: NO_START,
    tables: Slice::EMPTY,
    memories: Slice::EMPTY,
    globals: Slice::EMPTY,
    imports: Slice::EMPTY,
    exports: sl(&EXPORTS.0),
    elems: Slice::EMPTY,
    datas: Slice::EMPTY,
};
static MODULES: S<[*const ModuleDescriptor; 1]> = S([&MODULE]);

/// One module whose `_start` traps: `kiln: trap: unreachable in smoke_trap`, status 125.
#[unsafe(no_mangle)]
pub static smoke_trap_manifest: AppManifest = manifest(ABI_VERSION, sl(&MODULES.0));
EOF

# --- the seal: what `kiln build` writes after linking --------------------------
# Mirrors compiler/src/firmware/manifest.rs `seal`: the address and length of
# every allocated PROGBITS section that never changes (not writable, or
# .rodata*/.data.rel.ro*) and their SHA-256, the digest's own 32 bytes read
# as zeros, written into the linked manifest's `seal` (abi::ImageSeal).
cat >"$work/seal.py" <<'EOF'
"""Seals a linked firmware in place: python3 seal.py ELF [CORRUPT_COPY]."""
import hashlib, struct, sys

SEAL_OFFSET, DIGEST_AT, RANGES, SEAL_RANGES = 120, 32, 40, 6  # abi::AppManifest.seal, abi::ImageSeal
SHT_PROGBITS, SHT_SYMTAB, SHF_WRITE, SHF_ALLOC = 1, 2, 1, 2

path = sys.argv[1]
elf = bytearray(open(path, "rb").read())
assert elf[:6] == b"\x7fELF\x02\x01", f"{path}: not a 64-bit little-endian ELF file"
shoff, = struct.unpack_from("<Q", elf, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
headers = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
def cstr(table, off):
    return elf[table + off:elf.index(b"\0", table + off)].decode()
sections = []  # (address, file offset, size)
for name_off, kind, flags, addr, offset, size, link, _, _, _ in headers:
    name = cstr(headers[shstrndx][4], name_off)
    constant = not flags & SHF_WRITE or name.startswith(".rodata") or name.startswith(".data.rel.ro")
    if kind == SHT_PROGBITS and flags & SHF_ALLOC and constant and size > 0:
        sections.append((addr, offset, size))
assert len(sections) <= SEAL_RANGES, f"{len(sections)} constant sections; the seal has room for {SEAL_RANGES}"
symbols = {}
for _, kind, _, _, offset, size, link, _, _, entsize in headers:
    if kind == SHT_SYMTAB:
        for at in range(offset, offset + size, entsize):
            name_off, _, _, shndx, value, _ = struct.unpack_from("<IBBHQQ", elf, at)
            symbols[cstr(headers[link][4], name_off)] = value
manifest = symbols.get("kiln_app_manifest")
assert manifest is not None, f"{path}: no kiln_app_manifest"
def file_offset(at, length):
    found = [off + at - addr for addr, off, size in sections if addr <= at and at + length <= addr + size]
    assert found, f"{path}: {at:#x} is not in a sealed section"
    return found[0]
digest_at = manifest + SEAL_OFFSET
digest_off = file_offset(digest_at, 32)
struct.pack_into("<Q", elf, digest_off + DIGEST_AT, digest_at)
for i, (addr, _, size) in enumerate(sections):
    struct.pack_into("<QQ", elf, digest_off + RANGES + i * 16, addr, size)
elf[digest_off:digest_off + 32] = bytes(32)
hash = hashlib.sha256()
for _, offset, size in sections:
    hash.update(elf[offset:offset + size])
elf[digest_off:digest_off + 32] = hash.digest()
open(path, "wb").write(elf)
if len(sys.argv) > 2:
    # A copy with one bit of the module's code (smoke_trap's first
    # instruction) flipped after sealing: the runtime must refuse it at boot.
    elf[file_offset(symbols["smoke_trap"], 1)] ^= 0x01
    open(sys.argv[2], "wb").write(elf)
EOF

# --- the runner: runs QEMU, demultiplexes the console, checks ------------------
cat >"$work/run.py" <<'EOF'
"""Runs the smoke scenarios of one board: python3 run.py BOARD_DIR PLAIN_DIR SELFTEST_ELF."""
import os, select, struct, subprocess, sys, time, tomllib

board_dir, plain_dir, selftest_elf = sys.argv[1:4]
board = tomllib.load(open(os.path.join(board_dir, "board.toml"), "rb"))
SWITCH = {b"\x1b]K;1\x07": 1, b"\x1b]K;2\x07": 2}

def demux(raw):
    """Splits the UART bytes into (stdout, stderr) at the stream switches."""
    streams, current, i = {1: bytearray(), 2: bytearray()}, 1, 0
    while i < len(raw):
        for seq, stream in SWITCH.items():
            if raw.startswith(seq, i):
                current, i = stream, i + len(seq)
                break
        else:
            streams[current].append(raw[i])
            i += 1
    return bytes(streams[1]), bytes(streams[2])

def status_of(code):
    """The firmware's status from QEMU's, per the board's exit device."""
    if board["exit"] == "isa-debug-exit":
        return (code - 1) >> 1 if code > 0 and code & 1 else None
    return code

def run(elf, stdin=b"", timeout=30):
    cmd = [a.replace("{firmware}", elf) for a in board["run"]]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(stdin)
    proc.stdin.close()
    raw, first = bytearray(), None
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, start + timeout - time.perf_counter()))
        if not ready:
            proc.kill()
            break
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        if first is None:
            first = time.perf_counter() - start
        raw += chunk
    code = proc.wait()
    total = time.perf_counter() - start
    qemu_err = proc.stderr.read().decode(errors="replace").strip()
    out, err = demux(bytes(raw))
    return dict(status=status_of(code), qemu=code, out=out, err=err, first=first, total=total, qemu_err=qemu_err)

failures = 0
def check(name, result, status, ok, note=""):
    global failures
    good = result["status"] == status and ok
    failures += not good
    print(f"  {'ok  ' if good else 'FAIL'} {name:<10} status {result['status']} {result['total'] * 1000:6.0f} ms {note}")
    if not good:
        print(f"       stdout {result['out'][:400]!r}\n       stderr {result['err'][:400]!r}\n       qemu {result['qemu']} {result['qemu_err'][:300]}")

def plain(kind):
    return os.path.join(plain_dir, f"{kind}.elf")

# Boot timing: the no-module firmware prints its error from `kiln_runtime::start`.
runs = [run(plain("empty")) for _ in range(5)]
firsts = sorted(r["first"] for r in runs if r["first"] is not None)
totals = sorted(r["total"] for r in runs)
r = runs[0]
check("no-module", r, 126, r["out"] == b"" and r["err"] == b"kiln: error: firmware has no module\n")
if firsts:
    print(f"  boot: QEMU start to first console byte (runtime start) median {firsts[len(firsts) // 2] * 1000:.0f} ms,"
          f" to exit median {totals[len(totals) // 2] * 1000:.0f} ms (5 runs)")

r = run(plain("trap"))
check("wasm-trap", r, 125, r["err"] == b"kiln: trap: unreachable in smoke_trap\n")
r = run(plain("corrupt"))
check("corrupt", r, 126, r["err"].startswith(b"kiln: error: firmware image is corrupt: its code and constant data hash to ")
      and r["err"].endswith(b"... (rebuild it with kiln build)\n"), "(trap firmware, one bit of code flipped after sealing)")
r = run(plain("badabi"))
check("bad-abi", r, 126, r["err"].startswith(b"kiln: error: firmware manifest is for runtime ABI 999"))

r = run(selftest_elf, b"streams\n")
check("streams", r, 126, r["out"] == b"out1\nout2\n" and r["err"] == b"err1\nkiln: error: firmware has no module\n")
data = bytes(range(256)).replace(b"\x04", b"") * 4
r = run(selftest_elf, b"echo\n" + data + b"\x04")
check("echo", r, 126, r["out"] == data and r["err"].startswith(b"selftest: end of input\n"), f"({len(data)} bytes, binary)")
for name in ("fault", "null"):
    r = run(selftest_elf, name.encode() + b"\n")
    line = r["err"].decode(errors="replace").strip()
    check(name, r, 127, line.startswith("kiln: fault: ") and "\n" not in line, line[len("kiln: fault: "):])
r = run(selftest_elf, b"panic\n")
check("panic", r, 127, r["err"].startswith(b"kiln: panic at src/selftest.rs:"))
r = run(selftest_elf, b"info\n")
lines = dict(l.split(" ", 2)[1:] for l in r["out"].decode(errors="replace").splitlines() if l.startswith("selftest: "))
realtime = lines.get("realtime_s", "none")
ok = (realtime != "none" and abs(int(realtime) - time.time()) < 10 and lines.get("random", "").startswith("true ")
      and lines.get("unaligned", "") == "load 0x0807060504030201")
check("info", r, 126, ok, f"(realtime {realtime}, cycles {lines.get('cycles')}, random {lines.get('random', '?')[5:13]}...)")
r = run(selftest_elf, b"sleep\n")
check("sleep", r, 126, b"selftest: slept" in r["out"] and 0.9 < r["total"] < 2.0, "(sleep_until 1 s, measured by the host)")
r = run(selftest_elf, b"ready\nmore\n")
check("ready", r, 126, r["out"] == b"selftest: stdin_ready true\n")

# Sizes of runtime + board (the no-module firmware: no compiled code in it).
def sections(path):
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    names = headers[shstrndx]
    name = lambda off: data[names[4] + off:data.index(b"\0", names[4] + off)].decode()
    return {name(h[0]): (h[1], h[2], h[5]) for h in headers}  # type, flags, size

secs = sections(plain("empty"))
size = lambda *names: sum(secs[n][2] for n in names if n in secs)
code, ro, ram = size(".text"), size(".rodata", ".note"), size(".data", ".bss")
print(f"  size: code {code} B (.text), read-only {ro} B, RAM {ram} B (.data + .bss), "
      f"stack {size('.stack') // 1024} KiB (incl. 16 KiB exception stack)")
sys.exit(1 if failures else 0)
EOF

# --- per board: build, link, run -----------------------------------------------
toml() { python3 -c 'import sys, tomllib; v = tomllib.load(open(sys.argv[1], "rb"))[sys.argv[2]]; print("\x1f".join(v) if isinstance(v, list) else v)' "$@"; }

status=0
for b in "${boards[@]}"; do
  dir=$root/boards/$b
  target=$(toml "$dir/board.toml" rust-target)
  flags=$(toml "$dir/board.toml" rustflags)
  lib=libkiln_board_${b//-/_}.a
  echo "== $b ($target)"
  t0=$(date +%s%N)
  for variant in plain selftest; do
    features=(); tdir=$root/target/boards
    [ $variant = selftest ] && { features=(--features selftest); tdir=$root/target/boards-selftest; }
    CARGO_ENCODED_RUSTFLAGS=$flags cargo build -q --manifest-path "$dir/Cargo.toml" --profile firmware \
      --target "$target" --target-dir "$tdir" "${features[@]}" "${patch[@]}"
  done
  CARGO_ENCODED_RUSTFLAGS=$flags cargo rustc -q --manifest-path "$work/manifest/Cargo.toml" --lib --release \
    --target "$target" --target-dir "$work/target" "${patch[@]}" -- --emit=obj
  obj=$(ls -t "$work/target/$target/release/deps/"kiln_smoke_manifest-*.o | head -1)
  echo "  built in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  out=$work/$b
  mkdir -p "$out"
  link=("$lld" -flavor gnu --gc-sections -static --no-pie -z noexecstack -T "$dir/link.ld")
  for m in empty trap badabi; do
    "${link[@]}" -o "$out/$m.elf" "$obj" \
      --defsym=kiln_app_manifest=smoke_${m}_manifest "$root/target/boards/$target/firmware/$lib"
  done
  "${link[@]}" -o "$out/selftest.elf" "$obj" \
    --defsym=kiln_app_manifest=smoke_empty_manifest "$root/target/boards-selftest/$target/firmware/$lib"
  for m in empty badabi selftest; do python3 "$work/seal.py" "$out/$m.elf"; done
  python3 "$work/seal.py" "$out/trap.elf" "$out/corrupt.elf"
  python3 "$work/run.py" "$dir" "$out" "$out/selftest.elf" || status=1
done
[ $status = 0 ] && echo "smoke-test: all passed" || echo "smoke-test: FAILED"
exit $status
