//! Linear memory (loads and stores recorded as trap sites with guard
//! regions, checked against the length otherwise), `memory.size`,
//! `memory.grow` and bulk memory through the runtime's builtins, and
//! tables and references (`table.get`/`set`/`size` inline, the rest through
//! builtins).

use kiln_runtime::abi::{TrapKind, builtin};
use kiln_runtime::memory::GUARD_BYTES;
use wasmparser::{MemArg, Operator};

use super::{Compiler, Step, Stored, decline};
use crate::baseline::masm::{Heap, Load, Loc, MacroAssembler, Ty};
use crate::target::BoundsChecks;

impl<M: MacroAssembler> Compiler<'_, '_, M> {
    fn heap(&mut self, memarg: &MemArg, size: u32) -> Step<Heap> {
        let checks = self.env.bounds_checks;
        match checks {
            BoundsChecks::Guard if memarg.offset + u64::from(size) > GUARD_BYTES as u64 => {
                return decline("static offset beyond the guard region");
            }
            BoundsChecks::Explicit if memarg.offset + u64::from(size) > i32::MAX as u64 => {
                return decline("static offset beyond 2 GiB");
            }
            _ => {}
        }
        let out_of_bounds = match checks {
            BoundsChecks::Explicit => Some(self.trap_label(TrapKind::MemoryOutOfBounds)),
            BoundsChecks::Guard => None,
        };
        Ok(Heap {
            checks,
            out_of_bounds,
        })
    }

    /// Records the trap site of an access (a fault with guard regions).
    fn heap_trap(&mut self, at: u32) {
        if self.env.bounds_checks == BoundsChecks::Guard {
            self.traps.push((at, TrapKind::MemoryOutOfBounds as u8));
        }
    }

    fn load(&mut self, memarg: &MemArg, ty: Ty, kind: Load) -> Step {
        let index = self.pop()?;
        // What an earlier store put there, still in a register or known as
        // a constant: this load reads the same bytes, and cannot trap since
        // that store did not.
        if let (Some(local), Load::Plain) = (index.copy_of, kind) {
            let at = Stored {
                local,
                offset: memarg.offset,
                ty,
            };
            if let Some(held) = self.stored(at) {
                // The index's register may take the copy.
                self.free(index);
                let loc = self.copy_free(ty, held)?;
                self.push(ty, loc);
                return Ok(());
            }
        }
        let size = match kind {
            Load::Plain => u32::from(ty.bits() / 8),
            Load::Signed(b) | Load::Unsigned(b) => u32::from(b),
        };
        let heap = self.heap(memarg, size)?;
        // An integer result may take the index's register.
        let dst = match (ty.is_float(), index.loc) {
            (false, Loc::Reg(r)) if !Self::is_pinned(r) => Loc::Reg(r),
            _ => self.alloc_for(ty)?,
        };
        let at = self
            .m
            .heap_load(&heap, kind, ty, dst, index.loc, memarg.offset);
        self.heap_trap(at);
        if dst != index.loc {
            self.free(index);
        }
        self.push(ty, dst);
        Ok(())
    }

    /// Stores the low `bytes` bytes of the value on top of the stack.
    fn store(&mut self, memarg: &MemArg, bytes: u8) -> Step {
        let mut value = self.pop()?;
        // A register or a constant: the access may need every scratch register.
        if let Loc::Slot(_) = value.loc {
            let reg = self.alloc_for(value.ty)?;
            self.load_loc(value.ty, reg, value.loc);
            value.loc = reg;
        }
        let index = self.pop()?;
        let heap = self.heap(memarg, u32::from(bytes))?;
        let at = self
            .m
            .heap_store(&heap, bytes, value.ty, value.loc, index.loc, memarg.offset);
        self.heap_trap(at);
        self.free(value);
        self.free(index);
        self.forget_stored(index, memarg.offset, u64::from(bytes));
        if let Some(local) = index.copy_of
            && bytes * 8 == value.ty.bits()
        {
            let at = Stored {
                local,
                offset: memarg.offset,
                ty: value.ty,
            };
            self.remember_stored(value.loc, at);
        }
        Ok(())
    }

    /// Loads and stores.
    pub(super) fn access_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        use Load::{Plain, Signed, Unsigned};
        match op {
            Operator::I32Load { memarg } => self.load(memarg, Ty::I32, Plain)?,
            Operator::I64Load { memarg } => self.load(memarg, Ty::I64, Plain)?,
            Operator::F32Load { memarg } => self.load(memarg, Ty::F32, Plain)?,
            Operator::F64Load { memarg } => self.load(memarg, Ty::F64, Plain)?,
            Operator::I32Load8S { memarg } => self.load(memarg, Ty::I32, Signed(1))?,
            Operator::I32Load8U { memarg } => self.load(memarg, Ty::I32, Unsigned(1))?,
            Operator::I32Load16S { memarg } => self.load(memarg, Ty::I32, Signed(2))?,
            Operator::I32Load16U { memarg } => self.load(memarg, Ty::I32, Unsigned(2))?,
            Operator::I64Load8S { memarg } => self.load(memarg, Ty::I64, Signed(1))?,
            Operator::I64Load8U { memarg } => self.load(memarg, Ty::I64, Unsigned(1))?,
            Operator::I64Load16S { memarg } => self.load(memarg, Ty::I64, Signed(2))?,
            Operator::I64Load16U { memarg } => self.load(memarg, Ty::I64, Unsigned(2))?,
            Operator::I64Load32S { memarg } => self.load(memarg, Ty::I64, Signed(4))?,
            Operator::I64Load32U { memarg } => self.load(memarg, Ty::I64, Unsigned(4))?,
            Operator::I32Store { memarg } | Operator::F32Store { memarg } => {
                self.store(memarg, 4)?
            }
            Operator::I64Store { memarg } | Operator::F64Store { memarg } => {
                self.store(memarg, 8)?
            }
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                self.store(memarg, 1)?
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                self.store(memarg, 2)?
            }
            Operator::I64Store32 { memarg } => self.store(memarg, 4)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The memory's size and growth, bulk memory, tables and references.
    pub(super) fn memory_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
        match op {
            Operator::MemorySize { mem: 0 } => {
                let r = self.alloc_gpr()?;
                self.m.memory_size(r);
                self.push(Ty::I32, Loc::Reg(r));
            }
            Operator::MemoryGrow { mem: 0 } => {
                self.call_builtin(builtin::MEMORY_GROW, &[], 1)?;
                self.push_builtin_result();
            }
            Operator::MemoryFill { mem: 0 } => {
                self.call_builtin(builtin::MEMORY_FILL, &[], 3)?;
                self.trap_on_status(TrapKind::MemoryOutOfBounds);
            }
            Operator::MemoryCopy {
                dst_mem: 0,
                src_mem: 0,
            } => {
                self.call_builtin(builtin::MEMORY_COPY, &[], 3)?;
                self.trap_on_status(TrapKind::MemoryOutOfBounds);
            }
            Operator::MemoryInit { data_index, mem: 0 } => {
                self.call_builtin(builtin::MEMORY_INIT, &[u64::from(*data_index)], 3)?;
                self.trap_on_status(TrapKind::MemoryOutOfBounds);
            }
            Operator::DataDrop { data_index } => {
                self.call_builtin(builtin::DATA_DROP, &[u64::from(*data_index)], 0)?;
            }
            Operator::TableSize { table } => {
                let r = self.alloc_gpr()?;
                self.m.table_size(r, *table);
                self.push(Ty::I32, Loc::Reg(r));
            }
            Operator::TableGet { table } => {
                let index = self.pop()?;
                let r = self.gpr_of(index)?;
                let oob = self.trap_label(TrapKind::TableOutOfBounds);
                self.m.table_get(*table, r, oob);
                self.push(Ty::I64, Loc::Reg(r));
            }
            Operator::TableSet { table } => {
                let value = self.pop()?;
                let index = self.pop()?;
                let r = self.gpr_of(index)?;
                let oob = self.trap_label(TrapKind::TableOutOfBounds);
                self.m.table_set(*table, r, value.loc, oob);
                self.free(value);
                self.free_gpr(r);
            }
            Operator::TableGrow { table } => {
                self.call_builtin(builtin::TABLE_GROW, &[u64::from(*table)], 2)?;
                self.push_builtin_result();
            }
            Operator::TableFill { table } => {
                self.call_builtin(builtin::TABLE_FILL, &[u64::from(*table)], 3)?;
                self.trap_on_status(TrapKind::TableOutOfBounds);
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let tables = [u64::from(*dst_table), u64::from(*src_table)];
                self.call_builtin(builtin::TABLE_COPY, &tables, 3)?;
                self.trap_on_status(TrapKind::TableOutOfBounds);
            }
            Operator::TableInit { elem_index, table } => {
                let args = [u64::from(*table), u64::from(*elem_index)];
                self.call_builtin(builtin::TABLE_INIT, &args, 3)?;
                self.trap_on_status(TrapKind::TableOutOfBounds);
            }
            Operator::ElemDrop { elem_index } => {
                self.call_builtin(builtin::ELEM_DROP, &[u64::from(*elem_index)], 0)?;
            }
            Operator::RefNull { .. } => self.push(Ty::I64, Loc::Imm(0)),
            Operator::RefIsNull => {
                let v = self.pop()?;
                let r = self.gpr_of(v)?;
                self.m.eqz(Ty::I64, r);
                self.push(Ty::I32, Loc::Reg(r));
            }
            Operator::RefFunc { function_index } => {
                let r = self.alloc_gpr()?;
                self.m.func_ref(r, *function_index);
                self.push(Ty::I64, Loc::Reg(r));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
