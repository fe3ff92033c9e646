//! The console: one UART carries stdout and stderr, so a write to a stream
//! other than the previous write's is preceded by a switch sequence
//! (`ESC ] K ; 1 BEL` for stdout, `ESC ] K ; 2 BEL` for stderr) that `kiln run`
//! strips to give the two streams back; terminals ignore unknown OSC
//! sequences. Bytes are sent exactly as written (no newline translation).
//! Stdin reads the UART receiver; a 0x04 (Ctrl-D) at the start of a read is
//! the end of input.

use core::convert::Infallible;
use core::sync::atomic::{AtomicBool, Ordering};

use kiln_runtime::board::Stream;

use crate::uart;

const SWITCH_TO_STDOUT: &[u8] = b"\x1b]K;1\x07";
const SWITCH_TO_STDERR: &[u8] = b"\x1b]K;2\x07";
/// Ctrl-D: the host sends it when its input ends.
const END_OF_INPUT: u8 = 0x04;

/// The stream the host is currently routing UART bytes to (stdout at boot).
/// A static so that the panic and fault paths switch correctly too.
static ON_STDERR: AtomicBool = AtomicBool::new(false);

/// Sends `bytes` on `stream`, switching the host's routing first if needed.
pub fn write(stream: Stream, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    let stderr = stream == Stream::Stderr;
    if ON_STDERR.load(Ordering::Relaxed) != stderr {
        uart::write(if stderr {
            SWITCH_TO_STDERR
        } else {
            SWITCH_TO_STDOUT
        });
        ON_STDERR.store(stderr, Ordering::Relaxed);
    }
    uart::write(bytes);
}

/// Writes `value` as `0x` and 16 hex digits on stderr (no `core::fmt`).
pub fn write_hex(value: u64) {
    let mut text = *b"0x0000000000000000";
    for (i, digit) in text[2..].iter_mut().enumerate() {
        let nibble = (value >> (60 - 4 * i)) & 0xf;
        *digit = b"0123456789abcdef"[nibble as usize];
    }
    write(Stream::Stderr, &text);
}

/// Writes `value` in decimal on stderr (no `core::fmt`).
pub fn write_dec(mut value: u64) {
    let mut text = [0u8; 20];
    let mut at = text.len();
    loop {
        at -= 1;
        text[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    write(Stream::Stderr, &text[at..]);
}

/// `Board::Output`: the stream the runtime asked for last.
pub struct Output {
    pub stream: Stream,
}

impl embedded_io::ErrorType for Output {
    type Error = Infallible;
}

impl embedded_io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        write(self.stream, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        uart::flush();
        Ok(())
    }
}

impl core::fmt::Write for Output {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write(self.stream, s.as_bytes());
        Ok(())
    }
}

/// `Board::Stdin`: blocking reads from the UART receiver.
pub struct Stdin {
    /// A 0x04 arrived after other bytes: the next read reports the end.
    end_pending: bool,
}

impl Stdin {
    pub const fn new() -> Self {
        Stdin { end_pending: false }
    }

    /// Whether a read would return without waiting (`Board::stdin_ready`).
    pub fn ready(&self) -> bool {
        self.end_pending || uart::rx_ready()
    }
}

impl embedded_io::ErrorType for Stdin {
    type Error = Infallible;
}

impl embedded_io::Read for Stdin {
    /// Waits for at least one byte, then takes what else has arrived.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.end_pending {
            self.end_pending = false;
            return Ok(0);
        }
        let first = loop {
            if let Some(byte) = uart::try_read() {
                break byte;
            }
            core::hint::spin_loop();
        };
        if first == END_OF_INPUT {
            return Ok(0);
        }
        buf[0] = first;
        let mut len = 1;
        while len < buf.len() {
            match uart::try_read() {
                Some(END_OF_INPUT) => {
                    self.end_pending = true;
                    break;
                }
                Some(byte) => {
                    buf[len] = byte;
                    len += 1;
                }
                None => break,
            }
        }
        Ok(len)
    }
}
