//! The bare-metal boards under QEMU: a program runs with its output on the
//! right streams and its exit status, every trap kind is caught by the
//! board's exception vectors and reported, memory limits hold, stdin ends,
//! `memory.copy` and `memory.fill` agree with byte loops, code for a CPU
//! feature the CPU lacks is refused, and `kiln build` makes ELF and raw
//! images.

use kiln_tests::{QEMU_BOARDS, kiln, output, qemu_command, root, scratch, stderr, stdout, write};

fn run(board: &str, args: &[&str]) -> (i32, String, String) {
    let out = output(
        kiln()
            .args(["run", "--board", board, "--timeout", "120"])
            .args(args),
    );
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

#[test]
fn c_program_runs_on_every_board() {
    let hello = root().join("examples/c/hello.wasm");
    for board in QEMU_BOARDS {
        let (status, out, err) = run(
            board,
            &[hello.to_str().unwrap(), "--env", "WHO=board", "--", "x"],
        );
        assert_eq!(status, 0, "{board}: {err}");
        assert!(
            out.starts_with(
                "Hello from C on Kiln!\nargv[0] = hello.wasm\nargv[1] = x\nWHO = board\n"
            ),
            "{board}: {out}"
        );
        assert!(
            !out.contains("random bytes: 00000000"),
            "{board}: no entropy: {out}"
        );
    }
}

#[test]
fn streams_and_exit_status_come_back_separately() {
    let dir = scratch("streams");
    let m = write(
        &dir,
        "streams.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (memory 1)
             (data (i32.const 16) "out\n")
             (data (i32.const 32) "err\n")
             (func (export "_start")
               (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 4))
               (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
               (i32.store (i32.const 0) (i32.const 32))
               (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
               (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
               (call $exit (i32.const 7))))"#,
    );
    for board in QEMU_BOARDS {
        let (status, out, err) = run(board, &[m.to_str().unwrap()]);
        // The third write goes to stdout with the second buffer.
        assert_eq!(
            (status, out.as_str(), err.as_str()),
            (7, "out\nerr\n", "err\n"),
            "{board}"
        );
    }
}

#[test]
fn traps_are_caught_by_the_board() {
    let dir = scratch("board-traps");
    let cases = [
        (
            "(func $f (drop (i32.div_u (i32.const 1) (i32.const 0))))",
            "integer divide by zero in f",
        ),
        (
            "(func $f (drop (i64.div_s (i64.const 0x8000000000000000) (i64.const -1))))",
            "integer overflow in f",
        ),
        (
            "(func $f (drop (i64.trunc_f64_u (f64.const -1))))",
            "integer overflow in f",
        ),
        ("(func $f unreachable)", "unreachable in f"),
        (
            "(memory 1) (func $f (i64.store (i32.const 65530) (i64.const 1)))",
            "out of bounds memory access in f",
        ),
        (
            "(table 1 funcref) (func $f (call_indirect (i32.const 0)))",
            "uninitialized element in f",
        ),
        ("(func $f (call $f))", "call stack exhausted in f"),
    ];
    for (i, (body, message)) in cases.iter().enumerate() {
        let m = write(
            &dir,
            &format!("t{i}.wat"),
            format!("(module {body} (export \"_start\" (func $f)))"),
        );
        for board in QEMU_BOARDS {
            let (status, _, err) = run(board, &[m.to_str().unwrap()]);
            assert_eq!(
                (status, err.as_str()),
                (125, format!("kiln: trap: {message}\n").as_str()),
                "{board}: {body}"
            );
        }
    }
}

#[test]
fn memory_grow_beyond_the_board_returns_minus_one() {
    let dir = scratch("grow");
    // Grows by 8 MiB steps until memory.grow fails, then touches the last
    // byte it got and exits with 0 if growth failed cleanly (-1) before 4 GiB.
    let m = write(
        &dir,
        "grow.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (memory 1)
             (func (export "_start") (local $r i32)
               (block $done
                 (loop $more
                   (local.set $r (memory.grow (i32.const 128)))
                   (br_if $done (i32.eq (local.get $r) (i32.const -1)))
                   (br $more)))
               (i32.store8 (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 1)) (i32.const 7))
               (call $exit (i32.ne (i32.load8_u (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 1))) (i32.const 7)))))"#,
    );
    for board in QEMU_BOARDS {
        let (status, _, err) = run(board, &[m.to_str().unwrap()]);
        assert_eq!(status, 0, "{board}: {err}");
    }
    let huge = write(
        &dir,
        "huge.wat",
        r#"(module (memory 40000) (func (export "_start")))"#,
    );
    for board in QEMU_BOARDS {
        let (status, _, err) = run(board, &[huge.to_str().unwrap()]);
        assert_eq!(status, 126, "{board}: {err}");
        assert!(
            err.starts_with("kiln: error: out of memory"),
            "{board}: {err}"
        );
    }
}

#[test]
fn bounds_checks_follow_the_board_or_the_flag() {
    let dir = scratch("bounds-modes");
    // After a grow to 2 pages: the last byte is readable, the next traps.
    let m = write(
        &dir,
        "edge.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (memory 1)
             (func $edge (export "_start")
               (drop (memory.grow (i32.const 1)))
               (drop (i32.load8_u (i32.const 131071)))
               (drop (i32.load8_u (i32.const 131072)))
               (call $exit (i32.const 3))))"#,
    );
    let m = m.to_str().unwrap();
    // Every QEMU board maps guard regions with its MMU (its default);
    // explicit checks must give the same answer there. On
    // qemu-virt-riscv64 the trap is a load page fault (Sv48 under MPRV).
    for board in QEMU_BOARDS {
        for mode in [
            &[][..],
            &["--bounds-checks", "explicit"],
            &["--bounds-checks", "guard"],
        ] {
            for tier in [&[][..], &["--opt-level", "none"]] {
                let args: Vec<&str> = mode.iter().chain(tier).copied().chain([m]).collect();
                let (status, _, err) = run(board, &args);
                assert_eq!(
                    (status, err.as_str()),
                    (125, "kiln: trap: out of bounds memory access in edge\n"),
                    "{board} {mode:?} {tier:?}"
                );
            }
        }
    }
    // A board without an MMU refuses guard regions before compiling: the
    // unit test `board::tests::guard_regions_need_the_board_s_mmu`.
}

/// Code compiled for a CPU feature the board's CPU lacks is refused at
/// instantiation with one line naming it, not run into an invalid
/// instruction (QEMU's TCG has no AVX-512).
#[test]
fn code_for_a_cpu_feature_the_cpu_lacks_is_refused() {
    let hello = root().join("examples/hello.wat");
    let (status, out, err) = run(
        "qemu-x86_64",
        &["--isa-flag", "has_avx512f", hello.to_str().unwrap()],
    );
    assert_eq!((status, out.as_str()), (126, ""), "{err}");
    assert!(
        err.starts_with(
            "kiln: error: module was compiled for CPU feature `has_avx512f`, which this CPU lacks"
        ) && err.ends_with(")\n")
            && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn stdin_reaches_the_program_and_ends() {
    let dir = scratch("stdin");
    let cat = write(
        &dir,
        "cat.wat",
        r#"(module
             (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
             (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
             (memory 1)
             (func (export "_start")
               (loop $l
                 (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 1000))
                 (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
                 (if (i32.eqz (i32.load (i32.const 8))) (then (return)))
                 (i32.store (i32.const 4) (i32.load (i32.const 8)))
                 (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))
                 (br $l))))"#,
    );
    let input = write(&dir, "input.txt", "line one\nline two\n\u{00e9}\n");
    for board in QEMU_BOARDS {
        let file = std::fs::File::open(&input).expect("input file");
        let out = output(
            kiln()
                .args([
                    "run",
                    "--board",
                    board,
                    "--timeout",
                    "60",
                    cat.to_str().unwrap(),
                ])
                .stdin(file),
        );
        assert_eq!(out.status.code(), Some(0), "{board}: {}", stderr(&out));
        assert_eq!(stdout(&out), "line one\nline two\n\u{00e9}\n", "{board}");
    }
}

/// `memory.copy` and `memory.fill` call the runtime's memmove and memset,
/// assembly of its own per architecture (`runtime-nostd/src/memory/`): on
/// every board they must agree with byte loops for every length and overlap
/// of `tests/wat/memory_sweep.wat`. The counts prove that every case ran.
#[test]
fn memory_copy_and_fill_match_byte_loops_on_every_board() {
    let module = root().join("tests/wat/memory_sweep.wat");
    for board in std::iter::once(&"host").chain(QEMU_BOARDS) {
        let (status, out, err) = run(board, &[module.to_str().unwrap()]);
        assert_eq!(
            (status, out.as_str()),
            (0, "memtest: 264000 copies, 44800 fills\n"),
            "{board}: {err}"
        );
    }
}

/// Builds `tests/wat/{name}.wat` for qemu-virt-riscv64 and runs it on the
/// board's own QEMU command line with `-cpu {cpu}` instead of `-cpu max`;
/// checks that it printed `expected` and exited with success.
fn riscv64_with_cpu(name: &str, cpu: &str, expected: &str) {
    let dir = scratch(&format!("riscv64-{name}"));
    let elf = dir.join(format!("{name}.elf"));
    let module = root().join(format!("tests/wat/{name}.wat"));
    let out = output(kiln().args([
        "build",
        "--board",
        "qemu-virt-riscv64",
        module.to_str().unwrap(),
        "-o",
        elf.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let args: Vec<String> = qemu_command("qemu-virt-riscv64", &elf)
        .into_iter()
        .map(|a| if a == "max" { cpu.to_string() } else { a })
        .collect();
    assert!(args.iter().any(|a| a == cpu), "{args:?}");
    let out = output(
        std::process::Command::new(&args[0])
            .args(&args[1..])
            .stdin(std::process::Stdio::null()),
    );
    assert_eq!(stdout(&out), expected, "-cpu {cpu}: {}", stderr(&out));
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
}

/// The riscv64 board copies, fills and hashes its image at boot with the V
/// extension (and its SHA-2 instructions) where the core has it, as QEMU's
/// `-cpu max` does, else with general registers: the sweep also runs on a
/// core without V, so the portable versions stay tested.
#[test]
fn riscv64_copy_and_fill_without_the_vector_extension() {
    riscv64_with_cpu(
        "memory_sweep",
        "max,v=false",
        "memtest: 264000 copies, 44800 fills\n",
    );
}

/// The loop vectorizer's riscv64 code runs its vector loops only where
/// the core has the V extension (`vmctx.features`), so one firmware gives
/// the same answer on a core with V (`-cpu max`) and without; the answer
/// is Wasmtime's for tests/wat/vector_loops.wat.
#[test]
fn riscv64_vector_loops_with_and_without_the_vector_extension() {
    for cpu in ["max", "max,v=false"] {
        riscv64_with_cpu("vector_loops", cpu, "vector loops: 41d30be498603a83\n");
    }
}

#[test]
fn build_makes_elf_and_raw_images() {
    let dir = scratch("build");
    let hello = root().join("examples/hello.wat");
    for (board, load) in [
        ("qemu-virt-riscv64", "0x80000000"),
        ("qemu-virt-aarch64", "0x40200000"),
    ] {
        let elf = dir.join(format!("{board}.elf"));
        let out = output(kiln().args([
            "build",
            "--board",
            board,
            hello.to_str().unwrap(),
            "-o",
            elf.to_str().unwrap(),
        ]));
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(&std::fs::read(&elf).unwrap()[..4], b"\x7fELF");
        let bin = dir.join(format!("{board}.bin"));
        let out = output(kiln().args([
            "build",
            "--board",
            board,
            hello.to_str().unwrap(),
            "-o",
            bin.to_str().unwrap(),
            "--format",
            "bin",
        ]));
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains(&format!("load address {load}")),
            "{}",
            stdout(&out)
        );
        let len = std::fs::metadata(&bin).unwrap().len();
        assert!(
            len > 4096 && len < 1 << 20,
            "{board}: raw image of {len} bytes"
        );
    }
}
