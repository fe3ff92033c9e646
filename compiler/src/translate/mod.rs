//! Translation of one Wasm function body into Cranelift IR.
//!
//! The fixed sequence of Cranelift's own frontends: an entry block with the
//! parameters, locals as `Variable`s, one pass over the operators with a
//! value stack and a control stack, an exit block that returns the results.
//! Operators are handled by concern: `control` (blocks, branches, calls),
//! `numeric`, `memory`, `reference` (globals, tables, references), `simd`; the vmctx
//! layout lives in `environ` only. `anchors` then moves access offsets the
//! target cannot encode into the address; `growth` finds the functions
//! that cannot grow memory, whose explicit checks load base and length once.

pub mod anchors;
mod builtins;
mod calls;
pub mod constant_division;
mod control;
pub mod environ;
pub mod extended_loads;
pub mod growth;
pub mod inline;
pub mod loop_constants;
mod memory;
mod numeric;
mod reference;
mod simd;
mod vectorize;

use anyhow::{Context, Result, bail};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::ir::{
    self, Block, FuncRef, GlobalValueData, InstBuilder, MemFlagsData, SigRef, UserFuncName, Value,
    types,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, FunctionBody, Operator, ValType};

use crate::module::ModuleInfo;
use crate::target::BoundsChecks;
use control::Frame;
use environ::Flags;

/// What translation needs to know about the module and the target.
pub struct ModuleEnv<'m> {
    pub module: &'m ModuleInfo<'m>,
    pub call_conv: CallConv,
    pub frontend_config: TargetFrontendConfig,
    pub bounds_checks: BoundsChecks,
    /// Forward known linear-memory contents (see `memory::KnownMemory`).
    pub forward_memory: bool,
    /// Leave out explicit bounds checks already proven on the path.
    pub elide_checks: bool,
    /// Address `x + C` as `sext(x) + C` with guard regions (see
    /// `memory::FuncTranslator::heap_address`).
    pub signed_index: bool,
    /// Compare i32 values as sign-extended i64 values (riscv64, see
    /// `numeric::FuncTranslator::icmp`).
    pub wide_compares: bool,
    /// Move access offsets the target cannot encode into the address (see
    /// `anchors`).
    pub anchor_offsets: Option<anchors::Encoding>,
    /// Whether constant addresses are anchored too (see `anchors`).
    pub anchor_globals: bool,
    /// The fast tier keeps its most used integer locals in callee-saved
    /// registers (see `baseline::compiler::pinning`).
    pub pin_locals: bool,
    /// Run straight-line `f64`, `f32` and `i32` loops a vector's worth of
    /// iterations at a time (see `vectorize`).
    pub vectorize: Vectorize,
    /// The target's ISA extensions beyond Kiln's baseline (for the baseline
    /// compiler; Cranelift has them in its `TargetIsa`).
    pub isa_flags: &'m [String],
    /// Per function index: whether the function loads the memory's base
    /// and length once, since it can reach no `memory.grow` (see `growth`)
    /// and is not inlined; empty: none does.
    pub memory_fixed: Vec<bool>,
    /// Per function index: whether direct calls to it are inlined (see
    /// `inline`).
    pub inline_candidates: Vec<bool>,
}

/// Whether loops are vectorized (see `vectorize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vectorize {
    Off,
    /// 128-bit vectors are part of the target's baseline.
    On,
    /// Only on cores whose `vmctx.features` has `FEATURE_VECTOR` (riscv64,
    /// whose V extension is optional), tested when a loop is entered.
    WhenPresent,
}

/// External name namespace of Wasm functions (index = function index).
pub const NAMESPACE_FUNC: u32 = 0;

/// Translates defined function `index` into a Cranelift function.
pub fn translate_function(
    env: &ModuleEnv<'_>,
    index: u32,
    body: &FunctionBody<'_>,
    builder_ctx: &mut FunctionBuilderContext,
) -> Result<ir::Function> {
    let ty = env.module.func_type(index);
    let sig = environ::wasm_signature(ty, env.call_conv);
    let mut func =
        ir::Function::with_name_signature(UserFuncName::user(NAMESPACE_FUNC, index), sig);

    // The prologue checks the stack pointer against vmctx.stack_limit.
    let vmctx_gv = func.create_global_value(GlobalValueData::VMContext);
    let limit_flags = func
        .dfg
        .mem_flags
        .insert(MemFlagsData::trusted().with_readonly())
        .map_err(|_| anyhow::anyhow!("too many memory flags"))?;
    let limit = func.create_global_value(GlobalValueData::Load {
        base: vmctx_gv,
        offset: environ::vmctx::STACK_LIMIT.into(),
        global_type: environ::POINTER,
        flags: limit_flags,
    });
    func.stack_limit = Some(limit);

    let mut b = FunctionBuilder::new(&mut func, builder_ctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let vmctx = b.block_params(entry)[0];
    let params: Vec<Value> = b.block_params(entry)[1..].to_vec();

    let exit = b.create_block();
    b.append_block_params_for_function_returns(exit);

    let flags = Flags::new(&mut b);
    let mut t = FuncTranslator {
        b,
        env,
        flags,
        vmctx,
        entry,
        last_hoisted: None,
        hoisted: HashMap::new(),
        known: memory::KnownMemory::default(),
        stack: Vec::new(),
        control: Vec::new(),
        reachable: true,
        unreachable_depth: 0,
        locals: Vec::new(),
        sigs: HashMap::new(),
        direct: HashMap::new(),
        memory_fixed: env.memory_fixed.get(index as usize) == Some(&true),
    };

    // Parameters, then declared locals (zero-initialised).
    for (value, ty) in params.iter().zip(ty.params()) {
        let var = t.b.declare_var(environ::clif_type(*ty));
        t.b.def_var(var, *value);
        t.locals.push((var, *ty));
    }
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let (count, ty) = locals.read()?;
        for _ in 0..count {
            let var = t.b.declare_var(environ::clif_type(ty));
            let zero = t.zero(ty);
            t.b.def_var(var, zero);
            t.locals.push((var, ty));
        }
    }

    t.control.push(Frame::function(exit, ty.results().len()));
    let local_types: Vec<ValType> = t.locals.iter().map(|(_, ty)| *ty).collect();
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read()?;
        t.b.set_srcloc(ir::SourceLoc::new(offset as u32));
        if t.reachable
            && env.vectorize != Vectorize::Off
            && matches!(
                op,
                Operator::Loop {
                    blockty: BlockType::Empty
                }
            )
            && let Some(plan) = vectorize::plan_loop(&ops, &local_types)
        {
            t.vector_loop(&plan);
        }
        if t.reachable
            && matches!(op, Operator::Loop { .. })
            && t.preloads_memory()
            && !growth::loop_makes_call(ops.clone(), &env.inline_candidates)
        {
            t.load_memory_before_loop();
        }
        if t.reachable {
            t.operator(&op)
                .with_context(|| format!("translating {op:?} at offset {offset:#x}"))?;
        } else {
            t.unreachable_operator(&op)?;
        }
    }
    if !t.control.is_empty() {
        bail!("function body ends inside a block");
    }
    // The function frame's `end` leaves us in the exit block.
    if t.reachable {
        let results = t.stack.clone();
        t.b.ins().return_(&results);
    }
    let aligned_base = t.aligned_memory_base().filter(|_| env.anchor_globals);
    t.b.finalize(env.frontend_config);
    if let Some(encoding) = env.anchor_offsets {
        anchors::anchor_large_offsets(&mut func, encoding, aligned_base);
    }
    Ok(func)
}

/// State while translating one function.
pub(crate) struct FuncTranslator<'m, 'f> {
    pub b: FunctionBuilder<'f>,
    pub env: &'m ModuleEnv<'m>,
    pub flags: Flags,
    pub vmctx: Value,
    /// The entry block, where loads of fields that never change are placed.
    pub entry: Block,
    /// The last instruction placed in the entry block by [`Self::hoisted_load`].
    last_hoisted: Option<ir::Inst>,
    /// Values loaded in the entry block, by (base, offset).
    hoisted: HashMap<(Value, i32), Value>,
    /// Linear-memory contents known in the current straight-line code.
    pub known: memory::KnownMemory,
    /// The Wasm operand stack.
    pub stack: Vec<Value>,
    pub control: Vec<Frame>,
    /// False after an unconditional branch until the next reachable label.
    pub reachable: bool,
    /// Blocks opened while unreachable (skipped along with their contents).
    pub unreachable_depth: u32,
    pub locals: Vec<(Variable, ValType)>,
    /// Imported signatures by Wasm type index.
    pub sigs: HashMap<u32, SigRef>,
    /// Direct-call references by function index.
    pub direct: HashMap<u32, FuncRef>,
    /// The memory keeps its base and length while this function runs: it
    /// can reach no `memory.grow` (see `growth`).
    pub memory_fixed: bool,
}

/// The immediate of the `iconst` that defines `v`, if one does (its bits
/// as Cranelift stores them).
pub(crate) fn iconst_value(dfg: &ir::DataFlowGraph, v: Value) -> Option<i64> {
    match dfg.insts[dfg.value_def(v).inst()?] {
        ir::InstructionData::UnaryImm {
            opcode: ir::Opcode::Iconst,
            imm,
        } => Some(imm.bits()),
        _ => None,
    }
}

impl FuncTranslator<'_, '_> {
    /// Loads the pointer-sized field at `base + offset` of a structure that
    /// never changes while the instance lives (vmctx fields, the arrays they
    /// point to), once per function: the load is placed in the entry block,
    /// so its value dominates every use and no later pass has to find and
    /// merge copies. `base` must be defined in the entry block (the vmctx or
    /// another hoisted value).
    pub fn hoisted_load(&mut self, base: Value, offset: i32) -> Value {
        if let Some(v) = self.hoisted.get(&(base, offset)) {
            return *v;
        }
        // The builder puts a block into the layout with its first
        // instruction: when a function starts with a hoisted load, the
        // entry block (still the current one) is not there yet, and a
        // cursor must not insert into a block outside the layout.
        if !self.b.func.layout.is_block_inserted(self.entry) {
            self.b.ensure_inserted_block();
        }
        let mut pos = FuncCursor::new(self.b.func);
        match self.last_hoisted {
            Some(inst) => pos.goto_after_inst(inst),
            None => pos.goto_first_insertion_point(self.entry),
        }
        let v = pos
            .ins()
            .load(environ::POINTER, self.flags.readonly, base, offset);
        self.last_hoisted = pos.func.dfg.value_def(v).inst();
        self.hoisted.insert((base, offset), v);
        v
    }

    pub fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    pub fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub fn pop3(&mut self) -> (Value, Value, Value) {
        let c = self.pop();
        let (a, b) = self.pop2();
        (a, b, c)
    }

    pub fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// The zero value of a type (null for references).
    pub fn zero(&mut self, ty: ValType) -> Value {
        match ty {
            ValType::I32 => self.b.ins().iconst(types::I32, 0),
            ValType::I64 => self.b.ins().iconst(types::I64, 0),
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => self.vector_const(simd::V128, [0; 16]),
            ValType::Ref(_) => self.b.ins().iconst(environ::POINTER, 0),
        }
    }

    /// Converts an `i8` boolean from a comparison into a Wasm `i32`.
    pub fn push_bool(&mut self, v: Value) {
        let v = self.b.ins().uextend(types::I32, v);
        self.push(v);
    }

    /// Traps with `kind` unconditionally and marks the rest unreachable.
    pub fn trap(&mut self, kind: kiln_runtime::abi::TrapKind) {
        self.b.ins().trap(environ::trap(kind));
        self.reachable = false;
    }

    /// Translates one reachable operator.
    fn operator(&mut self, op: &Operator<'_>) -> Result<()> {
        if self.control_operator(op)? || self.numeric_operator(op)? || self.memory_operator(op)? {
            return Ok(());
        }
        if self.reference_operator(op)? || self.simd_operator(op)? {
            return Ok(());
        }
        bail!("unsupported operator {op:?}")
    }
}

/// Block identity, for readability in the control module.
pub(crate) type Label = Block;
