//! The host board: a static Linux executable (x86_64, no libc) that runs the
//! modules linked into it with the Kiln runtime. `_start` takes argv and
//! envp from the kernel, the board maps a heap and a Wasm stack, installs the
//! fault handler and hands over to `kiln_runtime::start`.
//!
//! Guest arguments are the process's argv; the guest environment is the
//! process's environment without `KILN_*` variables; `KILN_DIR_<n>=HOST::GUEST`
//! adds a preopened host folder (this is how `kiln run` passes `--dir`),
//! served from the real file system ([`fs::HostFs`]); `KILN_PROFILE=FILE`
//! samples the run and writes a profile to FILE (see [`profile`]).
#![no_std]

mod console;
mod fault;
mod fs;
mod profile;
mod syscall;
mod vm;
mod watchdog;

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;

use kiln_runtime::abi::{AppManifest, Preopen, Slice, Str, exit_status};
use kiln_runtime::board::{Board, Clock, Entropy, Stream};
use kiln_runtime::fs::{Mount, MountError};
use kiln_runtime::heap::Heap;

use console::Fd;

#[global_allocator]
static HEAP: Heap = Heap::new();

/// Virtual size reserved for the heap; pages are committed as they are used.
const HEAP_RESERVE: usize = 64 << 30;
/// Stack that compiled code runs on.
const WASM_STACK: usize = 8 << 20;
/// Room below the stack limit for host functions and the runtime's frames.
const STACK_MARGIN: usize = 256 << 10;

unsafe extern "C" {
    static kiln_app_manifest: AppManifest;
    fn kiln_host_switch_stack(arg: usize, f: extern "C" fn(usize) -> !, stack_top: usize) -> !;
}

core::arch::global_asm!(
    ".pushsection .text.kiln_start,\"ax\",@progbits",
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {main}",
    "ud2",
    ".text",
    ".globl kiln_host_switch_stack",
    "kiln_host_switch_stack:",
    "mov rsp, rdx",
    "xor ebp, ebp",
    "call rsi",
    "ud2",
    ".popsection",
    main = sym host_main,
);

pub struct HostBoard {
    stdin: Fd,
    stdout: Fd,
    stderr: Fd,
    stack_limit: usize,
}

impl Clock for HostBoard {
    fn monotonic_ns(&mut self) -> u64 {
        syscall::clock_gettime(syscall::CLOCK_MONOTONIC).unwrap_or(0)
    }
    fn realtime_ns(&mut self) -> Option<u64> {
        syscall::clock_gettime(syscall::CLOCK_REALTIME)
    }
    fn resolution_ns(&mut self) -> u64 {
        syscall::clock_getres(syscall::CLOCK_MONOTONIC).unwrap_or(1)
    }
    fn cycles(&mut self) -> Option<u64> {
        // SAFETY: rdtsc has no side effects.
        Some(unsafe { core::arch::x86_64::_rdtsc() })
    }
    fn sleep_until(&mut self, deadline_ns: u64) {
        syscall::sleep_until(syscall::CLOCK_MONOTONIC, deadline_ns);
    }
}

impl Entropy for HostBoard {
    fn fill_random(&mut self, mut buf: &mut [u8]) -> bool {
        while !buf.is_empty() {
            let n = syscall::getrandom(buf);
            if n == -syscall::EINTR {
                continue;
            }
            if n <= 0 {
                return false;
            }
            buf = &mut buf[n as usize..];
        }
        true
    }
}

impl Board for HostBoard {
    type Stdin = Fd;
    type Output = Fd;

    fn stdin(&mut self) -> &mut Fd {
        &mut self.stdin
    }
    fn output(&mut self, stream: Stream) -> &mut Fd {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }
    fn exit(&mut self, status: u32) -> ! {
        profile::finish();
        syscall::exit_group(status)
    }
    fn stack_limit(&mut self) -> usize {
        self.stack_limit
    }
    fn stdin_ready(&mut self) -> bool {
        syscall::readable_now(0)
    }
    fn is_terminal(&mut self, fd: u32) -> bool {
        fd <= 2 && syscall::is_terminal(fd as usize)
    }
    fn mount(&mut self, preopens: &'static [Preopen]) -> Result<Mount, MountError> {
        fs::HostFs::mount(preopens)
    }
}

fn fail(message: &str) -> ! {
    syscall::write(2, b"kiln: error: ");
    syscall::write(2, message.as_bytes());
    syscall::write(2, b"\n");
    syscall::exit_group(exit_status::LOAD_ERROR)
}

/// Reads the NUL-terminated string at `p` as a static byte slice.
///
/// # Safety
/// `p` must point to a NUL-terminated string that lives for the process.
unsafe fn c_str(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: the caller guarantees termination.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        core::slice::from_raw_parts(p, n)
    }
}

fn str_of(s: &'static [u8]) -> Str {
    Str {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

fn slice_of<T>(v: Vec<T>) -> Slice<T> {
    let v = v.leak();
    Slice {
        ptr: v.as_ptr(),
        len: v.len(),
    }
}

/// The linked manifest, completed with the process's arguments, environment
/// and `KILN_DIR_<n>` preopens.
fn process_manifest(argv: &[*const u8], envp: &[*const u8]) -> &'static AppManifest {
    // SAFETY: the manifest is static data linked into this executable.
    let linked = unsafe { &kiln_app_manifest };
    // SAFETY: the kernel's argv/envp strings live for the whole process.
    let args: Vec<&'static [u8]> = argv.iter().map(|p| unsafe { c_str(*p) }).collect();
    let vars: Vec<&'static [u8]> = envp.iter().map(|p| unsafe { c_str(*p) }).collect();

    // SAFETY: the linked manifest's slices are static data.
    let mut guest_args: Vec<Str> = unsafe { linked.args.as_slice() }.to_vec();
    guest_args.extend(
        args.iter()
            .skip(if guest_args.is_empty() { 0 } else { 1 })
            .map(|a| str_of(a)),
    );
    let mut guest_env: Vec<Str> = unsafe { linked.env.as_slice() }.to_vec();
    guest_env.extend(
        vars.iter()
            .filter(|v| !v.starts_with(b"KILN_"))
            .map(|v| str_of(v)),
    );

    let mut preopens: Vec<Preopen> = unsafe { linked.preopens.as_slice() }
        .iter()
        .map(|p| Preopen {
            guest_path: p.guest_path,
            image: p.image,
            host_path: p.host_path,
        })
        .collect();
    let mut numbered: Vec<(u32, &'static [u8])> = vars
        .iter()
        .filter_map(|v| {
            let rest = v.strip_prefix(b"KILN_DIR_")?;
            let eq = rest.iter().position(|&c| c == b'=')?;
            let n = core::str::from_utf8(&rest[..eq]).ok()?.parse().ok()?;
            Some((n, &rest[eq + 1..]))
        })
        .collect();
    numbered.sort_unstable_by_key(|(n, _)| *n);
    for (_, spec) in numbered {
        let Some(split) = spec.windows(2).rposition(|w| w == b"::") else {
            fail("bad KILN_DIR_<n> variable: expected HOST::GUEST");
        };
        preopens.push(Preopen {
            guest_path: str_of(&spec[split + 2..]),
            image: Slice::EMPTY,
            host_path: str_of(&spec[..split]),
        });
    }

    Box::leak(Box::new(AppManifest {
        magic: linked.magic,
        abi_version: linked.abi_version,
        mode: linked.mode,
        flags: linked.flags,
        entry: linked.entry,
        modules: linked.modules,
        args: slice_of(guest_args),
        env: slice_of(guest_env),
        preopens: slice_of(preopens),
        script: linked.script,
        deadline_ms: linked.deadline_ms,
        seal: linked.seal,
    }))
}

/// Entry from `_start` with the initial stack pointer (argc, argv..., 0, envp..., 0).
extern "C" fn host_main(sp: *const usize) -> ! {
    let Some(heap) = syscall::mmap_anonymous(
        HEAP_RESERVE,
        syscall::PROT_READ | syscall::PROT_WRITE,
        syscall::MAP_NORESERVE,
    ) else {
        fail("cannot reserve memory for the heap");
    };
    // SAFETY: the mapping is ours alone for the rest of the process.
    if !unsafe { HEAP.claim(heap, HEAP_RESERVE) } {
        fail("cannot set up the heap");
    }
    if !fault::install() {
        fail("cannot install the fault handler");
    }
    // Linear memories go into reservations with guard regions (see vm.rs).
    kiln_runtime::board::set_virtual_memory(&vm::HOST_VM);
    // SAFETY: the kernel lays out argc, argv and envp at the initial stack.
    let (argv, envp) = unsafe {
        let argc = *sp;
        let argv = core::slice::from_raw_parts(sp.add(1).cast::<*const u8>(), argc);
        let env_start = sp.add(argc + 2).cast::<*const u8>();
        let mut n = 0;
        while !(*env_start.add(n)).is_null() {
            n += 1;
        }
        (argv, core::slice::from_raw_parts(env_start, n))
    };
    let manifest = process_manifest(argv, envp);
    // SAFETY: the kernel's environment strings live for the whole process.
    let vars: Vec<&'static [u8]> = envp.iter().map(|p| unsafe { c_str(*p) }).collect();
    if !profile::start(manifest, &vars) {
        fail("cannot start the profiler (KILN_PROFILE)");
    }
    if !watchdog::arm(manifest.deadline_ms) {
        fail("cannot arm the watchdog for the deadline");
    }

    // Compiled code gets its own stack with a guard page below it.
    let Some(stack) = syscall::mmap_anonymous(
        WASM_STACK + 4096,
        syscall::PROT_READ | syscall::PROT_WRITE,
        syscall::MAP_NORESERVE,
    ) else {
        fail("cannot map the Wasm stack");
    };
    // SAFETY: the guard page is the lowest page of our own mapping.
    unsafe { syscall::syscall3(10, stack as usize, 4096, syscall::PROT_NONE) };
    let low = stack as usize + 4096;
    let top = low + WASM_STACK;
    let start = Box::into_raw(Box::new(Start {
        manifest,
        stack_limit: low + STACK_MARGIN,
    }));
    // SAFETY: `top` is the 16-byte aligned top of the stack mapped above.
    unsafe { kiln_host_switch_stack(start as usize, run_on_wasm_stack, top & !15) }
}

/// What `host_main` hands to the code running on the Wasm stack.
struct Start {
    manifest: &'static AppManifest,
    stack_limit: usize,
}

extern "C" fn run_on_wasm_stack(start: usize) -> ! {
    // SAFETY: `start` is the Box leaked by host_main, used once.
    let Start {
        manifest,
        stack_limit,
    } = *unsafe { Box::from_raw(start as *mut Start) };
    let mut board = HostBoard {
        stdin: Fd(0),
        stdout: Fd(1),
        stderr: Fd(2),
        stack_limit,
    };
    kiln_runtime::start(&mut board, manifest)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use core::fmt::Write as _;
    let mut line = console::LineBuffer::new();
    let _ = write!(line, "kiln: panic: {}", info.message());
    if let Some(loc) = info.location() {
        let _ = write!(line, " at {}:{}", loc.file(), loc.line());
    }
    let _ = line.write_str("\n");
    syscall::write(2, line.as_bytes());
    syscall::exit_group(exit_status::FAULT)
}

// The entry points and host functions firmware links by symbol.
kiln_runtime::export_board!(HostBoard);
