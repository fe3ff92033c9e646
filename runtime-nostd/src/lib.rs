//! Kiln's runtime: links with objects made by `kiln compile` and runs them on a
//! board with no operating system (or as a Linux process on the host board).
//!
//! - [`abi`]: the contract with compiled code (descriptor, vmctx, trap codes).
//! - [`board`]: the services a board provides; [`heap`]: its allocator;
//!   [`paging`]: guard regions for boards with a 4-level MMU; [`cpu`]: the
//!   CPU features compiled code may need.
//! - [`instance`]: instantiation, memories, tables, globals, builtins.
//! - [`trap`]: fault-to-trap mapping and the resume after a trap (and the
//!   watchdog's interrupt); [`integrity`]: the image seal checked at boot.
//! - `wasi`: `wasi_snapshot_preview1` on top of a board.
//! - [`fs`]: the file systems behind preopened directories (image format,
//!   RAM overlay, the trait a board's own file system implements).
//! - `wast`: the spec-test script driver that runs inside a firmware.
//! - [`profile`]: sampling profiles of compiled code (`kiln run --profile-out`).
//! - [`start`]: what a board calls after boot.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod abi;
mod arch;
pub mod board;
mod builtins;
pub mod console;
pub mod cpu;
pub mod device_tree;
pub mod fs;
mod global;
pub mod heap;
pub mod instance;
pub mod integrity;
pub mod memory;
pub mod paging;
pub mod profile;
pub mod start;
pub mod trap;
pub mod wasi;
pub mod wast;

pub use start::start;
