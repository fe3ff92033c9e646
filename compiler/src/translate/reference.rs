//! Locals, globals, references and tables: `local.*`, `global.*`, `ref.*`
//! and the `table.*` instructions (get/set/size inline, the rest through
//! builtins).

use anyhow::Result;
use cranelift_codegen::ir::{InstBuilder, Value, condcodes::IntCC, types};
use kiln_runtime::abi::{TrapKind, builtin};
use wasmparser::Operator;

use super::FuncTranslator;
use super::builtins::Returns;
use super::environ::{self, POINTER, table};
use crate::module::ConstInit;

impl FuncTranslator<'_, '_> {
    /// `vmctx.tables[index]`: never changes during an instance's life.
    pub(crate) fn table_pointer(&mut self, index: u32) -> Value {
        let tables = self.hoisted_load(self.vmctx, environ::vmctx::TABLES);
        self.hoisted_load(tables, (index * 8) as i32)
    }

    /// The address of element `index` (an i32) of table `table_index`,
    /// after a bounds check.
    fn table_slot(&mut self, table_index: u32, index: Value) -> Value {
        let t = self.table_pointer(table_index);
        let length = self
            .b
            .ins()
            .load(POINTER, self.flags.runtime, t, table::LENGTH);
        let index = self.b.ins().uextend(POINTER, index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, length);
        self.b
            .ins()
            .trapnz(oob, environ::trap(TrapKind::TableOutOfBounds));
        let elements = self
            .b
            .ins()
            .load(POINTER, self.flags.runtime, t, table::ELEMENTS);
        let offset = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(elements, offset)
    }

    fn global_cell(&mut self, index: u32) -> Value {
        let globals = self.hoisted_load(self.vmctx, environ::vmctx::GLOBALS);
        self.hoisted_load(globals, (index * 8) as i32)
    }

    fn global_get(&mut self, index: u32) {
        let global = &self.env.module.globals[index as usize];
        let ty = environ::clif_type(global.ty);
        // An immutable global with a constant initialiser is that constant.
        if let (false, Some(ConstInit::Value(bits))) = (global.mutable, global.init) {
            let v = match global.ty {
                wasmparser::ValType::F32 => self.b.ins().f32const(f32::from_bits(bits as u32)),
                wasmparser::ValType::F64 => self.b.ins().f64const(f64::from_bits(bits)),
                _ => self.b.ins().iconst(ty, bits as i64),
            };
            self.push(v);
            return;
        }
        if let (false, Some(ConstInit::V128(bits))) = (global.mutable, global.init) {
            let v = self.vector_const(ty, bits.to_le_bytes());
            self.push(v);
            return;
        }
        let cell = self.global_cell(index);
        let v = self.b.ins().load(ty, self.flags.runtime, cell, 0);
        self.push(v);
    }

    fn global_set(&mut self, index: u32) {
        let value = self.pop();
        let cell = self.global_cell(index);
        self.b.ins().store(self.flags.runtime, value, cell, 0);
    }

    pub(crate) fn reference_operator(&mut self, op: &Operator<'_>) -> Result<bool> {
        match *op {
            Operator::LocalGet { local_index } => {
                let v = self.b.use_var(self.locals[local_index as usize].0);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let v = self.pop();
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            Operator::LocalTee { local_index } => {
                let v = *self.stack.last().expect("validated: local.tee operand");
                self.b.def_var(self.locals[local_index as usize].0, v);
            }
            Operator::GlobalGet { global_index } => self.global_get(global_index),
            Operator::GlobalSet { global_index } => self.global_set(global_index),
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(POINTER, 0);
                self.push(v);
            }
            Operator::RefIsNull => {
                let r = self.pop();
                let v = self.b.ins().icmp_imm_s(IntCC::Equal, r, 0);
                self.push_bool(v);
            }
            Operator::RefFunc { function_index } => {
                let v = self.funcref_address(function_index);
                self.push(v);
            }
            Operator::TableGet { table } => {
                let index = self.pop();
                let slot = self.table_slot(table, index);
                let v = self.b.ins().load(POINTER, self.flags.runtime, slot, 0);
                self.push(v);
            }
            Operator::TableSet { table } => {
                let (index, value) = self.pop2();
                let slot = self.table_slot(table, index);
                self.b.ins().store(self.flags.runtime, value, slot, 0);
            }
            Operator::TableSize { table } => {
                let t = self.table_pointer(table);
                let length = self
                    .b
                    .ins()
                    .load(POINTER, self.flags.runtime, t, table::LENGTH);
                let v = self.b.ins().ireduce(types::I32, length);
                self.push(v);
            }
            Operator::TableGrow { table } => {
                let (init, delta) = self.pop2();
                let t = self.b.ins().iconst(types::I64, table as i64);
                let v = self.call_grow_builtin(builtin::TABLE_GROW, &[t, init, delta]);
                self.push(v);
            }
            Operator::TableFill { table } => {
                let (dst, value, len) = self.pop3();
                let t = self.b.ins().iconst(types::I64, table as i64);
                self.call_checked_builtin(
                    builtin::TABLE_FILL,
                    &[t, dst, value, len],
                    TrapKind::TableOutOfBounds,
                );
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst, src, len) = self.pop3();
                let d = self.b.ins().iconst(types::I64, dst_table as i64);
                let s = self.b.ins().iconst(types::I64, src_table as i64);
                self.call_checked_builtin(
                    builtin::TABLE_COPY,
                    &[d, s, dst, src, len],
                    TrapKind::TableOutOfBounds,
                );
            }
            Operator::TableInit { elem_index, table } => {
                let (dst, src, len) = self.pop3();
                let t = self.b.ins().iconst(types::I64, table as i64);
                let e = self.b.ins().iconst(types::I64, elem_index as i64);
                self.call_checked_builtin(
                    builtin::TABLE_INIT,
                    &[t, e, dst, src, len],
                    TrapKind::TableOutOfBounds,
                );
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(types::I64, elem_index as i64);
                self.call_builtin(builtin::ELEM_DROP, &[e], Returns::Nothing);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
