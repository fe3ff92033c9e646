"""Runs a script and prints how many virtual nanoseconds it took. Under
QEMU's `-icount shift=0` a virtual nanosecond is one guest instruction, so
`bench/run.py --qemu` counts the instructions of the script alone, without
CPython's start-up (CPython cannot call the `bench.start`/`bench.end`
imports). Usage: icount_region.py SCRIPT [ARGS...]"""
import runpy
import sys
import time

script = sys.argv[1]
sys.argv = sys.argv[1:]
start = time.perf_counter_ns()
runpy.run_path(script, run_name="__main__")
print(f"kiln-icount-region {time.perf_counter_ns() - start}")
