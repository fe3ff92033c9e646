//! The runtime's own messages (errors, traps, benchmark times) on one of the
//! board's console streams. Programs' firmware formats them with the small
//! [`Sink`] writer instead of `core::fmt`, which would cost several KiB of
//! code on a device; the spec-test driver, which is not linked into
//! programs, uses `core::fmt` through the same type.

use crate::board::{Board, Stream};

/// Somewhere a message can be written piece by piece.
pub trait Sink {
    fn bytes(&mut self, b: &[u8]);

    fn text(&mut self, s: &str) -> &mut Self
    where
        Self: Sized,
    {
        self.bytes(s.as_bytes());
        self
    }

    /// Bytes that may not be UTF-8 or printable (names from a module):
    /// printable ASCII and UTF-8 as they are, other bytes as `\xx`.
    fn name(&mut self, b: &[u8]) -> &mut Self
    where
        Self: Sized,
    {
        for &c in b {
            if c >= 0x20 && c != 0x7f {
                self.bytes(&[c]);
            } else {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.bytes(&[b'\\', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
            }
        }
        self
    }

    fn dec(&mut self, mut n: u64) -> &mut Self
    where
        Self: Sized,
    {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.bytes(&digits[i..]);
        self
    }

    /// `n` with exactly `width` digits (leading zeros).
    fn dec_padded(&mut self, n: u64, width: usize) -> &mut Self
    where
        Self: Sized,
    {
        let mut digits = [b'0'; 20];
        let (mut n, mut i) = (n, digits.len());
        while n > 0 && i > 0 {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.bytes(&digits[digits.len() - width.min(20)..]);
        self
    }
}

pub struct Console<'a, B: Board> {
    board: &'a mut B,
    stream: Stream,
}

impl<'a, B: Board> Console<'a, B> {
    pub fn new(board: &'a mut B, stream: Stream) -> Self {
        Console { board, stream }
    }

    /// A line on stderr starting with `kiln: error: `.
    pub fn error(board: &'a mut B) -> Self {
        let mut c = Console::new(board, Stream::Stderr);
        c.text("kiln: error: ");
        c
    }
}

impl<B: Board> Sink for Console<'_, B> {
    fn bytes(&mut self, b: &[u8]) {
        // A console that cannot take the message has nowhere to report it.
        let _ = embedded_io::Write::write_all(self.board.output(self.stream), b);
    }
}

impl<B: Board> core::fmt::Write for Console<'_, B> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        embedded_io::Write::write_all(self.board.output(self.stream), s.as_bytes())
            .map_err(|_| core::fmt::Error)
    }
}

impl<B: Board> Drop for Console<'_, B> {
    fn drop(&mut self) {
        let _ = embedded_io::Write::flush(self.board.output(self.stream));
    }
}

/// A [`Sink`] over a `core::fmt::Formatter`, so that a message written for
/// a [`Sink`] also implements `Display`.
pub struct FmtSink<'a, 'b>(pub &'a mut core::fmt::Formatter<'b>);

impl Sink for FmtSink<'_, '_> {
    fn bytes(&mut self, b: &[u8]) {
        let _ = match core::str::from_utf8(b) {
            Ok(s) => self.0.write_str(s),
            Err(_) => b
                .iter()
                .try_for_each(|&c| core::fmt::Write::write_char(self.0, c as char)),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    struct Buf(Vec<u8>);
    impl Sink for Buf {
        fn bytes(&mut self, b: &[u8]) {
            self.0.extend_from_slice(b);
        }
    }

    #[test]
    fn numbers_and_names() {
        let mut b = Buf(Vec::new());
        b.dec(0)
            .text(" ")
            .dec(18446744073709551615)
            .text(" ")
            .dec_padded(42, 9);
        b.text(" ").name(b"a\x01\xff");
        assert_eq!(b.0, b"0 18446744073709551615 000000042 a\\01\xff");
    }
}
