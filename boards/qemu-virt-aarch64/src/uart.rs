//! PL011 UART at 0x0900_0000, polled. QEMU needs no baud setup; a real
//! board's boot loader sets the divisor.

use core::ptr::{read_volatile, write_volatile};

const BASE: usize = 0x0900_0000;
const DR: usize = 0x000;
const FR: usize = 0x018;
const CR: usize = 0x030;
const IMSC: usize = 0x038;

const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const CR_UARTEN: u32 = 1 << 0;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;

fn read_reg(offset: usize) -> u32 {
    // SAFETY: a PL011 register of the virt machine's UART (mapped as device
    // memory by the boot page tables).
    unsafe { read_volatile((BASE + offset) as *const u32) }
}

fn write_reg(offset: usize, value: u32) {
    // SAFETY: as in `read_reg`.
    unsafe { write_volatile((BASE + offset) as *mut u32, value) }
}

/// Enables the UART, transmitter and receiver; interrupts off. The FIFO
/// mode (LCR_H) is left alone: switching it resets the receive FIFO, which
/// would lose input that arrived before boot.
pub fn init() {
    write_reg(IMSC, 0);
    write_reg(CR, CR_UARTEN | CR_TXE | CR_RXE);
}

pub fn write(bytes: &[u8]) {
    for &byte in bytes {
        while read_reg(FR) & FR_TXFF != 0 {
            core::hint::spin_loop();
        }
        write_reg(DR, byte as u32);
    }
}

/// Waits until every byte has left the transmitter.
pub fn flush() {
    while read_reg(FR) & FR_BUSY != 0 {
        core::hint::spin_loop();
    }
}

/// Whether a received byte is waiting.
pub fn rx_ready() -> bool {
    read_reg(FR) & FR_RXFE == 0
}

/// A received byte, if one is waiting.
pub fn try_read() -> Option<u8> {
    rx_ready().then(|| read_reg(DR) as u8)
}
