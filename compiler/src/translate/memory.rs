//! Linear memory: loads and stores, either in a guard region (no check; the
//! access faults outside the memory) or with an explicit bounds check against
//! the current length (works on cores without an MMU), `memory.size`,
//! `memory.grow` and the bulk-memory instructions.

use anyhow::Result;
use cranelift_codegen::ir::{
    Inst, InstBuilder, InstructionData, MemFlagsData, Opcode, Type, Value, ValueDef,
    condcodes::IntCC, types,
};
use kiln_runtime::abi::{TrapKind, builtin};
use kiln_runtime::memory::GUARD_BYTES;
use wasmparser::{MemArg, Operator};

use super::FuncTranslator;
use super::builtins::Returns;
use super::environ::{self, POINTER, memory};
use crate::target::BoundsChecks;

/// How a load widens its value.
#[derive(Clone, Copy)]
pub(super) enum Widen {
    None,
    Signed,
    Unsigned,
}

/// What a load reads: (access type, result type, [`Widen`]).
type Kind = (Type, Type, u8);

/// Contents of linear memory known at the current point of straight-line
/// code: the value at `index + offset` for an SSA value `index`, from an
/// earlier load of the same kind or a store of the full width.
///
/// This adds what Cranelift's alias analysis cannot see: it treats all of
/// linear memory as one region, so any store hides every earlier value,
/// while here a store only hides what it may overlap. Two accesses through
/// the same index value at byte ranges that do not overlap never alias
/// (the effective address is `index + offset` without wrapping), which is
/// how code built at -O0 reads and writes its stack frame. Anything else
/// may alias: a store through another index forgets everything, as do
/// calls (the callee, a host function or `memory.grow` may write memory)
/// and control-flow joins. A forwarded load cannot trap, since the access
/// it repeats did not.
///
/// It also remembers, per index value, the largest `offset + size` already
/// checked against the memory's length on this path: a later access through
/// the same index that ends no further is in bounds too (a memory never
/// shrinks, so this survives calls), and needs no explicit check.
///
/// And, per value `x`, the first address `x + C` seen on this path (see
/// [`FuncTranslator::heap_address`]).
#[derive(Default)]
pub(crate) struct KnownMemory {
    entries: Vec<Known>,
    checked: Vec<(Value, u64)>,
    bases: Vec<Base>,
}

/// Accesses off `x` on this path: the first one's constant, `base +
/// sext(x)` (prepared at the first), and, until an access with another
/// constant comes, the instructions that compute the plain addresses of
/// the accesses so far, to rewrite them in the shared form then.
struct Base {
    x: Value,
    first: i32,
    base_wide: Value,
    pending: Vec<Inst>,
    /// A second constant came: every later access off `x` shares the form.
    shared: bool,
}

struct Known {
    index: Value,
    offset: u64,
    size: u32,
    kind: Kind,
    value: Value,
}

/// Beyond this many remembered values the oldest are forgotten.
const MAX_KNOWN: usize = 32;

impl KnownMemory {
    fn find(&self, index: Value, offset: u64, kind: Kind) -> Option<Value> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.index == index && e.offset == offset && e.kind == kind)
            .map(|e| e.value)
    }

    fn insert(&mut self, index: Value, offset: u64, kind: Kind, value: Value) {
        if self.entries.len() >= MAX_KNOWN {
            self.entries.remove(0);
        }
        self.entries.push(Known {
            index,
            offset,
            size: kind.0.bytes(),
            kind,
            value,
        });
    }

    /// A store of `size` bytes at `index + offset`: forgets what it may overwrite.
    fn store(&mut self, index: Value, offset: u64, size: u32) {
        let end = offset + u64::from(size);
        self.entries.retain(|e| {
            e.index == index && (e.offset + u64::from(e.size) <= offset || end <= e.offset)
        });
    }

    /// Whether `index + end` was checked to lie within the memory.
    fn proven(&self, index: Value, end: u64) -> bool {
        self.checked.iter().any(|&(v, e)| v == index && end <= e)
    }

    /// Records that `index + end` lies within the memory.
    fn prove(&mut self, index: Value, end: u64) {
        match self.checked.iter_mut().find(|(v, _)| *v == index) {
            Some((_, e)) => *e = (*e).max(end),
            None => {
                if self.checked.len() >= MAX_KNOWN {
                    self.checked.remove(0);
                }
                self.checked.push((index, end));
            }
        }
    }

    /// The accesses off `x` seen on this path.
    fn base(&mut self, x: Value) -> Option<&mut Base> {
        self.bases.iter_mut().find(|b| b.x == x)
    }

    /// Remembers the first access off `x` (see [`Base`]).
    fn first_base(&mut self, base: Base) {
        if self.bases.len() >= MAX_KNOWN {
            self.bases.remove(0);
        }
        self.bases.push(base);
    }

    /// Forgets the contents (a call, a bulk-memory operation: memory may
    /// have changed, but not shrunk).
    pub(crate) fn forget_contents(&mut self) {
        self.entries.clear();
    }

    /// Forgets everything (a control-flow join).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.checked.clear();
        self.bases.clear();
    }
}

impl FuncTranslator<'_, '_> {
    /// `vmctx.memory`: never changes during an instance's life.
    pub(super) fn memory_pointer(&mut self) -> Value {
        self.hoisted_load(self.vmctx, environ::vmctx::MEMORY)
    }

    /// `memory.base`: with guard regions the memory never moves, so it is
    /// loaded once per function; with explicit checks `memory.grow` may
    /// move it, so it is loaded where it is used, unless this function can
    /// reach no `memory.grow` (see `growth`).
    pub(super) fn memory_base(&mut self) -> Value {
        let fixed = self.env.bounds_checks == BoundsChecks::Guard || self.memory_fixed;
        self.memory_field(memory::BASE, fixed)
    }

    /// The memory's base if this function loaded it once, with guard
    /// regions, where the runtime places it at a multiple of
    /// `BASE_ALIGN` (see `anchors`).
    pub(super) fn aligned_memory_base(&self) -> Option<Value> {
        if self.env.bounds_checks != BoundsChecks::Guard {
            return None;
        }
        let mem = self.hoisted.get(&(self.vmctx, environ::vmctx::MEMORY))?;
        self.hoisted.get(&(*mem, memory::BASE)).copied()
    }

    /// `memory.length`: loaded where it is used, unless this function can
    /// reach no `memory.grow`.
    pub(super) fn memory_length(&mut self) -> Value {
        self.memory_field(memory::LENGTH, self.memory_fixed)
    }

    /// A field of the memory's runtime structure: loaded once per function
    /// when it cannot change while the function runs, else here.
    fn memory_field(&mut self, field: i32, fixed: bool) -> Value {
        let mem = self.memory_pointer();
        match fixed {
            true => self.hoisted_load(mem, field),
            false => self.b.ins().load(POINTER, self.flags.runtime, mem, field),
        }
    }

    /// Whether loops that make no call get [`Self::load_memory_before_loop`]:
    /// with explicit checks, in a function that may grow memory.
    pub(super) fn preloads_memory(&self) -> bool {
        // `memory_fixed` is empty where the growth analysis is left out.
        self.env.bounds_checks == BoundsChecks::Explicit
            && !self.memory_fixed
            && !self.env.memory_fixed.is_empty()
            && !self.env.module.memories.is_empty()
    }

    /// Loads of base and length before a loop that makes no call, which the
    /// loop's own loads repeat. Cranelift does not move loads out of a
    /// loop, but its redundant-load elimination replaces a load that an
    /// identical one dominates with no call or store to the runtime's
    /// structures between, so these two serve every iteration. (Only
    /// before loops without calls: Cranelift keeps unused loads.)
    pub(super) fn load_memory_before_loop(&mut self) {
        self.memory_base();
        self.memory_length();
    }

    /// The native address of a `size`-byte access at `addr + offset` and the
    /// flags to access it with. Returns (address, offset to fold into the
    /// access, flags).
    ///
    /// With a guard region the access needs no check: the memory never
    /// moves (its base is loaded once per function) and anything past its
    /// length up to 4 GiB + [`GUARD_BYTES`] faults. Larger static offsets,
    /// and every access without a guard region, compare the access's end
    /// with the current length first (and reload base and length, which
    /// `memory.grow` may change, after calls, unless the function cannot
    /// grow memory: see `growth`).
    fn heap_address(&mut self, index: Value, offset: u64, size: u32) -> (Value, i32, MemFlagsData) {
        if self.env.bounds_checks == BoundsChecks::Guard
            && offset + u64::from(size) <= GUARD_BYTES as u64
        {
            let base = self.memory_base();
            // `sext(x) + c` instead of `uext(x + c)`: exact for memories of
            // at most 2 GiB, and outside that it falls into the
            // reservation's pre-guard (see PRE_GUARD_BYTES). Accesses off
            // one `x` with different constants then share one extended
            // index and fold their `c` into the addressing mode. Not for a
            // lone `x + c`: it is no dearer than `sext(x)`, and it may have
            // been computed for another use already (CPython's `next_instr
            // + 2`), so that `x` would have to live on beside it. So the
            // accesses off `x` before a second constant take the plain form
            // and are rewritten when one comes.
            let candidate = match (self.env.signed_index, offset) {
                (true, 0) => self.plus_constant(index),
                _ => None,
            };
            let deferred = match candidate {
                None => None,
                Some((x, c)) => match self.known.base(x) {
                    Some(b) if b.first == c && !b.shared => {
                        (b.pending.len() < MAX_KNOWN).then_some((x, c, b.base_wide))
                    }
                    Some(b) => {
                        let base_wide = b.base_wide;
                        if !b.shared {
                            b.shared = true;
                            let (first, pending) = (b.first, core::mem::take(&mut b.pending));
                            for address_inst in pending {
                                self.readdress(address_inst, base_wide, first);
                            }
                        }
                        return (base_wide, c, self.flags.heap_trapping);
                    }
                    None => {
                        // Unused unless rewritten; Cranelift drops it then.
                        let wide = self.b.ins().sextend(types::I64, x);
                        Some((x, c, self.b.ins().iadd(base, wide)))
                    }
                },
            };
            let addr = self.b.ins().uextend(types::I64, index);
            let address = self.b.ins().iadd(base, addr);
            if let (Some((x, c, base_wide)), ValueDef::Result(inst, 0)) =
                (deferred, self.b.func.dfg.value_def(address))
            {
                // The access itself follows this instruction (see `readdress`).
                match self.known.base(x) {
                    Some(b) => b.pending.push(inst),
                    None => self.known.first_base(Base {
                        x,
                        first: c,
                        base_wide,
                        pending: vec![inst],
                        shared: false,
                    }),
                }
            }
            // offset < GUARD_BYTES <= 2^31: fits.
            return (address, offset as i32, self.flags.heap_trapping);
        }
        let addr = self.b.ins().uextend(types::I64, index);
        // offset < 2^32 and size <= 16: the sum cannot overflow 64 bits.
        let end_offset = offset + u64::from(size);
        if !(self.env.elide_checks
            && (self.known.proven(index, end_offset) || self.within_minimum(index, end_offset)))
        {
            let length = self.memory_length();
            let end = self.b.ins().iadd_imm_s(addr, end_offset as i64);
            let oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, length);
            self.b
                .ins()
                .trapnz(oob, environ::trap(TrapKind::MemoryOutOfBounds));
            self.known.prove(index, end_offset);
        }
        let base = self.memory_base();
        let address = self.b.ins().iadd(base, addr);
        match i32::try_from(offset) {
            Ok(o) => (address, o, self.flags.heap),
            Err(_) => (
                self.b.ins().iadd_imm_s(address, offset as i64),
                0,
                self.flags.heap,
            ),
        }
    }

    /// Whether `index + end` lies within the memory's declared minimum
    /// for a constant `index` (a C global's address): a memory never
    /// shrinks, and an imported one has at least its declared minimum, so
    /// the access needs no check.
    fn within_minimum(&self, index: Value, end: u64) -> bool {
        let Some(memory) = self.env.module.memories.first() else {
            return false;
        };
        let minimum = memory
            .min_pages
            .saturating_mul(kiln_runtime::memory::PAGE_SIZE as u64);
        super::iconst_value(&self.b.func.dfg, index)
            .is_some_and(|c| u64::from(c as u32) + end <= minimum)
    }

    /// Rewrites the access after `address_inst` (which computes its
    /// address, `base + uext(x + c)`, see `heap_address`) to address
    /// `base_wide` (`base + sext(x)`) with offset `c`. Left as it is unless
    /// that access is a plain load or store at offset 0 through it.
    fn readdress(&mut self, address_inst: Inst, base_wide: Value, c: i32) {
        let func = &mut self.b.func;
        let Some(access) = func.layout.next_inst(address_inst) else {
            return;
        };
        let address = func.dfg.first_result(address_inst);
        match &mut func.dfg.insts[access] {
            InstructionData::Load { arg, offset, .. }
                if *arg == address && i32::from(*offset) == 0 =>
            {
                *arg = base_wide;
                *offset = c.into();
            }
            InstructionData::Store { args, offset, .. }
                if args[1] == address && i32::from(*offset) == 0 =>
            {
                args[1] = base_wide;
                *offset = c.into();
            }
            _ => {}
        }
    }

    /// `(x, c)` when the i32 `index` is `x + c` for a constant `0 < c < 2^31`
    /// and an `x` of the current block.
    fn plus_constant(&self, index: Value) -> Option<(Value, i32)> {
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, 0) = dfg.value_def(index) else {
            return None;
        };
        let InstructionData::Binary {
            opcode: Opcode::Iadd,
            args: [a, b],
        } = dfg.insts[inst]
        else {
            return None;
        };
        let constant = |v: Value| {
            super::iconst_value(dfg, v)
                .and_then(|c| i32::try_from(c).ok())
                .filter(|&c| c > 0)
        };
        let (x, c) = match (constant(a), constant(b)) {
            (_, Some(c)) => (a, c),
            (Some(c), _) => (b, c),
            _ => return None,
        };
        // Only for an `x` computed in this block or one of its parameters
        // (a loop's induction variable, say), so that the extended `x`
        // lives only as long as the accesses near it.
        let block = match dfg.value_def(x) {
            ValueDef::Result(def, _) => self.b.func.layout.inst_block(def),
            ValueDef::Param(block, _) => Some(block),
            _ => None,
        };
        (block.is_some() && block == self.b.current_block()).then_some((x, c))
    }

    pub(super) fn load(&mut self, memarg: &MemArg, access: Type, result: Type, widen: Widen) {
        let addr = self.pop();
        let kind = (access, result, widen as u8);
        if let Some(v) = self.known.find(addr, memarg.offset, kind) {
            self.push(v);
            return;
        }
        let forward = self.env.forward_memory;
        let (p, offset, flags) = self.heap_address(addr, memarg.offset, access.bytes());
        let v = match widen {
            Widen::None => self.b.ins().load(result, flags, p, offset),
            Widen::Signed => match access.bytes() {
                1 => self.b.ins().sload8(result, flags, p, offset),
                2 => self.b.ins().sload16(result, flags, p, offset),
                _ => self.b.ins().sload32(flags, p, offset),
            },
            Widen::Unsigned => match access.bytes() {
                1 => self.b.ins().uload8(result, flags, p, offset),
                2 => self.b.ins().uload16(result, flags, p, offset),
                _ => self.b.ins().uload32(flags, p, offset),
            },
        };
        if forward {
            self.known.insert(addr, memarg.offset, kind, v);
        }
        self.push(v);
    }

    pub(super) fn store(&mut self, memarg: &MemArg, access: Type) {
        let value = self.pop();
        let addr = self.pop();
        let (p, offset, flags) = self.heap_address(addr, memarg.offset, access.bytes());
        let value_type = self.b.func.dfg.value_type(value);
        self.known.store(addr, memarg.offset, access.bytes());
        if access == value_type {
            self.b.ins().store(flags, value, p, offset);
            if self.env.forward_memory {
                let kind = (access, access, Widen::None as u8);
                self.known.insert(addr, memarg.offset, kind, value);
            }
        } else {
            match access.bytes() {
                1 => self.b.ins().istore8(flags, value, p, offset),
                2 => self.b.ins().istore16(flags, value, p, offset),
                _ => self.b.ins().istore32(flags, value, p, offset),
            };
        }
    }

    pub(crate) fn memory_operator(&mut self, op: &Operator<'_>) -> Result<bool> {
        use Widen::{None as Plain, Signed, Unsigned};
        use types::{F32, F64, I8, I16, I32, I64};
        match op {
            Operator::I32Load { memarg } => self.load(memarg, I32, I32, Plain),
            Operator::I64Load { memarg } => self.load(memarg, I64, I64, Plain),
            Operator::F32Load { memarg } => self.load(memarg, F32, F32, Plain),
            Operator::F64Load { memarg } => self.load(memarg, F64, F64, Plain),
            Operator::I32Load8S { memarg } => self.load(memarg, I8, I32, Signed),
            Operator::I32Load8U { memarg } => self.load(memarg, I8, I32, Unsigned),
            Operator::I32Load16S { memarg } => self.load(memarg, I16, I32, Signed),
            Operator::I32Load16U { memarg } => self.load(memarg, I16, I32, Unsigned),
            Operator::I64Load8S { memarg } => self.load(memarg, I8, I64, Signed),
            Operator::I64Load8U { memarg } => self.load(memarg, I8, I64, Unsigned),
            Operator::I64Load16S { memarg } => self.load(memarg, I16, I64, Signed),
            Operator::I64Load16U { memarg } => self.load(memarg, I16, I64, Unsigned),
            Operator::I64Load32S { memarg } => self.load(memarg, I32, I64, Signed),
            Operator::I64Load32U { memarg } => self.load(memarg, I32, I64, Unsigned),
            Operator::I32Store { memarg } => self.store(memarg, I32),
            Operator::I64Store { memarg } => self.store(memarg, I64),
            Operator::F32Store { memarg } => self.store(memarg, F32),
            Operator::F64Store { memarg } => self.store(memarg, F64),
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                self.store(memarg, I8)
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                self.store(memarg, I16)
            }
            Operator::I64Store32 { memarg } => self.store(memarg, I32),
            Operator::MemorySize { .. } => {
                let length = self.memory_length();
                let pages = self.b.ins().ushr_imm_u(length, 16);
                let pages = self.b.ins().ireduce(I32, pages);
                self.push(pages);
            }
            Operator::MemoryGrow { .. } => {
                let delta = self.pop();
                let old = self.call_grow_builtin(builtin::MEMORY_GROW, &[delta]);
                self.push(old);
            }
            Operator::MemoryFill { .. } => {
                let (dst, val, len) = self.pop3();
                self.call_checked_builtin(
                    builtin::MEMORY_FILL,
                    &[dst, val, len],
                    TrapKind::MemoryOutOfBounds,
                );
            }
            Operator::MemoryCopy { .. } => {
                let (dst, src, len) = self.pop3();
                self.call_checked_builtin(
                    builtin::MEMORY_COPY,
                    &[dst, src, len],
                    TrapKind::MemoryOutOfBounds,
                );
            }
            Operator::MemoryInit { data_index, .. } => {
                let (dst, src, len) = self.pop3();
                let data = self.b.ins().iconst(I64, *data_index as i64);
                self.call_checked_builtin(
                    builtin::MEMORY_INIT,
                    &[data, dst, src, len],
                    TrapKind::MemoryOutOfBounds,
                );
            }
            Operator::DataDrop { data_index } => {
                let data = self.b.ins().iconst(I64, *data_index as i64);
                self.call_builtin(builtin::DATA_DROP, &[data], Returns::Nothing);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
