//! The CPU features compiled code may use beyond Kiln's baseline for its
//! architecture, and whether this CPU (and the system's saved vector state)
//! provides them. Only x86_64 is checked: there the same firmware meets many
//! CPUs; an aarch64 or riscv64 board declares its core's extensions.

use crate::abi::CPU_FEATURE_FLAGS;

/// The first feature named in descriptor `flags` that this CPU lacks, by its
/// Cranelift flag name (`has_avx2`).
pub fn missing(flags: u32) -> Option<&'static str> {
    let present = present();
    CPU_FEATURE_FLAGS
        .iter()
        .find(|(_, bit)| flags & bit != 0 && present & bit == 0)
        .map(|(name, _)| *name)
}

/// The features of [`CPU_FEATURE_FLAGS`] this CPU has, by Cranelift name
/// (detected once for all of them).
pub fn available() -> impl Iterator<Item = &'static str> {
    let present = present();
    CPU_FEATURE_FLAGS
        .iter()
        .filter(move |(_, bit)| present & bit != 0)
        .map(|(name, _)| *name)
}

/// Whether this CPU has the feature Cranelift calls `name` (one of
/// [`CPU_FEATURE_FLAGS`]).
pub fn has(name: &str) -> bool {
    CPU_FEATURE_FLAGS
        .iter()
        .any(|(n, bit)| *n == name && present() & bit != 0)
}

/// The descriptor bits of the features this CPU has. AVX and AVX-512 count
/// only when the system saves their register state (CR4.OSXSAVE and
/// XCR0): a bare-metal board that does not turn it on has none of them.
#[cfg(target_arch = "x86_64")]
fn present() -> u32 {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    let bit = |name: &str| {
        CPU_FEATURE_FLAGS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, b)| *b)
    };
    let on = |reg: u32, n: u32| reg & (1 << n) != 0;
    let leaf1 = __cpuid(1);
    let (ebx7, ecx7) = if __cpuid(0).eax >= 7 {
        let l = __cpuid_count(7, 0);
        (l.ebx, l.ecx)
    } else {
        (0, 0)
    };
    let ecx_ext = if __cpuid(0x8000_0000).eax >= 0x8000_0001 {
        __cpuid(0x8000_0001).ecx
    } else {
        0
    };
    let xcr0 = if on(leaf1.ecx, 27) {
        let xcr0: u32;
        // SAFETY: XGETBV exists when CPUID reports OSXSAVE; it reads XCR0.
        unsafe {
            core::arch::asm!("xgetbv", in("ecx") 0, out("eax") xcr0, out("edx") _,
                options(nomem, nostack, preserves_flags));
        }
        xcr0
    } else {
        0
    };
    // XMM and YMM state; then opmask, upper ZMM and ZMM16-31 state.
    let avx_state = xcr0 & 0b110 == 0b110;
    let avx512_state = avx_state && xcr0 & 0xe0 == 0xe0;
    let mut present = 0;
    for (name, usable) in [
        ("has_avx", avx_state && on(leaf1.ecx, 28)),
        ("has_avx2", avx_state && on(ebx7, 5)),
        ("has_fma", avx_state && on(leaf1.ecx, 12)),
        ("has_bmi1", on(ebx7, 3)),
        ("has_bmi2", on(ebx7, 8)),
        ("has_lzcnt", on(ecx_ext, 5)),
        ("has_avx512f", avx512_state && on(ebx7, 16)),
        ("has_avx512vl", avx512_state && on(ebx7, 31)),
        ("has_avx512dq", avx512_state && on(ebx7, 17)),
        ("has_avx512bitalg", avx512_state && on(ecx7, 12)),
        ("has_avx512vbmi", avx512_state && on(ecx7, 1)),
    ] {
        if usable {
            present |= bit(name);
        }
    }
    present
}

/// riscv64 extensions the runtime itself may use, as the board found them
/// (an M-mode board reads `misa` and the device tree's ISA string). Compiled
/// code asks only before the vector loops Kiln makes from scalar Wasm
/// ([`vmctx_features`]): Cranelift emits vector instructions otherwise
/// only for Wasm SIMD, and the board's `isa-flags` name the rest. Both are
/// off until the board says otherwise, so a board that cannot tell runs
/// the scalar code.
#[cfg(target_arch = "riscv64")]
#[derive(Clone, Copy, Debug, Default)]
pub struct RiscvExtensions {
    /// V, with `mstatus.VS` not Off: `memory.copy` and `memory.fill` use
    /// vector registers.
    pub vector: bool,
    /// Zvknha (or Zvknhb) and Zvkb, with V: the boot-time SHA-256 of the
    /// image (`crate::integrity`) uses the vector SHA-2 instructions.
    pub vector_sha256: bool,
}

#[cfg(target_arch = "riscv64")]
static RISCV_VECTOR: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
#[cfg(target_arch = "riscv64")]
static RISCV_VECTOR_SHA256: core::sync::atomic::AtomicBool =
    core::sync::atomic::AtomicBool::new(false);

/// Called by a riscv64 board before it starts the program.
#[cfg(target_arch = "riscv64")]
pub fn set_riscv_extensions(found: RiscvExtensions) {
    use core::sync::atomic::Ordering::Relaxed;
    RISCV_VECTOR.store(found.vector, Relaxed);
    RISCV_VECTOR_SHA256.store(found.vector && found.vector_sha256, Relaxed);
}

/// [`crate::abi::VmCtx::features`] for this core.
pub fn vmctx_features() -> usize {
    #[cfg(target_arch = "riscv64")]
    {
        if riscv_vector() {
            crate::abi::FEATURE_VECTOR
        } else {
            0
        }
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        crate::abi::FEATURE_VECTOR
    }
}

/// Whether the board declared a usable V extension.
#[cfg(target_arch = "riscv64")]
pub(crate) fn riscv_vector() -> bool {
    RISCV_VECTOR.load(core::sync::atomic::Ordering::Relaxed)
}

/// Whether the board declared the vector SHA-256 instructions (and V).
#[cfg(target_arch = "riscv64")]
pub(crate) fn riscv_vector_sha256() -> bool {
    RISCV_VECTOR_SHA256.load(core::sync::atomic::Ordering::Relaxed)
}

/// Not checked off x86_64 (see the module header).
#[cfg(not(target_arch = "x86_64"))]
fn present() -> u32 {
    u32::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime's detection agrees with std's on the machine running the
    /// tests (std checks the same CPUID bits and XCR0).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn detection_agrees_with_std() {
        let std_has = [
            ("has_avx", std::is_x86_feature_detected!("avx")),
            ("has_avx2", std::is_x86_feature_detected!("avx2")),
            ("has_fma", std::is_x86_feature_detected!("fma")),
            ("has_bmi1", std::is_x86_feature_detected!("bmi1")),
            ("has_bmi2", std::is_x86_feature_detected!("bmi2")),
            ("has_lzcnt", std::is_x86_feature_detected!("lzcnt")),
            ("has_avx512f", std::is_x86_feature_detected!("avx512f")),
            ("has_avx512vl", std::is_x86_feature_detected!("avx512vl")),
            ("has_avx512dq", std::is_x86_feature_detected!("avx512dq")),
            (
                "has_avx512bitalg",
                std::is_x86_feature_detected!("avx512bitalg"),
            ),
            (
                "has_avx512vbmi",
                std::is_x86_feature_detected!("avx512vbmi"),
            ),
        ];
        assert_eq!(std_has.len(), CPU_FEATURE_FLAGS.len());
        for (name, expected) in std_has {
            assert_eq!(has(name), expected, "{name}");
        }
    }

    #[test]
    fn no_required_feature_is_never_missing() {
        assert_eq!(missing(crate::abi::FLAG_EXPLICIT_BOUNDS_CHECKS), None);
    }

    #[test]
    fn a_feature_missing_is_named() {
        let all: u32 = CPU_FEATURE_FLAGS.iter().map(|(_, b)| b).sum();
        let absent = CPU_FEATURE_FLAGS.iter().find(|(n, _)| !has(n));
        assert_eq!(missing(all), absent.map(|(n, _)| *n));
    }
}
