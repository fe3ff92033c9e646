//! 16550 UART COM1 at I/O port 0x3f8, polled. QEMU needs no baud setup.

const BASE: u16 = 0x3f8;
const RBR_THR: u16 = 0;
const IER: u16 = 1;
const LCR: u16 = 3;
const LSR: u16 = 5;

const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;
const LSR_TX_IDLE: u8 = 1 << 6;

fn read_reg(offset: u16) -> u8 {
    let value: u8;
    // SAFETY: reads a COM1 register; port I/O has no memory effects.
    unsafe {
        core::arch::asm!("in al, dx", out("al") value, in("dx") BASE + offset, options(nomem, nostack, preserves_flags))
    };
    value
}

fn write_reg(offset: u16, value: u8) {
    // SAFETY: writes a COM1 register; port I/O has no memory effects.
    unsafe {
        core::arch::asm!("out dx, al", in("dx") BASE + offset, in("al") value, options(nomem, nostack, preserves_flags))
    };
}

/// 8N1, interrupts off. The FIFO mode is left alone: switching it resets
/// the receive FIFO, which would lose input that arrived before boot.
pub fn init() {
    write_reg(IER, 0);
    write_reg(LCR, 0x03);
}

pub fn write(bytes: &[u8]) {
    for &byte in bytes {
        while read_reg(LSR) & LSR_THR_EMPTY == 0 {
            core::hint::spin_loop();
        }
        write_reg(RBR_THR, byte);
    }
}

/// Waits until every byte has left the transmitter.
pub fn flush() {
    while read_reg(LSR) & LSR_TX_IDLE == 0 {
        core::hint::spin_loop();
    }
}

/// Whether a received byte is waiting.
pub fn rx_ready() -> bool {
    read_reg(LSR) & LSR_DATA_READY != 0
}

/// A received byte, if one is waiting.
pub fn try_read() -> Option<u8> {
    rx_ready().then(|| read_reg(RBR_THR))
}
