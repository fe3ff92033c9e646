//! The `spectest` host module the spec scripts import: print functions,
//! four constant globals, a table of 10..20 funcrefs and a memory of 1..2 pages.

use alloc::boxed::Box;

use crate::abi::{self, VmCtx, VmGlobal, valtype};
use crate::instance::{Extern, MemoryStore, TableStore};

pub struct Spectest {
    globals: Box<[VmGlobal; 4]>,
    table: Option<Box<TableStore>>,
    memory: Option<Box<MemoryStore>>,
}

/// The print functions: the driver's output is the test protocol, so they
/// accept their arguments and print nothing.
unsafe extern "C" fn print(_vmctx: *mut VmCtx, _values: *mut u64) {}

impl Spectest {
    pub fn new() -> Self {
        Spectest {
            globals: Box::new([
                VmGlobal::new(666),
                VmGlobal::new(666),
                VmGlobal::new(666.6f32.to_bits() as u64),
                VmGlobal::new(666.6f64.to_bits()),
            ]),
            table: None,
            memory: None,
        }
    }

    pub fn export(&mut self, name: &[u8]) -> Option<Extern> {
        use valtype::{F32, F64, I32, I64};
        let func = |params: &[u8]| {
            Some(Extern::HostFunc {
                signature_id: abi::signature_id(params, &[]),
                func: print,
            })
        };
        let global = |cell: &mut VmGlobal, ty| {
            Some(Extern::Global {
                cell,
                ty,
                mutable: false,
            })
        };
        match name {
            b"print" => func(&[]),
            b"print_i32" => func(&[I32]),
            b"print_i64" => func(&[I64]),
            b"print_f32" => func(&[F32]),
            b"print_f64" => func(&[F64]),
            b"print_i32_f32" => func(&[I32, F32]),
            b"print_f64_f64" => func(&[F64, F64]),
            b"global_i32" => global(&mut self.globals[0], I32),
            b"global_i64" => global(&mut self.globals[1], I64),
            b"global_f32" => global(&mut self.globals[2], F32),
            b"global_f64" => global(&mut self.globals[3], F64),
            b"table" => {
                if self.table.is_none() {
                    self.table = TableStore::new(valtype::FUNCREF, 10, Some(20), 0).ok();
                }
                Some(Extern::Table(&mut **self.table.as_mut()?))
            }
            b"memory" => {
                if self.memory.is_none() {
                    self.memory = MemoryStore::new(1, Some(2)).ok();
                }
                Some(Extern::Memory(&mut **self.memory.as_mut()?))
            }
            _ => None,
        }
    }
}
