//! Raw images for flashing: the loadable segments of a firmware ELF laid
//! out from their lowest load address, gaps filled with zeros.

use anyhow::{Context, Result, bail};
use object::read::elf::{ElfFile64, ProgramHeader};
use object::{Endianness, elf};

/// Largest gap between segments a raw image may fill with zeros.
const MAX_IMAGE: u64 = 256 << 20;

/// Returns (load address, image bytes).
pub fn flat_binary(elf_bytes: &[u8]) -> Result<(u64, Vec<u8>)> {
    let file = ElfFile64::<Endianness>::parse(elf_bytes)
        .context("the firmware is not a 64-bit ELF file")?;
    let endian = file.endian();
    let mut segments = Vec::new();
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != elf::PT_LOAD || ph.p_filesz(endian) == 0 {
            continue;
        }
        let data = ph
            .data(endian, elf_bytes)
            .map_err(|_| anyhow::anyhow!("bad segment in the firmware"))?;
        segments.push((ph.p_paddr(endian), data));
    }
    let Some(base) = segments.iter().map(|(a, _)| *a).min() else {
        bail!("the firmware has no loadable segments");
    };
    let end = segments
        .iter()
        .map(|(a, d)| a + d.len() as u64)
        .max()
        .unwrap_or(base);
    if end - base > MAX_IMAGE {
        bail!(
            "the firmware's segments span {} bytes; too large for a raw image",
            end - base
        );
    }
    let mut image = vec![0u8; (end - base) as usize];
    for (addr, data) in segments {
        let at = (addr - base) as usize;
        image[at..at + data.len()].copy_from_slice(data);
    }
    Ok((base, image))
}
