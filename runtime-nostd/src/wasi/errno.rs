//! WASI preview1 error numbers (`errno`), as the guest sees them, and the
//! mapping from Linux errnos for boards that run on Linux.

pub type Errno = u16;

pub const SUCCESS: Errno = 0;
pub const TOOBIG: Errno = 1;
pub const ACCES: Errno = 2;
pub const ADDRINUSE: Errno = 3;
pub const ADDRNOTAVAIL: Errno = 4;
pub const AFNOSUPPORT: Errno = 5;
pub const AGAIN: Errno = 6;
pub const ALREADY: Errno = 7;
pub const BADF: Errno = 8;
pub const BADMSG: Errno = 9;
pub const BUSY: Errno = 10;
pub const CANCELED: Errno = 11;
pub const CHILD: Errno = 12;
pub const CONNABORTED: Errno = 13;
pub const CONNREFUSED: Errno = 14;
pub const CONNRESET: Errno = 15;
pub const DEADLK: Errno = 16;
pub const DESTADDRREQ: Errno = 17;
pub const DOM: Errno = 18;
pub const DQUOT: Errno = 19;
pub const EXIST: Errno = 20;
pub const FAULT: Errno = 21;
pub const FBIG: Errno = 22;
pub const HOSTUNREACH: Errno = 23;
pub const IDRM: Errno = 24;
pub const ILSEQ: Errno = 25;
pub const INPROGRESS: Errno = 26;
pub const INTR: Errno = 27;
pub const INVAL: Errno = 28;
pub const IO: Errno = 29;
pub const ISCONN: Errno = 30;
pub const ISDIR: Errno = 31;
pub const LOOP: Errno = 32;
pub const MFILE: Errno = 33;
pub const MLINK: Errno = 34;
pub const MSGSIZE: Errno = 35;
pub const MULTIHOP: Errno = 36;
pub const NAMETOOLONG: Errno = 37;
pub const NETDOWN: Errno = 38;
pub const NETRESET: Errno = 39;
pub const NETUNREACH: Errno = 40;
pub const NFILE: Errno = 41;
pub const NOBUFS: Errno = 42;
pub const NODEV: Errno = 43;
pub const NOENT: Errno = 44;
pub const NOEXEC: Errno = 45;
pub const NOLCK: Errno = 46;
pub const NOLINK: Errno = 47;
pub const NOMEM: Errno = 48;
pub const NOMSG: Errno = 49;
pub const NOPROTOOPT: Errno = 50;
pub const NOSPC: Errno = 51;
pub const NOSYS: Errno = 52;
pub const NOTCONN: Errno = 53;
pub const NOTDIR: Errno = 54;
pub const NOTEMPTY: Errno = 55;
pub const NOTRECOVERABLE: Errno = 56;
pub const NOTSOCK: Errno = 57;
pub const NOTSUP: Errno = 58;
pub const NOTTY: Errno = 59;
pub const NXIO: Errno = 60;
pub const OVERFLOW: Errno = 61;
pub const OWNERDEAD: Errno = 62;
pub const PERM: Errno = 63;
pub const PIPE: Errno = 64;
pub const PROTO: Errno = 65;
pub const PROTONOSUPPORT: Errno = 66;
pub const PROTOTYPE: Errno = 67;
pub const RANGE: Errno = 68;
pub const ROFS: Errno = 69;
pub const SPIPE: Errno = 70;
pub const SRCH: Errno = 71;
pub const STALE: Errno = 72;
pub const TIMEDOUT: Errno = 73;
pub const TXTBSY: Errno = 74;
pub const XDEV: Errno = 75;
pub const NOTCAPABLE: Errno = 76;

/// WASI errno for each Linux errno (the asm-generic numbering that x86_64,
/// aarch64 and riscv64 share), from 0 to 131; 0 where Linux has no such
/// number. Boards that run on Linux (the host board) use [`from_linux`].
#[rustfmt::skip]
const FROM_LINUX: [u8; 132] = {
    let pairs: &[(usize, Errno)] = &[
        (1, PERM), (2, NOENT), (3, SRCH), (4, INTR), (5, IO), (6, NXIO), (7, TOOBIG), (8, NOEXEC),
        (9, BADF), (10, CHILD), (11, AGAIN), (12, NOMEM), (13, ACCES), (14, FAULT), (16, BUSY),
        (17, EXIST), (18, XDEV), (19, NODEV), (20, NOTDIR), (21, ISDIR), (22, INVAL), (23, NFILE),
        (24, MFILE), (25, NOTTY), (26, TXTBSY), (27, FBIG), (28, NOSPC), (29, SPIPE), (30, ROFS),
        (31, MLINK), (32, PIPE), (33, DOM), (34, RANGE), (35, DEADLK), (36, NAMETOOLONG),
        (37, NOLCK), (38, NOSYS), (39, NOTEMPTY), (40, LOOP), (42, NOMSG), (43, IDRM),
        (67, NOLINK), (71, PROTO), (72, MULTIHOP), (74, BADMSG), (75, OVERFLOW), (84, ILSEQ),
        (88, NOTSOCK), (89, DESTADDRREQ), (90, MSGSIZE), (91, PROTOTYPE), (92, NOPROTOOPT),
        (93, PROTONOSUPPORT), (95, NOTSUP), (97, AFNOSUPPORT), (98, ADDRINUSE),
        (99, ADDRNOTAVAIL), (100, NETDOWN), (101, NETUNREACH), (102, NETRESET),
        (103, CONNABORTED), (104, CONNRESET), (105, NOBUFS), (106, ISCONN), (107, NOTCONN),
        (110, TIMEDOUT), (111, CONNREFUSED), (113, HOSTUNREACH), (114, ALREADY),
        (115, INPROGRESS), (116, STALE), (122, DQUOT), (125, CANCELED), (130, OWNERDEAD),
        (131, NOTRECOVERABLE),
    ];
    let mut table = [0u8; 132];
    let mut i = 0;
    while i < pairs.len() {
        table[pairs[i].0] = pairs[i].1 as u8;
        i += 1;
    }
    table
};

/// The WASI errno for a Linux errno (positive, as in `errno`, or negative,
/// as a raw syscall returns it); `IO` for one WASI has no name for.
pub fn from_linux(linux_errno: i32) -> Errno {
    match FROM_LINUX.get(linux_errno.unsigned_abs() as usize) {
        Some(&e) if e != 0 => e as Errno,
        _ => IO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_errnos_map_to_wasi() {
        assert_eq!(from_linux(2), NOENT);
        assert_eq!(from_linux(-2), NOENT);
        assert_eq!(from_linux(40), LOOP);
        assert_eq!(from_linux(39), NOTEMPTY);
        assert_eq!(from_linux(95), NOTSUP);
        assert_eq!(from_linux(131), NOTRECOVERABLE);
        assert_eq!(from_linux(0), IO);
        assert_eq!(from_linux(41), IO, "no Linux errno 41");
        assert_eq!(from_linux(500), IO);
        assert_eq!(from_linux(i32::MIN), IO);
    }
}
