//! Standard streams as `embedded-io` devices over file descriptors 0, 1, 2.

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use crate::syscall::{self, EAGAIN, EINTR};

/// A file descriptor of the process.
pub struct Fd(pub usize);

impl ErrorType for Fd {
    type Error = ErrorKind;
}

fn error(code: isize) -> ErrorKind {
    match -code {
        32 => ErrorKind::BrokenPipe,
        9 => ErrorKind::InvalidInput,
        _ => ErrorKind::Other,
    }
}

impl Write for Fd {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        loop {
            let n = syscall::write(self.0, buf);
            if n >= 0 {
                return Ok(n as usize);
            }
            if n != -EINTR && n != -EAGAIN {
                return Err(error(n));
            }
        }
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

impl Read for Fd {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        loop {
            let n = syscall::read(self.0, buf);
            if n >= 0 {
                return Ok(n as usize);
            }
            if n != -EINTR && n != -EAGAIN {
                return Err(error(n));
            }
        }
    }
}

/// A fixed buffer for formatting one message where allocating is not safe
/// (signal handler, panic).
pub struct LineBuffer {
    bytes: [u8; 256],
    len: usize,
}

impl LineBuffer {
    pub fn new() -> Self {
        LineBuffer {
            bytes: [0; 256],
            len: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl core::fmt::Write for LineBuffer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
