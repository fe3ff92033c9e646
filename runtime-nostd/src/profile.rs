//! Sampling profiles: which compiled functions a run spends its time in.
//!
//! A board that can interrupt itself periodically (the host board's
//! `SIGPROF` timer) calls [`sample`] with the interrupted PC; at exit it
//! calls [`write`] and stores the text where the user asked. `kiln compile
//! --profile` reads it back: the functions that were sampled are compiled
//! with the optimising tier, the rest with the fast one (see the compiler's
//! `profile` module and docs/performance.md).
//!
//! The format is text, one section per module of the firmware:
//!
//! ```text
//! kiln-profile 1
//! module NAME SHA256-OF-THE-WASM
//! FUNCTION-INDEX SAMPLES        (most sampled first)
//! ...
//! outside SAMPLES               (runtime, host functions, system calls)
//! ```
//!
//! [`sample`] runs in a signal handler or an interrupt: it only reads the
//! index built by [`start`] and increments an atomic counter.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use crate::abi::{AppManifest, ModuleDescriptor};

/// Version of the text format (the first line).
pub const FORMAT: &str = "kiln-profile 1";

/// One function's code, for the PC lookup.
struct Range {
    start: usize,
    end: usize,
    /// Index into [`Profile::counts`].
    slot: u32,
}

struct Profile {
    /// Sorted by `start`; code ranges do not overlap.
    ranges: Vec<Range>,
    /// Per module, its descriptor and the slot of its function 0.
    modules: Vec<(&'static ModuleDescriptor, u32)>,
    counts: Box<[AtomicU32]>,
    outside: AtomicU32,
}

static PROFILE: AtomicPtr<Profile> = AtomicPtr::new(core::ptr::null_mut());

/// Starts counting samples for the modules of `manifest`. Call once, before
/// the board starts its sampling timer.
pub fn start(manifest: &'static AppManifest) {
    // SAFETY: the manifest and the descriptors it lists are static data.
    let modules: Vec<&'static ModuleDescriptor> = unsafe { manifest.modules.as_slice() }
        .iter()
        .map(|&d| unsafe { &*d })
        .collect();
    let profile = Box::new(Profile::new(&modules));
    PROFILE.store(Box::into_raw(profile), Ordering::Release);
}

/// Counts one sample at `pc`. Safe to call from a signal handler or an
/// interrupt at any time; does nothing before [`start`].
pub fn sample(pc: usize) {
    let p = PROFILE.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: published once by `start` and never freed.
        unsafe { &*p }.sample(pc);
    }
}

/// Writes the profile in the text format through `out`; false if there is
/// none (no [`start`]).
pub fn write(out: &mut dyn Write) -> Result<bool, core::fmt::Error> {
    let p = PROFILE.load(Ordering::Acquire);
    if p.is_null() {
        return Ok(false);
    }
    // SAFETY: as in `sample`; the counters are only read.
    unsafe { &*p }.write(out)?;
    Ok(true)
}

impl Profile {
    fn new(descriptors: &[&'static ModuleDescriptor]) -> Profile {
        let mut ranges = Vec::new();
        let mut modules = Vec::new();
        let mut slots = 0u32;
        for &module in descriptors {
            // SAFETY: descriptors are static data emitted by the compiler.
            let funcs = unsafe { module.funcs.as_slice() };
            modules.push((module, slots));
            for (i, f) in funcs.iter().enumerate() {
                let start = f.code as usize;
                if f.code_len > 0 {
                    ranges.push(Range {
                        start,
                        end: start + f.code_len as usize,
                        slot: slots + i as u32,
                    });
                }
            }
            slots += funcs.len() as u32;
        }
        ranges.sort_unstable_by_key(|r| r.start);
        Profile {
            ranges,
            modules,
            counts: (0..slots).map(|_| AtomicU32::new(0)).collect(),
            outside: AtomicU32::new(0),
        }
    }

    fn sample(&self, pc: usize) {
        let i = self.ranges.partition_point(|r| r.start <= pc);
        let counter = match i.checked_sub(1).map(|i| &self.ranges[i]) {
            Some(r) if pc < r.end => &self.counts[r.slot as usize],
            _ => &self.outside,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self, out: &mut dyn Write) -> core::fmt::Result {
        writeln!(out, "{FORMAT}")?;
        for (i, &(module, first)) in self.modules.iter().enumerate() {
            let end = self
                .modules
                .get(i + 1)
                .map_or(self.counts.len() as u32, |m| m.1);
            let mut sampled: Vec<(u32, u32)> = (first..end)
                .filter_map(|slot| {
                    let n = self.counts[slot as usize].load(Ordering::Relaxed);
                    (n > 0).then_some((slot - first, n))
                })
                .collect();
            // A module without samples still gets its line: a profile of a
            // short run says that nothing ran long enough to matter.
            sampled.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            // SAFETY: descriptor names are static data.
            let name = unsafe { module.name.as_bytes() };
            write!(out, "module {} ", core::str::from_utf8(name).unwrap_or("?"))?;
            for byte in module.wasm_sha256 {
                write!(out, "{byte:02x}")?;
            }
            writeln!(out)?;
            for (index, n) in sampled {
                writeln!(out, "{index} {n}")?;
            }
        }
        writeln!(out, "outside {}", self.outside.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{ABI_VERSION, FuncDesc, MODULE_MAGIC, Slice, Str};
    use alloc::string::String;

    static CODE: [u8; 64] = [0; 64];

    fn func(offset: usize, len: u32) -> FuncDesc {
        FuncDesc {
            code: CODE[offset..].as_ptr(),
            code_len: len,
            type_index: 0,
            traps: Slice::EMPTY,
            name: Str::EMPTY,
        }
    }

    #[test]
    fn samples_count_per_function_and_outside() {
        // Function 1 lies before function 0 in memory; function 2 has no code.
        let funcs: &'static [FuncDesc] =
            Box::leak(Box::new([func(32, 16), func(0, 32), func(48, 0)]));
        let name = "app";
        let module: &'static ModuleDescriptor = Box::leak(Box::new(ModuleDescriptor {
            magic: MODULE_MAGIC,
            abi_version: ABI_VERSION,
            flags: 0,
            wasm_sha256: [0xab; 32],
            name: Str {
                ptr: name.as_ptr(),
                len: name.len(),
            },
            types: Slice::EMPTY,
            funcs: Slice {
                ptr: funcs.as_ptr(),
                len: funcs.len(),
            },
            num_imported_funcs: 0,
            start: u32::MAX,
            tables: Slice::EMPTY,
            memories: Slice::EMPTY,
            globals: Slice::EMPTY,
            imports: Slice::EMPTY,
            exports: Slice::EMPTY,
            elems: Slice::EMPTY,
            datas: Slice::EMPTY,
        }));
        let profile = Profile::new(&[module]);
        let base = CODE.as_ptr() as usize;
        for pc in [
            base,
            base + 31,
            base + 32,
            base + 47,
            base + 47,
            base + 48,
            base - 1,
        ] {
            profile.sample(pc);
        }
        let mut text = String::new();
        profile.write(&mut text).unwrap();
        let sha = "ab".repeat(32);
        assert_eq!(
            text,
            format!("{FORMAT}\nmodule app {sha}\n0 3\n1 2\noutside 2\n")
        );
    }
}
