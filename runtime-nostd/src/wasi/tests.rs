//! Tests of every WASI function against a fake board, a fake guest memory
//! and the RAM overlay file system (with an image underneath).

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::convert::Infallible;

use super::memory::GuestMemory;
use super::types::*;
use super::{Errno, WasiCtx, errno};
use crate::abi::{self, TrapKind, VmCtx, VmMemory};
use crate::board::{Board, Clock, Entropy, Stream};
use crate::fs::image::{Entry, pack};
use crate::fs::overlay::Overlay;
use crate::fs::{FileSystem, Mount};

// ---------------------------------------------------------------------------
// A fake board
// ---------------------------------------------------------------------------

pub(crate) struct Source {
    data: Vec<u8>,
    pos: usize,
}

impl embedded_io::ErrorType for Source {
    type Error = Infallible;
}

impl embedded_io::Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[derive(Default)]
pub(crate) struct Sink(pub Vec<u8>);

impl embedded_io::ErrorType for Sink {
    type Error = Infallible;
}

impl embedded_io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A board whose time only moves when someone sleeps.
pub(crate) struct FakeBoard {
    pub stdin: Source,
    pub stdout: Sink,
    pub stderr: Sink,
    pub mono: u64,
    pub real: Option<u64>,
    pub entropy: bool,
    pub stdin_ready: bool,
    pub tty: bool,
    pub slept: u64,
}

impl FakeBoard {
    pub fn new() -> FakeBoard {
        FakeBoard {
            stdin: Source {
                data: b"typed line\n".to_vec(),
                pos: 0,
            },
            stdout: Sink::default(),
            stderr: Sink::default(),
            mono: 1_000_000,
            real: Some(1_700_000_000_000_000_000),
            entropy: true,
            stdin_ready: true,
            tty: false,
            slept: 0,
        }
    }
}

impl Clock for FakeBoard {
    fn monotonic_ns(&mut self) -> u64 {
        self.mono
    }
    fn realtime_ns(&mut self) -> Option<u64> {
        self.real
    }
    fn resolution_ns(&mut self) -> u64 {
        1000
    }
    fn cycles(&mut self) -> Option<u64> {
        Some(self.mono * 3)
    }
    fn sleep_until(&mut self, deadline_ns: u64) {
        if deadline_ns > self.mono {
            self.slept += deadline_ns - self.mono;
            self.mono = deadline_ns;
        }
    }
}

impl Entropy for FakeBoard {
    fn fill_random(&mut self, buf: &mut [u8]) -> bool {
        buf.fill(0x42);
        self.entropy
    }
}

impl Board for FakeBoard {
    type Stdin = Source;
    type Output = Sink;
    fn stdin(&mut self) -> &mut Source {
        &mut self.stdin
    }
    fn output(&mut self, stream: Stream) -> &mut Sink {
        match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        }
    }
    fn exit(&mut self, status: u32) -> ! {
        panic!("exit {status}")
    }
    fn stack_limit(&mut self) -> usize {
        0
    }
    fn stdin_ready(&mut self) -> bool {
        self.stdin_ready
    }
    fn is_terminal(&mut self, _fd: u32) -> bool {
        self.tty
    }
}

// ---------------------------------------------------------------------------
// Helpers: guest memory layout and calls
// ---------------------------------------------------------------------------

type Ctx<'a> = WasiCtx<'a, FakeBoard>;

const P1: u32 = 0x100; // first path
const P2: u32 = 0x400; // second path
const OUT: u32 = 0x800; // results
const IOV: u32 = 0x900; // iovecs
const BUF: u32 = 0x1000; // data
const MEM: usize = 0x10000;
const ALL_RW: u64 = rights::FD_READ | rights::FD_WRITE;

fn image() -> &'static [u8] {
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let tree = Entry::dir(
        b"",
        vec![
            Entry::file(b"file", b"image file\n"),
            Entry::file(b"big.bin", &big),
            Entry::dir(
                b"sub",
                vec![
                    Entry::file(b"inner.txt", b"inner"),
                    Entry::dir(b"deeper", vec![]),
                ],
            ),
            Entry::symlink(b"to_inner", b"sub/inner.txt"),
            Entry::symlink(b"escape", b"../outside"),
            Entry::symlink(b"loop", b"loop"),
        ],
    );
    Box::leak(pack(&tree).unwrap().into_boxed_slice())
}

/// A context with one preopen `/` (fd 3) over `image()`, and a second one
/// `/tmp` (fd 4) that starts empty.
fn ctx(board: &mut FakeBoard) -> Ctx<'_> {
    let mut c = WasiCtx::new(
        board,
        vec![&b"prog"[..], b"arg 1"],
        vec![&b"A=1"[..], b"LONGER=value"],
    );
    let mut fs = Overlay::new();
    let root = fs.add_root(image()).unwrap();
    let tmp = fs.add_root(&[]).unwrap();
    c.add_preopens(
        Mount {
            fs: Box::new(fs),
            roots: vec![root, tmp],
        },
        &[b"/", b"/tmp"],
    );
    c
}

fn put(m: &mut GuestMemory, at: u32, s: &[u8]) -> (u32, u32) {
    m.write_bytes(at, s).unwrap();
    (at, s.len() as u32)
}

#[allow(clippy::too_many_arguments)]
fn open_full(
    c: &mut Ctx,
    m: &mut GuestMemory,
    dir: u32,
    follow: bool,
    p: &str,
    oflags: u32,
    rights: u64,
    fdflags: u32,
) -> Result<u32, Errno> {
    let (ptr, len) = put(m, P1, p.as_bytes());
    c.path_open(
        m,
        dir,
        follow as u32,
        ptr,
        len,
        oflags,
        rights,
        0,
        fdflags,
        OUT,
    )?;
    Ok(m.read_u32(OUT).unwrap())
}

fn open(
    c: &mut Ctx,
    m: &mut GuestMemory,
    dir: u32,
    p: &str,
    oflags: u32,
    rights: u64,
) -> Result<u32, Errno> {
    open_full(c, m, dir, false, p, oflags, rights, 0)
}

fn write(c: &mut Ctx, m: &mut GuestMemory, fd: u32, data: &[u8]) -> Result<u32, Errno> {
    put(m, BUF, data);
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, data.len() as u32).unwrap();
    c.fd_write(m, fd, IOV, 1, OUT)?;
    Ok(m.read_u32(OUT).unwrap())
}

fn read(c: &mut Ctx, m: &mut GuestMemory, fd: u32, n: u32) -> Result<Vec<u8>, Errno> {
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, n).unwrap();
    c.fd_read(m, fd, IOV, 1, OUT)?;
    let got = m.read_u32(OUT).unwrap();
    Ok(m.bytes(BUF, got).unwrap().to_vec())
}

fn pread(c: &mut Ctx, m: &mut GuestMemory, fd: u32, n: u32, offset: u64) -> Result<Vec<u8>, Errno> {
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, n).unwrap();
    c.fd_pread(m, fd, IOV, 1, offset, OUT)?;
    let got = m.read_u32(OUT).unwrap();
    Ok(m.bytes(BUF, got).unwrap().to_vec())
}

fn seek(c: &mut Ctx, m: &mut GuestMemory, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
    c.fd_seek(m, fd, offset as u64, whence, OUT)?;
    Ok(m.read_u64(OUT).unwrap())
}

/// `filestat` fields: (filetype, size, ino, nlink, atim, mtim).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct St {
    filetype: u8,
    size: u64,
    ino: u64,
    nlink: u64,
    atim: u64,
    mtim: u64,
}

fn decode_stat(m: &mut GuestMemory) -> St {
    let b = m.bytes(OUT, 64).unwrap().to_vec();
    let u = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    St {
        filetype: b[16],
        size: u(32),
        ino: u(8),
        nlink: u(24),
        atim: u(40),
        mtim: u(48),
    }
}

fn fstat(c: &mut Ctx, m: &mut GuestMemory, fd: u32) -> Result<St, Errno> {
    c.fd_filestat_get(m, fd, OUT)?;
    Ok(decode_stat(m))
}

fn pstat(c: &mut Ctx, m: &mut GuestMemory, dir: u32, p: &str, follow: bool) -> Result<St, Errno> {
    let (ptr, len) = put(m, P1, p.as_bytes());
    c.path_filestat_get(m, dir, follow as u32, ptr, len, OUT)?;
    Ok(decode_stat(m))
}

/// `fdstat`: (filetype, flags, rights base, rights inheriting).
fn fdstat(c: &mut Ctx, m: &mut GuestMemory, fd: u32) -> Result<(u8, u16, u64, u64), Errno> {
    c.fd_fdstat_get(m, fd, OUT)?;
    let b = m.bytes(OUT, 24).unwrap().to_vec();
    Ok((
        b[0],
        u16::from_le_bytes([b[2], b[3]]),
        u64::from_le_bytes(b[8..16].try_into().unwrap()),
        u64::from_le_bytes(b[16..24].try_into().unwrap()),
    ))
}

/// A directory entry: (d_next, d_ino, d_type, name).
type Dirent = (u64, u64, u8, Vec<u8>);

/// `fd_readdir`: the entries and bufused.
fn readdir(
    c: &mut Ctx,
    m: &mut GuestMemory,
    fd: u32,
    cookie: u64,
    len: u32,
) -> Result<(Vec<Dirent>, u32), Errno> {
    c.fd_readdir(m, fd, BUF, len, cookie, OUT)?;
    let used = m.read_u32(OUT).unwrap();
    let b = m.bytes(BUF, used).unwrap().to_vec();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= b.len() {
        let next = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let ino = u64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap());
        let namlen = u32::from_le_bytes(b[at + 16..at + 20].try_into().unwrap()) as usize;
        if at + 24 + namlen > b.len() {
            break;
        }
        out.push((next, ino, b[at + 20], b[at + 24..at + 24 + namlen].to_vec()));
        at += 24 + namlen;
    }
    Ok((out, used))
}

fn names(c: &mut Ctx, m: &mut GuestMemory, fd: u32) -> Vec<Vec<u8>> {
    readdir(c, m, fd, 0, 4096)
        .unwrap()
        .0
        .into_iter()
        .map(|e| e.3)
        .collect()
}

fn mkdir(c: &mut Ctx, m: &mut GuestMemory, dir: u32, p: &str) -> Result<(), Errno> {
    let (ptr, len) = put(m, P1, p.as_bytes());
    c.path_create_directory(m, dir, ptr, len)
}

fn rmdir(c: &mut Ctx, m: &mut GuestMemory, dir: u32, p: &str) -> Result<(), Errno> {
    let (ptr, len) = put(m, P1, p.as_bytes());
    c.path_remove_directory(m, dir, ptr, len)
}

fn unlink(c: &mut Ctx, m: &mut GuestMemory, dir: u32, p: &str) -> Result<(), Errno> {
    let (ptr, len) = put(m, P1, p.as_bytes());
    c.path_unlink_file(m, dir, ptr, len)
}

fn rename(
    c: &mut Ctx,
    m: &mut GuestMemory,
    dir: u32,
    from: &str,
    to_dir: u32,
    to: &str,
) -> Result<(), Errno> {
    let (p1, l1) = put(m, P1, from.as_bytes());
    let (p2, l2) = put(m, P2, to.as_bytes());
    c.path_rename(m, dir, p1, l1, to_dir, p2, l2)
}

fn link(
    c: &mut Ctx,
    m: &mut GuestMemory,
    dir: u32,
    from: &str,
    to: &str,
    follow: bool,
) -> Result<(), Errno> {
    let (p1, l1) = put(m, P1, from.as_bytes());
    let (p2, l2) = put(m, P2, to.as_bytes());
    c.path_link(m, dir, follow as u32, p1, l1, dir, p2, l2)
}

fn symlink(c: &mut Ctx, m: &mut GuestMemory, target: &str, dir: u32, p: &str) -> Result<(), Errno> {
    let (p1, l1) = put(m, P1, target.as_bytes());
    let (p2, l2) = put(m, P2, p.as_bytes());
    c.path_symlink(m, p1, l1, dir, p2, l2)
}

fn readlink(
    c: &mut Ctx,
    m: &mut GuestMemory,
    dir: u32,
    p: &str,
    buf_len: u32,
) -> Result<Vec<u8>, Errno> {
    let (ptr, len) = put(m, P1, p.as_bytes());
    c.path_readlink(m, dir, ptr, len, BUF, buf_len, OUT)?;
    let n = m.read_u32(OUT).unwrap();
    Ok(m.bytes(BUF, n).unwrap().to_vec())
}

fn close(c: &mut Ctx, m: &mut GuestMemory, fd: u32) -> Result<(), Errno> {
    c.fd_close(m, fd)
}

macro_rules! setup {
    ($board:ident, $c:ident, $m:ident) => {
        let mut $board = FakeBoard::new();
        let mut $c = ctx(&mut $board);
        let mut mem = vec![0u8; MEM];
        let $m = &mut GuestMemory::from_slice(&mut mem);
    };
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn the_list_has_all_46_functions_with_their_types() {
    assert_eq!(super::NAMES.len(), 46);
    for name in super::NAMES {
        let Some(crate::instance::Extern::HostFunc { signature_id, .. }) =
            super::resolve::<FakeBoard>(name.as_bytes())
        else {
            panic!("{name} does not resolve");
        };
        assert_ne!(signature_id, 0);
    }
    let sig = |p: &[u8], r: &[u8]| abi::signature_id(p, r);
    use abi::valtype::{I32, I64};
    let check = |name: &str, id: u64| match super::resolve::<FakeBoard>(name.as_bytes()) {
        Some(crate::instance::Extern::HostFunc { signature_id, .. }) => {
            assert_eq!(signature_id, id, "{name}")
        }
        _ => panic!(),
    };
    check("proc_exit", sig(&[I32], &[]));
    check("fd_seek", sig(&[I32, I64, I32, I32], &[I32]));
    check(
        "path_open",
        sig(&[I32, I32, I32, I32, I32, I64, I64, I32, I32], &[I32]),
    );
    check("poll_oneoff", sig(&[I32, I32, I32, I32], &[I32]));
    check("sched_yield", sig(&[], &[I32]));
    assert!(super::resolve::<FakeBoard>(b"fd_nonexistent").is_none());
}

#[test]
fn shims_decode_parameters_and_proc_exit_unwinds() {
    let mut board = FakeBoard::new();
    let mut c = ctx(&mut board);
    let mut mem = vec![0u8; MEM];
    let mut vm_memory = VmMemory {
        base: mem.as_mut_ptr(),
        length: MEM,
        capacity: MEM,
        max_length: MEM,
    };
    let mut vmctx = VmCtx {
        memory: &mut vm_memory,
        stack_limit: 0,
        globals: core::ptr::null(),
        tables: core::ptr::null(),
        funcrefs: core::ptr::null_mut(),
        builtins: core::ptr::null(),
        features: 0,
        instance: core::ptr::null_mut(),
        host: (&mut c as *mut Ctx).cast(),
    };
    let call = |name: &str, vmctx: &mut VmCtx, values: &mut [u64]| {
        let Some(crate::instance::Extern::HostFunc { func, .. }) =
            super::resolve::<FakeBoard>(name.as_bytes())
        else {
            panic!()
        };
        // SAFETY: the vmctx and values are valid for the call.
        unsafe { crate::trap::call(func, vmctx, values.as_mut_ptr()) }
    };
    let mut values = [0x10u64, 0x20];
    assert!(call("args_sizes_get", &mut vmctx, &mut values).is_ok());
    assert_eq!(values[0], errno::SUCCESS as u64);
    assert_eq!(&mem[0x10..0x14], &2u32.to_le_bytes());
    assert_eq!(&mem[0x20..0x24], &11u32.to_le_bytes());
    let mut values = [0x10u64, 0xffff_fff0];
    assert!(call("args_sizes_get", &mut vmctx, &mut values).is_ok());
    assert_eq!(values[0], errno::FAULT as u64);
    let mut values = [7u64];
    let trap = call("proc_exit", &mut vmctx, &mut values).err().unwrap();
    assert_eq!((trap.kind, trap.exit_status), (TrapKind::Exit, 7));
    let mut values = [200u64];
    let trap = call("proc_exit", &mut vmctx, &mut values).err().unwrap();
    assert_eq!(
        (trap.kind, trap.exit_status),
        (TrapKind::Exit, abi::exit_status::TRAP)
    );
    drop(c);
    assert!(
        board
            .stderr
            .0
            .starts_with(b"kiln: error: exit with invalid exit status")
    );
}

#[test]
fn args_environ_clocks_random_and_process() {
    setup!(board, c, m);
    c.args_sizes_get(m, OUT, OUT + 4).unwrap();
    assert_eq!(
        (m.read_u32(OUT).unwrap(), m.read_u32(OUT + 4).unwrap()),
        (2, 11)
    );
    c.args_get(m, OUT, BUF).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), BUF);
    assert_eq!(m.read_u32(OUT + 4).unwrap(), BUF + 5);
    assert_eq!(m.bytes(BUF, 11).unwrap(), b"prog\0arg 1\0");
    c.environ_sizes_get(m, OUT, OUT + 4).unwrap();
    assert_eq!(
        (m.read_u32(OUT).unwrap(), m.read_u32(OUT + 4).unwrap()),
        (2, 17)
    );
    c.environ_get(m, OUT, BUF).unwrap();
    assert_eq!(m.bytes(BUF, 17).unwrap(), b"A=1\0LONGER=value\0");
    assert_eq!(c.args_get(m, OUT, MEM as u32 - 3), Err(errno::FAULT));
    assert_eq!(c.environ_get(m, MEM as u32, BUF), Err(errno::FAULT));

    for id in 0..4 {
        c.clock_res_get(m, id, OUT).unwrap();
        assert_eq!(m.read_u64(OUT).unwrap(), 1000);
        c.clock_time_get(m, id, 0, OUT).unwrap();
    }
    c.clock_time_get(m, clockid::MONOTONIC, 0, OUT).unwrap();
    assert_eq!(m.read_u64(OUT).unwrap(), 1_000_000);
    c.clock_time_get(m, clockid::REALTIME, 0, OUT).unwrap();
    assert_eq!(m.read_u64(OUT).unwrap(), 1_700_000_000_000_000_000);
    assert_eq!(c.clock_res_get(m, 4, OUT), Err(errno::INVAL));
    assert_eq!(c.clock_time_get(m, 9, 0, OUT), Err(errno::INVAL));
    c.board.real = None;
    assert_eq!(
        c.clock_time_get(m, clockid::REALTIME, 0, OUT),
        Err(errno::NOTSUP)
    );

    c.random_get(m, BUF, 16).unwrap();
    assert_eq!(m.bytes(BUF, 16).unwrap(), &[0x42; 16]);
    c.random_get(m, BUF, 0).unwrap();
    assert_eq!(c.random_get(m, MEM as u32 - 4, 16), Err(errno::FAULT));
    c.board.entropy = false;
    assert_eq!(c.random_get(m, BUF, 4), Err(errno::NOSYS));

    c.sched_yield(m).unwrap();
    assert_eq!(c.proc_raise(m, 6), Err(errno::NOTSUP));
    assert_eq!(c.proc_raise(m, 31), Err(errno::INVAL));
}

#[test]
fn console_descriptors() {
    setup!(board, c, m);
    assert_eq!(write(&mut c, m, 1, b"to stdout").unwrap(), 9);
    assert_eq!(write(&mut c, m, 2, b"to stderr").unwrap(), 9);
    // Several iovecs, one of them empty.
    put(m, BUF, b"abcdef");
    for (i, (p, l)) in [(BUF, 2), (BUF, 0), (BUF + 2, 4)].into_iter().enumerate() {
        m.write_u32(IOV + 8 * i as u32, p).unwrap();
        m.write_u32(IOV + 8 * i as u32 + 4, l).unwrap();
    }
    c.fd_write(m, 1, IOV, 3, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 6);
    assert_eq!(write(&mut c, m, 0, b"x"), Err(errno::BADF));
    assert_eq!(write(&mut c, m, 3, b"x"), Err(errno::BADF));
    assert_eq!(write(&mut c, m, 99, b"x"), Err(errno::BADF));
    assert_eq!(c.fd_write(m, 1, MEM as u32 - 4, 1, OUT), Err(errno::FAULT));
    m.write_u32(IOV, MEM as u32 - 2).unwrap();
    m.write_u32(IOV + 4, 4).unwrap();
    assert_eq!(c.fd_write(m, 1, IOV, 1, OUT), Err(errno::FAULT));

    // stdin: one read into the first non-empty buffer.
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, 0).unwrap();
    m.write_u32(IOV + 8, BUF).unwrap();
    m.write_u32(IOV + 12, 5).unwrap();
    m.write_u32(IOV + 16, BUF + 5).unwrap();
    m.write_u32(IOV + 20, 100).unwrap();
    c.fd_read(m, 0, IOV, 3, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 5);
    assert_eq!(read(&mut c, m, 0, 100).unwrap(), b" line\n");
    assert_eq!(read(&mut c, m, 0, 100).unwrap(), b"", "end of input");
    assert_eq!(read(&mut c, m, 1, 10), Err(errno::BADF));
    assert_eq!(read(&mut c, m, 3, 10), Err(errno::BADF), "a directory");
    assert_eq!(pread(&mut c, m, 0, 10, 0), Err(errno::SPIPE));
    assert_eq!(pread(&mut c, m, 1, 10, 0), Err(errno::BADF));
    put(m, BUF, b"x");
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, 1).unwrap();
    assert_eq!(c.fd_pwrite(m, 1, IOV, 1, 0, OUT), Err(errno::SPIPE));
    assert_eq!(c.fd_pwrite(m, 0, IOV, 1, 0, OUT), Err(errno::BADF));
    assert_eq!(seek(&mut c, m, 1, 0, whence::CUR), Err(errno::SPIPE));
    assert_eq!(c.fd_tell(m, 0, OUT), Err(errno::SPIPE));
    assert_eq!(seek(&mut c, m, 3, 0, whence::CUR), Err(errno::BADF));

    assert_eq!(
        fdstat(&mut c, m, 0).unwrap(),
        (filetype::UNKNOWN, 0, rights::FD_READ, rights::FD_READ)
    );
    assert_eq!(
        fdstat(&mut c, m, 1).unwrap(),
        (filetype::UNKNOWN, 0, rights::FD_WRITE, rights::FD_WRITE)
    );
    c.board.tty = true;
    assert_eq!(fdstat(&mut c, m, 2).unwrap().0, filetype::CHARACTER_DEVICE);
    assert_eq!(
        fstat(&mut c, m, 1).unwrap(),
        St {
            filetype: filetype::CHARACTER_DEVICE,
            size: 0,
            ino: 0,
            nlink: 0,
            atim: 0,
            mtim: 0
        }
    );
    assert_eq!(
        c.fd_fdstat_set_flags(m, 1, fdflags::APPEND),
        Err(errno::BADF)
    );
    assert_eq!(c.fd_fdstat_set_rights(m, 1, 0, 0), Err(errno::BADF));
    assert_eq!(c.fd_sync(m, 1), Err(errno::BADF));
    assert_eq!(c.fd_datasync(m, 2), Err(errno::BADF));
    assert_eq!(c.fd_advise(m, 0, 0, 0, 0), Err(errno::BADF));
    assert_eq!(c.fd_allocate(m, 1, 0, 1), Err(errno::BADF));
    assert_eq!(c.fd_filestat_set_size(m, 1, 0), Err(errno::BADF));
    assert_eq!(c.fd_filestat_set_times(m, 1, 0, 0, 0), Err(errno::BADF));
    assert_eq!(c.fd_readdir(m, 1, BUF, 100, 0, OUT), Err(errno::BADF));
    assert_eq!(c.fd_prestat_get(m, 1, OUT), Err(errno::BADF));
    assert_eq!(c.fd_prestat_dir_name(m, 1, BUF, 10), Err(errno::NOTDIR));
    // Closing stdout works; the fd is then free.
    close(&mut c, m, 1).unwrap();
    assert_eq!(write(&mut c, m, 1, b"x"), Err(errno::BADF));
    assert_eq!(close(&mut c, m, 1), Err(errno::BADF));
    drop(c);
    assert_eq!(board.stdout.0, b"to stdoutabcdef");
    assert_eq!(board.stderr.0, b"to stderr");
}

#[test]
fn preopens() {
    setup!(board, c, m);
    c.fd_prestat_get(m, 3, OUT).unwrap();
    assert_eq!(
        (m.bytes(OUT, 1).unwrap()[0], m.read_u32(OUT + 4).unwrap()),
        (preopentype::DIR, 1)
    );
    c.fd_prestat_dir_name(m, 3, BUF, 1).unwrap();
    assert_eq!(m.bytes(BUF, 1).unwrap(), b"/");
    c.fd_prestat_get(m, 4, OUT).unwrap();
    assert_eq!(m.read_u32(OUT + 4).unwrap(), 4);
    assert_eq!(c.fd_prestat_dir_name(m, 4, BUF, 3), Err(errno::NAMETOOLONG));
    c.fd_prestat_dir_name(m, 4, BUF, 4).unwrap();
    assert_eq!(m.bytes(BUF, 4).unwrap(), b"/tmp");
    assert_eq!(c.fd_prestat_get(m, 5, OUT), Err(errno::BADF));
    assert_eq!(c.fd_prestat_dir_name(m, 5, BUF, 10), Err(errno::BADF));
    assert_eq!(c.fd_prestat_get(m, 3, MEM as u32), Err(errno::FAULT));
    let (ft, flags, base, inh) = fdstat(&mut c, m, 3).unwrap();
    assert_eq!(
        (ft, flags, base, inh),
        (
            filetype::DIRECTORY,
            0,
            rights::PREOPEN_BASE,
            rights::PREOPEN_INHERITING
        )
    );
    // A directory opened from the preopen: not a preopen.
    let d = open(&mut c, m, 3, ".", oflags::DIRECTORY, rights::FD_READ).unwrap();
    assert_eq!(d, 5);
    assert_eq!(c.fd_prestat_get(m, d, OUT), Err(errno::BADF));
    assert_eq!(c.fd_prestat_dir_name(m, d, BUF, 10), Err(errno::NOTDIR));
    let (ft, _, base, _) = fdstat(&mut c, m, d).unwrap();
    assert_eq!(ft, filetype::DIRECTORY);
    assert_eq!(base & rights::FD_SEEK, 0, "directories cannot seek");
    assert_ne!(base & rights::FD_READDIR, 0);
    // Closing a preopen leaves what was opened through it working.
    close(&mut c, m, 3).unwrap();
    assert_eq!(c.fd_fdstat_get(m, 3, OUT), Err(errno::BADF));
    let f = open(&mut c, m, d, "file", 0, rights::FD_READ).unwrap();
    assert_eq!(f, 3, "the highest free fd is reused");
    assert_eq!(read(&mut c, m, f, 100).unwrap(), b"image file\n");
}

#[test]
fn file_reading_writing_seeking() {
    setup!(board, c, m);
    let f = open(&mut c, m, 4, "new.txt", oflags::CREAT, ALL_RW).unwrap();
    assert_eq!(f, 5);
    assert_eq!(write(&mut c, m, f, b"hello world").unwrap(), 11);
    c.fd_tell(m, f, OUT).unwrap();
    assert_eq!(m.read_u64(OUT).unwrap(), 11);
    assert_eq!(seek(&mut c, m, f, 6, whence::SET).unwrap(), 6);
    assert_eq!(read(&mut c, m, f, 100).unwrap(), b"world");
    assert_eq!(seek(&mut c, m, f, -5, whence::END).unwrap(), 6);
    assert_eq!(seek(&mut c, m, f, -6, whence::CUR).unwrap(), 0);
    assert_eq!(seek(&mut c, m, f, -1, whence::CUR), Err(errno::INVAL));
    assert_eq!(seek(&mut c, m, f, -1, whence::SET), Err(errno::INVAL));
    assert_eq!(seek(&mut c, m, f, 0, 3), Err(errno::INVAL));
    assert_eq!(
        seek(&mut c, m, f, 20, whence::SET).unwrap(),
        20,
        "past the end is allowed"
    );
    assert_eq!(read(&mut c, m, f, 10).unwrap(), b"");
    write(&mut c, m, f, b"!").unwrap();
    assert_eq!(fstat(&mut c, m, f).unwrap().size, 21);
    assert_eq!(pread(&mut c, m, f, 12, 5).unwrap(), b" world\0\0\0\0\0\0");
    // pread/pwrite leave the position alone.
    put(m, BUF, b"HELLO");
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, 5).unwrap();
    c.fd_pwrite(m, f, IOV, 1, 0, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 5);
    c.fd_tell(m, f, OUT).unwrap();
    assert_eq!(m.read_u64(OUT).unwrap(), 21);
    assert_eq!(pread(&mut c, m, f, 11, 0).unwrap(), b"HELLO world");
    // Vectored read across two buffers.
    seek(&mut c, m, f, 0, whence::SET).unwrap();
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, 3).unwrap();
    m.write_u32(IOV + 8, BUF + 0x100).unwrap();
    m.write_u32(IOV + 12, 3).unwrap();
    c.fd_read(m, f, IOV, 2, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 6);
    assert_eq!(
        (
            m.bytes(BUF, 3).unwrap().to_vec(),
            m.bytes(BUF + 0x100, 3).unwrap().to_vec()
        ),
        (b"HEL".to_vec(), b"LO ".to_vec())
    );
    // Sizes, times, allocation, advice, sync.
    c.fd_filestat_set_size(m, f, 5).unwrap();
    assert_eq!(fstat(&mut c, m, f).unwrap().size, 5);
    c.fd_allocate(m, f, 0, 100).unwrap();
    assert_eq!(fstat(&mut c, m, f).unwrap().size, 100);
    c.fd_allocate(m, f, 10, 10).unwrap();
    assert_eq!(fstat(&mut c, m, f).unwrap().size, 100);
    c.fd_allocate(m, f, 90, 20).unwrap();
    assert_eq!(fstat(&mut c, m, f).unwrap().size, 110);
    assert_eq!(c.fd_allocate(m, f, 0, 0), Err(errno::INVAL));
    assert_eq!(c.fd_allocate(m, f, u64::MAX, 2), Err(errno::FBIG));
    let st = fstat(&mut c, m, f).unwrap();
    c.fd_filestat_set_times(m, f, 0, st.mtim - 100, fstflags::MTIM)
        .unwrap();
    let st2 = fstat(&mut c, m, f).unwrap();
    assert_eq!(
        (st2.mtim, st2.atim, st2.size),
        (st.mtim - 100, st.atim, 110)
    );
    c.fd_filestat_set_times(m, f, 7, 0, fstflags::ATIM | fstflags::MTIM_NOW)
        .unwrap();
    let st3 = fstat(&mut c, m, f).unwrap();
    assert_eq!((st3.atim, st3.mtim), (7, 1_700_000_000_000_000_000));
    assert_eq!(
        c.fd_filestat_set_times(m, f, 0, 0, fstflags::ATIM | fstflags::ATIM_NOW),
        Err(errno::INVAL)
    );
    assert_eq!(c.fd_filestat_set_times(m, f, 0, 0, 0x10), Err(errno::INVAL));
    c.fd_advise(m, f, 0, 10, 5).unwrap();
    assert_eq!(c.fd_advise(m, f, 0, 10, 6), Err(errno::INVAL));
    c.fd_sync(m, f).unwrap();
    c.fd_datasync(m, f).unwrap();
    assert_eq!(c.fd_sync(m, 3), Err(errno::BADF), "as wasmtime: only files");
    let (ft, flags, base, _) = fdstat(&mut c, m, f).unwrap();
    assert_eq!((ft, flags), (filetype::REGULAR_FILE, 0));
    assert_eq!(base & ALL_RW, ALL_RW);
    assert_eq!(c.fd_fdstat_set_rights(m, f, 0, 0), Err(errno::NOTSUP));
    assert_eq!(c.fd_fdstat_set_rights(m, f, 1 << 40, 0), Err(errno::INVAL));
    close(&mut c, m, f).unwrap();
    assert_eq!(read(&mut c, m, f, 1), Err(errno::BADF));
}

#[test]
fn open_modes_and_append() {
    setup!(board, c, m);
    let ro = open(&mut c, m, 3, "file", 0, rights::FD_READ).unwrap();
    assert_eq!(write(&mut c, m, ro, b"x"), Err(errno::BADF));
    assert_eq!(c.fd_filestat_set_size(m, ro, 0), Err(errno::INVAL));
    let (_, _, base, _) = fdstat(&mut c, m, ro).unwrap();
    assert_eq!(base & ALL_RW, rights::FD_READ);
    // No rights at all: opened read-only, as wasmtime.
    let none = open(&mut c, m, 3, "file", 0, 0).unwrap();
    assert_eq!(read(&mut c, m, none, 5).unwrap(), b"image");
    assert_eq!(fdstat(&mut c, m, none).unwrap().2 & ALL_RW, 0);
    let wo = open(&mut c, m, 3, "file", 0, rights::FD_WRITE).unwrap();
    assert_eq!(read(&mut c, m, wo, 5), Err(errno::BADF));
    assert_eq!(write(&mut c, m, wo, b"IMAGE").unwrap(), 5);
    assert_eq!(
        read(&mut c, m, ro, 100).unwrap(),
        b"IMAGE file\n",
        "copy-on-write shared by all fds"
    );
    // Append mode, and pwrite on it (Linux: appends, position unchanged).
    let ap = open_full(&mut c, m, 3, false, "file", 0, ALL_RW, fdflags::APPEND).unwrap();
    assert_eq!(fdstat(&mut c, m, ap).unwrap().1, fdflags::APPEND as u16);
    seek(&mut c, m, ap, 0, whence::SET).unwrap();
    write(&mut c, m, ap, b"++").unwrap();
    c.fd_tell(m, ap, OUT).unwrap();
    assert_eq!(m.read_u64(OUT).unwrap(), 13);
    put(m, BUF, b"end");
    m.write_u32(IOV, BUF).unwrap();
    m.write_u32(IOV + 4, 3).unwrap();
    c.fd_pwrite(m, ap, IOV, 1, 0, OUT).unwrap();
    c.fd_tell(m, ap, OUT).unwrap();
    assert_eq!(m.read_u64(OUT).unwrap(), 13);
    assert_eq!(pread(&mut c, m, ap, 100, 0).unwrap(), b"IMAGE file\n++end");
    c.fd_fdstat_set_flags(m, ap, fdflags::NONBLOCK).unwrap();
    assert_eq!(fdstat(&mut c, m, ap).unwrap().1, fdflags::NONBLOCK as u16);
    assert_eq!(
        c.fd_fdstat_set_flags(m, ap, fdflags::SYNC),
        Err(errno::INVAL)
    );
    assert_eq!(c.fd_fdstat_set_flags(m, ap, 0x20), Err(errno::INVAL));
    assert_eq!(c.fd_fdstat_set_flags(m, 3, 0), Err(errno::BADF));
    // Truncate on open.
    let t = open(&mut c, m, 3, "file", oflags::TRUNC, ALL_RW).unwrap();
    assert_eq!(fstat(&mut c, m, t).unwrap().size, 0);
    assert_eq!(read(&mut c, m, ro, 100).unwrap(), b"");
}

#[test]
fn path_open_rules() {
    setup!(board, c, m);
    assert_eq!(open(&mut c, m, 3, "missing", 0, 0), Err(errno::NOENT));
    assert_eq!(
        open(&mut c, m, 3, "file", oflags::CREAT | oflags::EXCL, 0),
        Err(errno::EXIST)
    );
    assert_eq!(
        open(&mut c, m, 3, "sub", oflags::CREAT, 0),
        Err(errno::ISDIR)
    );
    assert_eq!(
        open(&mut c, m, 3, ".", oflags::DIRECTORY, ALL_RW),
        Err(errno::ISDIR)
    );
    assert_eq!(
        open(&mut c, m, 3, "sub", 0, rights::FD_WRITE),
        Err(errno::ISDIR)
    );
    assert_eq!(
        open(&mut c, m, 3, "file", oflags::DIRECTORY, 0),
        Err(errno::NOTDIR)
    );
    assert_eq!(
        open(&mut c, m, 3, "x", oflags::DIRECTORY | oflags::CREAT, 0),
        Err(errno::INVAL)
    );
    assert_eq!(
        open(&mut c, m, 3, "x", oflags::DIRECTORY | oflags::TRUNC, 0),
        Err(errno::INVAL)
    );
    assert_eq!(open(&mut c, m, 3, "x", 0x10, 0), Err(errno::INVAL));
    assert_eq!(open(&mut c, m, 3, "x", 0, 1 << 31), Err(errno::INVAL));
    assert_eq!(
        open_full(&mut c, m, 3, false, "file", 0, 0, fdflags::SYNC),
        Err(errno::NOTSUP)
    );
    assert_eq!(
        open_full(&mut c, m, 3, false, "file", 0, 0, 0x40),
        Err(errno::INVAL)
    );
    let (p, l) = put(m, P1, b"file");
    assert_eq!(
        c.path_open(m, 3, 2, p, l, 0, 0, 0, 0, OUT),
        Err(errno::INVAL),
        "bad lookup flags"
    );
    assert_eq!(
        c.path_open(m, 3, 0, p, l, 0, 0, 0, 0, MEM as u32),
        Err(errno::FAULT)
    );
    let f = open(&mut c, m, 3, "file", 0, 0).unwrap();
    assert_eq!(
        open(&mut c, m, f, "x", oflags::CREAT, 0),
        Err(errno::NOTDIR),
        "a file as directory"
    );
    assert_eq!(open(&mut c, m, 0, "x", 0, 0), Err(errno::BADF));
    assert_eq!(open(&mut c, m, 77, "x", 0, 0), Err(errno::BADF));
    assert_eq!(open(&mut c, m, 3, "", 0, 0), Err(errno::NOENT));
    let (p, l) = put(m, P1, &[b'f', 0xff]);
    assert_eq!(
        c.path_open(m, 3, 0, p, l, 0, 0, 0, 0, OUT),
        Err(errno::ILSEQ)
    );
    assert_eq!(open(&mut c, m, 3, "file\0", 0, 0), Err(errno::INVAL));
    assert_eq!(
        c.path_open(m, 3, 0, MEM as u32 - 2, 4, 0, 0, 0, 0, OUT),
        Err(errno::FAULT)
    );
    // Symlinks: not followed without the lookup flag.
    assert_eq!(open(&mut c, m, 3, "to_inner", 0, 0), Err(errno::LOOP));
    let i = open_full(&mut c, m, 3, true, "to_inner", 0, rights::FD_READ, 0).unwrap();
    assert_eq!(read(&mut c, m, i, 100).unwrap(), b"inner");
    assert_eq!(
        open_full(&mut c, m, 3, true, "loop", 0, 0, 0),
        Err(errno::LOOP)
    );
    assert_eq!(open(&mut c, m, 3, "loop", 0, 0), Err(errno::LOOP));
    assert_eq!(open(&mut c, m, 3, "loop/x", 0, 0), Err(errno::LOOP));
    // Non-blocking open of a directory works.
    open_full(&mut c, m, 3, false, ".", 0, 0, fdflags::NONBLOCK).unwrap();
    // Paths with `.`, `..` and repeated slashes.
    open(&mut c, m, 3, "sub/./deeper/../../sub//inner.txt", 0, 0).unwrap();
    assert_eq!(
        open(&mut c, m, 3, "sub/inner.txt/", 0, 0),
        Err(errno::NOTDIR)
    );
    assert_eq!(open(&mut c, m, 3, "file/x", 0, 0), Err(errno::NOTDIR));
    open(&mut c, m, 3, "sub/deeper///", 0, 0).unwrap();
    assert_eq!(
        open(&mut c, m, 3, "newdir/", oflags::CREAT, 0),
        Err(errno::ISDIR)
    );
    // A big image file reads in pieces at any offset.
    let b = open(&mut c, m, 3, "big.bin", 0, rights::FD_READ).unwrap();
    assert_eq!(seek(&mut c, m, b, 150_000, whence::SET).unwrap(), 150_000);
    let got = read(&mut c, m, b, 4).unwrap();
    assert_eq!(
        got,
        (150_000..150_004u32)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<_>>()
    );
    assert_eq!(fstat(&mut c, m, b).unwrap().size, 200_000);
}

#[test]
fn sandbox_escapes_fail() {
    setup!(board, c, m);
    assert_eq!(open(&mut c, m, 3, "/file", 0, 0), Err(errno::PERM));
    assert_eq!(open(&mut c, m, 3, "..", 0, 0), Err(errno::PERM));
    assert_eq!(open(&mut c, m, 3, "../file", 0, 0), Err(errno::PERM));
    assert_eq!(open(&mut c, m, 3, "sub/../../file", 0, 0), Err(errno::PERM));
    assert_eq!(
        open(&mut c, m, 3, "sub/deeper/../../..", oflags::DIRECTORY, 0),
        Err(errno::PERM)
    );
    open(&mut c, m, 3, "sub/deeper/../..", oflags::DIRECTORY, 0).unwrap();
    // `..` is checked against the fd's own directory.
    let sub = open(&mut c, m, 3, "sub", oflags::DIRECTORY, 0).unwrap();
    assert_eq!(open(&mut c, m, sub, "../file", 0, 0), Err(errno::PERM));
    // A symlink pointing out, followed or walked through.
    assert_eq!(
        open_full(&mut c, m, 3, true, "escape", 0, 0, 0),
        Err(errno::PERM)
    );
    assert_eq!(open(&mut c, m, 3, "escape/x", 0, 0), Err(errno::PERM));
    assert_eq!(pstat(&mut c, m, 3, "escape", true), Err(errno::PERM));
    assert_eq!(
        pstat(&mut c, m, 3, "escape", false).unwrap().filetype,
        filetype::SYMBOLIC_LINK
    );
    assert_eq!(
        symlink(&mut c, m, "/etc/passwd", 3, "abs"),
        Err(errno::PERM)
    );
    // A relative symlink made inside a subdirectory that climbs too far.
    symlink(&mut c, m, "../../..", sub, "up").unwrap();
    assert_eq!(
        open_full(&mut c, m, 3, true, "sub/up", oflags::DIRECTORY, 0, 0),
        Err(errno::PERM)
    );
    symlink(&mut c, m, "..", sub, "parent").unwrap();
    open_full(&mut c, m, 3, true, "sub/parent/file", 0, 0, 0).unwrap();
    // Every path function refuses an absolute path or a climb.
    for p in ["/x", "../x"] {
        assert_eq!(mkdir(&mut c, m, 3, p), Err(errno::PERM));
        assert_eq!(rmdir(&mut c, m, 3, p), Err(errno::PERM));
        assert_eq!(unlink(&mut c, m, 3, p), Err(errno::PERM));
        assert_eq!(pstat(&mut c, m, 3, p, false), Err(errno::PERM));
        assert_eq!(readlink(&mut c, m, 3, p, 10), Err(errno::PERM));
        assert_eq!(symlink(&mut c, m, "file", 3, p), Err(errno::PERM));
        assert_eq!(rename(&mut c, m, 3, "file", 3, p), Err(errno::PERM));
        assert_eq!(rename(&mut c, m, 3, p, 3, "y"), Err(errno::PERM));
        assert_eq!(link(&mut c, m, 3, "file", p, false), Err(errno::PERM));
    }
    // Between two preopens: no way from one to the other by path.
    assert_eq!(open(&mut c, m, 4, "../file", 0, 0), Err(errno::PERM));
}

#[test]
fn directories_and_readdir_over_both_layers() {
    setup!(board, c, m);
    let mut root = names(&mut c, m, 3);
    root.sort();
    assert_eq!(
        root,
        [
            &b"."[..],
            b"..",
            b"big.bin",
            b"escape",
            b"file",
            b"loop",
            b"sub",
            b"to_inner"
        ]
    );
    // Change both layers: delete from the image, add in RAM.
    unlink(&mut c, m, 3, "big.bin").unwrap();
    unlink(&mut c, m, 3, "loop").unwrap();
    mkdir(&mut c, m, 3, "made").unwrap();
    let f = open(&mut c, m, 3, "made/new", oflags::CREAT, ALL_RW).unwrap();
    close(&mut c, m, f).unwrap();
    rename(&mut c, m, 3, "file", 3, "renamed").unwrap();
    let mut root = names(&mut c, m, 3);
    root.sort();
    assert_eq!(
        root,
        [
            &b"."[..],
            b"..",
            b"escape",
            b"made",
            b"renamed",
            b"sub",
            b"to_inner"
        ]
    );
    // d_ino matches the stat of each entry; `.` is the directory itself.
    let (entries, used) = readdir(&mut c, m, 3, 0, 4096).unwrap();
    assert!(used < 4096);
    let dot = fstat(&mut c, m, 3).unwrap();
    assert_eq!(
        (entries[0].1, entries[0].2, &entries[0].3[..]),
        (dot.ino, filetype::DIRECTORY, &b"."[..])
    );
    assert_eq!(&entries[1].3[..], b"..");
    for (next, ino, ty, name) in &entries[2..] {
        let st = pstat(&mut c, m, 3, core::str::from_utf8(name).unwrap(), false).unwrap();
        assert_eq!((*ino, *ty), (st.ino, st.filetype), "{name:?}");
        assert!(*next > 2);
    }
    // Cookies resume after an entry; a short buffer cuts the last entry.
    let (rest, _) = readdir(&mut c, m, 3, entries[3].0, 4096).unwrap();
    assert_eq!(rest.len(), entries.len() - 4);
    assert_eq!(rest[0].3, entries[4].3);
    let (short, used) = readdir(&mut c, m, 3, 0, 30).unwrap();
    assert_eq!((short.len(), used), (1, 30), "full buffer means: ask again");
    let (none, used) = readdir(&mut c, m, 3, 100, 4096).unwrap();
    assert_eq!((none.len(), used), (0, 0));
    assert_eq!(
        c.fd_readdir(m, 3, MEM as u32 - 10, 100, 0, OUT),
        Err(errno::FAULT)
    );
    // A thousand files, read back in pieces.
    for i in 0..1000 {
        let f = open(&mut c, m, 4, &alloc::format!("file.{i}"), oflags::CREAT, 0).unwrap();
        close(&mut c, m, f).unwrap();
    }
    let (mut total, mut cookie) = (0, 0);
    loop {
        let (e, used) = readdir(&mut c, m, 4, cookie, 256).unwrap();
        total += e.len();
        if used < 256 {
            break;
        }
        cookie = e[e.len() - 1].0;
    }
    assert_eq!(total, 1002);
    // Directory removal rules.
    assert_eq!(rmdir(&mut c, m, 3, "sub"), Err(errno::NOTEMPTY));
    assert_eq!(rmdir(&mut c, m, 3, "renamed"), Err(errno::NOTDIR));
    assert_eq!(rmdir(&mut c, m, 3, "renamed/"), Err(errno::NOTDIR));
    assert_eq!(rmdir(&mut c, m, 3, "nothing"), Err(errno::NOENT));
    assert_eq!(rmdir(&mut c, m, 3, "."), Err(errno::INVAL));
    assert_eq!(mkdir(&mut c, m, 3, "made"), Err(errno::EXIST));
    assert_eq!(mkdir(&mut c, m, 3, "."), Err(errno::EXIST));
    assert_eq!(mkdir(&mut c, m, 3, "no/such"), Err(errno::NOENT));
    mkdir(&mut c, m, 3, "trail/").unwrap();
    rmdir(&mut c, m, 3, "trail/").unwrap();
    assert_eq!(unlink(&mut c, m, 3, "made"), Err(errno::ISDIR));
    assert_eq!(unlink(&mut c, m, 3, "made/"), Err(errno::ISDIR));
    assert_eq!(unlink(&mut c, m, 3, "renamed/"), Err(errno::NOTDIR));
    unlink(&mut c, m, 3, "made/new").unwrap();
    rmdir(&mut c, m, 3, "made").unwrap();
    assert_eq!(c.fd_readdir(m, 5, BUF, 100, 0, OUT), Err(errno::BADF));
    // An open directory that was removed lists as empty.
    mkdir(&mut c, m, 3, "gone").unwrap();
    let g = open(&mut c, m, 3, "gone", oflags::DIRECTORY, 0).unwrap();
    rmdir(&mut c, m, 3, "gone").unwrap();
    assert_eq!(names(&mut c, m, g), [&b"."[..], b".."]);
    assert_eq!(open(&mut c, m, g, "f", oflags::CREAT, 0), Err(errno::NOENT));
}

#[test]
fn stat_links_symlinks_rename() {
    setup!(board, c, m);
    let st = pstat(&mut c, m, 3, "to_inner", true).unwrap();
    assert_eq!((st.filetype, st.size), (filetype::REGULAR_FILE, 5));
    let st = pstat(&mut c, m, 3, "to_inner", false).unwrap();
    assert_eq!((st.filetype, st.size), (filetype::SYMBOLIC_LINK, 13));
    assert_eq!(
        pstat(&mut c, m, 3, ".", false).unwrap().filetype,
        filetype::DIRECTORY
    );
    assert_eq!(pstat(&mut c, m, 3, "nope", false), Err(errno::NOENT));
    assert_eq!(pstat(&mut c, m, 3, "file/", false), Err(errno::NOTDIR));
    let (p, l) = put(m, P1, b"file");
    assert_eq!(c.path_filestat_get(m, 3, 4, p, l, OUT), Err(errno::INVAL));
    assert_eq!(c.path_filestat_get(m, 1, 0, p, l, OUT), Err(errno::BADF));
    // Times by path, of the link or of its target.
    let (p, l) = put(m, P1, b"to_inner");
    c.path_filestat_set_times(m, 3, 0, p, l, 11, 22, fstflags::ATIM | fstflags::MTIM)
        .unwrap();
    let st = pstat(&mut c, m, 3, "to_inner", false).unwrap();
    assert_eq!((st.atim, st.mtim), (11, 22));
    assert_ne!(
        pstat(&mut c, m, 3, "sub/inner.txt", false).unwrap().mtim,
        22
    );
    let (p, l) = put(m, P1, b"to_inner");
    c.path_filestat_set_times(m, 3, 1, p, l, 0, 33, fstflags::MTIM)
        .unwrap();
    assert_eq!(
        pstat(&mut c, m, 3, "sub/inner.txt", false).unwrap().mtim,
        33
    );
    let (p, l) = put(m, P1, b"to_inner");
    assert_eq!(
        c.path_filestat_set_times(m, 3, 0, p, l, 0, 0, fstflags::MTIM | fstflags::MTIM_NOW),
        Err(errno::INVAL)
    );
    // readlink, with a short buffer.
    assert_eq!(
        readlink(&mut c, m, 3, "to_inner", 100).unwrap(),
        b"sub/inner.txt"
    );
    assert_eq!(readlink(&mut c, m, 3, "to_inner", 3).unwrap(), b"sub");
    assert_eq!(readlink(&mut c, m, 3, "file", 100), Err(errno::INVAL));
    assert_eq!(readlink(&mut c, m, 3, "none", 100), Err(errno::NOENT));
    // Hard links share the inode.
    let f = open(&mut c, m, 3, "file", 0, rights::FD_READ).unwrap();
    link(&mut c, m, 3, "file", "hard", false).unwrap();
    let h = open(&mut c, m, 3, "hard", 0, rights::FD_READ).unwrap();
    assert_eq!(fstat(&mut c, m, f).unwrap(), fstat(&mut c, m, h).unwrap());
    assert_eq!(fstat(&mut c, m, f).unwrap().nlink, 2);
    assert_eq!(link(&mut c, m, 3, "file", "hard", false), Err(errno::EXIST));
    assert_eq!(link(&mut c, m, 3, "file", "file", false), Err(errno::EXIST));
    assert_eq!(
        link(&mut c, m, 3, "sub", "dirlink", false),
        Err(errno::PERM)
    );
    assert_eq!(
        link(&mut c, m, 3, "file", "newlink/", false),
        Err(errno::NOENT)
    );
    assert_eq!(link(&mut c, m, 3, "to_inner", "x", true), Err(errno::INVAL));
    link(&mut c, m, 3, "loop", "loop2", false).unwrap();
    assert_eq!(
        pstat(&mut c, m, 3, "loop2", false).unwrap().filetype,
        filetype::SYMBOLIC_LINK
    );
    let (p1, l1) = put(m, P1, b"file");
    let (p2, l2) = put(m, P2, b"x");
    assert_eq!(c.path_link(m, 3, 0, p1, l1, f, p2, l2), Err(errno::BADF));
    // Dangling fd: an unlinked file stays readable while open.
    unlink(&mut c, m, 3, "file").unwrap();
    unlink(&mut c, m, 3, "hard").unwrap();
    assert_eq!(read(&mut c, m, f, 5).unwrap(), b"image");
    assert_eq!(fstat(&mut c, m, f).unwrap().nlink, 0);
    let again = open(&mut c, m, 3, "file", oflags::CREAT, 0).unwrap();
    assert_eq!(fstat(&mut c, m, again).unwrap().size, 0);
    // Symlink creation rules.
    symlink(&mut c, m, "dangling", 3, "dl").unwrap();
    assert_eq!(symlink(&mut c, m, "x", 3, "dl"), Err(errno::EXIST));
    assert_eq!(symlink(&mut c, m, "x", 3, "sub"), Err(errno::EXIST));
    assert_eq!(symlink(&mut c, m, "x", 3, "nl/"), Err(errno::NOENT));
    assert_eq!(symlink(&mut c, m, "", 3, "empty"), Err(errno::NOENT));
    assert_eq!(
        open_full(&mut c, m, 3, true, "dl", 0, 0, 0),
        Err(errno::NOENT)
    );
    // Creating through a dangling symlink creates its target.
    let t = open_full(&mut c, m, 3, true, "dl", oflags::CREAT, ALL_RW, 0).unwrap();
    write(&mut c, m, t, b"via link").unwrap();
    assert_eq!(pstat(&mut c, m, 3, "dangling", false).unwrap().size, 8);
    // Rename rules.
    mkdir(&mut c, m, 3, "d1").unwrap();
    mkdir(&mut c, m, 3, "d2").unwrap();
    rename(&mut c, m, 3, "d1", 3, "d2").unwrap();
    assert_eq!(pstat(&mut c, m, 3, "d1", false), Err(errno::NOENT));
    assert_eq!(rename(&mut c, m, 3, "d2", 3, "sub"), Err(errno::NOTEMPTY));
    assert_eq!(
        rename(&mut c, m, 3, "d2", 3, "dangling"),
        Err(errno::NOTDIR)
    );
    assert_eq!(rename(&mut c, m, 3, "dangling", 3, "d2"), Err(errno::ISDIR));
    assert_eq!(
        rename(&mut c, m, 3, "sub", 3, "sub/deeper/x"),
        Err(errno::INVAL)
    );
    assert_eq!(
        rename(&mut c, m, 3, "dangling", 3, "target/"),
        Err(errno::NOTDIR)
    );
    assert_eq!(rename(&mut c, m, 3, "nothing", 3, "x"), Err(errno::NOENT));
    rename(&mut c, m, 3, "d2/", 3, "d3/").unwrap();
    rename(&mut c, m, 3, "dangling", 4, "moved").unwrap();
    assert_eq!(pstat(&mut c, m, 4, "moved", false).unwrap().size, 8);
    rename(&mut c, m, 4, "moved", 4, "moved").unwrap();
    // A directory renamed while open keeps working through its fd.
    let sub = open(&mut c, m, 3, "sub", oflags::DIRECTORY, 0).unwrap();
    rename(&mut c, m, 3, "sub", 3, "d3/sub").unwrap();
    let i = open(&mut c, m, sub, "inner.txt", 0, 0).unwrap();
    assert_eq!(read(&mut c, m, i, 10).unwrap(), b"inner");
    assert_eq!(
        pstat(&mut c, m, 3, "d3/sub/deeper", false)
            .unwrap()
            .filetype,
        filetype::DIRECTORY
    );
}

#[test]
fn renumber_and_descriptor_numbers() {
    setup!(board, c, m);
    let a = open(&mut c, m, 3, "file", 0, rights::FD_READ).unwrap();
    let b = open(&mut c, m, 3, "sub/inner.txt", 0, rights::FD_READ).unwrap();
    assert_eq!((a, b), (5, 6));
    c.fd_renumber(m, a, b).unwrap();
    assert_eq!(read(&mut c, m, b, 5).unwrap(), b"image");
    assert_eq!(c.fd_fdstat_get(m, a, OUT), Err(errno::BADF));
    assert_eq!(c.fd_renumber(m, a, b), Err(errno::BADF));
    assert_eq!(c.fd_renumber(m, b, 99), Err(errno::BADF));
    c.fd_renumber(m, b, b).unwrap();
    // Renumbering stdin onto a file closes the file and frees fd 0.
    c.fd_renumber(m, 0, b).unwrap();
    assert_eq!(c.fd_fdstat_get(m, 0, OUT), Err(errno::BADF));
    assert_eq!(read(&mut c, m, b, 6).unwrap(), b"typed ");
    let n = open(&mut c, m, 3, "file", 0, 0).unwrap();
    assert_eq!(n, 5, "the highest closed number comes first");
    let n2 = open(&mut c, m, 3, "file", 0, 0).unwrap();
    assert_eq!(n2, 0);
    let n3 = open(&mut c, m, 3, "file", 0, 0).unwrap();
    assert_eq!(n3, 7);
}

#[test]
fn poll_oneoff_clocks_and_fds() {
    setup!(board, c, m);
    let sub =
        |m: &mut GuestMemory, i: u32, userdata: u64, tag: u8, a: u32, timeout: u64, flags: u16| {
            let at = BUF + i * size::SUBSCRIPTION;
            m.write_bytes(at, &[0; 48]).unwrap();
            m.write_u64(at, userdata).unwrap();
            m.write_bytes(at + 8, &[tag]).unwrap();
            m.write_u32(at + 16, a).unwrap();
            m.write_u64(at + 24, timeout).unwrap();
            m.write_bytes(at + 40, &flags.to_le_bytes()).unwrap();
        };
    const EV: u32 = 0x3000;
    let event = |m: &mut GuestMemory, i: u32| {
        let at = EV + i * size::EVENT;
        let b = m.bytes(at, 32).unwrap().to_vec();
        (
            u64::from_le_bytes(b[0..8].try_into().unwrap()),
            u16::from_le_bytes([b[8], b[9]]),
            b[10],
            u64::from_le_bytes(b[16..24].try_into().unwrap()),
            u16::from_le_bytes([b[24], b[25]]),
        )
    };
    // A relative clock really waits.
    sub(m, 0, 7, eventtype::CLOCK, clockid::MONOTONIC, 5_000_000, 0);
    c.poll_oneoff(m, BUF, EV, 1, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 1);
    assert_eq!(event(m, 0), (7, 0, eventtype::CLOCK, 0, 0));
    assert_eq!(c.board.slept, 5_000_000);
    // Absolute: already past, no wait.
    sub(
        m,
        0,
        8,
        eventtype::CLOCK,
        clockid::MONOTONIC,
        10,
        subclockflags::ABSTIME,
    );
    c.poll_oneoff(m, BUF, EV, 1, OUT).unwrap();
    assert_eq!((m.read_u32(OUT).unwrap(), c.board.slept), (1, 5_000_000));
    // Realtime absolute, one second ahead.
    let real = c.board.real.unwrap();
    sub(
        m,
        0,
        9,
        eventtype::CLOCK,
        clockid::REALTIME,
        real + 1_000_000_000,
        subclockflags::ABSTIME,
    );
    c.poll_oneoff(m, BUF, EV, 1, OUT).unwrap();
    assert_eq!(c.board.slept, 1_005_000_000);
    // Stdin ready beats a clock; only ready events are reported.
    sub(
        m,
        0,
        1,
        eventtype::CLOCK,
        clockid::MONOTONIC,
        200_000_000,
        0,
    );
    sub(m, 1, 2, eventtype::FD_READ, 0, 0, 0);
    c.poll_oneoff(m, BUF, EV, 2, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 1);
    assert_eq!(event(m, 0), (2, 0, eventtype::FD_READ, 1, 0));
    // Stdin not ready: the clock fires.
    c.board.stdin_ready = false;
    c.poll_oneoff(m, BUF, EV, 2, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 1);
    assert_eq!(event(m, 0).0, 1);
    // Writes are ready at once; files report the bytes left.
    let f = open(&mut c, m, 3, "file", 0, rights::FD_READ).unwrap();
    read(&mut c, m, f, 6).unwrap();
    sub(m, 0, 10, eventtype::FD_WRITE, 1, 0, 0);
    sub(m, 1, 11, eventtype::FD_WRITE, 2, 0, 0);
    sub(m, 2, 12, eventtype::FD_READ, f, 0, 0);
    sub(
        m,
        3,
        13,
        eventtype::CLOCK,
        clockid::MONOTONIC,
        1_000_000_000,
        0,
    );
    let slept = c.board.slept;
    c.poll_oneoff(m, BUF, EV, 4, OUT).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 3);
    assert_eq!(c.board.slept, slept);
    assert_eq!(event(m, 0), (10, 0, eventtype::FD_WRITE, 1, 0));
    assert_eq!(event(m, 1).0, 11);
    assert_eq!(event(m, 2), (12, 0, eventtype::FD_READ, 5, 0));
    read(&mut c, m, f, 100).unwrap();
    c.poll_oneoff(m, BUF, EV, 3, OUT).unwrap();
    assert_eq!(event(m, 2).4, eventrwflags::FD_READWRITE_HANGUP);
    // Errors.
    assert_eq!(c.poll_oneoff(m, BUF, EV, 0, OUT), Err(errno::INVAL));
    sub(m, 0, 1, eventtype::FD_READ, 3, 0, 0);
    assert_eq!(
        c.poll_oneoff(m, BUF, EV, 1, OUT),
        Err(errno::BADF),
        "a directory"
    );
    sub(m, 0, 1, eventtype::FD_WRITE, 0, 0, 0);
    assert_eq!(
        c.poll_oneoff(m, BUF, EV, 1, OUT),
        Err(errno::BADF),
        "stdin is not writable"
    );
    sub(m, 0, 1, eventtype::FD_READ, 55, 0, 0);
    assert_eq!(c.poll_oneoff(m, BUF, EV, 1, OUT), Err(errno::BADF));
    sub(m, 0, 1, 3, 0, 0, 0);
    assert_eq!(c.poll_oneoff(m, BUF, EV, 1, OUT), Err(errno::INVAL));
    sub(m, 0, 1, eventtype::CLOCK, clockid::PROCESS_CPUTIME, 0, 0);
    assert_eq!(c.poll_oneoff(m, BUF, EV, 1, OUT), Err(errno::INVAL));
    sub(m, 0, 1, eventtype::CLOCK, clockid::MONOTONIC, 0, 2);
    assert_eq!(c.poll_oneoff(m, BUF, EV, 1, OUT), Err(errno::INVAL));
    assert_eq!(
        c.poll_oneoff(m, MEM as u32 - 40, EV, 1, OUT),
        Err(errno::FAULT)
    );
    assert_eq!(
        c.poll_oneoff(m, BUF, MEM as u32 - 8, 1, OUT),
        Err(errno::FAULT)
    );
}

#[test]
fn sockets_are_not_there() {
    setup!(board, c, m);
    assert_eq!(c.sock_accept(m, 3, 0, OUT), Err(errno::NOTSOCK));
    assert_eq!(c.sock_accept(m, 30, 0, OUT), Err(errno::BADF));
    assert_eq!(c.sock_accept(m, 3, 0x40, OUT), Err(errno::INVAL));
    assert_eq!(
        c.sock_recv(m, 1, IOV, 1, 0, OUT, OUT + 4),
        Err(errno::NOTSOCK)
    );
    assert_eq!(c.sock_recv(m, 9, IOV, 1, 0, OUT, OUT + 4), Err(errno::BADF));
    assert_eq!(
        c.sock_recv(m, 1, IOV, 1, 4, OUT, OUT + 4),
        Err(errno::INVAL)
    );
    assert_eq!(c.sock_send(m, 2, IOV, 1, 0, OUT), Err(errno::NOTSOCK));
    assert_eq!(c.sock_send(m, 9, IOV, 1, 0, OUT), Err(errno::BADF));
    assert_eq!(c.sock_shutdown(m, 0, 3), Err(errno::NOTSOCK));
    assert_eq!(c.sock_shutdown(m, 9, 1), Err(errno::BADF));
    assert_eq!(c.sock_shutdown(m, 0, 4), Err(errno::INVAL));
}

#[test]
fn without_preopens_only_the_console_exists() {
    let mut board = FakeBoard::new();
    let mut c: Ctx = WasiCtx::new(&mut board, vec![], vec![]);
    let mut mem = vec![0u8; MEM];
    let m = &mut GuestMemory::from_slice(&mut mem);
    assert_eq!(c.fd_prestat_get(m, 3, OUT), Err(errno::BADF));
    assert_eq!(open(&mut c, m, 3, "x", 0, 0), Err(errno::BADF));
    c.args_sizes_get(m, OUT, OUT + 4).unwrap();
    assert_eq!(m.read_u32(OUT).unwrap(), 0);
    assert_eq!(write(&mut c, m, 1, b"ok").unwrap(), 2);
}

#[test]
fn the_file_system_is_told_the_time() {
    struct Spy(Overlay, u64);
    impl FileSystem for Spy {
        fn stat_at(&mut self, d: u64, n: &[u8]) -> Result<crate::fs::Stat, Errno> {
            self.0.stat_at(d, n)
        }
        fn open_at(&mut self, d: u64, n: &[u8], o: crate::fs::OpenOptions) -> Result<u64, Errno> {
            self.0.open_at(d, n, o)
        }
        fn close(&mut self, h: u64) {
            self.0.close(h)
        }
        fn stat(&mut self, h: u64) -> Result<crate::fs::Stat, Errno> {
            self.0.stat(h)
        }
        fn read_at(&mut self, h: u64, o: u64, b: &mut [u8]) -> Result<usize, Errno> {
            self.0.read_at(h, o, b)
        }
        fn write_at(&mut self, h: u64, o: u64, b: &[u8]) -> Result<usize, Errno> {
            self.0.write_at(h, o, b)
        }
        fn set_size(&mut self, h: u64, s: u64) -> Result<(), Errno> {
            self.0.set_size(h, s)
        }
        fn set_times(&mut self, h: u64, a: Option<u64>, m: Option<u64>) -> Result<(), Errno> {
            self.0.set_times(h, a, m)
        }
        fn set_times_at(
            &mut self,
            d: u64,
            n: &[u8],
            a: Option<u64>,
            m: Option<u64>,
        ) -> Result<(), Errno> {
            self.0.set_times_at(d, n, a, m)
        }
        fn sync(&mut self, h: u64) -> Result<(), Errno> {
            self.0.sync(h)
        }
        fn read_dir(
            &mut self,
            d: u64,
            i: u64,
            n: &mut Vec<u8>,
        ) -> Result<Option<crate::fs::DirEntry>, Errno> {
            self.0.read_dir(d, i, n)
        }
        fn create_dir_at(&mut self, d: u64, n: &[u8]) -> Result<(), Errno> {
            self.0.create_dir_at(d, n)
        }
        fn remove_dir_at(&mut self, d: u64, n: &[u8]) -> Result<(), Errno> {
            self.0.remove_dir_at(d, n)
        }
        fn unlink_at(&mut self, d: u64, n: &[u8]) -> Result<(), Errno> {
            self.0.unlink_at(d, n)
        }
        fn rename_at(&mut self, d: u64, n: &[u8], d2: u64, n2: &[u8]) -> Result<(), Errno> {
            self.0.rename_at(d, n, d2, n2)
        }
        fn link_at(&mut self, d: u64, n: &[u8], d2: u64, n2: &[u8]) -> Result<(), Errno> {
            self.0.link_at(d, n, d2, n2)
        }
        fn symlink_at(&mut self, t: &[u8], d: u64, n: &[u8]) -> Result<(), Errno> {
            self.0.symlink_at(t, d, n)
        }
        fn read_link_at(&mut self, d: u64, n: &[u8], t: &mut Vec<u8>) -> Result<(), Errno> {
            self.0.read_link_at(d, n, t)
        }
        fn set_time(&mut self, now: u64) {
            self.1 = now;
            self.0.set_time(now)
        }
    }
    let mut board = FakeBoard::new();
    board.real = None;
    let mut c: Ctx = WasiCtx::new(&mut board, vec![], vec![]);
    let mut fs = Overlay::new();
    let root = fs.add_root(&[]).unwrap();
    c.add_preopens(
        Mount {
            fs: Box::new(Spy(fs, 0)),
            roots: vec![root],
        },
        &[b"."],
    );
    let mut mem = vec![0u8; MEM];
    let m = &mut GuestMemory::from_slice(&mut mem);
    c.board.mono = 4242;
    let f = open(&mut c, m, 3, "f", oflags::CREAT, ALL_RW).unwrap();
    // No date on this board: the monotonic clock stands in.
    assert_eq!(fstat(&mut c, m, f).unwrap().mtim, 4242);
}
