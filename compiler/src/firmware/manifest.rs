//! The app manifest object: what a firmware runs (a program with its
//! arguments, environment and packed folders, or a spec-test script), which
//! module descriptors it links and its deadline; and [`seal`], which writes
//! the image's integrity digest into the linked manifest.

use std::mem::{offset_of, size_of};

use anyhow::{Context, Result, anyhow, bail};
use cranelift_object::{ObjectBuilder, ObjectModule};
use kiln_runtime::abi::{self, AppManifest, ImageSeal, Preopen, SEAL_RANGES, Str};
use kiln_runtime::integrity::Sha256;
use object::read::elf::{ElfFile64, SectionHeader};
use object::{Endianness, Object, ObjectSection, ObjectSymbol, elf};

use crate::emit::blob::{Blob, Target as Pointer};
use crate::target::Target;

/// A folder given to the guest.
pub struct Folder {
    pub guest_path: String,
    /// A packed read-only image (bare-metal boards), or empty.
    pub image: Vec<u8>,
    /// The host path (host board), or empty.
    pub host_path: String,
}

/// What goes into the manifest.
pub struct Manifest {
    /// An `abi::app_mode`.
    pub mode: u32,
    pub flags: u32,
    /// Descriptor symbols of the linked modules.
    pub modules: Vec<String>,
    pub args: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub folders: Vec<Folder>,
    /// The program gets folders when it starts (host board `--dir`), so the
    /// file systems must be linked even without built-in folders.
    pub files: bool,
    pub script: Vec<u8>,
    /// Wall-clock limit from boot in milliseconds (0: none), enforced by
    /// the board's watchdog.
    pub deadline_ms: u64,
}

impl Manifest {
    pub fn program(module: &str) -> Manifest {
        Manifest {
            mode: abi::app_mode::RUN,
            flags: 0,
            modules: vec![module.to_string()],
            args: Vec::new(),
            env: Vec::new(),
            folders: Vec::new(),
            files: false,
            script: Vec::new(),
            deadline_ms: 0,
        }
    }

    /// Lays out the manifest.
    fn blob(&self) -> Blob {
        let mut b = Blob::default();
        let m = b.array::<AppManifest>(1);
        b.put(m + offset_of!(AppManifest, magic), &abi::APP_MAGIC);
        b.u32(m + offset_of!(AppManifest, abi_version), abi::ABI_VERSION);
        b.u32(m + offset_of!(AppManifest, mode), self.mode);
        b.u32(m + offset_of!(AppManifest, flags), self.flags);
        // The entry point pulls in what this mode needs, and only that.
        let entry = match self.mode {
            abi::app_mode::WAST => abi::ENTRY_RUN_WAST,
            _ if self.files || !self.folders.is_empty() => abi::ENTRY_RUN_PROGRAM_WITH_FILES,
            _ => abi::ENTRY_RUN_PROGRAM,
        };
        b.pointer(
            m + offset_of!(AppManifest, entry),
            Pointer::Symbol(entry.to_string()),
        );

        let modules = b.array::<usize>(self.modules.len());
        for (i, name) in self.modules.iter().enumerate() {
            b.pointer(modules + i * 8, Pointer::Symbol(name.clone()));
        }
        b.slice(
            m + offset_of!(AppManifest, modules),
            modules,
            self.modules.len(),
        );

        for (field, items) in [
            (offset_of!(AppManifest, args), &self.args),
            (offset_of!(AppManifest, env), &self.env),
        ] {
            let strs = b.array::<Str>(items.len());
            for (i, item) in items.iter().enumerate() {
                b.bytes_field(strs + i * size_of::<Str>(), item);
            }
            b.slice(m + field, strs, items.len());
        }

        let folders = b.array::<Preopen>(self.folders.len());
        for (i, f) in self.folders.iter().enumerate() {
            let at = folders + i * size_of::<Preopen>();
            b.bytes_field(
                at + offset_of!(Preopen, guest_path),
                f.guest_path.as_bytes(),
            );
            b.bytes_field_aligned(at + offset_of!(Preopen, image), &f.image, 8);
            b.bytes_field(at + offset_of!(Preopen, host_path), f.host_path.as_bytes());
        }
        b.slice(
            m + offset_of!(AppManifest, preopens),
            folders,
            self.folders.len(),
        );
        b.bytes_field_aligned(m + offset_of!(AppManifest, script), &self.script, 8);
        b.put(
            m + offset_of!(AppManifest, deadline_ms),
            &self.deadline_ms.to_le_bytes(),
        );
        // The seal stays zero here; `seal` fills it in after linking.
        b
    }

    /// The manifest as an object file for `target`.
    pub fn object(&self, target: &Target) -> Result<Vec<u8>> {
        let builder = ObjectBuilder::new(
            target.isa.clone(),
            "kiln_app",
            cranelift_module::default_libcall_names(),
        )?;
        let mut object = ObjectModule::new(builder);
        self.blob().define(&mut object, abi::APP_MANIFEST_SYMBOL)?;
        object
            .finish()
            .emit()
            .map_err(|e| anyhow!("writing the manifest object: {e}"))
    }
}

/// Seals a linked firmware: writes the address and length of every
/// section that must never change while it runs (code, read-only data, and
/// `.data.rel.ro`, where the module descriptors and this manifest live:
/// final at link time in a static image) and their SHA-256, with the
/// digest's own 32 bytes as zeros, into the manifest's [`ImageSeal`], which
/// the runtime checks at boot (`kiln_runtime::integrity`).
pub fn seal(elf_bytes: &mut [u8]) -> Result<()> {
    let (digest_offset, digest_addr, sections) = {
        let file = ElfFile64::<Endianness>::parse(&*elf_bytes)
            .context("the linked firmware is not a 64-bit ELF file")?;
        if file.endian() != Endianness::Little {
            bail!("the linked firmware is big-endian; Kiln targets are little-endian");
        }
        let endian = file.endian();
        let mut sections = Vec::new();
        for section in file.sections() {
            let header = section.elf_section_header();
            let flags = header.sh_flags(endian);
            let name = section.name().unwrap_or("");
            let constant = flags & u64::from(elf::SHF_WRITE) == 0
                || name.starts_with(".rodata")
                || name.starts_with(".data.rel.ro");
            if header.sh_type(endian) == elf::SHT_PROGBITS
                && flags & u64::from(elf::SHF_ALLOC) != 0
                && constant
                && header.sh_size(endian) > 0
            {
                sections.push((
                    header.sh_addr(endian),
                    header.sh_offset(endian),
                    header.sh_size(endian),
                ));
            }
        }
        if sections.len() > SEAL_RANGES {
            bail!(
                "the firmware has {} constant sections; the seal has room for {SEAL_RANGES}",
                sections.len()
            );
        }
        let symbol = file
            .symbols()
            .find(|s| s.name() == Ok(abi::APP_MANIFEST_SYMBOL))
            .context("the linked firmware has no app manifest")?;
        let at = symbol.address()
            + (offset_of!(AppManifest, seal) + offset_of!(ImageSeal, digest)) as u64;
        let offset =
            file_offset(&sections, at).context("the app manifest is not in a sealed section")?;
        (offset as usize, at, sections)
    };
    let seal_offset = digest_offset - offset_of!(ImageSeal, digest);
    if seal_offset + size_of::<ImageSeal>() > elf_bytes.len() {
        bail!("the app manifest lies outside the linked firmware file");
    }
    let put = |bytes: &mut [u8], at: usize, value: u64| {
        bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    };
    put(
        elf_bytes,
        seal_offset + offset_of!(ImageSeal, digest_at),
        digest_addr,
    );
    for (i, (addr, _, size)) in sections.iter().enumerate() {
        let slot = seal_offset + offset_of!(ImageSeal, ranges) + i * 16;
        put(elf_bytes, slot, *addr);
        put(elf_bytes, slot + 8, *size);
    }
    elf_bytes[digest_offset..digest_offset + 32].fill(0);
    let mut hash = Sha256::new();
    for (_, offset, size) in &sections {
        let start = *offset as usize;
        let end = start
            .checked_add(*size as usize)
            .filter(|&e| e <= elf_bytes.len())
            .context("a section of the firmware lies outside the file")?;
        hash.update(&elf_bytes[start..end]);
    }
    let digest = hash.finish();
    elf_bytes[digest_offset..digest_offset + 32].copy_from_slice(&digest);
    Ok(())
}

/// The file offset of the 32 bytes at `at` in one of `sections`
/// (address, offset, size).
fn file_offset(sections: &[(u64, u64, u64)], at: u64) -> Option<u64> {
    sections
        .iter()
        .find(|(vaddr, _, size)| at >= *vaddr && at + 32 <= vaddr + size)
        .map(|(vaddr, offset, _)| offset + (at - vaddr))
}
