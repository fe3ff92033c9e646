#!/usr/bin/env python3
"""Kiln's benchmark harness: Kiln (host board) against Wasmtime (the PyPI
package `wasmtime`, same .wasm, same arguments) and, for the C kernels,
against the same C compiled natively with gcc -O2.

  python3 bench/run.py                   run-time and compile-time tables
  python3 bench/run.py --compile-python  CPython's compile time per architecture
  python3 bench/run.py --qemu            instruction counts on the QEMU boards
  python3 bench/run.py --dist            any of these with the distribution build of kiln
                                         (scripts/build-dist.sh: LTO and PGO, compiles faster)

Programs: every .wasm under ../shared/corpus/sightglass, CPython 3.11
(../shared/corpus/fetch-programs.sh) running bench/python/pystone_like.py,
and the kernels in bench/kernels (built with `python3 -m ziglang cc -target
wasm32-wasi -O2` and `gcc -O2`; built again with `-msimd128` as
kernel-simd/*, against the same native binary). Each program runs --runs
times per engine, the engines taking turns (each round starting with the
next one) so that machine noise hits all alike; the tables show medians. Time is the
region between `bench.start` and `bench.end` where the program has one,
otherwise the whole run (Kiln: the firmware process from exec to exit;
Wasmtime: instantiation plus `_start`, so Python's own start-up is not
counted). Compile time is measured separately: `kiln compile` versus
`wasmtime.Module.from_file`, wall and CPU time and peak memory.

Nothing here is a test: the harness prints numbers and ratios and checks
only that every engine printed the expected output. See docs/performance.md.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
CORPUS = Path(os.environ.get("KILN_CORPUS", ROOT.parent / "shared" / "corpus"))
OUT = ROOT / "target" / "bench"
# Copies of the compilers measured (target/release/kiln or --kiln; --ab),
# private to this run: a rebuild meanwhile must not swap the compiler.
KILN = OUT / "bin" / f"kiln-{os.getpid()}"
KILN_B = OUT / "bin" / f"kiln-b-{os.getpid()}"
# Firmware built by this run: private too, so that two runs at once (say
# QEMU counts of two builds) never run each other's firmware.
FIRMWARE = OUT / f"firmware-{os.getpid()}"
WASMTIME_RUN = BENCH / "wasmtime_run.py"
KERNELS = ["matmul", "stencil", "crc"]
PYTHON_LOOPS = "100000"
# Regions shorter than this measure the timer and the host calls, not code.
TIMER_BOUND = 1e-4

# A QEMU board's UART puts a stream switch (ESC ] K ; 2 BEL) before it.
BENCH_LINE = re.compile(rb"(?:^|(?<=\x07))kiln: bench ([0-9.]+) s.*\n?", re.M)
# bench/python/icount_region.py: CPython's script alone, in virtual ns.
ICOUNT_LINE = re.compile(rb"kiln-icount-region (\d+)")
# CPython's loops under QEMU (about 1.1-1.3 G guest instructions per board).
PYTHON_QEMU_LOOPS = "2000"
NATIVE_LINE = re.compile(rb"^native: bench ([0-9.]+) s\n?", re.M)


@dataclass
class Program:
    name: str
    wasm: Path
    cwd: Path
    argv: list
    # (host, guest) preopens.
    dirs: list = field(default_factory=list)
    native: Path = None
    # A kernel built with -msimd128: its own kiln/native geomean.
    simd: bool = False
    expected_stdout: bytes = None
    expected_stderr: bytes = None
    note: str = ""
    # Extra `kiln build` options (a profile-guided build: --profile FILE).
    kiln_args: list = field(default_factory=list)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run_checked(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{r.stderr.decode(errors='replace')}")
    return r


# -- programs -----------------------------------------------------------------

def sightglass_programs():
    root = CORPUS / "sightglass"
    progs = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        for wasm in sorted(d.glob("*.wasm")):
            stem = wasm.stem
            name = f"{d.name}" if stem == "benchmark" else f"{d.name}/{stem.removeprefix('shootout-')}"

            def expected(kind):
                for cand in (d / f"{stem}.{kind}.expected", d / f"default.{kind}.expected"):
                    if cand.exists():
                        return cand.read_bytes()
                return None

            progs.append(Program(
                name=name, wasm=wasm, cwd=d, argv=[wasm.name], dirs=[(str(d), ".")],
                expected_stdout=expected("stdout"), expected_stderr=expected("stderr")))
    return progs


def python_wasm():
    """python-3.11.3.wasm from fetch-programs.sh's cache, or None (logged)."""
    r = subprocess.run([str(CORPUS / "fetch-programs.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"bench: CPython skipped: fetch-programs.sh failed: {r.stderr.strip()}")
        return None
    return Path(r.stdout.strip().splitlines()[-1]) / "python-3.11.3.wasm"


def python_program():
    wasm = python_wasm()
    if wasm is None:
        return []
    pydir = BENCH / "python"
    plain = Program(name="cpython/pystone_like", wasm=wasm, cwd=pydir,
                    argv=["python.wasm", "/bench/pystone_like.py", PYTHON_LOOPS],
                    dirs=[(str(pydir), "/bench")])
    guided = Program(name="cpython/pystone_like pgo", wasm=wasm, cwd=pydir, argv=plain.argv, dirs=plain.dirs,
                     kiln_args=["--profile", str(python_profile(plain))])
    return [plain, guided]


def python_qemu_program():
    """CPython for the instruction counts: the script alone, through
    icount_region.py, with fewer loops (QEMU is slow)."""
    wasm = python_wasm()
    if wasm is None:
        return []
    pydir = BENCH / "python"
    argv = ["python.wasm", "/bench/icount_region.py", "/bench/pystone_like.py", PYTHON_QEMU_LOOPS]
    return [Program(name="cpython/pystone_like", wasm=wasm, cwd=pydir, argv=argv,
                    dirs=[(str(pydir), "/bench")])]


def python_profile(p):
    """Records a profile of CPython running the benchmark (`kiln run
    --profile-out`), for the profile-guided rows."""
    profile = OUT / "pystone.profile"
    if not profile.exists():
        cmd = [str(KILN), "run", "--profile-out", str(profile), str(p.wasm)]
        for host, guest in p.dirs:
            cmd += ["--dir", f"{host}::{guest}"]
        run_checked(cmd + ["--", *p.argv[1:]], cwd=p.cwd)
    return profile


def kernel_programs():
    """kernel/K, then kernel-simd/K (the same C built with -msimd128),
    both against the same gcc -O2 binary."""
    out = OUT / "kernels"
    out.mkdir(parents=True, exist_ok=True)
    progs, simd = [], []
    for k in KERNELS:
        src = BENCH / "kernels" / f"{k}.c"
        wasm, wasm_simd, native = out / f"{k}.wasm", out / f"{k}-simd.wasm", out / f"{k}.native"
        deps = [src, BENCH / "kernels" / "bench.h"]
        newest = max(p.stat().st_mtime for p in deps)
        if not wasm.exists() or wasm.stat().st_mtime < newest:
            run_checked([sys.executable, "-m", "ziglang", "cc", "-target", "wasm32-wasi", "-O2", "-s",
                         str(src), "-o", str(wasm)])
        if not wasm_simd.exists() or wasm_simd.stat().st_mtime < newest:
            run_checked([sys.executable, "-m", "ziglang", "cc", "-target", "wasm32-wasi", "-O2", "-msimd128",
                         "-s", str(src), "-o", str(wasm_simd)])
        if not native.exists() or native.stat().st_mtime < newest:
            run_checked(["gcc", "-O2", str(src), "-o", str(native)])
        progs.append(Program(name=f"kernel/{k}", wasm=wasm, cwd=out, argv=[f"{k}.wasm"], native=native))
        simd.append(Program(name=f"kernel-simd/{k}", wasm=wasm_simd, cwd=out, argv=[f"{k}-simd.wasm"],
                            native=native, simd=True))
    return progs + simd


# -- Kiln ---------------------------------------------------------------------

def kiln_firmware(p, board="host", kiln=None, disable=None, label="a", isa_flags=None):
    """Builds the firmware for `p` (args and folders built in); None if Kiln
    refuses the module. `disable`: KILN_DISABLE for this build; `isa_flags`:
    `--isa-flag` values (default: --isa-flag's, else the board's)."""
    kiln = kiln or KILN
    isa_flags = ISA_FLAGS if isa_flags is None else isa_flags
    if isa_flags:
        label += "-isa-" + "-".join(isa_flags)
    if OPT_LEVEL:
        label += "-opt-" + OPT_LEVEL
    if BOUNDS_CHECKS:
        label += "-checks-" + BOUNDS_CHECKS
    off = disable if disable is not None else os.environ.get("KILN_DISABLE", "")
    if off:
        label += "-without-" + off.replace(",", "-")
    fw = FIRMWARE / label / board / (p.name.replace("/", "-") + ".elf")
    fw.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(kiln), "build", "--board", board, "--bench", *p.kiln_args, str(p.wasm), "-o", str(fw)]
    for flag in isa_flags:
        cmd += ["--isa-flag", flag]
    if OPT_LEVEL:
        cmd += ["--opt-level", OPT_LEVEL]
    if BOUNDS_CHECKS:
        cmd += ["--bounds-checks", BOUNDS_CHECKS]
    for host, guest in p.dirs:
        cmd += ["--dir", f"{host}::{guest}"]
    cmd += ["--", *p.argv[1:]]
    env = dict(os.environ)
    if disable is not None:
        env["KILN_DISABLE"] = disable
    r = subprocess.run(cmd, capture_output=True, cwd=p.cwd, env=env)
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        return None, (msg[-1] if msg else "kiln build failed")
    return fw, None


def run_child(cmd, cwd, env=None):
    """Runs `cmd` to completion: (exit status, stdout, stderr, wall s, CPU s)."""
    so, se = OUT / f"child-{os.getpid()}.stdout", OUT / f"child-{os.getpid()}.stderr"
    with open(so, "wb") as out, open(se, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    return (os.waitstatus_to_exitcode(status), so.read_bytes(), se.read_bytes(), wall,
            usage.ru_utime + usage.ru_stime)


def run_kiln(p, fw):
    status, stdout, stderr, wall, cpu = run_child([str(fw)], p.cwd, env={})
    m = BENCH_LINE.search(stderr)
    return {"status": status, "bench": float(m.group(1)) if m else None, "whole": wall, "cpu": cpu,
            "stdout": stdout, "stderr": BENCH_LINE.sub(b"", stderr)}


def kiln_compile(wasm, target=None, extra=()):
    """Compiles without the cache; wall, CPU seconds and peak RSS (MB) of `kiln compile`."""
    cmd = [str(KILN), "compile", *extra, str(wasm), "-o", str(OUT / f"compile-{os.getpid()}.o")]
    if OPT_LEVEL and "--opt-level" not in extra:
        cmd += ["--opt-level", OPT_LEVEL]
    if target:
        cmd += ["--target", target]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "log": err}


# -- Wasmtime -----------------------------------------------------------------

def wasmtime_compile(p, target=None, tag=""):
    cwasm = OUT / "wasmtime" / (target or "host") / (p.name.replace("/", "-") + tag + ".cwasm")
    cwasm.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(WASMTIME_RUN), "compile", str(p.wasm), str(cwasm)]
    if target:
        cmd += ["--target", target]
    r = run_checked(cmd)
    return cwasm, json.loads(r.stdout)


def run_wasmtime(p, cwasm):
    so, se = OUT / f"wasmtime-{os.getpid()}.stdout", OUT / f"wasmtime-{os.getpid()}.stderr"
    cmd = [sys.executable, str(WASMTIME_RUN), "run", str(cwasm), "--stdout", str(so), "--stderr", str(se)]
    for host, guest in p.dirs:
        cmd += ["--dir", f"{host}::{guest}"]
    cmd += ["--", *p.argv]
    r = subprocess.run(cmd, capture_output=True, cwd=p.cwd)
    if r.returncode != 0:
        raise RuntimeError(f"wasmtime runner failed on {p.name}: {r.stderr.decode(errors='replace')}")
    out = json.loads(r.stdout)
    out["stdout"], out["stderr"] = so.read_bytes(), se.read_bytes()
    return out


# -- native -------------------------------------------------------------------

def run_native(p):
    status, stdout, stderr, wall, cpu = run_child([str(p.native)], p.cwd)
    m = NATIVE_LINE.search(stderr)
    return {"status": status, "bench": float(m.group(1)) if m else None, "whole": wall, "cpu": cpu,
            "stdout": stdout, "stderr": NATIVE_LINE.sub(b"", stderr)}


# -- the run-time table -------------------------------------------------------

# --cpu: CPU time of the whole run instead of the region's wall time.
USE_CPU = False
# --isa-flag: the ISA flags Kiln's firmware is built with (empty: the board's).
ISA_FLAGS = []
# --opt-level: Kiln's optimisation level (None: kiln's default, `speed`).
OPT_LEVEL = None
# --bounds-checks for Kiln's firmware (None: the board's choice).
BOUNDS_CHECKS = None


def timed(result):
    if USE_CPU:
        return result["cpu"]
    return result["bench"] if result["bench"] is not None else result["whole"]


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


# Programs that time themselves print their own timings: not compared.
SELF_TIMING = re.compile(rb"[0-9.]+ seconds")


def check_output(p, results):
    """'ok', or what differs: the expected files where the corpus has them,
    otherwise agreement between the engines (self-reported timings aside)."""
    problems = []
    first = SELF_TIMING.sub(b"#", results[0][1]["stdout"])
    for engine, r in results:
        if r["status"] != 0:
            problems.append(f"{engine} exit {r['status']}")
        if p.expected_stdout is not None and r["stdout"] != p.expected_stdout:
            problems.append(f"{engine} stdout")
        elif p.expected_stdout is None and SELF_TIMING.sub(b"#", r["stdout"]) != first:
            problems.append(f"{engine} stdout differs")
        if p.expected_stderr is not None and r["stderr"] != p.expected_stderr:
            problems.append(f"{engine} stderr")
    return "ok" if not problems else "MISMATCH: " + ", ".join(problems)


# Regions shorter than this get up to three times the runs: a few
# milliseconds of wall time swing with every other job on the machine.
SHORT = 0.05


def short(k, w):
    return max(statistics.median(map(timed, k)), statistics.median(map(timed, w))) < SHORT


def runtime_table(programs, runs, ab=None):
    """`ab`: (kiln binary, KILN_DISABLE, ISA flags) of a second Kiln build
    measured alongside."""
    rows = []
    compile_rows = []
    for p in programs:
        fw, why = kiln_firmware(p)
        fw_b = kiln_firmware(p, kiln=ab[0], disable=ab[1], label="b", isa_flags=ab[2])[0] if ab else None
        cwasm, wt_compile = wasmtime_compile(p)
        kc = kiln_compile(p.wasm, extra=p.kiln_args) if fw else None
        compile_rows.append((p, kc, wt_compile))
        if fw is None:
            rows.append({"p": p, "skip": why})
            log(f"bench: {p.name}: Kiln: {why}")
            continue
        k, w, n, kb = [], [], [], []
        status = "ok"
        i = 0
        engines = ["kiln", "wasmtime"] + (["kiln-b"] if fw_b else []) + (["native"] if p.native else [])
        while i < runs or (i < 3 * runs and short(k, w)):
            # Each round starts with the next engine, so that none keeps
            # one place in the order (two identical builds, one always run
            # second, once measured 0.90 apart).
            order = engines[i % len(engines):] + engines[:i % len(engines)]
            last = {}
            for engine in order:
                if engine == "kiln":
                    last[engine] = run_kiln(p, fw)
                    k.append(last[engine])
                elif engine == "kiln-b":
                    last[engine] = run_kiln(p, fw_b)
                    kb.append(last[engine])
                elif engine == "wasmtime":
                    last[engine] = run_wasmtime(p, cwasm)
                    w.append(last[engine])
                else:
                    last[engine] = run_native(p)
                    n.append(last[engine])
            check = check_output(p, sorted(last.items()))
            if check != "ok":
                status = check
            i += 1
        row = {
            "p": p,
            "region": "cpu" if USE_CPU else "bench" if k[0]["bench"] is not None else "whole",
            "kiln": statistics.median(map(timed, k)),
            "wasmtime": statistics.median(map(timed, w)),
            "native": statistics.median(map(timed, n)) if n else None,
            "kiln-b": statistics.median(map(timed, kb)) if kb else None,
            # b/a of each round: the two ran within one round, so a slow
            # spell of the machine hits both.
            "pairs": [timed(b) / timed(a) for a, b in zip(k, kb)],
            "output": status,
        }
        rows.append(row)
        log(f"bench: {p.name}: kiln {row['kiln']:.4f} s, wasmtime {row['wasmtime']:.4f} s"
            + (f", native {row['native']:.4f} s" if row["native"] else "")
            + (f", kiln-b {row['kiln-b']:.4f} s (b/a {ab_summary(row['pairs'])})" if row["kiln-b"] else ""))
    return rows, compile_rows


def quartiles(xs):
    """(lower quartile, median, upper quartile) of `xs`."""
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def verdict(q1, q3):
    """What paired b/a ratios say: a difference only where the middle half
    of the rounds lies on one side of 1."""
    return "b slower" if q1 > 1 else "b faster" if q3 < 1 else "within noise"


def ab_summary(pairs):
    """The paired b/a ratios as `median [q1-q3] verdict`."""
    q1, q2, q3 = quartiles(pairs)
    return f"{q2:.3f} [{q1:.3f}-{q3:.3f}] {verdict(q1, q3)}"


def print_ab(rows):
    """The A/B table: per program (rows with a kiln-b time, not timer-bound)
    the b/a ratios of the rounds (each round ran both builds), their median
    and middle half."""
    print("\nA/B, kiln-b against kiln, paired by round: median b/a [middle half of the rounds];"
          " 'b faster'/'b slower' when the middle half lies on one side of 1.\n")
    head = f"{'program':28} {'b/a':>7} {'q1':>7} {'q3':>7}  verdict"
    print(head)
    print("-" * len(head))
    medians = []
    for r in rows:
        q1, q2, q3 = quartiles(r["pairs"])
        medians.append(q2)
        print(f"{r['p'].name:28} {q2:7.3f} {q1:7.3f} {q3:7.3f}  {verdict(q1, q3)}")
    print(f"\ngeomean of the paired medians: {geomean(medians):.3f} over {len(medians)} programs")


def print_runtime(rows, runs):
    print(f"\nRun time, host board (x86_64), median of {runs} runs per engine ({3 * runs} for regions under"
          f" {SHORT * 1000:.0f} ms), engines taking turns.")
    print("region: bench = bench.start..bench.end; whole = the whole run (wall time);"
          " cpu = CPU time of the whole run (--cpu).\n")
    head = f"{'program':28} {'region':6} {'kiln s':>9} {'wasmtime s':>10} {'kiln/wt':>8} {'native s':>9} {'kiln/nat':>8}  output"
    print(head)
    print("-" * len(head))
    ratios, all_ratios, native_ratios, simd_native_ratios = [], [], [], []
    for r in rows:
        p = r["p"]
        if "skip" in r:
            print(f"{p.name:28} {'':6} {'n/a':>9} {'':>10} {'':>8} {'':>9} {'':>8}  Kiln: {r['skip'][:70]}")
            continue
        ratio = r["kiln"] / r["wasmtime"]
        # A profile-guided build is a second row for the same program.
        variant = bool(p.kiln_args)
        bound = max(r["kiln"], r["wasmtime"]) < TIMER_BOUND
        if not variant:
            all_ratios.append(ratio)
            if not bound:
                ratios.append(ratio)
        nat = ""
        nat_ratio = ""
        if r["native"]:
            (simd_native_ratios if p.simd else native_ratios).append(r["kiln"] / r["native"])
            nat, nat_ratio = f"{r['native']:9.4f}", f"{r['kiln'] / r['native']:8.2f}"
        note = " (timer-bound, not in geomean)" if bound else " (same program, not in geomean)" if variant else ""
        print(f"{p.name:28} {r['region']:6} {r['kiln']:9.4f} {r['wasmtime']:10.4f} {ratio:8.2f} "
              f"{nat:>9} {nat_ratio:>8}  {r['output']}{note}")
    print()
    print(f"geomean kiln/wasmtime: {geomean(ratios):.3f} over {len(ratios)} programs "
          f"({geomean(all_ratios):.3f} with the timer-bound ones)")
    if native_ratios:
        print(f"geomean kiln/native gcc -O2 (C kernels): {geomean(native_ratios):.3f}")
    simd = [r for r in rows if r["p"].simd]
    if simd_native_ratios:
        print(f"geomean kiln/native gcc -O2 (C kernels, simd128): {geomean(simd_native_ratios):.3f}"
              + (f" ({len(simd) - len(simd_native_ratios)} of {len(simd)} n/a)"
                 if len(simd_native_ratios) < len(simd) else ""))
    elif simd:
        print("geomean kiln/native gcc -O2 (C kernels, simd128): n/a (Kiln refused all of them)")
    ab_rows = [r for r in rows if r.get("kiln-b") and max(r["kiln"], r["wasmtime"]) >= TIMER_BOUND]
    if ab_rows:
        ab = [r["kiln-b"] / r["kiln"] for r in ab_rows]
        print(f"geomean kiln-b/kiln (--ab): {geomean(ab):.3f} over {len(ab)} programs (ratio of medians)")
        print_ab(ab_rows)


def print_compile(compile_rows):
    print("\nCompile time, x86_64 (one compilation each; kiln: `kiln compile`, no cache;")
    print("wasmtime: Module.from_file, default Config). CPU = user + system of all threads.\n")
    head = (f"{'program':28} {'kiln wall':>9} {'cpu':>6} {'MB':>5}   {'wt wall':>8} {'cpu':>6} {'MB':>5}"
            f"   {'kiln/wt wall':>12} {'cpu':>5}")
    print(head)
    print("-" * len(head))
    walls, cpus = [], []
    for p, k, w in compile_rows:
        if k is None:
            print(f"{p.name:28} {'n/a':>9}")
            continue
        wall, cpu = k["wall"] / w["wall"], k["cpu"] / w["cpu"]
        if not p.kiln_args:
            walls.append(wall)
            cpus.append(cpu)
        note = "  (same program, not in geomean)" if p.kiln_args else ""
        print(f"{p.name:28} {k['wall']:9.3f} {k['cpu']:6.2f} {k['rss_mb']:5.0f}   {w['wall']:8.3f} "
              f"{w['cpu']:6.2f} {w['rss_mb']:5.0f}   {wall:12.2f} {cpu:5.2f}{note}")
    print(f"\ngeomean kiln/wasmtime compile: wall {geomean(walls):.3f}, CPU {geomean(cpus):.3f}")


# -- CPython compile time per architecture -------------------------------------

# (name, kiln target, options). The PyPI wasmtime is built for the host
# architecture only ("Support for this target is disabled" otherwise), so
# every architecture's Kiln compile is compared with Wasmtime's x86_64 one.
# The bare-metal targets compile with guard regions, as their QEMU boards
# ask in board.toml (a bare `--target` alone would mean explicit checks).
ARCHES = [
    ("x86_64", "x86_64-unknown-linux-gnu", ()),
    ("aarch64", "aarch64-unknown-none", ("--bounds-checks", "guard")),
    ("riscv64", "riscv64gc-unknown-none-elf", ("--bounds-checks", "guard")),
]
# Rows with a profile of the benchmark run (`--profile`: the sampled
# functions optimised, the rest through the fast tier) and with the fast
# tier everywhere (`--opt-level none`).
VARIANTS = [("", ()), (" pgo", ("--profile", "{profile}")), (" none", ("--opt-level", "none"))]


def compile_python(runs):
    progs = python_program()
    if not progs:
        return
    p = progs[0]
    profile = str(progs[1].kiln_args[1])
    print(f"\nCompile time of {p.wasm.name} ({p.wasm.stat().st_size / 1e6:.1f} MB), median of {runs}, "
          "engines alternating; peak = peak RSS of the compiling process")
    print("(wasmtime's includes the Python interpreter: about 20 MB; wasmtime compiles for x86_64,")
    print("the only target the PyPI build supports).\n")
    head = (f"{'arch':14} {'kiln wall':>9} {'cpu':>6} {'peak MB':>8}   {'wt wall':>8} {'cpu':>6} "
            f"{'peak MB':>8}   {'kiln/wt wall':>12} {'cpu':>5}")
    print(head)
    print("-" * len(head))
    med = lambda xs, key: statistics.median(x[key] for x in xs)
    wasmtime_runs = []
    for (arch, kiln_target, board_options), (variant, extra) in [(a, v) for v in VARIANTS for a in ARCHES]:
        extra = [*board_options, *(a.replace("{profile}", profile) for a in extra)]
        ks = []
        for i in range(runs):
            if arch == "x86_64" and not variant:
                if i % 2:
                    wasmtime_runs.append(wasmtime_compile(p, tag="-compile")[1])
                ks.append(kiln_compile(p.wasm, kiln_target, extra))
                if not i % 2:
                    wasmtime_runs.append(wasmtime_compile(p, tag="-compile")[1])
            else:
                ks.append(kiln_compile(p.wasm, kiln_target, extra))
        kw, kc, km = med(ks, "wall"), med(ks, "cpu"), med(ks, "rss_mb")
        ww, wc, wm = med(wasmtime_runs, "wall"), med(wasmtime_runs, "cpu"), med(wasmtime_runs, "rss_mb")
        print(f"{arch + variant:14} {kw:9.3f} {kc:6.2f} {km:8.0f}   {ww:8.3f} {wc:6.2f} {wm:8.0f}   "
              f"{kw / ww:12.2f} {kc / wc:5.2f}")
    # Where Kiln's time goes (one more x86_64 compilation with phase timings).
    env = dict(os.environ, KILN_TIMINGS="1")
    r = subprocess.run([str(KILN), "compile", str(p.wasm), "-o", str(OUT / "compile.o")],
                       capture_output=True, env=env, text=True)
    print("\nkiln KILN_TIMINGS=1, x86_64:\n" + r.stderr)
    # The cache: a repeated `kiln run` finds the object and firmware.
    t0 = time.perf_counter()
    subprocess.run([str(KILN), "run", str(p.wasm), "--", "-c", "pass"], capture_output=True)
    t1 = time.perf_counter()
    subprocess.run([str(KILN), "run", str(p.wasm), "--", "-c", "pass"], capture_output=True)
    t2 = time.perf_counter()
    print(f"kiln run python -c pass: {t1 - t0:.2f} s, again (cached): {t2 - t1:.2f} s")


# -- QEMU instruction counts ---------------------------------------------------

def qemu_command(board, firmware):
    spec = tomllib.loads((ROOT / "boards" / board / "board.toml").read_text())
    cmd = [a.replace("{firmware}", str(firmware)) for a in spec["run"]]
    # One instruction per nanosecond of virtual time: the board's clock
    # then counts guest instructions, and `kiln: bench S s` means S * 1e9 instructions.
    return cmd[:1] + ["-icount", "shift=0"] + cmd[1:]


def qemu_counts(programs, boards, baseline):
    results = {}
    print("\nGuest instructions between bench.start and bench.end (for CPython: its script alone, see")
    print("bench/python/icount_region.py) under QEMU -icount shift=0 (virtual time = instruction count); millions.\n")
    head = f"{'program':28}" + "".join(f" {b.removeprefix('qemu-'):>16}" for b in boards)
    if baseline:
        head += "   vs baseline"
    print(head)
    print("-" * len(head))
    for p in programs:
        row = {}
        for board in boards:
            fw, why = kiln_firmware(p, board)
            if fw is None:
                row[board] = None
                continue
            r = subprocess.run(qemu_command(board, fw), capture_output=True, stdin=subprocess.DEVNULL)
            m = BENCH_LINE.search(r.stdout + r.stderr)
            region = ICOUNT_LINE.search(r.stdout)
            row[board] = float(m.group(1)) * 1e9 if m else float(region.group(1)) if region else None
        results[p.name] = row
        cells = "".join(f" {row[b] / 1e6:16.2f}" if row[b] else f" {'n/a':>16}" for b in boards)
        extra = ""
        if baseline and p.name in baseline:
            rel = [f"{row[b] / baseline[p.name][b]:.3f}" for b in boards
                   if row.get(b) and baseline[p.name].get(b)]
            extra = "   " + " ".join(rel)
        print(f"{p.name:28}{cells}{extra}", flush=True)
    if baseline:
        for b in boards:
            rel = [results[n][b] / baseline[n][b] for n in results
                   if results[n].get(b) and baseline.get(n, {}).get(b)]
            print(f"geomean {b} vs baseline: {geomean(rel):.3f}")
    return results


# -- main ---------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="runs per engine and program (default 5)")
    ap.add_argument("--only", action="append", default=[], help="programs whose name contains this")
    ap.add_argument("--skip", action="append", default=[], help="leave out programs whose name contains this")
    ap.add_argument("--no-build", action="store_true", help="use target/release/kiln as it is")
    ap.add_argument("--kiln", help="the kiln binary to measure (default: target/release/kiln)")
    ap.add_argument("--dist", action="store_true",
                    help="measure the distribution build, target/dist/kiln (built by scripts/build-dist.sh "
                         "unless --no-build)")
    ap.add_argument("--ab", metavar="KILN_B", help="also measure this kiln binary, alternating (A/B)")
    ap.add_argument("--ab-disable", metavar="NAMES",
                    help="also measure Kiln with KILN_DISABLE=NAMES (e.g. inline,known), alternating")
    ap.add_argument("--isa-flag", action="append", default=[], metavar="FLAG",
                    help="build Kiln's firmware with this --isa-flag (repeatable; default: the board's)")
    ap.add_argument("--ab-isa-flag", action="append", default=None, metavar="FLAG",
                    help="also measure Kiln built with this --isa-flag (e.g. baseline), alternating")
    ap.add_argument("--opt-level", choices=["none", "speed"],
                    help="build Kiln's firmware at this --opt-level (`none`: the fast tier only)")
    ap.add_argument("--bounds-checks", choices=["explicit", "guard"],
                    help="build Kiln's firmware with these bounds checks (default: the board's)")
    ap.add_argument("--cpu", action="store_true",
                    help="time the CPU seconds of whole runs instead (steadier on a busy machine)")
    ap.add_argument("--compile-python", action="store_true", help="CPython compile time per architecture")
    ap.add_argument("--qemu", action="store_true", help="instruction counts on the QEMU boards")
    ap.add_argument("--boards", default="qemu-virt-aarch64,qemu-virt-riscv64")
    ap.add_argument("--save", help="write the QEMU counts as JSON here")
    ap.add_argument("--baseline", help="QEMU counts saved earlier, to compare with")
    args = ap.parse_args()
    global USE_CPU, ISA_FLAGS, OPT_LEVEL, BOUNDS_CHECKS
    USE_CPU = args.cpu
    ISA_FLAGS = args.isa_flag
    OPT_LEVEL = args.opt_level
    BOUNDS_CHECKS = args.bounds_checks

    if args.dist:
        if not args.no_build:
            subprocess.run([str(ROOT / "scripts" / "build-dist.sh")], cwd=ROOT, check=True)
        args.kiln = args.kiln or str(ROOT / "target" / "dist" / "kiln")
    elif not args.no_build and not args.kiln:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "kiln-compiler"], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    # Measure a copy: a rebuild during a long run must not swap the compiler.
    KILN.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(args.kiln or ROOT / "target" / "release" / "kiln", KILN)
    if args.ab:
        shutil.copy2(args.ab, KILN_B)
    try:
        run(args)
    finally:
        for f in [KILN, KILN_B, *OUT.glob(f"*-{os.getpid()}.*")]:
            f.unlink(missing_ok=True)
        shutil.rmtree(FIRMWARE, ignore_errors=True)


def run(args):
    if args.compile_python:
        compile_python(args.runs)
        return
    programs = sightglass_programs() + kernel_programs()
    programs += python_qemu_program() if args.qemu else python_program()
    if args.only:
        programs = [p for p in programs if any(o in p.name for o in args.only)]
    programs = [p for p in programs if not any(o in p.name for o in args.skip)]
    if args.qemu:
        baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
        results = qemu_counts(programs, args.boards.split(","), baseline)
        if args.save:
            Path(args.save).write_text(json.dumps(results, indent=1))
        return
    ab = None
    if args.ab or args.ab_disable or args.ab_isa_flag:
        ab = (KILN_B if args.ab else KILN, args.ab_disable, args.ab_isa_flag)
    rows, compile_rows = runtime_table(programs, args.runs, ab=ab)
    print_runtime(rows, args.runs)
    print_compile(compile_rows)


if __name__ == "__main__":
    main()
