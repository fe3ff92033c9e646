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
    RiscvExtensions {
        vector,
        vector_sha256: vector
            && device_tree_has(device_tree, &["zvknha", "zvknhb"])
            && device_tree_has(device_tree, &["zvkb"]),
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

/// Whether hart 0's entry in the device tree lists an extension `wanted`
/// accepts.
fn device_tree_has(device_tree: usize, wanted: &[&str]) -> bool {
    if !RAM.contains(&device_tree) || !device_tree.is_multiple_of(8) {
        return false;
    }
    // SAFETY: QEMU places the device tree in RAM and passes its address in
    // a1; nothing has written that RAM yet (the heap is not claimed). The
    // reader checks the magic number and sizes before it reads further.
    let Some(tree) = (unsafe { DeviceTree::at(device_tree) }) else {
        return false;
    };
    wanted
        .iter()
        .any(|e| device_tree::riscv_has_extension(&tree, "/cpus/cpu@0", e))
}
