//! The contract between objects made by `kiln compile` and this runtime.
//!
//! Everything here is `#[repr(C)]` and has exactly one definition: the compiler
//! depends on this module for sizes and field offsets, and the runtime reads the
//! descriptors the compiler emitted through the same types. Changing a layout
//! means bumping [`ABI_VERSION`]; the runtime refuses descriptors of another
//! version. `docs/abi.md` explains the design; the comments here say what each
//! field holds and who may write it.
//!
//! All targets Kiln supports are 64-bit; pointers and `usize` are 8 bytes.

use core::ffi::c_void;

/// Version of this contract; stored in every descriptor and manifest.
/// 3: the manifest carries a deadline and the image seal.
/// 4: `v128` values: 16-byte global cells, 128-bit constants, two array-call
/// slots per `v128`.
/// 5: `VmCtx::features`.
pub const ABI_VERSION: u32 = 5;

/// First bytes of every [`ModuleDescriptor`].
pub const MODULE_MAGIC: [u8; 8] = *b"KILNMOD\0";

/// First bytes of every [`AppManifest`].
pub const APP_MAGIC: [u8; 8] = *b"KILNAPP\0";

/// Symbol of the [`AppManifest`] that `kiln build` links into a firmware.
pub const APP_MANIFEST_SYMBOL: &str = "kiln_app_manifest";

/// Default symbol of a module's descriptor (`kiln compile --name`).
pub const DEFAULT_MODULE_NAME: &str = "kiln_module";

/// Host functions a module can import are bound when the firmware is
/// linked: an import of `wasi_snapshot_preview1.NAME` refers to the symbol
/// `kiln_wasi_NAME` (a [`HostFunc`]), `bench.NAME` to `kiln_bench_NAME`. The
/// board library defines them (`kiln_runtime::export_board!`) and the linker
/// keeps only those a module uses.
pub const WASI_SYMBOL_PREFIX: &str = "kiln_wasi_";
pub const BENCH_SYMBOL_PREFIX: &str = "kiln_bench_";

/// Entry points the manifest names, defined by `export_board!`: the one a
/// firmware needs is the only one linked.
pub const ENTRY_RUN_PROGRAM: &str = "kiln_run_program";
/// The program entry with file systems linked in, for firmware with folders.
pub const ENTRY_RUN_PROGRAM_WITH_FILES: &str = "kiln_run_program_with_files";
pub const ENTRY_RUN_WAST: &str = "kiln_run_wast";

const _: () = assert!(
    core::mem::size_of::<usize>() == 8,
    "Kiln targets are 64-bit"
);

/// A borrowed byte string inside a descriptor (not NUL-terminated).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Str {
    pub ptr: *const u8,
    pub len: usize,
}

impl Str {
    pub const EMPTY: Str = Str {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// # Safety
    /// `ptr` must point to `len` readable bytes that live as long as `'a`.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.len == 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees the range is valid.
            unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// A borrowed array inside a descriptor.
#[repr(C)]
pub struct Slice<T> {
    pub ptr: *const T,
    pub len: usize,
}

impl<T> Clone for Slice<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Slice<T> {}

impl<T> Slice<T> {
    pub const EMPTY: Slice<T> = Slice {
        ptr: core::ptr::null(),
        len: 0,
    };

    /// # Safety
    /// `ptr` must point to `len` valid `T`s that live as long as `'a`.
    pub unsafe fn as_slice<'a>(&self) -> &'a [T] {
        if self.len == 0 {
            &[]
        } else {
            // SAFETY: the caller guarantees the range is valid.
            unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

// ---------------------------------------------------------------------------
// Value types and signatures
// ---------------------------------------------------------------------------

/// Value types, with their Wasm binary encodings.
pub mod valtype {
    pub const I32: u8 = 0x7f;
    pub const I64: u8 = 0x7e;
    pub const F32: u8 = 0x7d;
    pub const F64: u8 = 0x7c;
    pub const V128: u8 = 0x7b;
    pub const FUNCREF: u8 = 0x70;
    pub const EXTERNREF: u8 = 0x6f;

    /// Name in Wasm text syntax, for messages.
    pub fn name(ty: u8) -> &'static str {
        match ty {
            I32 => "i32",
            I64 => "i64",
            F32 => "f32",
            F64 => "f64",
            V128 => "v128",
            FUNCREF => "funcref",
            EXTERNREF => "externref",
            _ => "unknown",
        }
    }
}

/// Canonical identity of a function type, compared by `call_indirect` and by
/// import resolution across modules.
///
/// Signatures with up to 19 params + results are encoded exactly, 3 bits per
/// type with a 0 separator between params and results (bit 63 clear). Longer
/// ones use a 64-bit FNV-1a hash with bit 63 set.
pub const fn signature_id(params: &[u8], results: &[u8]) -> u64 {
    const fn code(ty: u8) -> u64 {
        match ty {
            valtype::I32 => 1,
            valtype::I64 => 2,
            valtype::F32 => 3,
            valtype::F64 => 4,
            valtype::V128 => 5,
            valtype::FUNCREF => 6,
            valtype::EXTERNREF => 7,
            _ => 0,
        }
    }
    if params.len() + results.len() <= 19 {
        // Leading 1 marks the start so that trailing/leading zeros stay distinct.
        let mut id: u64 = 1;
        let mut i = 0;
        while i < params.len() {
            id = (id << 3) | code(params[i]);
            i += 1;
        }
        id <<= 3;
        let mut i = 0;
        while i < results.len() {
            id = (id << 3) | code(results[i]);
            i += 1;
        }
        id
    } else {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut i = 0;
        while i < params.len() {
            hash = (hash ^ params[i] as u64).wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        hash = (hash ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
        let mut i = 0;
        while i < results.len() {
            hash = (hash ^ results[i] as u64).wrapping_mul(0x0000_0100_0000_01b3);
            i += 1;
        }
        hash | (1 << 63)
    }
}

// ---------------------------------------------------------------------------
// Trap codes
// ---------------------------------------------------------------------------

/// Why a call into Wasm ended abnormally. The discriminants are stable: the
/// compiler stores them in trap tables (as Cranelift user trap codes) and the
/// boards report them. 0 means "no trap".
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    StackOverflow = 1,
    MemoryOutOfBounds = 2,
    TableOutOfBounds = 3,
    /// `call_indirect` with an index past the end of the table.
    UndefinedElement = 4,
    /// `call_indirect` on a null entry.
    UninitializedElement = 5,
    IndirectCallTypeMismatch = 6,
    IntegerOverflow = 7,
    IntegerDivideByZero = 8,
    InvalidConversionToInteger = 9,
    Unreachable = 10,
    /// Not a Wasm trap: `proc_exit` unwinding to the embedder.
    Exit = 11,
    /// Not a Wasm trap: the run was stopped (timeout, watchdog).
    Interrupted = 12,
    /// Not a Wasm trap: a host function failed in a way Wasm cannot observe.
    HostError = 13,
}

impl TrapKind {
    pub const ALL: [TrapKind; 13] = [
        TrapKind::StackOverflow,
        TrapKind::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds,
        TrapKind::UndefinedElement,
        TrapKind::UninitializedElement,
        TrapKind::IndirectCallTypeMismatch,
        TrapKind::IntegerOverflow,
        TrapKind::IntegerDivideByZero,
        TrapKind::InvalidConversionToInteger,
        TrapKind::Unreachable,
        TrapKind::Exit,
        TrapKind::Interrupted,
        TrapKind::HostError,
    ];

    pub fn from_u8(code: u8) -> Option<TrapKind> {
        TrapKind::ALL.iter().copied().find(|k| *k as u8 == code)
    }

    /// The wording of the Wasm specification's test suite.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::StackOverflow => "call stack exhausted",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::InvalidConversionToInteger => "invalid conversion to integer",
            TrapKind::Unreachable => "unreachable",
            TrapKind::Exit => "exit",
            TrapKind::Interrupted => "interrupted",
            TrapKind::HostError => "host error",
        }
    }
}

// ---------------------------------------------------------------------------
// Module descriptor (emitted by the compiler, read by the runtime)
// ---------------------------------------------------------------------------

/// Kinds of imports and exports, with their Wasm binary encodings.
pub mod extern_kind {
    pub const FUNC: u8 = 0;
    pub const TABLE: u8 = 1;
    pub const MEMORY: u8 = 2;
    pub const GLOBAL: u8 = 3;
}

/// A constant expression (global initialisers, segment offsets, element items).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ConstExpr {
    pub kind: u32,
    /// Global or function index for `GLOBAL_GET` / `REF_FUNC`.
    pub index: u32,
    /// The value for `VALUE` (f32 in the low 32 bits; a `v128`'s low half).
    pub bits: u64,
    /// A `v128` value's high half (bytes 8..16); 0 for other types.
    pub high: u64,
}

impl ConstExpr {
    pub const VALUE: u32 = 0;
    pub const GLOBAL_GET: u32 = 1;
    pub const REF_NULL: u32 = 2;
    pub const REF_FUNC: u32 = 3;
}

/// A function type.
#[repr(C)]
pub struct FuncTypeDesc {
    pub signature_id: u64,
    pub params: Slice<u8>,
    pub results: Slice<u8>,
}

/// A place in a function's code where a trap can happen.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TrapSite {
    /// Offset from the start of the function's code.
    pub offset: u32,
    /// A [`TrapKind`] discriminant.
    pub kind: u32,
}

/// One function of the module's index space (imports first).
#[repr(C)]
pub struct FuncDesc {
    /// Native-call entry: for a defined function its code; for an imported
    /// one the module's adapter that forwards to a host function.
    pub code: *const u8,
    pub code_len: u32,
    pub type_index: u32,
    /// Trap sites of `code`, sorted by offset.
    pub traps: Slice<TrapSite>,
    /// Name from the name section, or empty.
    pub name: Str,
}

#[repr(C)]
pub struct TableDesc {
    pub elem_type: u8,
    pub imported: u8,
    pub has_max: u8,
    pub min: u32,
    pub max: u32,
}

#[repr(C)]
pub struct MemoryDesc {
    pub imported: u8,
    pub has_max: u8,
    /// Limits in 64 KiB pages.
    pub min_pages: u64,
    pub max_pages: u64,
}

#[repr(C)]
pub struct GlobalDesc {
    pub ty: u8,
    pub mutable: u8,
    pub imported: u8,
    /// Initialiser of a defined global.
    pub init: ConstExpr,
}

#[repr(C)]
pub struct ImportDesc {
    pub module: Str,
    pub name: Str,
    pub kind: u8,
    /// Index in the index space of `kind`.
    pub index: u32,
    /// For a function import bound at link time: the host function
    /// (symbol `kiln_wasi_NAME` ...); null when resolved by name at
    /// instantiation.
    pub host: *const HostFunc,
}

/// A host function as the board library exports it for link-time binding.
#[repr(C)]
pub struct HostFunc {
    pub func: ArrayCall,
    pub signature_id: u64,
}

// SAFETY: a function pointer and a number, never written.
unsafe impl Sync for HostFunc {}

/// The array-call convention: arguments in `values[..]`, results written back
/// from `values[0]`; each value occupies one `u64` (f32 in the low 32 bits,
/// references as pointers) except a `v128`, which occupies two consecutive
/// slots (low half first; see [`value_slots`]). Used for every call that
/// crosses between Rust and compiled code: export trampolines and host
/// functions.
pub type ArrayCall = unsafe extern "C" fn(vmctx: *mut VmCtx, values: *mut u64);

#[repr(C)]
pub struct ExportDesc {
    pub name: Str,
    pub kind: u8,
    pub index: u32,
    /// For a function export: its array-call trampoline.
    pub trampoline: Option<ArrayCall>,
}

pub mod segment_mode {
    pub const ACTIVE: u8 = 0;
    pub const PASSIVE: u8 = 1;
    pub const DECLARED: u8 = 2;
}

#[repr(C)]
pub struct ElemDesc {
    pub mode: u8,
    pub elem_type: u8,
    pub table: u32,
    pub offset: ConstExpr,
    pub items: Slice<ConstExpr>,
}

#[repr(C)]
pub struct DataDesc {
    pub mode: u8,
    pub memory: u32,
    pub offset: ConstExpr,
    pub bytes: Slice<u8>,
}

/// No start function.
pub const NO_START: u32 = u32::MAX;

/// Descriptor flag: the code checks memory bounds explicitly (no guard region needed).
pub const FLAG_EXPLICIT_BOUNDS_CHECKS: u32 = 1 << 0;

/// Descriptor flags from bit 8 up: x86_64 features the code was compiled to
/// use beyond Kiln's baseline (x86-64-v2), by Cranelift flag name. The
/// runtime refuses a module whose features this CPU lacks (`cpu`), so a
/// firmware built with `--isa-flag native` and copied to an older machine
/// says so instead of dying of an invalid instruction. Other architectures'
/// extra features are the board's to declare (`isa-flags` in its
/// board.toml) and are not checked.
pub const CPU_FEATURE_FLAGS: &[(&str, u32)] = &[
    ("has_avx", 1 << 8),
    ("has_avx2", 1 << 9),
    ("has_fma", 1 << 10),
    ("has_bmi1", 1 << 11),
    ("has_bmi2", 1 << 12),
    ("has_lzcnt", 1 << 13),
    ("has_avx512f", 1 << 14),
    ("has_avx512vl", 1 << 15),
    ("has_avx512dq", 1 << 16),
    ("has_avx512bitalg", 1 << 17),
    ("has_avx512vbmi", 1 << 18),
];

/// Everything the runtime needs to instantiate one compiled module.
#[repr(C)]
pub struct ModuleDescriptor {
    pub magic: [u8; 8],
    pub abi_version: u32,
    pub flags: u32,
    /// SHA-256 of the Wasm binary the object was compiled from.
    pub wasm_sha256: [u8; 32],
    pub name: Str,
    pub types: Slice<FuncTypeDesc>,
    pub funcs: Slice<FuncDesc>,
    pub num_imported_funcs: u32,
    pub start: u32,
    pub tables: Slice<TableDesc>,
    pub memories: Slice<MemoryDesc>,
    pub globals: Slice<GlobalDesc>,
    pub imports: Slice<ImportDesc>,
    pub exports: Slice<ExportDesc>,
    pub elems: Slice<ElemDesc>,
    pub datas: Slice<DataDesc>,
}

// SAFETY: descriptors are immutable data in the firmware image.
unsafe impl Sync for ModuleDescriptor {}

// ---------------------------------------------------------------------------
// The vmctx: per-instance state that compiled code reads
// ---------------------------------------------------------------------------

/// Per-instance context, passed as the first argument of every compiled
/// function. The runtime owns and fills it; compiled code only reads it (and
/// writes through the pointers it holds).
#[repr(C)]
pub struct VmCtx {
    /// Memory 0 (defined or imported); null when the module has no memory.
    pub memory: *mut VmMemory,
    /// Compiled prologues trap with `StackOverflow` when the stack pointer
    /// would go below this address.
    pub stack_limit: usize,
    /// Per global index: the global's cell (imported ones point into the
    /// exporter's instance).
    pub globals: *const *mut VmGlobal,
    /// Per table index: the table (imported ones are the exporter's).
    pub tables: *const *mut VmTable,
    /// Per function index: the function reference (imported ones are copies
    /// of the exporter's). `ref.func` yields a pointer into this array.
    pub funcrefs: *mut VmFuncRef,
    pub builtins: *const Builtins,
    /// What this core runs beyond the target's baseline, as compiled code
    /// may ask at run time: [`FEATURE_VECTOR`].
    pub features: usize,
    /// Runtime-private: the owning instance.
    pub instance: *mut c_void,
    /// Embedder-private: the host functions' context (WASI state, test driver).
    pub host: *mut c_void,
}

/// [`VmCtx::features`]: the core runs 128-bit vector code (always on x86_64
/// and aarch64; on riscv64 when the board found the V extension usable).
/// Compiled code tests it before the vector loops Kiln makes from scalar
/// Wasm, which must keep running on a riscv64 core without V.
pub const FEATURE_VECTOR: usize = 1;

/// A linear memory. Compiled code reads `base` and `length` (in bytes) and
/// reloads them after every call, because `memory.grow` may move the memory.
#[repr(C)]
pub struct VmMemory {
    pub base: *mut u8,
    pub length: usize,
    /// Runtime-private: bytes allocated at `base`.
    pub capacity: usize,
    /// Runtime-private: maximum length in bytes.
    pub max_length: usize,
}

/// A table of references (funcref: `*const VmFuncRef`, null = `ref.null`;
/// externref: an opaque host value, 0 = `ref.null`).
#[repr(C)]
pub struct VmTable {
    pub elements: *mut usize,
    /// Number of elements.
    pub length: usize,
    /// Runtime-private: allocated elements.
    pub capacity: usize,
    /// Runtime-private: maximum length.
    pub max_length: usize,
    pub elem_type: u8,
}

/// A global's storage cell: 16 bytes, aligned for a `v128` (whose bytes
/// are the cell's, little-endian); other types use `bits` only.
#[repr(C, align(16))]
pub struct VmGlobal {
    pub bits: u64,
    pub high: u64,
}

impl VmGlobal {
    /// A cell holding a value of any type but `v128`.
    pub const fn new(bits: u64) -> VmGlobal {
        VmGlobal { bits, high: 0 }
    }

    /// The cell's value, 128 bits wide (other types than `v128` in the low 64).
    pub fn value(&self) -> u128 {
        u128::from(self.bits) | u128::from(self.high) << 64
    }

    pub fn set_value(&mut self, value: u128) {
        self.bits = value as u64;
        self.high = (value >> 64) as u64;
    }
}

/// Array-call slots a value of type `ty` (a [`valtype`] code) occupies.
pub const fn value_slots(ty: u8) -> usize {
    if ty == valtype::V128 { 2 } else { 1 }
}

/// Array-call slots values of `types` occupy together.
pub fn slots_of(types: &[u8]) -> usize {
    types.iter().map(|t| value_slots(*t)).sum()
}

/// A function reference: what `call_indirect` checks and calls.
#[repr(C)]
pub struct VmFuncRef {
    /// Native-call entry, called with `vmctx` as first argument.
    pub code: *const u8,
    pub vmctx: *mut VmCtx,
    pub signature_id: u64,
    /// For an imported host function: the function the import adapter forwards to.
    pub host: Option<ArrayCall>,
}

/// Runtime services that compiled code calls through `vmctx.builtins`.
/// Arguments are zero-extended to 64 bits. Functions returning a status give
/// 0 on success and non-zero when the operation must trap (the compiled caller
/// traps with the right kind, so the trap is attributed to the Wasm function).
#[repr(C)]
pub struct Builtins {
    /// Returns the old size in pages, or `u64::MAX` on failure.
    pub memory_grow: unsafe extern "C" fn(vmctx: *mut VmCtx, delta: u64) -> u64,
    pub memory_fill: unsafe extern "C" fn(vmctx: *mut VmCtx, dst: u64, val: u64, len: u64) -> u64,
    pub memory_copy: unsafe extern "C" fn(vmctx: *mut VmCtx, dst: u64, src: u64, len: u64) -> u64,
    pub memory_init:
        unsafe extern "C" fn(vmctx: *mut VmCtx, data: u64, dst: u64, src: u64, len: u64) -> u64,
    pub data_drop: unsafe extern "C" fn(vmctx: *mut VmCtx, data: u64),
    /// Returns the old length, or `u64::MAX` on failure.
    pub table_grow:
        unsafe extern "C" fn(vmctx: *mut VmCtx, table: u64, init: u64, delta: u64) -> u64,
    pub table_fill:
        unsafe extern "C" fn(vmctx: *mut VmCtx, table: u64, dst: u64, val: u64, len: u64) -> u64,
    pub table_copy: unsafe extern "C" fn(
        vmctx: *mut VmCtx,
        dst_table: u64,
        src_table: u64,
        dst: u64,
        src: u64,
        len: u64,
    ) -> u64,
    pub table_init: unsafe extern "C" fn(
        vmctx: *mut VmCtx,
        table: u64,
        elem: u64,
        dst: u64,
        src: u64,
        len: u64,
    ) -> u64,
    pub elem_drop: unsafe extern "C" fn(vmctx: *mut VmCtx, elem: u64),
}

/// Index of each builtin in [`Builtins`] (the compiler loads
/// `builtins + index * 8`).
pub mod builtin {
    pub const MEMORY_GROW: usize = 0;
    pub const MEMORY_FILL: usize = 1;
    pub const MEMORY_COPY: usize = 2;
    pub const MEMORY_INIT: usize = 3;
    pub const DATA_DROP: usize = 4;
    pub const TABLE_GROW: usize = 5;
    pub const TABLE_FILL: usize = 6;
    pub const TABLE_COPY: usize = 7;
    pub const TABLE_INIT: usize = 8;
    pub const ELEM_DROP: usize = 9;
}

const _: () = assert!(core::mem::size_of::<Builtins>() == 10 * 8);

// ---------------------------------------------------------------------------
// The app manifest: what `kiln build` links beside the modules
// ---------------------------------------------------------------------------

pub mod app_mode {
    /// Instantiate module 0 with WASI and call its `_start`.
    pub const RUN: u32 = 0;
    /// Run the spec-test script in `AppManifest::script`.
    pub const WAST: u32 = 1;
}

/// App flag: report the time between `bench.start` and `bench.end`.
pub const APP_FLAG_BENCH: u32 = 1 << 0;

/// App flags: console stream 0, 1 or 2 is not a terminal, although the
/// board's console is one (a serial line). `kiln run` sets them from its
/// own streams, so that a program on a QEMU board sees redirected input as
/// `wasmtime run` would; boards that can tell themselves (the host) ignore
/// them. Bit `APP_FLAG_NOT_TERMINAL << fd`.
pub const APP_FLAG_NOT_TERMINAL: u32 = 1 << 1;

/// A host folder packed into the firmware (`--dir HOST::GUEST`).
#[repr(C)]
pub struct Preopen {
    pub guest_path: Str,
    /// A read-only file-system image (see `fs::image`), or empty on the host
    /// board, where `host_path` is opened instead.
    pub image: Slice<u8>,
    pub host_path: Str,
}

/// What a firmware runs: `kiln_run_program` or `kiln_run_wast`, defined by
/// the board library for its own board type (`board` is that board).
pub type Entry = unsafe extern "C" fn(board: *mut c_void, manifest: &'static AppManifest) -> u32;

#[repr(C)]
pub struct AppManifest {
    pub magic: [u8; 8],
    pub abi_version: u32,
    pub mode: u32,
    pub flags: u32,
    /// The entry point for `mode`.
    pub entry: Option<Entry>,
    pub modules: Slice<*const ModuleDescriptor>,
    /// Guest arguments, `argv[0]` included.
    pub args: Slice<Str>,
    /// Guest environment, `KEY=VALUE` each.
    pub env: Slice<Str>,
    pub preopens: Slice<Preopen>,
    /// Encoded spec-test script for `app_mode::WAST`.
    pub script: Slice<u8>,
    /// Wall-clock limit of the run in milliseconds from boot (`kiln run
    /// --timeout`, `kiln build --timeout`); 0 for none. The board's
    /// watchdog stops the program when it passes (`trap::on_interrupt`),
    /// with [`exit_status::TIMEOUT`].
    pub deadline_ms: u64,
    /// The image's integrity digest, checked at boot before anything runs.
    pub seal: ImageSeal,
}

// SAFETY: the manifest is immutable data in the firmware image.
unsafe impl Sync for AppManifest {}

/// Slots for constant sections in an [`ImageSeal`].
pub const SEAL_RANGES: usize = 6;

/// The integrity seal of a firmware image. `kiln` writes it after linking:
/// the SHA-256 of every section that never changes while the firmware runs
/// (code, read-only data, `.data.rel.ro`: the module descriptors, the Wasm
/// data segments, this manifest) as laid out in memory. The runtime recomputes it
/// at boot and refuses a different image (`docs/security.md`: this detects
/// corruption and naive tampering; it is not a signature).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ImageSeal {
    /// SHA-256 over `ranges` in order, the 32 bytes at `digest_at` read as zeros.
    pub digest: [u8; 32],
    /// Address of the linked manifest's `seal.digest` (a board may hand the
    /// runtime a copy of the manifest); 0 when the image is not sealed.
    pub digest_at: usize,
    /// (address, length) of each constant section; unused slots are 0.
    pub ranges: [[usize; 2]; SEAL_RANGES],
}

impl ImageSeal {
    pub const NONE: ImageSeal = ImageSeal {
        digest: [0; 32],
        digest_at: 0,
        ranges: [[0; 2]; SEAL_RANGES],
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn vmctx_layout_is_stable() {
        assert_eq!(offset_of!(VmCtx, memory), 0);
        assert_eq!(offset_of!(VmCtx, stack_limit), 8);
        assert_eq!(offset_of!(VmCtx, globals), 16);
        assert_eq!(offset_of!(VmCtx, tables), 24);
        assert_eq!(offset_of!(VmCtx, funcrefs), 32);
        assert_eq!(offset_of!(VmCtx, builtins), 40);
        assert_eq!(size_of::<VmFuncRef>(), 32);
        assert_eq!(offset_of!(VmMemory, length), 8);
        assert_eq!(offset_of!(VmTable, length), 8);
    }

    #[test]
    fn manifest_layout_is_stable() {
        assert_eq!(offset_of!(AppManifest, magic), 0);
        assert_eq!(offset_of!(AppManifest, abi_version), 8);
        assert_eq!(offset_of!(AppManifest, entry), 24);
        assert_eq!(offset_of!(AppManifest, script), 96);
        assert_eq!(offset_of!(AppManifest, deadline_ms), 112);
        assert_eq!(offset_of!(AppManifest, seal), 120);
        assert_eq!(offset_of!(ImageSeal, digest_at), 32);
        assert_eq!(offset_of!(ImageSeal, ranges), 40);
        assert_eq!(size_of::<ImageSeal>(), 40 + SEAL_RANGES * 16);
    }

    #[test]
    fn trap_kinds_round_trip() {
        for kind in TrapKind::ALL {
            assert_eq!(TrapKind::from_u8(kind as u8), Some(kind));
        }
        assert_eq!(TrapKind::from_u8(0), None);
    }

    #[test]
    fn signature_ids_distinguish_params_from_results() {
        use valtype::*;
        let a = signature_id(&[I32], &[]);
        let b = signature_id(&[], &[I32]);
        let c = signature_id(&[I32, I32], &[]);
        let d = signature_id(&[], &[]);
        assert!(a != b && a != c && b != c && a != d && b != d);
        let long = [I64; 30];
        assert_ne!(signature_id(&long, &[]), signature_id(&long[..29], &[I64]));
        assert!(signature_id(&long, &[]) >> 63 == 1);
    }
}

/// Exit statuses a firmware or the host board uses for its own outcomes.
/// Statuses below [`exit_status::TRAP`] are the program's (`proc_exit`).
pub mod exit_status {
    /// The program trapped (`kiln: trap: <kind> in <func>` was printed).
    pub const TRAP: u32 = 125;
    /// The program could not be started: a missing import, a failed
    /// instantiation, a bad descriptor.
    pub const LOAD_ERROR: u32 = 126;
    /// A CPU fault outside compiled code: a bug in the runtime or board.
    pub const FAULT: u32 = 127;
    /// The run passed its deadline (`AppManifest::deadline_ms`) and the
    /// watchdog stopped it; also what `kiln run --timeout` reports when it
    /// has to stop the board from outside.
    pub const TIMEOUT: u32 = 124;
}
