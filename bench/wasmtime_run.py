"""Wasmtime side of the benchmark harness (bench/run.py), one subprocess per
measurement so that each run starts from a fresh process, as Kiln's do.

  wasmtime_run.py compile WASM OUT.cwasm [--target TRIPLE]
      Compiles WASM with `wasmtime.Module.from_file` (default Config:
      Cranelift at opt_level=speed, parallel compilation, no cache) and
      writes the serialized module. Prints JSON: wall and CPU seconds of the
      compilation, peak RSS of the process before and after.

  wasmtime_run.py run CWASM --stdout F --stderr F [--dir HOST::GUEST]... -- ARGV...
      Runs a serialized module's `_start` with WASI (argv = ARGV, the given
      preopens, no environment) and `bench.start`/`bench.end` host functions
      that read the monotonic clock. Prints JSON: the exit status, the time
      between `bench.start` and `bench.end` (null if never called) and the
      time of instantiation plus `_start` ("whole", and its CPU time "cpu").
"""

import argparse
import json
import resource
import sys
import time

import wasmtime


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine(target=None):
    config = wasmtime.Config()
    if target:
        config.target = target
    return wasmtime.Engine(config)


def compile_module(args):
    e = engine(args.target)
    rss0 = peak_rss_mb()
    c0, t0 = cpu_seconds(), time.perf_counter()
    module = wasmtime.Module.from_file(e, args.wasm)
    t1, c1 = time.perf_counter(), cpu_seconds()
    rss1 = peak_rss_mb()
    with open(args.out, "wb") as f:
        f.write(module.serialize())
    print(json.dumps({"wall": t1 - t0, "cpu": c1 - c0, "rss_before_mb": rss0, "rss_mb": rss1}))


def run_module(args):
    e = engine()
    module = wasmtime.Module.deserialize_file(e, args.cwasm)
    linker = wasmtime.Linker(e)
    linker.define_wasi()
    marks = []
    nothing = wasmtime.FuncType([], [])
    linker.define_func("bench", "start", nothing, lambda: marks.append(("s", time.perf_counter())))
    linker.define_func("bench", "end", nothing, lambda: marks.append(("e", time.perf_counter())))
    store = wasmtime.Store(e)
    wasi = wasmtime.WasiConfig()
    wasi.argv = args.argv
    for spec in args.dir:
        host, _, guest = spec.rpartition("::")
        wasi.preopen_dir(host, guest)
    wasi.stdout_file = args.stdout
    wasi.stderr_file = args.stderr
    store.set_wasi(wasi)
    status = 0
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        instance = linker.instantiate(store, module)
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as trap:
        status = trap.code
    except wasmtime.Trap as trap:
        print(f"wasmtime: trap: {trap}", file=sys.stderr)
        status = 125
    t1, c1 = time.perf_counter(), time.process_time()
    # Sum of start..end intervals, as `kiln run --bench` reports it.
    region, opened = 0.0, None
    for kind, t in marks:
        if kind == "s":
            opened = t
        elif opened is not None:
            region += t - opened
            opened = None
    has_region = any(kind == "e" for kind, _ in marks)
    print(json.dumps({"status": status, "bench": region if has_region else None, "whole": t1 - t0,
                      "cpu": c1 - c0}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compile")
    c.add_argument("wasm")
    c.add_argument("out")
    c.add_argument("--target")
    r = sub.add_parser("run")
    r.add_argument("cwasm")
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr", required=True)
    r.add_argument("--dir", action="append", default=[])
    r.add_argument("argv", nargs="+")
    args = p.parse_args()
    if args.cmd == "compile":
        compile_module(args)
    else:
        run_module(args)


if __name__ == "__main__":
    main()
