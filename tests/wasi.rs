//! The official WASI test suite (`wasi-testsuite`: wasm32-wasip1 programs
//! written in C, Rust and AssemblyScript) run by its runner contract
//! (`doc/specification.md`) on the host board and on every QEMU board, and
//! the sandbox of preopened folders: paths that try to leave one fail with
//! the errno `wasmtime run` gives.
//!
//! The runner contract, as the reference runner applies it:
//! - every `*.wasm` under `wasi-testsuite/tests/` is a test; `NAME.json`
//!   beside it is its spec, all defaults without one;
//! - legacy spec: `args`, `env` (the guest's whole environment), `root` (a
//!   folder of the test, copied to a scratch folder before each run and
//!   preopened as `/`, as `wasmtime run --dir ROOT::/`), `dirs` (older form:
//!   folders preopened under their own names), `exit_code` (default 0),
//!   `stdout` and `stderr`, compared only when the spec gives them (the
//!   reference runner's validators skip an absent `stdout`: several tests
//!   print diagnostics that no spec lists);
//! - operation-based spec (`operations`: `run`, `wait`, `read`): the same,
//!   step by step; network operations (`connect`, `send`, `recv`) and
//!   `proposals` are not supported by any board and fail the test.
//!
//! A board that cannot give what a test needs lists it in [`SKIP`] with the
//! reason; everything else must pass. Today no test is skipped.

use std::path::{Path, PathBuf};

use kiln_tests::{QEMU_BOARDS, copy_tree, corpus, kiln, output, scratch, stderr, stdout, write};

/// Tests a board cannot pass, with the reason: (board, test, reason). A
/// test is named `<suite>/<file stem>` (`rust/path_link`).
const SKIP: &[(&str, &str, &str)] = &[];

/// How long one test may run on a QEMU board (each is well under a second).
const QEMU_TIMEOUT_S: &str = "120";

// ---------------------------------------------------------------------------
// A small JSON reader for the specs (the tests crate has no dependencies).
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn parse(text: &str) -> Result<Json, String> {
        let mut p = JsonParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("trailing characters at byte {}", p.i));
        }
        Ok(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Result<&str, String> {
        match self {
            Json::Str(s) => Ok(s),
            other => Err(format!("expected a string, found {other:?}")),
        }
    }
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let found = self.s.get(self.i) == Some(&c);
        if found {
            self.i += 1;
        }
        found
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(value)
        } else {
            Err(format!("bad literal at byte {}", self.i))
        }
    }

    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Ok(Json::Obj(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.expect(b':')?;
                    fields.push((key, self.value()?));
                    if !self.eat(b',') {
                        self.expect(b'}')?;
                        return Ok(Json::Obj(fields));
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    if !self.eat(b',') {
                        self.expect(b']')?;
                        return Ok(Json::Arr(items));
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                while matches!(self.s.get(self.i), Some(c) if c.is_ascii_digit() || b"+-.eE".contains(c))
                {
                    self.i += 1;
                }
                let text =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                text.parse()
                    .map(Json::Num)
                    .map_err(|_| format!("bad number `{text}`"))
            }
            _ => Err(format!("unexpected input at byte {}", self.i)),
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.s.get(self.i..self.i + 4).ok_or("short \\u escape")?;
        let text = std::str::from_utf8(digits).map_err(|e| e.to_string())?;
        self.i += 4;
        u32::from_str_radix(text, 16).map_err(|_| format!("bad \\u escape `{text}`"))
    }

    fn string(&mut self) -> Result<String, String> {
        if self.s.get(self.i) != Some(&b'"') {
            return Err(format!("expected a string at byte {}", self.i));
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("unterminated escape")?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xd800..0xdc00).contains(&code)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let low = self.hex4()?;
                                code = 0x10000
                                    + ((code - 0xd800) << 10)
                                    + (low.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(code).ok_or(format!("bad code point {code:#x}"))?
                        }
                        other => return Err(format!("bad escape `\\{}`", other as char)),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c => out.push(c),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Test cases and their specs
// ---------------------------------------------------------------------------

/// What one test expects, from its JSON spec.
#[derive(Debug, Default, PartialEq)]
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Folder preopened as `/`.
    root: Option<String>,
    /// Folders preopened under their own names (older spec form).
    dirs: Vec<String>,
    exit_code: i32,
    stdout: Option<String>,
    stderr: Option<String>,
}

fn strings(v: Option<&Json>) -> Result<Vec<String>, String> {
    match v {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Arr(items)) => items
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect(),
        Some(other) => Err(format!("expected a list of strings, found {other:?}")),
    }
}

fn exit_code(v: Option<&Json>) -> Result<i32, String> {
    match v {
        None => Ok(0),
        Some(Json::Num(n)) if n.fract() == 0.0 => Ok(*n as i32),
        Some(other) => Err(format!("bad exit_code {other:?}")),
    }
}

fn optional_str(v: Option<&Json>) -> Result<Option<String>, String> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(s) => s.as_str().map(|s| Some(s.to_string())),
    }
}

impl Spec {
    fn from_json(text: &str) -> Result<Spec, String> {
        let json = Json::parse(text)?;
        let mut spec = Spec::default();
        let proposals = strings(json.get("proposals"))?;
        if !proposals.is_empty() {
            return Err(format!(
                "needs WASI proposals {proposals:?}, which no board has"
            ));
        }
        let Some(ops) = json.get("operations") else {
            spec.read_run(&json)?;
            spec.exit_code = exit_code(json.get("exit_code"))?;
            spec.stdout = optional_str(json.get("stdout"))?;
            spec.stderr = optional_str(json.get("stderr"))?;
            return Ok(spec);
        };
        let Json::Arr(ops) = ops else {
            return Err("`operations` is not a list".into());
        };
        for op in ops {
            match op.get("type").map(Json::as_str).transpose()? {
                Some("run") => spec.read_run(op)?,
                Some("wait") => spec.exit_code = exit_code(op.get("exit_code"))?,
                Some("read") => {
                    let payload = optional_str(op.get("payload"))?.unwrap_or_default();
                    match op
                        .get("id")
                        .map(Json::as_str)
                        .transpose()?
                        .unwrap_or("stdout")
                    {
                        "stdout" => spec.stdout.get_or_insert_default().push_str(&payload),
                        "stderr" => spec.stderr.get_or_insert_default().push_str(&payload),
                        other => return Err(format!("read from unknown stream `{other}`")),
                    }
                }
                other => {
                    return Err(format!(
                        "operation {other:?} is not supported (no board has sockets)"
                    ));
                }
            }
        }
        Ok(spec)
    }

    /// The fields of a legacy spec or of a `run` operation.
    fn read_run(&mut self, json: &Json) -> Result<(), String> {
        self.args = strings(json.get("args"))?;
        self.root = optional_str(json.get("root"))?;
        self.dirs = strings(json.get("dirs"))?;
        self.env = match json.get("env") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Obj(vars)) => vars
                .iter()
                .map(|(k, v)| Ok((k.clone(), v.as_str()?.to_string())))
                .collect::<Result<_, String>>()?,
            Some(other) => return Err(format!("bad env {other:?}")),
        };
        Ok(())
    }
}

struct Case {
    /// `<suite>/<file stem>`, e.g. `rust/path_link`.
    name: String,
    wasm: PathBuf,
    spec: Spec,
}

fn collect_wasm(dir: &Path, found: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let p = entry.path();
        // `*.dir` folders are test data (`root`), not more tests.
        if p.is_dir() && p.extension().is_none_or(|e| e != "dir") {
            collect_wasm(&p, found);
        } else if p.extension().is_some_and(|e| e == "wasm") {
            found.push(p);
        }
    }
}

/// Every test of the suite, sorted by name.
fn cases() -> Vec<Case> {
    let tests = corpus().join("wasi-testsuite/tests");
    let mut wasm = Vec::new();
    collect_wasm(&tests, &mut wasm);
    let mut cases: Vec<Case> = wasm
        .into_iter()
        .map(|wasm| {
            let suite = wasm
                .strip_prefix(&tests)
                .ok()
                .and_then(|p| p.components().next());
            let suite = suite
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default();
            let stem = wasm
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let json = wasm.with_extension("json");
            let spec = match std::fs::read_to_string(&json) {
                Ok(text) => {
                    Spec::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", json.display()))
                }
                Err(_) => Spec::default(),
            };
            Case {
                name: format!("{suite}/{stem}"),
                wasm,
                spec,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in cases.windows(2) {
        assert_ne!(pair[0].name, pair[1].name, "two tests with one name");
    }
    cases
}

/// Runs one test on `board`; `Err` says how it failed.
fn run_case(board: &str, case: &Case) -> Result<(), String> {
    let mut cmd = kiln();
    cmd.arg("run").arg(&case.wasm).args(["--board", board]);
    if board != "host" {
        cmd.args(["--timeout", QEMU_TIMEOUT_S]);
    }
    for (k, v) in &case.spec.env {
        cmd.arg("--env").arg(format!("{k}={v}"));
    }
    let test_dir = case.wasm.parent().ok_or("a test file has a folder")?;
    let work = scratch(&format!("wasi-{board}-{}", case.name.replace('/', "-")));
    // Fresh copies for every run: tests write into their folders.
    if let Some(root) = &case.spec.root {
        let copy = work.join("root");
        copy_tree(&test_dir.join(root), &copy);
        cmd.arg("--dir").arg(format!("{}::/", copy.display()));
    }
    for dir in &case.spec.dirs {
        let copy = work.join("dirs").join(dir);
        copy_tree(&test_dir.join(dir), &copy);
        cmd.arg("--dir").arg(format!("{}::{dir}", copy.display()));
    }
    cmd.arg("--").args(&case.spec.args);
    let out = output(&mut cmd);
    let _ = std::fs::remove_dir_all(&work);
    let (status, so, se) = (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out));
    let mut problems = Vec::new();
    if status != case.spec.exit_code {
        problems.push(format!(
            "exit status {status}, expected {}",
            case.spec.exit_code
        ));
    }
    if case.spec.stdout.as_ref().is_some_and(|want| *want != so) {
        problems.push(format!("stdout {so:?}, expected {:?}", case.spec.stdout));
    }
    if case.spec.stderr.as_ref().is_some_and(|want| *want != se) {
        problems.push(format!("stderr {se:?}, expected {:?}", case.spec.stderr));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n    stdout: {so:?}\n    stderr: {se:?}",
            problems.join("; ")
        ))
    }
}

fn skip_reason(board: &str, name: &str) -> Option<&'static str> {
    SKIP.iter()
        .find(|(b, n, _)| *b == board && *n == name)
        .map(|(_, _, why)| *why)
}

/// Runs the whole suite on `board` and fails with every failing test.
fn suite(board: &str) {
    let cases = cases();
    assert!(!cases.is_empty(), "no tests found in the WASI test suite");
    let (mut passed, mut skipped, mut failures) = (0, Vec::new(), Vec::new());
    for case in &cases {
        if let Some(why) = skip_reason(board, &case.name) {
            skipped.push(format!("{} ({why})", case.name));
            continue;
        }
        match run_case(board, case) {
            Ok(()) => passed += 1,
            Err(why) => failures.push(format!("  {}: {why}", case.name)),
        }
    }
    eprintln!(
        "wasi-testsuite on {board}: {passed} passed, {} failed, {} skipped{}",
        failures.len(),
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(": {}", skipped.join(", "))
        }
    );
    assert!(
        failures.is_empty(),
        "WASI tests failing on {board}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn suite_on_host() {
    suite("host");
}

#[test]
fn suite_on_qemu_virt_aarch64() {
    suite(QEMU_BOARDS[0]);
}

#[test]
fn suite_on_qemu_virt_riscv64() {
    suite(QEMU_BOARDS[1]);
}

#[test]
fn suite_on_qemu_x86_64() {
    suite(QEMU_BOARDS[2]);
}

#[test]
fn skip_list_names_real_tests_and_boards() {
    let cases = cases();
    for (board, name, why) in SKIP {
        assert!(
            *board == "host" || QEMU_BOARDS.contains(board),
            "skip list: unknown board {board}"
        );
        assert!(
            cases.iter().any(|c| c.name == *name),
            "skip list: no test {name}"
        );
        assert!(
            !why.is_empty(),
            "skip list: {name} on {board} needs a reason"
        );
    }
}

#[test]
fn specs_are_read_as_the_reference_runner_reads_them() {
    let legacy = Spec::from_json(
        r#"{"args": ["a", "the \"b\""], "env": {"x": "new\nline", "y": "\u00e9"}, "root": "fs.dir", "exit_code": 33, "stdout": "hi"}"#,
    )
    .unwrap();
    assert_eq!(
        legacy,
        Spec {
            args: vec!["a".into(), "the \"b\"".into()],
            env: vec![("x".into(), "new\nline".into()), ("y".into(), "é".into())],
            root: Some("fs.dir".into()),
            dirs: vec![],
            exit_code: 33,
            stdout: Some("hi".into()),
            stderr: None,
        }
    );
    assert_eq!(
        Spec::from_json("{}").unwrap(),
        Spec::default(),
        "defaults: no output checked, exit 0"
    );
    let ops = Spec::from_json(
        r#"{"operations": [{"type": "run", "args": ["x"], "root": "r"}, {"type": "read", "payload": "out"},
            {"type": "read", "id": "stderr", "payload": "err"}, {"type": "wait", "exit_code": 1}]}"#,
    )
    .unwrap();
    assert_eq!(
        (ops.args, ops.root, ops.exit_code),
        (vec!["x".to_string()], Some("r".into()), 1)
    );
    assert_eq!(
        (ops.stdout.as_deref(), ops.stderr.as_deref()),
        (Some("out"), Some("err"))
    );
    assert!(Spec::from_json(r#"{"operations": [{"type": "connect"}]}"#).is_err());
    assert!(Spec::from_json(r#"{"proposals": ["sockets"], "operations": []}"#).is_err());
    assert!(Spec::from_json(r#"{"args": "x"}"#).is_err());
    assert!(Spec::from_json(r#"{"args": [}"#).is_err());
}

// ---------------------------------------------------------------------------
// The sandbox
// ---------------------------------------------------------------------------

/// For each argument, `path_open` on fd 3 (following symlinks) and print
/// `ARG ERRNO`; an argument starting with `+` creates the file instead of
/// reading it.
const PROBE: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) " \n")
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $n))
  (func $write (param $p i32) (param $n i32)
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 40))))
  (func $print_num (param $v i32) (local $p i32)
    (local.set $p (i32.const 80))
    (loop $l
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))
      (local.set $v (i32.div_u (local.get $v) (i32.const 10)))
      (br_if $l (local.get $v)))
    (call $write (local.get $p) (i32.sub (i32.const 80) (local.get $p))))
  (func (export "_start")
    (local $i i32) (local $argc i32) (local $arg i32) (local $path i32) (local $len i32)
    (local $create i32) (local $e i32)
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (local.set $argc (i32.load (i32.const 0)))
    (local.set $i (i32.const 1))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
      (local.set $arg (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $create (i32.eq (i32.load8_u (local.get $arg)) (i32.const 43)))
      (local.set $path (i32.add (local.get $arg) (local.get $create)))
      (local.set $len (call $strlen (local.get $path)))
      ;; dirflags: follow symlinks; oflags: O_CREAT for `+`; rights: FD_WRITE or FD_READ.
      (local.set $e (call $path_open (i32.const 3) (i32.const 1) (local.get $path) (local.get $len)
        (select (i32.const 1) (i32.const 0) (local.get $create))
        (select (i64.const 64) (i64.const 2) (local.get $create))
        (i64.const 0) (i32.const 0) (i32.const 32)))
      (if (i32.eqz (local.get $e)) (then (drop (call $fd_close (i32.load (i32.const 32))))))
      (call $write (local.get $arg) (call $strlen (local.get $arg)))
      (call $write (i32.const 100) (i32.const 1))
      (call $print_num (local.get $e))
      (call $write (i32.const 101) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))))"#;

/// (path, WASI errno) as `wasmtime run --dir ROOT::/` gives them for the
/// folder [`sandbox`] makes (checked with wasmtime 50): 0 success, 63
/// `PERM` for every way out.
const ESCAPES: &[(&str, u32)] = &[
    ("ok.txt", 0),
    ("sub/../ok.txt", 0),
    ("sub/fine", 0),
    ("../outside/secret.txt", 63),
    ("/etc/passwd", 63),
    ("sub/../../outside/secret.txt", 63),
    ("up", 63),
    ("abs", 63),
    ("dirup/outside/secret.txt", 63),
    ("sub/back/secret.txt", 63),
    ("+newlink", 63),
    ("+../outside/new2.txt", 63),
    ("+sub/back/new3.txt", 63),
    ("+created.txt", 0),
];

/// A preopened `root/` beside an `outside/` folder, with symlinks out of it.
fn sandbox(name: &str) -> PathBuf {
    use std::os::unix::fs::symlink;
    let dir = scratch(name);
    let (root, outside) = (dir.join("root"), dir.join("outside"));
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    write(&outside, "secret.txt", "secret\n");
    write(&root, "ok.txt", "ok\n");
    symlink("../outside/secret.txt", root.join("up")).unwrap();
    symlink("/etc/passwd", root.join("abs")).unwrap();
    symlink("..", root.join("dirup")).unwrap();
    symlink("../../outside", root.join("sub/back")).unwrap();
    symlink("../outside/new.txt", root.join("newlink")).unwrap();
    symlink("../ok.txt", root.join("sub/fine")).unwrap();
    dir
}

fn escapes_fail(board: &str) {
    let dir = sandbox(&format!("sandbox-{board}"));
    let probe = write(&dir, "probe.wat", PROBE);
    let out = output(
        kiln()
            .arg("run")
            .arg(&probe)
            .args(["--board", board, "--timeout", QEMU_TIMEOUT_S, "--dir"])
            .arg(format!("{}::/", dir.join("root").display()))
            .arg("--")
            .args(ESCAPES.iter().map(|(p, _)| *p)),
    );
    assert!(out.status.success(), "{board}: {}", stderr(&out));
    let want: String = ESCAPES.iter().map(|(p, e)| format!("{p} {e}\n")).collect();
    assert_eq!(stdout(&out), want, "{board}");
    let outside: Vec<_> = std::fs::read_dir(dir.join("outside"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        outside,
        ["secret.txt"],
        "{board}: nothing may be created outside the preopened folder"
    );
    if board == "host" {
        assert!(
            dir.join("root/created.txt").is_file(),
            "the host board writes the real folder"
        );
    }
}

#[test]
fn escapes_fail_on_host() {
    escapes_fail("host");
}

#[test]
fn escapes_fail_on_qemu_boards() {
    for board in QEMU_BOARDS {
        escapes_fail(board);
    }
}
