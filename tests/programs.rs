//! Real programs: the Sightglass benchmarks (their outputs against the
//! `*.expected` files), `kiln run --bench`, and CPython 3.11 running a
//! script that exercises the interpreter and the file system, on the host
//! board and on every QEMU board (each board's output against the host's).
//!
//! QEMU emulates the guest CPU, so a program that takes seconds on the host
//! takes minutes there: the heaviest Sightglass programs run on the host and
//! on one QEMU board only (see [`SIGHTGLASS`]), and CPython runs one script
//! per board. Every run prints its time (`cargo test -- --nocapture`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use kiln_tests::{
    QEMU_BOARDS, copy_tree, corpus, kiln, programs, scratch, stderr, stdout, timed_output, write,
};

// ---------------------------------------------------------------------------
// Sightglass
// ---------------------------------------------------------------------------

/// Where a benchmark runs besides the host board.
#[derive(Clone, Copy)]
enum Boards {
    /// Every QEMU board.
    All,
    /// These QEMU boards only, and why not the others.
    Only(&'static [&'static str], &'static str),
}

/// Every Sightglass program: (folder, file, boards). Each runs with a copy
/// of its folder as the preopened working directory `.`. QEMU emulates the
/// CPU (TCG): the times in the reasons are measured runs of the whole
/// program on a 2-core machine (host: gcc-loops 5.8 s, ed25519 2.7 s,
/// seqhash 2.0 s, fib2 0.8 s).
const SIGHTGLASS: &[(&str, &str, Boards)] = &[
    ("blake3-scalar", "benchmark.wasm", Boards::All),
    ("bz2", "benchmark.wasm", Boards::All),
    (
        "gcc-loops",
        "benchmark.wasm",
        Boards::Only(
            &["qemu-x86_64"],
            "74 s on qemu-x86_64, over 100 s on the others (344 s on qemu-virt-riscv64)",
        ),
    ),
    ("hashset", "benchmark.wasm", Boards::All),
    ("meshoptimizer", "benchmark.wasm", Boards::All),
    ("noop", "benchmark.wasm", Boards::All),
    ("quicksort", "benchmark.wasm", Boards::All),
    ("richards", "benchmark.wasm", Boards::All),
    ("rust-json", "benchmark.wasm", Boards::All),
    ("shootout", "shootout-ackermann.wasm", Boards::All),
    ("shootout", "shootout-base64.wasm", Boards::All),
    ("shootout", "shootout-ctype.wasm", Boards::All),
    (
        "shootout",
        "shootout-ed25519.wasm",
        Boards::Only(
            &["qemu-virt-aarch64"],
            "70 s on qemu-virt-aarch64, 68 s on qemu-x86_64, over 100 s on qemu-virt-riscv64",
        ),
    ),
    (
        "shootout",
        "shootout-fib2.wasm",
        Boards::Only(
            &["qemu-virt-aarch64", "qemu-x86_64"],
            "10 s on qemu-virt-aarch64 and qemu-x86_64, 55 to 210 s on qemu-virt-riscv64",
        ),
    ),
    ("shootout", "shootout-gimli.wasm", Boards::All),
    ("shootout", "shootout-heapsort.wasm", Boards::All),
    ("shootout", "shootout-keccak.wasm", Boards::All),
    ("shootout", "shootout-matrix.wasm", Boards::All),
    ("shootout", "shootout-memmove.wasm", Boards::All),
    ("shootout", "shootout-minicsv.wasm", Boards::All),
    ("shootout", "shootout-nestedloop.wasm", Boards::All),
    ("shootout", "shootout-random.wasm", Boards::All),
    ("shootout", "shootout-ratelimit.wasm", Boards::All),
    (
        "shootout",
        "shootout-seqhash.wasm",
        Boards::Only(
            &["qemu-virt-aarch64"],
            "11 s on qemu-virt-aarch64, 30 s on qemu-x86_64, over 100 s on qemu-virt-riscv64",
        ),
    ),
    ("shootout", "shootout-sieve.wasm", Boards::All),
    ("shootout", "shootout-switch.wasm", Boards::All),
    ("shootout", "shootout-xblabla20.wasm", Boards::All),
    ("shootout", "shootout-xchacha20.wasm", Boards::All),
];

/// How long one Sightglass run may take under QEMU.
const QEMU_TIMEOUT_S: &str = "600";

/// The expected output `kind` (`stdout`/`stderr`) of program `stem` in `dir`.
fn expected(dir: &Path, stem: &str, kind: &str) -> Option<String> {
    [
        format!("{stem}.{kind}.expected"),
        format!("default.{kind}.expected"),
    ]
    .iter()
    .find_map(|name| std::fs::read_to_string(dir.join(name)).ok())
}

/// Runs one Sightglass program on `board` (with extra `kiln run`
/// options); `Err` says how it failed.
fn run_sightglass(
    board: &str,
    options: &[&str],
    folder: &str,
    file: &str,
) -> Result<Duration, String> {
    let dir = corpus().join("sightglass").join(folder);
    let stem = file.trim_end_matches(".wasm");
    let work = scratch(&format!("sightglass-{board}-{stem}"));
    copy_tree(&dir, &work);
    let (out, took) = timed_output(
        kiln()
            .current_dir(&work)
            .arg("run")
            .arg(dir.join(file))
            .args(["--board", board, "--timeout", QEMU_TIMEOUT_S])
            .args(options)
            .arg("--dir")
            .arg(format!("{}::.", work.display())),
    );
    let _ = std::fs::remove_dir_all(&work);
    let (so, se) = (stdout(&out), stderr(&out));
    if !out.status.success() {
        return Err(format!("exit status {:?}; stderr: {se}", out.status.code()));
    }
    if let Some(want) = expected(&dir, stem, "stdout").filter(|want| *want != so) {
        return Err(format!(
            "stdout differs:\n--- got\n{so}\n--- expected\n{want}"
        ));
    }
    if let Some(want) = expected(&dir, stem, "stderr").filter(|want| *want != se) {
        return Err(format!(
            "stderr differs:\n--- got\n{se}\n--- expected\n{want}"
        ));
    }
    Ok(took)
}

/// Runs every Sightglass program meant for `board` and fails with all
/// failures at once.
fn sightglass(board: &str) {
    sightglass_with(board, &[]);
}

fn sightglass_with(board: &str, options: &[&str]) {
    let mut failures = Vec::new();
    for &(folder, file, boards) in SIGHTGLASS {
        let not_here = match boards {
            Boards::All => None,
            Boards::Only(_, _) if board == "host" => None,
            Boards::Only(boards, _) if boards.contains(&board) => None,
            Boards::Only(_, why) => Some(why),
        };
        if let Some(why) = not_here {
            eprintln!("sightglass {folder}/{file}: not run on {board} ({why})");
            continue;
        }
        match run_sightglass(board, options, folder, file) {
            Ok(took) => eprintln!(
                "sightglass {folder}/{file} on {board}: ok in {:.1} s",
                took.as_secs_f64()
            ),
            Err(why) => failures.push(format!("{folder}/{file}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "Sightglass failures on {board}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn sightglass_on_host() {
    sightglass("host");
}

/// The fast tier: on x86_64 the baseline compiler's code.
#[test]
fn sightglass_on_host_through_the_fast_tier() {
    sightglass_with("host", &["--opt-level", "none"]);
}

#[test]
fn sightglass_on_qemu_virt_aarch64() {
    sightglass(QEMU_BOARDS[0]);
}

#[test]
fn sightglass_on_qemu_virt_riscv64() {
    sightglass(QEMU_BOARDS[1]);
}

#[test]
fn sightglass_on_qemu_x86_64() {
    sightglass(QEMU_BOARDS[2]);
}

/// The list holds every program of the corpus, and each program left out
/// of a board is for a reason that still holds.
#[test]
fn sightglass_list_is_complete() {
    let root = corpus().join("sightglass");
    let mut on_disk = Vec::new();
    for dir in std::fs::read_dir(&root)
        .expect("sightglass folder")
        .flatten()
    {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.ends_with(".wasm") {
                on_disk.push((dir.file_name().to_string_lossy().into_owned(), name));
            }
        }
    }
    on_disk.sort();
    let mut listed: Vec<(String, String)> = SIGHTGLASS
        .iter()
        .map(|(d, f, _)| (d.to_string(), f.to_string()))
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    for &(folder, file, boards) in SIGHTGLASS {
        match boards {
            Boards::Only(boards, why) => {
                assert!(!why.is_empty(), "{folder}/{file}: say why");
                for board in boards {
                    assert!(
                        QEMU_BOARDS.contains(board),
                        "{folder}/{file}: unknown board {board}"
                    );
                }
            }
            Boards::All => {}
        }
    }
}

// ---------------------------------------------------------------------------
// kiln run --bench
// ---------------------------------------------------------------------------

/// The `kiln: bench SECONDS s` line of `stderr`, as seconds.
fn bench_seconds(stderr: &str) -> Option<f64> {
    let line = stderr.lines().find(|l| l.starts_with("kiln: bench "))?;
    let seconds = line.strip_prefix("kiln: bench ")?.split(' ').next()?;
    let (whole, frac) = seconds.split_once('.')?;
    if whole.is_empty()
        || frac.len() != 9
        || !(whole.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    line[12 + seconds.len()..]
        .starts_with(" s")
        .then(|| seconds.parse().ok())?
}

fn bench_reports(board: &str) {
    let dir = corpus().join("sightglass/shootout");
    let work = scratch(&format!("bench-{board}"));
    copy_tree(&dir, &work);
    let run = |bench: bool| {
        let mut cmd = kiln();
        cmd.arg("run").arg(dir.join("shootout-sieve.wasm")).args([
            "--board",
            board,
            "--timeout",
            QEMU_TIMEOUT_S,
        ]);
        cmd.arg("--dir").arg(format!("{}::.", work.display()));
        if bench {
            cmd.arg("--bench");
        }
        timed_output(&mut cmd)
    };
    let (out, took) = run(true);
    assert!(out.status.success(), "{board}: {}", stderr(&out));
    let err = stderr(&out);
    let seconds = bench_seconds(&err)
        .unwrap_or_else(|| panic!("{board}: no `kiln: bench SECONDS s` line in:\n{err}"));
    assert!(
        seconds > 0.0 && seconds < took.as_secs_f64(),
        "{board}: measured {seconds} s of a {took:?} run"
    );
    assert!(
        err.ends_with(" s\n") || err.contains(" cycles)\n"),
        "{board}: the bench line is last: {err}"
    );
    let (plain, _) = run(false);
    assert!(plain.status.success());
    assert!(
        !stderr(&plain).contains("kiln: bench"),
        "{board}: no bench line without --bench"
    );
    assert_eq!(
        stdout(&plain),
        stdout(&out),
        "{board}: --bench changes nothing else"
    );
}

#[test]
fn bench_flag_reports_the_measured_time_on_host() {
    bench_reports("host");
}

#[test]
fn bench_flag_reports_the_measured_time_on_qemu() {
    bench_reports(QEMU_BOARDS[1]);
}

#[test]
fn bench_flag_without_markers_says_so() {
    let dir = scratch("bench-nomarkers");
    let m = write(&dir, "m.wat", r#"(module (func (export "_start")))"#);
    let out = kiln_tests::output(kiln().arg("run").arg(&m).arg("--bench"));
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "kiln: bench: the program never called bench.start and bench.end\n"
    );
    assert_eq!(
        bench_seconds("kiln: bench 1.500000000 s (42 cycles)\n"),
        Some(1.5)
    );
    assert_eq!(
        bench_seconds("kiln: bench 0.000000259 s\n"),
        Some(0.000000259)
    );
    assert_eq!(bench_seconds("kiln: bench 1.5 s\n"), None);
    assert_eq!(
        bench_seconds("kiln: bench: the program never called\n"),
        None
    );
}

// ---------------------------------------------------------------------------
// CPython
// ---------------------------------------------------------------------------

fn python() -> PathBuf {
    programs().join("python-3.11.3.wasm")
}

/// A script that exercises the interpreter (classes, exceptions,
/// generators, closures) and the standard library (json, re, hashlib,
/// datetime, decimal, collections, zlib, itertools), and reads, writes,
/// renames and lists files in the folder named by its first argument.
/// Its output is the same on every machine (no times, no hash-ordered sets).
const SCRIPT: &str = r#"import collections, datetime, decimal, hashlib, json, os, re, sys, zlib


class Shape:
    def __init__(self, name):
        self.name = name

    def area(self):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, area={self.area():.3f})"


class Rect(Shape):
    def __init__(self, name, w, h):
        super().__init__(name)
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Circle(Shape):
    def __init__(self, name, r):
        super().__init__(name)
        self.r = r

    def area(self):
        return 3.141592653589793 * self.r ** 2


class ParseError(ValueError):
    pass


def parse_record(line):
    m = re.fullmatch(r"(\w+)\s*=\s*(-?\d+(?:\.\d+)?)", line.strip())
    if not m:
        raise ParseError(f"bad line: {line.strip()!r}")
    return m.group(1), decimal.Decimal(m.group(2))


def primes():
    n = 2
    found = []
    while True:
        if all(n % p for p in found if p * p <= n):
            found.append(n)
            yield n
        n += 1


def fib():
    a, b = 0, 1
    while True:
        yield a
        a, b = b, a + b


base = sys.argv[1] if len(sys.argv) > 1 else "."
with open(os.path.join(base, "input.txt")) as f:
    lines = f.read().splitlines()

records, errors = {}, []
for line in lines:
    try:
        key, value = parse_record(line)
        records[key] = records.get(key, decimal.Decimal(0)) + value
    except ParseError as e:
        errors.append(str(e))
    finally:
        pass

decimal.getcontext().prec = 30
total = sum(records.values(), decimal.Decimal(0))
print("records:", sorted(records.items()))
print("errors:", errors)
print("total:", total, "mean:", total / len(records), "sqrt2:", decimal.Decimal(2).sqrt())

shapes = [Rect("a", 3, 4), Circle("b", 1.5), Rect("c", 0.5, 10)]
shapes.sort(key=lambda s: s.area())
print("shapes:", shapes)
try:
    Shape("abstract").area()
except NotImplementedError:
    print("abstract shape has no area")

words = re.findall(r"[a-z]+", open(os.path.join(base, "text.txt")).read().lower())
counts = collections.Counter(words)
print("top words:", counts.most_common(5))
groups = collections.defaultdict(list)
for w in sorted(set(words)):
    groups[len(w)].append(w)
print("by length:", {k: len(v) for k, v in sorted(groups.items())})
Point = collections.namedtuple("Point", "x y")
dq = collections.deque([Point(i, i * i) for i in range(5)], maxlen=3)
dq.rotate(1)
print("deque:", list(dq))
od = collections.OrderedDict.fromkeys("kiln")
od.move_to_end("k")
print("ordered:", "".join(od))

import itertools
print("primes:", list(itertools.islice(primes(), 15)))
print("fib 90:", next(itertools.islice(fib(), 90, None)))
print("squares:", sum(x * x for x in range(1000)))

data = json.dumps({"records": {k: str(v) for k, v in records.items()}, "shapes": [repr(s) for s in shapes], "n": 3}, sort_keys=True)
blob = zlib.compress(data.encode() * 20, 9)
print("json bytes:", len(data), "crc32:", zlib.crc32(data.encode()), "adler:", zlib.adler32(data.encode()), "zlib ratio > 10:", len(data) * 20 // len(blob) > 10)
assert zlib.decompress(blob) == data.encode() * 20
for name in ("md5", "sha1", "sha256", "sha512"):
    print(name, hashlib.new(name, data.encode()).hexdigest())
print("blake2b", hashlib.blake2b(b"kiln", digest_size=16).hexdigest())

d = datetime.datetime(2024, 2, 28, 23, 30, tzinfo=datetime.timezone.utc)
later = d + datetime.timedelta(hours=25, minutes=45)
print("dates:", later.isoformat(), later.strftime("%A %j"), (later - d).total_seconds())
print("parsed:", datetime.datetime.strptime("2023-12-31 08:15", "%Y-%m-%d %H:%M").date().isocalendar())

os.makedirs(os.path.join(base, "out", "nested"), exist_ok=True)
out_path = os.path.join(base, "out", "nested", "result.json")
with open(out_path, "w") as f:
    json.dump({"total": str(total), "words": counts.most_common(3)}, f, indent=1)
with open(out_path) as f:
    back = json.load(f)
os.rename(out_path, os.path.join(base, "out", "result.json"))
print("written:", back, sorted(os.listdir(os.path.join(base, "out"))))
print("size:", os.stat(os.path.join(base, "out", "result.json")).st_size)
try:
    open(os.path.join(base, "missing.txt"))
except FileNotFoundError as e:
    import errno
    print("missing:", e.errno == errno.ENOENT, type(e).__name__)
print("done")
"#;

/// The script's `input.txt`: records, one of them malformed.
const INPUT: &str =
    "alpha = 1.25\nbeta = -3\nalpha = 2.5\nthis is not a record\ngamma=100.125\ndelta = 7\n";

/// The script's `text.txt`: 400 words picked by a fixed formula.
fn text() -> String {
    let words: Vec<&str> =
        "the quick brown fox jumps over the lazy dog while kiln fires wasm into native code for small devices"
            .split(' ')
            .collect();
    let picked: Vec<&str> = (0..400usize)
        .map(|i| words[(i * i * 7 + i * 3) % words.len()])
        .collect();
    picked.join(" ") + "\n"
}

/// The script's output under CPython 3.11 (the same natively, under
/// `wasmtime run` and under `kiln run`).
const EXPECTED: &str = r#"records: [('alpha', Decimal('3.75')), ('beta', Decimal('-3')), ('delta', Decimal('7')), ('gamma', Decimal('100.125'))]
errors: ["bad line: 'this is not a record'"]
total: 107.875 mean: 26.96875 sqrt2: 1.41421356237309504880168872421
shapes: [Rect('c', area=5.000), Circle('b', area=7.069), Rect('a', area=12.000)]
abstract shape has no area
top words: [('the', 85), ('kiln', 42), ('code', 42), ('jumps', 42), ('fox', 42)]
by length: {3: 4, 4: 3, 5: 1, 7: 1}
deque: [Point(x=4, y=16), Point(x=2, y=4), Point(x=3, y=9)]
ordered: ilnk
primes: [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]
fib 90: 2880067194370816120
squares: 332833500
json bytes: 176 crc32: 2783782282 adler: 3255184731 zlib ratio > 10: True
md5 9f3da25c651d6a80d4a1663a406f5f75
sha1 4c71a5ed6545eed669305c03858426277d4a277f
sha256 2090e18c12381f6a1d301adab06c7143c70468f93b6671c246afd4de97e142d5
sha512 c01c2e71ea47a0957ff19bb58c3da75121e1598c08ec3f5c240251b12f856c715af352d7d3149dccdc417cb4472d2121e488705f06a51b7ba0b8c9335278919e
blake2b a608131557a30320b30cd22fdf654e1e
dates: 2024-03-01T01:15:00+00:00 Friday 061 92700.0
parsed: datetime.IsoCalendarDate(year=2023, week=52, weekday=7)
written: {'total': '107.875', 'words': [['the', 85], ['kiln', 42], ['code', 42]]} ['nested', 'result.json']
size: 115
missing: True FileNotFoundError
done
"#;

/// Runs the script with CPython on `board` in a fresh folder, preopened as
/// `/work`; returns its output, the run's time and the folder.
fn run_script(board: &str) -> (String, Duration, PathBuf) {
    run_script_with(board, "", &[])
}

/// `run_script` with extra `kiln run` options; `tag` names the folder.
fn run_script_with(board: &str, tag: &str, options: &[&str]) -> (String, Duration, PathBuf) {
    let work = scratch(&format!("python-{board}{tag}"));
    write(&work, "script.py", SCRIPT);
    write(&work, "input.txt", INPUT);
    write(&work, "text.txt", text());
    let (out, took) = timed_output(
        kiln()
            .arg("run")
            .arg(python())
            .args(["--board", board, "--timeout", "900"])
            .args(options)
            .arg("--dir")
            .arg(format!("{}::/work", work.display()))
            .args(["--", "/work/script.py", "/work"]),
    );
    assert!(
        out.status.success(),
        "CPython on {board}: exit status {:?}\n{}",
        out.status.code(),
        stderr(&out)
    );
    assert_eq!(stderr(&out), "", "CPython on {board}");
    eprintln!("CPython script on {board}: {:.1} s", took.as_secs_f64());
    (stdout(&out), took, work)
}

/// The host board's output of the script (run once per test process).
fn host_output() -> &'static str {
    static OUT: OnceLock<String> = OnceLock::new();
    OUT.get_or_init(|| run_script("host").0)
}

#[test]
fn cpython_runs_a_script_on_host() {
    let (out, _, work) = run_script("host");
    assert_eq!(out, EXPECTED);
    // The host board works on the real folder.
    let result =
        std::fs::read_to_string(work.join("out/result.json")).expect("the script's output file");
    assert!(result.contains("\"total\": \"107.875\""), "{result}");
    assert!(work.join("out/nested").is_dir() && !work.join("out/nested/result.json").exists());
    assert_eq!(host_output(), EXPECTED);
}

/// Through the fast tier only (the baseline compiler on x86_64), and
/// profile-guided: a profile of the script's run, then the script again
/// with the functions it saw optimised and the rest through the fast tier.
#[test]
fn cpython_through_the_fast_tier_and_profile_guided_on_host() {
    let (out, _, _) = run_script_with("host", "-fast", &["--opt-level", "none"]);
    assert_eq!(out, EXPECTED, "CPython through the fast tier");
    let profile = scratch("python-profile").join("script.profile");
    let profile = profile.to_str().expect("a UTF-8 scratch path");
    let (out, _, _) = run_script_with("host", "-record", &["--profile-out", profile]);
    assert_eq!(out, EXPECTED, "CPython while profiling");
    let (out, _, _) = run_script_with("host", "-guided", &["--profile", profile]);
    assert_eq!(out, EXPECTED, "CPython built with its profile");
}

/// Each QEMU board gives the host's output; its writes stay in the board's
/// RAM and never reach the host folder.
fn cpython_matches_host(board: &str) {
    let (out, _, work) = run_script(board);
    assert_eq!(
        out,
        host_output(),
        "CPython on {board} against the host board"
    );
    assert!(
        !work.join("out").exists(),
        "{board}: files written in RAM, not on the host"
    );
}

#[test]
fn cpython_on_qemu_virt_aarch64_matches_host() {
    cpython_matches_host(QEMU_BOARDS[0]);
}

#[test]
fn cpython_on_qemu_virt_riscv64_matches_host() {
    cpython_matches_host(QEMU_BOARDS[1]);
}

#[test]
fn cpython_on_qemu_x86_64_matches_host() {
    cpython_matches_host(QEMU_BOARDS[2]);
}

#[test]
fn cpython_dash_c() {
    let out = kiln_tests::output(kiln().arg("run").arg(python()).args([
        "--env",
        "WHO=kiln",
        "--",
        "-c",
        "import os, sys; print(sum(range(10)), sys.platform, os.environ['WHO'], sys.argv)",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "45 wasi kiln ['-c']\n");
    let out = kiln_tests::output(kiln().arg("run").arg(python()).args([
        "--",
        "-c",
        "raise SystemExit(7)",
    ]));
    assert_eq!(out.status.code(), Some(7));
    let out = kiln_tests::output(kiln().arg("run").arg(python()).args(["--", "-c", "1/0"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).ends_with("ZeroDivisionError: division by zero\n"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------
// CPython's interactive prompt, through a pseudo-terminal
// ---------------------------------------------------------------------------

/// Runs the command given as arguments on a new pseudo-terminal (python3's
/// `pty` module: the tests crate has no dependencies), waits for `>>> `,
/// types `print(6*7)`, waits for `42`, types Ctrl-D and waits for the exit.
/// Prints `prompt=B answer=B exit=N` and the terminal's last bytes.
const PTY_DRIVER: &str = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""
def wait_for(needle, seconds):
    global seen
    end = time.time() + seconds
    while needle not in seen and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                break
            seen += data
    return needle in seen
prompt = wait_for(b">>> ", 600)
os.write(fd, b"print(6*7)\r")
answer = wait_for(b"\r\n42\r\n", 120)
os.write(fd, b"\x04")
status = None
end = time.time() + 120
while status is None and time.time() < end:
    wait_for(b"\0", 0.2)
    done, raw = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(raw)
if status is None:
    os.kill(pid, 9)
print(f"prompt={prompt} answer={answer} exit={status}")
print(repr(seen[-400:]))
"#;

fn prompt_answers(board: &str) {
    let mut cmd = std::process::Command::new("python3");
    cmd.env("KILN_ROOT", kiln_tests::root())
        .arg("-c")
        .arg(PTY_DRIVER)
        .arg(kiln_tests::kiln_path())
        .args(["run", "--board", board])
        .arg(python());
    let (out, took) = timed_output(&mut cmd);
    let report = stdout(&out);
    assert!(
        report.starts_with("prompt=True answer=True exit=0\n"),
        "CPython's prompt on {board} (through python3's pty module): {report}{}",
        stderr(&out)
    );
    eprintln!(
        "CPython prompt on {board}: ok in {:.1} s",
        took.as_secs_f64()
    );
}

#[test]
fn cpython_prompt_on_host() {
    prompt_answers("host");
}

#[test]
fn cpython_prompt_on_qemu() {
    prompt_answers(QEMU_BOARDS[0]);
}
