//! NS16550A UART at 0x1000_0000 (byte-spaced registers), polled.
//! QEMU needs no baud setup; a real board's boot loader sets the divisor.

use core::ptr::{read_volatile, write_volatile};

const BASE: usize = 0x1000_0000;
const RBR_THR: usize = 0;
const IER: usize = 1;
const LCR: usize = 3;
const LSR: usize = 5;

const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;
const LSR_TX_IDLE: u8 = 1 << 6;

fn read_reg(offset: usize) -> u8 {
    // SAFETY: an NS16550 register of the virt machine's UART (device memory).
    unsafe { read_volatile((BASE + offset) as *const u8) }
}

fn write_reg(offset: usize, value: u8) {
    // SAFETY: as in `read_reg`.
    unsafe { write_volatile((BASE + offset) as *mut u8, value) }
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
