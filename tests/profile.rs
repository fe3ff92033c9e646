//! Profile-guided compiles: `kiln run --profile-out` records where a run
//! spends its time, `--profile` compiles the functions it saw with the
//! optimising tier and the rest with the fast tier, on any board, and the
//! program computes the same; bad and mismatched profiles are refused with
//! one line.

use kiln_tests::{kiln, output, scratch, stderr, write};

/// `_start` calls `$hot` (function 1) in a loop long enough for a thousand
/// samples, and `$cold` (function 2) once; the exit status depends on both.
/// The `nop`s keep `$hot` above the inlining limit, so that its samples
/// are its own.
const PROGRAM: &str = r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $hot (param $x i32) (result i32)
    (local $i i32)
    (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop)
    (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop) (nop)
    (loop $again
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000))))
    (local.get $x))
  (func $cold (result i32) (i32.const 7))
  (func (export "_start")
    (local $x i32) (local $n i32)
    (loop $again
      (local.set $x (call $hot (local.get $x)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $n) (i32.const 100000))))
    (call $exit (i32.and (i32.add (local.get $x) (call $cold)) (i32.const 127)))))"#;

/// The exit status PROGRAM must end with.
fn expected_status() -> i32 {
    let mut x: u32 = 0;
    for _ in 0..100_000 {
        for _ in 0..1000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        }
    }
    (x.wrapping_add(7) & 127) as i32
}

fn status(args: &[&str]) -> i32 {
    let out = output(kiln().args(args));
    assert!(
        !stderr(&out).contains("panicked"),
        "{args:?}: {}",
        stderr(&out)
    );
    out.status.code().unwrap_or(-1)
}

fn error_of(args: &[&str]) -> String {
    let out = output(kiln().args(args));
    assert!(!out.status.success(), "{args:?} should fail");
    let err = stderr(&out);
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?}: one line expected:\n{err}"
    );
    assert!(err.starts_with("kiln: error: "), "{args:?}: {err}");
    err
}

#[test]
fn record_then_compile_with_the_profile_on_host_and_riscv64() {
    let dir = scratch("profile-record");
    let program = write(&dir, "prog.wat", PROGRAM);
    let program = program.to_str().unwrap();
    let profile = dir.join("prog.profile");
    let profile = profile.to_str().unwrap();
    let want = expected_status();

    assert_eq!(status(&["run", "--profile-out", profile, program]), want);
    let text = std::fs::read_to_string(profile).expect("the run wrote a profile");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("kiln-profile 1"));
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("module kiln_module ")),
        "{text}"
    );
    let sampled: Vec<(u32, u64)> = text
        .lines()
        .filter_map(|l| {
            let (index, n) = l.split_once(' ')?;
            Some((index.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    // The loop in $hot is where the time goes; $cold runs for nanoseconds.
    assert_eq!(sampled.first().map(|s| s.0), Some(1), "{text}");
    assert!(sampled[0].1 >= 10, "too few samples of $hot:\n{text}");
    assert!(
        !sampled.iter().any(|s| s.0 == 2),
        "$cold was sampled:\n{text}"
    );
    assert!(
        text.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("outside "))
    );

    // Profile-guided builds compute the same, on the host and on a board
    // of another architecture (function indices do not depend on it).
    assert_eq!(status(&["run", "--profile", profile, program]), want);
    let firmware = dir.join("prog-riscv64.elf");
    assert_eq!(
        status(&[
            "build",
            "--board",
            "qemu-virt-riscv64",
            "--profile",
            profile,
            program,
            "-o",
            firmware.to_str().unwrap()
        ]),
        0
    );
    assert_eq!(
        status(&[
            "run",
            "--board",
            "qemu-virt-riscv64",
            "--profile",
            profile,
            program
        ]),
        want
    );
}

#[test]
fn fast_tier_everywhere_computes_the_same() {
    let dir = scratch("profile-fast");
    let program = write(&dir, "prog.wat", PROGRAM);
    assert_eq!(
        status(&["run", "--opt-level", "none", program.to_str().unwrap()]),
        expected_status()
    );
}

#[test]
fn bad_profiles_are_refused_with_one_line() {
    let dir = scratch("profile-bad");
    let program = write(&dir, "prog.wat", PROGRAM);
    let program = program.to_str().unwrap();
    let other_profile = write(
        &dir,
        "other.profile",
        format!(
            "kiln-profile 1\nmodule kiln_module {}\n0 5\noutside 1\n",
            "ab".repeat(32)
        ),
    );
    let garbage = write(&dir, "garbage.profile", "hello\n");
    let truncated = write(&dir, "truncated.profile", "kiln-profile 1\n3 4\n");
    let out = dir.join("out.o");
    let out = out.to_str().unwrap();

    let err = error_of(&[
        "compile",
        program,
        "--profile",
        other_profile.to_str().unwrap(),
        "-o",
        out,
    ]);
    assert!(
        err.contains("the profile was recorded for another module (sha256 abababababab...)"),
        "{err}"
    );
    let err = error_of(&[
        "compile",
        program,
        "--profile",
        garbage.to_str().unwrap(),
        "-o",
        out,
    ]);
    assert!(
        err.contains("bad profile") && err.contains("the first line is not `kiln-profile 1`"),
        "{err}"
    );
    let err = error_of(&[
        "compile",
        program,
        "--profile",
        truncated.to_str().unwrap(),
        "-o",
        out,
    ]);
    assert!(
        err.contains("line 2: a function before any `module` line"),
        "{err}"
    );
    let missing = dir.join("missing.profile");
    let err = error_of(&[
        "compile",
        program,
        "--profile",
        missing.to_str().unwrap(),
        "-o",
        out,
    ]);
    assert!(err.contains("cannot read the profile"), "{err}");
    assert!(
        !std::path::Path::new(out).exists(),
        "no object after a failed compile"
    );

    let err = error_of(&[
        "run",
        "--board",
        "qemu-virt-riscv64",
        "--profile-out",
        dir.join("p").to_str().unwrap(),
        program,
    ]);
    assert!(err.contains("--profile-out needs the host board"), "{err}");
    let err = error_of(&["run", "--profile-out", "/nonexistent-folder/p", program]);
    assert!(err.contains("is not a folder"), "{err}");
}

/// Calls across tiers in both directions with arguments in registers and
/// on the stack: `$many` (function 1) takes 20 parameters of all four
/// number types, `$ints` (3) eight i32s; `$call_many` (2) and `$call_ints`
/// (4) call them with ABI_VALUES and ABI_INTS.
fn abi_program() -> String {
    const TYPES: [&str; 4] = ["i32", "i64", "f32", "f64"];
    const TO_F64: [&str; 4] = [
        "f64.convert_i32_s",
        "f64.convert_i64_s",
        "f64.promote_f32",
        "",
    ];
    let mut many = String::from("(func $many (param");
    for k in 0..20 {
        many += &format!(" {}", TYPES[k % 4]);
    }
    many += ") (result f64) (local $s f64)\n";
    for k in 0..20 {
        let value = match TO_F64[k % 4] {
            "" => format!("(local.get {k})"),
            convert => format!("({convert} (local.get {k}))"),
        };
        many += &format!(
            "  (local.set $s (f64.add (local.get $s) (f64.mul (f64.const {}) {value})))\n",
            k + 1
        );
    }
    many += "  (local.get $s))\n";
    let args: Vec<String> = ABI_VALUES
        .iter()
        .enumerate()
        .map(|(k, v)| format!("({}.const {v})", TYPES[k % 4]))
        .collect();
    let ints: Vec<String> = ABI_INTS
        .iter()
        .map(|v| format!("(i32.const {v})"))
        .collect();
    let weighted: Vec<String> = (0..8)
        .map(|k| format!("(i32.mul (local.get {k}) (i32.const {}))", k + 1))
        .collect();
    let sum = weighted
        .iter()
        .skip(1)
        .fold(weighted[0].clone(), |acc, w| format!("(i32.add {acc} {w})"));
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  {many}
  (func $call_many (result f64) (call $many {}))
  (func $ints (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32) {sum})
  (func $call_ints (result i32) (call $ints {}))
  (func (export "_start")
    (call $exit (i32.and (i32.add (i32.trunc_f64_s (call $call_many)) (call $call_ints))
                         (i32.const 127)))))"#,
        args.join(" "),
        ints.join(" ")
    )
}

const ABI_VALUES: [i32; 20] = [
    -2, 10, 17, 24, 31, -7, 45, 52, 59, 66, -12, 80, 87, 94, 101, -17, 115, 122, 129, 136,
];
const ABI_INTS: [i32; 8] = [11, 12, 13, 14, 15, 16, 17, -18];

/// What the ABI program exits with.
fn abi_status() -> i32 {
    let many: f64 = ABI_VALUES
        .iter()
        .enumerate()
        .map(|(k, x)| (k + 1) as f64 * f64::from(*x))
        .sum();
    let ints: i32 = ABI_INTS
        .iter()
        .enumerate()
        .map(|(k, x)| (k as i32 + 1) * x)
        .sum();
    (many as i32).wrapping_add(ints) & 127
}

#[test]
fn calls_between_the_tiers_pass_arguments_alike() {
    let dir = scratch("profile-abi");
    let program = write(&dir, "abi.wat", abi_program());
    let program = program.to_str().unwrap();
    let want = abi_status();
    assert_eq!(status(&["run", program]), want, "optimised");
    assert_eq!(
        status(&["run", "--opt-level", "none", program]),
        want,
        "fast tier"
    );

    // The module's hash, from a recorded profile, for hand-made ones.
    let recorded = dir.join("recorded.profile");
    assert_eq!(
        status(&["run", "--profile-out", recorded.to_str().unwrap(), program]),
        want
    );
    let text = std::fs::read_to_string(&recorded).unwrap();
    let module = text
        .lines()
        .find(|l| l.starts_with("module "))
        .expect("a module line")
        .to_string();
    // Optimised callees under fast callers, then the other way round.
    for (name, hot) in [("callees", "1 1\n3 1\n"), ("callers", "2 1\n4 1\n5 1\n")] {
        let profile = write(
            &dir,
            &format!("{name}.profile"),
            format!("kiln-profile 1\n{module}\n{hot}outside 0\n"),
        );
        assert_eq!(
            status(&["run", "--profile", profile.to_str().unwrap(), program]),
            want,
            "optimised {name}"
        );
    }
}
