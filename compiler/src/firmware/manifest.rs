//! The app manifest object: what a firmware runs (a program with its
//! arguments, environment and packed folders, or a spec-test script), and
//! which module descriptors it links.

use std::mem::{offset_of, size_of};

use anyhow::{Result, anyhow};
use cranelift_object::{ObjectBuilder, ObjectModule};
use kiln_runtime::abi::{self, AppManifest, Preopen, Str};

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
