//! Linear memory with guard regions: every access is one instruction off
//! r15 (the memory base), recorded as a trap site so that a fault past the
//! memory's length reports "out of bounds memory access"; `memory.size`,
//! `memory.grow` and bulk memory; and tables (`table.get`/`set`/`size`
//! inline, the rest through the runtime's builtins).

use kiln_runtime::abi::{TrapKind, builtin};
use kiln_runtime::memory::GUARD_BYTES;
use wasmparser::{MemArg, Operator};

use super::asm::{Alu, Cond, Gpr, Mem, Width};
use super::{Compiler, Loc, MEMORY_BASE, SCRATCH, SCRATCH2, Step, Ty, VMCTX, Val, decline};
use crate::translate::environ::{self, memory as vm_memory, table as vm_table, vmctx};

/// How a load widens its value.
#[derive(Clone, Copy)]
enum Load {
    /// The full width of its type.
    Plain,
    /// `bytes` bytes, sign- or zero-extended.
    Signed(u8),
    Unsigned(u8),
}

impl Compiler<'_, '_> {
    /// The operand for an access of `size` bytes at `index + offset`, and
    /// the register holding the index (to free after the access).
    fn heap_operand(&mut self, index: Val, memarg: &MemArg, size: u32) -> Step<(Mem, Option<Gpr>)> {
        if memarg.offset + u64::from(size) > GUARD_BYTES as u64 {
            return decline("static offset beyond the guard region");
        }
        let offset = memarg.offset as i32;
        if let Loc::Imm(address) = index.loc {
            let effective = address + memarg.offset;
            if let Ok(disp) = i32::try_from(effective) {
                return Ok((Mem::at(MEMORY_BASE, disp), None));
            }
        }
        // i32 values are kept zero-extended: the index is the 64-bit value.
        let r = self.gpr_of(index)?;
        Ok((Mem::indexed(MEMORY_BASE, r, 0, offset), Some(r)))
    }

    fn load(&mut self, memarg: &MemArg, ty: Ty, kind: Load) -> Step {
        let index = self.pop()?;
        let size = match kind {
            Load::Plain => u32::from(ty.bits() / 8),
            Load::Signed(b) | Load::Unsigned(b) => u32::from(b),
        };
        let (m, index_reg) = self.heap_operand(index, memarg, size)?;
        if ty.is_float() {
            let x = self.alloc_xmm()?;
            self.trap_here(TrapKind::MemoryOutOfBounds);
            self.a.movs_load(ty.is_double(), x, m);
            if let Some(r) = index_reg {
                self.free_gpr(r);
            }
            self.push(ty, Loc::Xmm(x));
            return Ok(());
        }
        // The result may go to the index's own register.
        let r = match index_reg {
            Some(r) => r,
            None => self.alloc_gpr()?,
        };
        self.trap_here(TrapKind::MemoryOutOfBounds);
        match kind {
            Load::Plain => self.a.load(ty.width(), r, m),
            Load::Unsigned(4) => self.a.load(Width::W32, r, m),
            Load::Unsigned(b) => self.a.load_zx(r, m, b),
            Load::Signed(b) => self.a.load_sx(ty.width(), r, m, b),
        }
        self.push(ty, Loc::Gpr(r));
        Ok(())
    }

    /// Stores the low `bytes` bytes of the value on top of the stack.
    fn store(&mut self, memarg: &MemArg, bytes: u8) -> Step {
        let value = self.pop()?;
        let index = self.pop()?;
        let (m, index_reg) = self.heap_operand(index, memarg, u32::from(bytes))?;
        match value.loc {
            // A constant is stored as its bits, whatever its type.
            Loc::Imm(bits) => {
                if bytes == 8 && i32::try_from(bits as i64).is_err() {
                    self.a.mov_imm(SCRATCH, bits);
                    self.trap_here(TrapKind::MemoryOutOfBounds);
                    self.a.store(Width::W64, m, SCRATCH);
                } else {
                    self.trap_here(TrapKind::MemoryOutOfBounds);
                    match bytes {
                        1 => self.a.store8_imm(m, bits as u8),
                        2 => self.a.store16_imm(m, bits as u16),
                        4 => self.a.store_imm(Width::W32, m, bits as u32 as i32),
                        _ => self.a.store_imm(Width::W64, m, bits as i64 as i32),
                    }
                }
            }
            _ if value.ty.is_float() => {
                let x = self.xmm_of(value)?;
                self.trap_here(TrapKind::MemoryOutOfBounds);
                self.a.movs_store(value.ty.is_double(), m, x);
                self.free_xmm(x);
            }
            _ => {
                let r = self.gpr_of(value)?;
                self.trap_here(TrapKind::MemoryOutOfBounds);
                match bytes {
                    1 => self.a.store8(m, r),
                    2 => self.a.store16(m, r),
                    4 => self.a.store(Width::W32, m, r),
                    _ => self.a.store(Width::W64, m, r),
                }
                self.free_gpr(r);
            }
        }
        if let Some(r) = index_reg {
            self.free_gpr(r);
        }
        Ok(())
    }

    pub(super) fn memory_operator(&mut self, op: &Operator<'_>) -> Step<bool> {
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
            Operator::MemorySize { mem: 0 } => {
                let r = self.alloc_gpr()?;
                self.a.load(Width::W64, r, Mem::at(VMCTX, vmctx::MEMORY));
                self.a.load(Width::W64, r, Mem::at(r, vm_memory::LENGTH));
                self.a.shift_ri(super::asm::Shift::Shr, Width::W64, r, 16);
                self.push(Ty::I32, Loc::Gpr(r));
            }
            Operator::MemoryGrow { mem: 0 } => {
                self.call_builtin(builtin::MEMORY_GROW, &[], 1)?;
                self.push_builtin_result(Ty::I32)?;
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
                self.table_pointer(r, *table);
                self.a.load(Width::W32, r, Mem::at(r, vm_table::LENGTH));
                self.push(Ty::I32, Loc::Gpr(r));
            }
            Operator::TableGet { table } => {
                let index = self.pop()?;
                let r = self.gpr_of(index)?;
                self.table_slot(r, *table);
                self.a.load(Width::W64, r, Mem::at(SCRATCH2, 0));
                self.push(Ty::I64, Loc::Gpr(r));
            }
            Operator::TableSet { table } => {
                let value = self.pop()?;
                let index = self.pop()?;
                let r = self.gpr_of(index)?;
                self.table_slot(r, *table);
                self.store_val(value, Mem::at(SCRATCH2, 0));
                self.free(value);
                self.free_gpr(r);
            }
            Operator::TableGrow { table } => {
                self.call_builtin(builtin::TABLE_GROW, &[u64::from(*table)], 2)?;
                self.push_builtin_result(Ty::I32)?;
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
                self.a.test_rr(Width::W64, r, r);
                self.a.setcc(Cond::E, r);
                self.a.zx8_rr(r, r);
                self.push(Ty::I32, Loc::Gpr(r));
            }
            Operator::RefFunc { function_index } => {
                let r = self.alloc_gpr()?;
                self.a.load(Width::W64, r, Mem::at(VMCTX, vmctx::FUNCREFS));
                let offset = i64::from(*function_index) * environ::FUNCREF_SIZE;
                let Ok(offset) = i32::try_from(offset) else {
                    return decline("function index");
                };
                self.a.lea(r, Mem::at(r, offset));
                self.push(Ty::I64, Loc::Gpr(r));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `r = vmctx.tables[table]`.
    fn table_pointer(&mut self, r: Gpr, table: u32) {
        self.a.load(Width::W64, r, Mem::at(VMCTX, vmctx::TABLES));
        self.a.load(Width::W64, r, Mem::at(r, table as i32 * 8));
    }

    /// Leaves in r10 the address of element `index` (in `index`, an i32)
    /// of `table`, after the bounds check.
    fn table_slot(&mut self, index: Gpr, table: u32) {
        self.table_pointer(SCRATCH2, table);
        self.a.alu_rm(
            Alu::Cmp,
            Width::W64,
            index,
            Mem::at(SCRATCH2, vm_table::LENGTH),
        );
        let oob = self.trap_label(TrapKind::TableOutOfBounds);
        self.a.jcc(Cond::Ae, oob);
        self.a
            .load(Width::W64, SCRATCH2, Mem::at(SCRATCH2, vm_table::ELEMENTS));
        self.a.lea(SCRATCH2, Mem::indexed(SCRATCH2, index, 3, 0));
    }

    /// Traps with `kind` when the builtin just called returned non-zero.
    fn trap_on_status(&mut self, kind: TrapKind) {
        self.a.test_rr(Width::W64, Gpr::RAX, Gpr::RAX);
        let trap = self.trap_label(kind);
        self.a.jcc(Cond::Ne, trap);
    }
}
