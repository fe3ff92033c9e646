#!/usr/bin/env python3
"""Where a firmware spends its time on a QEMU board: samples the guest PC
through the QEMU monitor while the firmware runs, and prints the share of
samples per function (the firmware's symbols: `kiln_module.fN` for Wasm
function N, the runtime's and the board's by name), then per PC.

    kiln build --board qemu-virt-riscv64 prog.wasm -o prog.elf -- ARGS
    python3 bench/qemu_profile.py qemu-virt-riscv64 prog.elf
    python3 bench/qemu_profile.py --exact qemu-virt-riscv64 prog.elf

Sampling measures QEMU's wall time, not the guest's instructions: an
instruction QEMU emulates slowly (the vector and scalar crypto ones, say)
weighs more than on a real core, and QEMU reports the PC at the start of
the translated block it is in, so a PC stands for its whole block (often a
function's epilogue, or the block after a page boundary, where QEMU starts
a new one).

`--exact` counts instead: a TCG plugin (qemu_hotblocks.c, built with `cc`
into target/bench/) counts every execution of every translated block, and
the report gives each function's and block's share of the guest
instructions of the whole run, then the mix of instructions executed in
compiled Wasm code (`kiln_module.*`): each mnemonic's share, and those
that load or store relative to the stack pointer (spills, reloads, the
frame). The run is a few times slower than without the plugin.

Use it to find where to look; judge a change by `bench/run.py --qemu`,
whose counts cover the benchmark region alone. Not part of the test run.
"""

import argparse
import bisect
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_SOURCE = ROOT / "bench" / "qemu_hotblocks.c"
PLUGIN = ROOT / "target" / "bench" / "qemu_hotblocks.so"
# llvm-objdump --no-show-raw-insn: "    80000ae0:      \tlw\ta0, 0(t6)".
INSTRUCTION = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")


def board_command(board, firmware, monitor):
    """The board's own QEMU command line, with the monitor on `monitor`."""
    spec = tomllib.loads((ROOT / "boards" / board / "board.toml").read_text())
    cmd = [a.replace("{firmware}", str(firmware)) for a in spec["run"]]
    if "-monitor" not in cmd:
        sys.exit(f"qemu_profile: {board}'s run command has no -monitor to redirect")
    cmd[cmd.index("-monitor") + 1] = f"unix:{monitor},server=on,wait=off"
    return cmd


class Monitor:
    """QEMU's human monitor over a Unix socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(2)
        for _ in range(200):
            try:
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.01)
        else:
            sys.exit("qemu_profile: QEMU's monitor did not come up")
        self.read()

    def read(self):
        buf = b""
        while not buf.rstrip().endswith(b"(qemu)"):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("monitor closed")
            buf += chunk
        return buf.decode(errors="replace")

    def pc(self):
        self.sock.sendall(b"info registers\n")
        for line in self.read().splitlines():
            words = line.replace("=", " ").split()
            # riscv: " pc       0000000080001234"; aarch64: "PC=..."; x86: "RIP=...".
            for i, w in enumerate(words[:-1]):
                if w in ("pc", "PC", "RIP"):
                    try:
                        return int(words[i + 1], 16)
                    except ValueError:
                        pass
        return None


def function_names(firmware):
    """A lookup from a PC to the name of the firmware's function that holds it
    (the nearest function symbol at or below it; "?" below the first)."""
    out = subprocess.run(["llvm-nm", "-n", "--defined-only", str(firmware)],
                         capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW" and not parts[2].startswith(".L"):
            syms.append((int(parts[0], 16), parts[2]))
    starts = [a for a, _ in syms]

    def name_of(pc):
        i = bisect.bisect_right(starts, pc) - 1
        return syms[i][1] if i >= 0 else "?"
    return name_of


def plugin():
    """The hot-blocks plugin, built from its source when missing or older."""
    if not PLUGIN.exists() or PLUGIN.stat().st_mtime < PLUGIN_SOURCE.stat().st_mtime:
        PLUGIN.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(PLUGIN), str(PLUGIN_SOURCE)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"qemu_profile: building the plugin failed:\n{r.stderr}")
    return PLUGIN


def disassembly(firmware):
    """{pc: (mnemonic, operands)} of the compiled Wasm code (`kiln_module.*`)."""
    # -D: with -d, llvm-objdump takes the aarch64 firmware's code for data
    # (`.word`). The riscv64 boards' cores have these extensions; without
    # them llvm-objdump prints `<unknown>`.
    riscv = b"riscv" in subprocess.run(["llvm-objdump", "-f", str(firmware)],
                                       capture_output=True, check=True).stdout
    extensions = ["--mattr=+m,+v,+zba,+zbb,+zbs,+zicond"] if riscv else []
    out = subprocess.run(["llvm-objdump", "-D", "--no-show-raw-insn", *extensions, str(firmware)],
                         capture_output=True, text=True, check=True).stdout
    insns, wasm = {}, False
    for line in out.splitlines():
        if line.endswith(">:"):
            wasm = "<kiln_module." in line
        elif wasm and (m := INSTRUCTION.match(line)):
            insns[int(m[1], 16)] = (m[2], m[3])
    return insns


def exact(args):
    with tempfile.TemporaryDirectory() as tmp:
        counts = os.path.join(tmp, "blocks.txt")
        cmd = board_command(args.board, args.firmware, os.path.join(tmp, "monitor.sock"))
        cmd += ["-plugin", f"{plugin()},out={counts}"]
        subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        if not os.path.exists(counts):
            sys.exit("qemu_profile: the plugin wrote no counts (did the firmware run?)")
        blocks = collections.Counter()
        for line in open(counts):
            pc, insns, executions = line.split()
            blocks[(int(pc, 16), int(insns))] += int(executions)
    name_of = function_names(args.firmware)
    by_function = collections.Counter()
    for (pc, n), executions in blocks.items():
        by_function[name_of(pc)] += n * executions
    total = sum(by_function.values())
    print(f"{total / 1e6:.2f} M guest instructions (the whole run)\n")
    for name, n in by_function.most_common(args.top):
        print(f"{100 * n / total:6.2f} %  {n / 1e6:10.2f} M  {name}")
    print("\nBy translated block:\n")
    hottest = sorted(blocks.items(), key=lambda kv: -kv[0][1] * kv[1])[:args.top]
    for (pc, n), executions in hottest:
        print(f"{100 * n * executions / total:6.2f} %  {pc:#x}  {n:4} x {executions:<10} "
              f"{name_of(pc)}")

    insns = disassembly(args.firmware)
    order = sorted(insns)
    index = {pc: i for i, pc in enumerate(order)}
    mix, stack = collections.Counter(), 0
    for (pc, n), executions in blocks.items():
        if pc not in index:
            continue
        for address in order[index[pc]:index[pc] + n]:
            mnemonic, operands = insns[address]
            mix[mnemonic] += executions
            if any(sp in operands for sp in ("(sp)", "[sp", "(%rsp)")):
                stack += executions
    wasm = sum(mix.values())
    if wasm:
        print(f"\nCompiled Wasm code: {wasm / 1e6:.2f} M instructions, "
              f"{100 * stack / wasm:.2f} % of them stack-pointer loads and stores\n")
        for mnemonic, n in mix.most_common(args.top):
            print(f"{100 * n / wasm:6.2f} %  {mnemonic}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("board", help="a QEMU board (boards/NAME/board.toml)")
    ap.add_argument("firmware", help="an ELF from `kiln build --board BOARD`")
    ap.add_argument("--interval", type=float, default=0.001, help="seconds between samples")
    ap.add_argument("--top", type=int, default=25, help="functions and PCs to print")
    ap.add_argument("--exact", action="store_true",
                    help="count every guest instruction with a TCG plugin instead of sampling")
    args = ap.parse_args()
    if args.exact:
        return exact(args)

    with tempfile.TemporaryDirectory() as tmp:
        monitor = os.path.join(tmp, "monitor.sock")
        qemu = subprocess.Popen(board_command(args.board, args.firmware, monitor),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        pcs = []
        try:
            mon = Monitor(monitor)
            while qemu.poll() is None:
                pc = mon.pc()
                if pc is not None:
                    pcs.append(pc)
                time.sleep(args.interval)
        except OSError:
            pass  # QEMU exited between two samples.
        finally:
            if qemu.poll() is None:
                qemu.kill()
            qemu.wait()

    if not pcs:
        sys.exit("qemu_profile: no samples (did the firmware run?)")
    name_of = function_names(args.firmware)
    by_function, by_pc = collections.Counter(), collections.Counter()
    for pc in pcs:
        name = name_of(pc)
        by_function[name] += 1
        by_pc[(name, pc)] += 1
    print(f"{len(pcs)} samples of the guest PC (QEMU wall time)\n")
    for name, n in by_function.most_common(args.top):
        print(f"{100 * n / len(pcs):6.2f} %  {name}")
    print("\nBy PC (the start of QEMU's translated block):\n")
    for (name, pc), n in by_pc.most_common(args.top):
        print(f"{100 * n / len(pcs):6.2f} %  {pc:#x}  {name}")


if __name__ == "__main__":
    main()
