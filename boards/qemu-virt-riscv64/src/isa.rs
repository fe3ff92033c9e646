//! The extensions of this core that the runtime itself may use
//! (`kiln_runtime::cpu::RiscvExtensions`): V from `misa`, the vector SHA-2
//! ones from the ISA string of the device tree QEMU hands over in `a1`.
//! Compiled code does not depend on this: its extensions are the board's
//! `isa-flags`. `-cpu max` has all of these; `-cpu max,v=false` none.

use kiln_runtime::cpu::RiscvExtensions;
use kiln_runtime::device_tree::{self, DeviceTree};

/// RAM of the virt machine (board.toml): a device tree pointer outside it is
/// not one.
const RAM: core::ops::Range<usize> = 0x8000_0000..0xC000_0000;

/// What the core offers. Must run before the heap is claimed: the device
/// tree lies in the RAM the heap later hands out.
pub fn runtime_extensions(device_tree: usize) -> RiscvExtensions {
    let vector = vector_usable();
    // The vector SHA-2 extensions need V: without it the tree is not read.
    let tree = if vector { read(device_tree) } else { None };
    let listed = |names: &[&str]| {
        tree.as_ref().is_some_and(|t| {
            names
                .iter()
                .any(|e| device_tree::riscv_has_extension(t, "/cpus/cpu@0", e))
        })
    };
    RiscvExtensions {
        vector,
        vector_sha256: listed(&["zvknha", "zvknhb"]) && listed(&["zvkb"]),
    }
}

/// Whether the core has the V extension (`misa` bit 21) and `_start` could
/// turn its state on (`mstatus.VS`, read-only zero without V). A core may
/// read `misa` as zero (unimplemented): then the scalar versions run.
fn vector_usable() -> bool {
    const MISA_V: usize = 1 << 21;
    const MSTATUS_VS: usize = 0b11 << 9;
    let (misa, mstatus): (usize, usize);
    // SAFETY: reads two M-mode CSRs, which the firmware may always do.
    unsafe {
        core::arch::asm!("csrr {}, misa", out(reg) misa, options(nomem, nostack));
        core::arch::asm!("csrr {}, mstatus", out(reg) mstatus, options(nomem, nostack));
    }
    misa & MISA_V != 0 && mstatus & MSTATUS_VS != 0
}

/// The device tree at `device_tree`, if it is one.
fn read(device_tree: usize) -> Option<DeviceTree<'static>> {
    if !RAM.contains(&device_tree) || !device_tree.is_multiple_of(8) {
        return None;
    }
    // SAFETY: QEMU places the device tree in RAM and passes its address in
    // a1; nothing has written that RAM yet (the heap is not claimed). The
    // reader checks the magic number and sizes before it reads further.
    unsafe { DeviceTree::at(device_tree) }
}
