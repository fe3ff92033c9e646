//! `core::fmt` output to one of the board's console streams, for the
//! runtime's own messages (errors, traps, test results).

use crate::board::{Board, Stream};

pub struct Console<'a, B: Board> {
    board: &'a mut B,
    stream: Stream,
}

impl<'a, B: Board> Console<'a, B> {
    pub fn new(board: &'a mut B, stream: Stream) -> Self {
        Console { board, stream }
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
