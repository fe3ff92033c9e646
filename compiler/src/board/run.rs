//! Starting a firmware: as a process on the host board, under QEMU on the
//! others. A QEMU board has one UART for both output streams; the board
//! marks switches with `ESC ] K ; 1 BEL` (stdout) and `ESC ] K ; 2 BEL`
//! (stderr), which [`Demux`] strips to give the streams back separately.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{Board, ExitDevice};

/// What the program gets besides what is built into the firmware.
#[derive(Default, Clone)]
pub struct Invocation {
    /// Guest arguments after argv[0] (host board).
    pub args: Vec<OsString>,
    /// argv[0] as the guest sees it (host board).
    pub argv0: OsString,
    /// Guest environment (host board).
    pub env: Vec<(OsString, OsString)>,
    /// (host, guest) folders (host board).
    pub dirs: Vec<(OsString, OsString)>,
    /// Collect the output instead of passing it through.
    pub capture: bool,
    /// Stop the run after this long.
    pub timeout: Option<Duration>,
    /// Sample the run and write its profile here (host board).
    pub profile_out: Option<std::path::PathBuf>,
}

/// How a run ended.
pub struct Outcome {
    /// The program's exit status as the board reported it.
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

const SWITCH_PREFIX: &[u8] = b"\x1b]K;";

/// Splits a UART byte stream into stdout and stderr.
#[derive(Default)]
pub struct Demux {
    to_stderr: bool,
    pending: Vec<u8>,
}

impl Demux {
    /// Feeds bytes; calls `out(is_stderr, bytes)` for each run of output.
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(bool, &[u8])) {
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(data);
        let mut start = 0;
        let mut i = 0;
        while i < buf.len() {
            if buf[i] != 0x1b {
                i += 1;
                continue;
            }
            let rest = &buf[i..];
            let seq_len = SWITCH_PREFIX.len() + 2;
            if rest.len() < seq_len
                && SWITCH_PREFIX.starts_with(&rest[..rest.len().min(SWITCH_PREFIX.len())])
            {
                // A possible switch split across reads: keep it for later.
                break;
            }
            if rest.starts_with(SWITCH_PREFIX)
                && rest[seq_len - 1] == 0x07
                && matches!(rest[seq_len - 2], b'1' | b'2')
            {
                if i > start {
                    out(self.to_stderr, &buf[start..i]);
                }
                self.to_stderr = rest[seq_len - 2] == b'2';
                i += seq_len;
                start = i;
            } else {
                i += 1;
            }
        }
        if i > start {
            out(self.to_stderr, &buf[start..i]);
        }
        self.pending = buf[i..].to_vec();
    }
}

fn decode_status(board: &Board, raw: Option<i32>, signal: Option<i32>) -> Result<i32> {
    let Some(code) = raw else {
        return Ok(128 + signal.unwrap_or(0));
    };
    Ok(match board.exit {
        ExitDevice::Native | ExitDevice::SifiveTest | ExitDevice::Semihosting => code,
        ExitDevice::IsaDebugExit if code & 1 == 1 => code >> 1,
        ExitDevice::IsaDebugExit => {
            bail!("QEMU stopped without an exit status from the board (status {code})")
        }
    })
}

/// Runs `firmware` on `board`.
pub fn run(board: &Board, firmware: &Path, inv: &Invocation) -> Result<Outcome> {
    let mut cmd = if board.is_host() {
        let mut cmd = Command::new(firmware);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.arg0(&inv.argv0);
        }
        cmd.args(&inv.args)
            .env_clear()
            .envs(inv.env.iter().map(|(k, v)| (k, v)));
        for (i, (host, guest)) in inv.dirs.iter().enumerate() {
            let mut spec = host.clone();
            spec.push("::");
            spec.push(guest);
            cmd.env(format!("KILN_DIR_{i}"), spec);
        }
        if let Some(path) = &inv.profile_out {
            cmd.env("KILN_PROFILE", path);
        }
        cmd
    } else {
        let Some((program, rest)) = board.run.split_first() else {
            bail!("board {} has no run command", board.name);
        };
        let mut cmd = Command::new(program);
        for arg in rest {
            cmd.arg(arg.replace("{firmware}", &firmware.to_string_lossy()));
        }
        cmd
    };
    let qemu = !board.is_host();
    let piped = inv.capture || qemu;
    // A UART has no end of input: for QEMU boards kiln forwards stdin and
    // sends Ctrl-D (0x04, which the boards read as end of input) at its end.
    cmd.stdin(if inv.capture {
        Stdio::null()
    } else if qemu {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    cmd.stdout(if piped {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    cmd.stderr(if inv.capture {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    let mut child = spawn_retrying(&mut cmd).with_context(|| {
        if qemu {
            format!(
                "cannot start {} for board {} (install QEMU: ./scripts/setup.sh)",
                board.run[0], board.name
            )
        } else {
            format!("cannot start {}", firmware.display())
        }
    })?;

    if let Some(mut input) = child.stdin.take() {
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 || input.write_all(&buf[..n]).is_err() {
                    break;
                }
                let _ = input.flush();
            }
            let _ = input.write_all(&[0x04]);
            let _ = input.flush();
            // Keep the pipe open: QEMU may treat a hang-up as an error.
            std::thread::park();
        });
    }
    // Output readers run on their own threads so that a full pipe never
    // blocks the firmware.
    let stdout_reader = child.stdout.take().map(|mut out| {
        let capture = inv.capture;
        std::thread::spawn(move || {
            let mut demux = Demux::default();
            let (mut so, mut se) = (Vec::new(), Vec::new());
            let mut buf = [0u8; 8192];
            let mut emit = |err: bool, bytes: &[u8]| {
                if capture {
                    if err {
                        se.extend_from_slice(bytes)
                    } else {
                        so.extend_from_slice(bytes)
                    }
                } else if err {
                    let _ = std::io::stderr().write_all(bytes);
                } else {
                    let mut o = std::io::stdout();
                    let _ = o.write_all(bytes);
                    let _ = o.flush();
                }
            };
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if qemu {
                    demux.feed(&buf[..n], &mut emit);
                } else {
                    emit(false, &buf[..n]);
                }
            }
            (so, se)
        })
    });
    let stderr_reader = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        })
    });

    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if inv.timeout.is_some_and(|t| start.elapsed() > t) {
            let _ = child.kill();
            timed_out = true;
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let (stdout, mut stderr) = stdout_reader
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    if let Some(h) = stderr_reader {
        stderr.extend(h.join().unwrap_or_default());
    }
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&status);
    #[cfg(not(unix))]
    let signal = None;
    let status = if timed_out {
        124
    } else {
        decode_status(board, status.code(), signal)?
    };
    Ok(Outcome {
        status,
        stdout,
        stderr,
        timed_out,
    })
}

/// Starts `cmd`, retrying while the executable is busy (ETXTBSY): a firmware
/// just written by this process can still be open for writing in a child
/// that another thread forked meanwhile (`kiln wast` links and starts
/// scripts in parallel) until that child's exec closes it, a few
/// milliseconds at most.
fn spawn_retrying(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 200 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demux(chunks: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        let mut d = Demux::default();
        let (mut o, mut e) = (Vec::new(), Vec::new());
        for c in chunks {
            d.feed(c, &mut |err, b| {
                if err {
                    e.extend_from_slice(b)
                } else {
                    o.extend_from_slice(b)
                }
            });
        }
        (o, e)
    }

    #[test]
    fn switches_route_bytes() {
        let (o, e) = demux(&[b"out1\x1b]K;2\x07err\x1b]K;1\x07out2"]);
        assert_eq!(o, b"out1out2");
        assert_eq!(e, b"err");
    }

    #[test]
    fn switch_split_across_reads() {
        let (o, e) = demux(&[b"a\x1b]", b"K;2", b"\x07b"]);
        assert_eq!(o, b"a");
        assert_eq!(e, b"b");
    }

    #[test]
    fn other_escapes_pass_through() {
        let (o, _) = demux(&[b"\x1b[1mbold\x1b[0m"]);
        assert_eq!(o, b"\x1b[1mbold\x1b[0m");
    }
}
