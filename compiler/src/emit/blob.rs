//! A block of read-only data with pointer fields the linker fills in: the
//! module descriptor and the app manifest are both laid out with it.

use cranelift_module::{DataDescription, DataId, FuncId, Linkage, Module};
use cranelift_object::ObjectModule;

use anyhow::Result;

/// What a pointer field points to.
#[derive(Clone, Debug)]
pub enum Target {
    /// An offset in this blob.
    Offset(usize),
    /// A function of the same object.
    Func(FuncId),
    /// A global data symbol defined in another object.
    Symbol(String),
}

#[derive(Default)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// (field offset, what it points to)
    pub relocs: Vec<(usize, Target)>,
}

impl Blob {
    /// Appends `size` zero bytes aligned to `align`; returns their offset.
    pub fn reserve(&mut self, size: usize, align: usize) -> usize {
        let at = self.bytes.len().next_multiple_of(align);
        self.bytes.resize(at + size, 0);
        at
    }

    /// Space for `n` values of `T`.
    pub fn array<T>(&mut self, n: usize) -> usize {
        self.reserve(std::mem::size_of::<T>() * n, std::mem::align_of::<T>())
    }

    pub fn put(&mut self, at: usize, bytes: &[u8]) {
        self.bytes[at..at + bytes.len()].copy_from_slice(bytes);
    }
    pub fn u8(&mut self, at: usize, v: u8) {
        self.bytes[at] = v;
    }
    pub fn u32(&mut self, at: usize, v: u32) {
        self.put(at, &v.to_le_bytes());
    }
    pub fn u64(&mut self, at: usize, v: u64) {
        self.put(at, &v.to_le_bytes());
    }

    pub fn pointer(&mut self, at: usize, target: Target) {
        self.relocs.push((at, target));
    }

    /// A `Slice`/`Str` field at `at`: `len` items at blob offset `target`.
    pub fn slice(&mut self, at: usize, target: usize, len: usize) {
        if len > 0 {
            self.pointer(at, Target::Offset(target));
        }
        self.u64(at + 8, len as u64);
    }

    /// Appends `data` (aligned to `align`) and points the `Slice<u8>`/`Str`
    /// field at `at` to it.
    pub fn bytes_field_aligned(&mut self, at: usize, data: &[u8], align: usize) {
        let target = self.reserve(data.len(), align);
        self.put(target, data);
        self.slice(at, target, data.len());
    }

    pub fn bytes_field(&mut self, at: usize, data: &[u8]) {
        self.bytes_field_aligned(at, data, 1);
    }

    /// Defines the blob in `object` as the global symbol `symbol`.
    pub fn define(mut self, object: &mut ObjectModule, symbol: &str) -> Result<DataId> {
        // Keep the size a multiple of 8 so that whatever follows stays aligned.
        self.reserve(0, 8);
        let id = object.declare_data(symbol, Linkage::Export, false, false)?;
        let mut data = DataDescription::new();
        data.set_align(8);
        let own = object.declare_data_in_data(id, &mut data);
        for (at, target) in &self.relocs {
            match target {
                Target::Offset(offset) => data.write_data_addr(*at as u32, own, *offset as i64),
                Target::Func(f) => {
                    let f = object.declare_func_in_data(*f, &mut data);
                    data.write_function_addr(*at as u32, f);
                }
                Target::Symbol(name) => {
                    let other = object.declare_data(name, Linkage::Import, false, false)?;
                    let gv = object.declare_data_in_data(other, &mut data);
                    data.write_data_addr(*at as u32, gv, 0);
                }
            }
        }
        // Explicit bytes, never zero-init: relocations in .bss are dropped.
        data.define(self.bytes.into_boxed_slice());
        object.define_data(id, &data)?;
        Ok(id)
    }
}
