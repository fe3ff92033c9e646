//! Where each function's code goes in the object's `.text`: where its
//! small inner loops sit best in the CPU's 32-byte fetch windows.
//!
//! Cranelift does not align loop headers, so where a hot loop falls
//! relative to the windows the front end fetches and caches decoded code in
//! is an accident of the code before it. shootout-sieve's 24-byte inner loop
//! is byte for byte Wasmtime's, and ran 1.1-1.6x Wasmtime's time because in
//! Kiln it crossed into a second window; placed in one, it runs 1.11-1.40x
//! faster (docs/performance.md, "Loop placement in fetch windows").
//!
//! A function moves only when none of its innermost loops gets worse and
//! together they get better, and only if they are all short (longer loops
//! depend on more than windows). The padding that puts it there is
//! appended to the previous function and never executed, so no call runs a
//! NOP; on average it costs no more space than aligning every function to
//! the window, as before.

use anyhow::Result;
use cranelift_codegen::isa::TargetIsa;
use cranelift_module::{FuncId, Module};
use cranelift_object::ObjectModule;

use super::Compiled;

/// How a function's code is placed: `window` is the fetch window (the
/// backend's preferred function alignment), `step` the code's own
/// alignment, `branches` the sizes of the conditional and unconditional
/// branches the backend ends blocks with, where they vary in position
/// (x86_64); on fixed-width ISAs no branch can straddle a window.
#[derive(Clone, Copy, Debug)]
pub(super) struct Placement {
    pub window: u32,
    pub step: u32,
    pub branches: Option<BranchSizes>,
}

/// Bytes of a block's closing branches.
#[derive(Clone, Copy, Debug)]
pub(super) struct BranchSizes {
    pub conditional: u32,
    pub jump: u32,
}

/// What a branch inside a loop that crosses or ends on a window boundary
/// costs, in windows: the front end cannot take such a window from its
/// decoded-instruction cache on some cores (Intel's JCC erratum), and here
/// kernel/stencil ran 0.90-0.94x as fast with its inner loop's closing
/// `jmp` across a boundary, in no more windows.
const STRADDLE_COST: u64 = 2;

/// Only functions whose innermost loops are all at most this many windows
/// long are placed. For such a loop the windows it spans are a large part
/// of what the front end does per iteration (sieve's 24-byte loop ran
/// 1.11-1.40x faster in one window than across two); a longer loop's speed
/// depends on finer details that any move changes: shootout-matrix's
/// 385-byte loop ran 0.89x as fast moved by 3 bytes, with the same windows
/// and no branch across a boundary.
const MAX_LEAF_WINDOWS: u32 = 2;

impl Placement {
    /// For `isa`, with code that needs alignment `code_alignment`; `None`
    /// where the backend prefers no fetch-window alignment (riscv64's
    /// preferred 4 bytes) or the code's own alignment leaves no choice.
    pub fn new(isa: &dyn TargetIsa, code_alignment: u32) -> Option<Placement> {
        const MIN_WINDOW: u32 = 16;
        let a = isa.function_alignment();
        let symbol = u32::try_from(isa.symbol_alignment()).unwrap_or(u32::MAX);
        let step = code_alignment.max(a.minimum).max(symbol).max(1);
        let useful = a.preferred >= MIN_WINDOW && a.preferred > step;
        // Cranelift's x86_64 branches all take 32-bit displacements:
        // `jcc rel32` is 6 bytes, `jmp rel32` 5.
        let branches = match isa.triple().architecture {
            target_lexicon::Architecture::X86_64 => Some(BranchSizes {
                conditional: 6,
                jump: 5,
            }),
            _ => None,
        };
        (useful && a.preferred.is_multiple_of(step)).then_some(Placement {
            window: a.preferred,
            step,
            branches,
        })
    }

    /// The start offset modulo `window` for a function of `len` bytes, from
    /// Cranelift's basic-block starts and CFG edges (`machine_code_cfg_info`):
    /// one where no innermost loop costs more than at 0 (the window
    /// alignment) and together they cost less, a loop's cost being the
    /// windows it spans plus [`STRADDLE_COST`] for each of its branches
    /// that crosses or ends on a boundary. Among those, the cheapest for
    /// all loops weighted by depth. `None` if there is no such offset: a
    /// start that helps one hot loop by hurting another is not taken.
    pub fn best_start(&self, bb_starts: &[u32], bb_edges: &[(u32, u32)], len: u32) -> Option<u32> {
        let blocks = blocks(bb_starts, len);
        let loops = loops(&blocks, bb_edges);
        let small = |l: &Loop| l.end - l.start <= MAX_LEAF_WINDOWS * self.window;
        if loops.is_empty() || !loops.iter().filter(|l| l.leaf).all(small) {
            return None;
        }
        // Each branch belongs to the innermost loop around it.
        let branches: Vec<(u32, u32, usize)> = match self.branches {
            Some(sizes) => branches(&blocks, bb_edges, sizes)
                .into_iter()
                .filter_map(|(start, end)| {
                    let (owner, _) = loops
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.start <= start && end <= l.end)
                        .min_by_key(|(_, l)| l.end - l.start)?;
                    Some((start, end, owner))
                })
                .collect(),
            None => Vec::new(),
        };
        let w = self.window;
        let costs = |s: u32| -> Vec<u64> {
            let mut costs: Vec<u64> = loops
                .iter()
                .map(|l| u64::from(windows(s + l.start, s + l.end, w)))
                .collect();
            for &(start, end, owner) in &branches {
                if (s + start) / w != (s + end) / w {
                    costs[owner] += STRADDLE_COST;
                }
            }
            costs
        };
        let leaves = |c: &[u64]| -> u64 {
            loops
                .iter()
                .zip(c)
                .filter(|(l, _)| l.leaf)
                .map(|(_, c)| c)
                .sum()
        };
        let weighted = |c: &[u64]| -> u64 { loops.iter().zip(c).map(|(l, c)| l.weight * c).sum() };
        let aligned = costs(0);
        (self.step..self.window)
            .step_by(self.step as usize)
            .map(|s| (s, costs(s)))
            .filter(|(_, c)| {
                let no_leaf_worse = loops
                    .iter()
                    .zip(c.iter().zip(&aligned))
                    .all(|(l, (now, before))| !l.leaf || now <= before);
                no_leaf_worse && leaves(c) < leaves(&aligned)
            })
            .min_by_key(|(s, c)| (weighted(c), *s))
            .map(|(s, _)| s)
    }
}

/// Where the branches that close blocks are, as `start..end` byte ranges:
/// a block that falls through to the next one on one edge ends with a
/// conditional branch; one that jumps elsewhere on every edge with a jump,
/// after a conditional branch if it has two targets. (A block that only
/// falls through has no branch: Cranelift removes such jumps.)
fn branches(blocks: &[(u32, u32)], bb_edges: &[(u32, u32)], sizes: BranchSizes) -> Vec<(u32, u32)> {
    let mut edges = bb_edges.to_vec();
    edges.sort_unstable();
    edges.dedup();
    let mut found = Vec::new();
    for &(start, end) in blocks {
        let first = edges.partition_point(|&(from, _)| from < start);
        let last = edges.partition_point(|&(from, _)| from <= start);
        let targets: Vec<u32> = edges[first..last].iter().map(|&(_, to)| to).collect();
        let falls_through = targets.contains(&end);
        let jumps = targets.len() - usize::from(falls_through);
        let mut at = end;
        if jumps > 0 && !falls_through {
            found.push((at.saturating_sub(sizes.jump), at));
            at = at.saturating_sub(sizes.jump);
        }
        if (jumps == 1 && falls_through) || jumps > 1 {
            found.push((at.saturating_sub(sizes.conditional), at));
        }
    }
    found
}

/// A loop in machine code: `start..end` from its header (the target of a
/// backward edge) to the end of its last backward-branching block.
#[derive(Debug, PartialEq)]
struct Loop {
    start: u32,
    end: u32,
    weight: u64,
    /// Contains no other loop.
    leaf: bool,
}

/// The loops of a function, each weighted 4^(depth - 1) by how many loops
/// (itself included) contain it, capped at depth 10.
fn loops(blocks: &[(u32, u32)], bb_edges: &[(u32, u32)]) -> Vec<Loop> {
    // The end of the block that starts at `from` (an edge's source).
    let block_end = |from: u32| {
        let i = blocks.partition_point(|&(s, _)| s < from);
        blocks.get(i).map_or(from, |&(_, end)| end)
    };
    let mut loops: Vec<Loop> = Vec::new();
    for &(from, to) in bb_edges.iter().filter(|(from, to)| to <= from) {
        let end = block_end(from);
        match loops.iter_mut().find(|l| l.start == to) {
            Some(l) => l.end = l.end.max(end),
            None => loops.push(Loop {
                start: to,
                end,
                weight: 0,
                leaf: true,
            }),
        }
    }
    let spans: Vec<(u32, u32)> = loops.iter().map(|l| (l.start, l.end)).collect();
    for l in &mut loops {
        let depth = spans
            .iter()
            .filter(|&&(s, e)| s <= l.start && l.end <= e)
            .count()
            .min(10);
        l.weight = 1 << (2 * (depth.max(1) - 1));
        l.leaf = !spans
            .iter()
            .any(|&(s, e)| (s, e) != (l.start, l.end) && l.start <= s && e <= l.end);
    }
    loops
}

/// The basic blocks of a function of `len` bytes as `start..end` ranges,
/// in address order, from Cranelift's block starts.
fn blocks(bb_starts: &[u32], len: u32) -> Vec<(u32, u32)> {
    let mut starts = bb_starts.to_vec();
    starts.sort_unstable();
    starts.dedup();
    let ends = starts.iter().skip(1).copied().chain([len]);
    starts.iter().copied().zip(ends).collect()
}

/// How many `window`-byte windows the bytes `start..end` touch.
fn windows(start: u32, end: u32, window: u32) -> u32 {
    if end > start {
        (end - 1) / window - start / window + 1
    } else {
        0
    }
}

/// The object's `.text` as it is filled: functions are defined one behind,
/// so that the padding a function's preferred start needs can go at the
/// end of the function before it.
pub(super) struct Text {
    /// The byte that pads (x86_64 `int3`; zeros elsewhere, an undefined
    /// instruction on aarch64). Never executed.
    filler: u8,
    /// Bytes defined so far; the section starts window-aligned.
    offset: u64,
    pending: Option<(FuncId, Compiled)>,
}

impl Text {
    pub fn new(isa: &dyn TargetIsa) -> Text {
        let filler = match isa.triple().architecture {
            target_lexicon::Architecture::X86_64 => 0xcc,
            _ => 0,
        };
        Text {
            filler,
            offset: 0,
            pending: None,
        }
    }

    /// Adds `c` as function `id`'s code.
    pub fn define(&mut self, object: &mut ObjectModule, id: FuncId, mut c: Compiled) -> Result<()> {
        if let (Some((_, before)), Some(start)) = (self.pending.as_mut(), c.start) {
            let end = self.offset.next_multiple_of(before.alignment) + before.bytes.len() as u64;
            let window = c.alignment;
            let pad = (u64::from(start) + window - end % window) % window;
            before
                .bytes
                .resize(before.bytes.len() + pad as usize, self.filler);
            c.alignment = c.start_alignment;
        }
        if let Some((id, before)) = self.pending.replace((id, c)) {
            self.emit(object, id, before)?;
        }
        Ok(())
    }

    /// Defines the last function.
    pub fn finish(mut self, object: &mut ObjectModule) -> Result<()> {
        match self.pending.take() {
            Some((id, last)) => self.emit(object, id, last),
            None => Ok(()),
        }
    }

    fn emit(&mut self, object: &mut ObjectModule, id: FuncId, c: Compiled) -> Result<()> {
        object.define_function_bytes(id, c.alignment, &c.bytes, &c.relocs)?;
        self.offset = self.offset.next_multiple_of(c.alignment) + c.bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: Placement = Placement {
        window: 32,
        step: 1,
        branches: Some(BranchSizes {
            conditional: 6,
            jump: 5,
        }),
    };

    #[test]
    fn windows_count_touched_blocks() {
        assert_eq!(windows(0, 32, 32), 1);
        assert_eq!(windows(0, 33, 32), 2);
        assert_eq!(windows(31, 33, 32), 2);
        assert_eq!(windows(32, 64, 32), 1);
        assert_eq!(windows(5, 5, 32), 0);
    }

    /// shootout-sieve's inner loop: 24 bytes at 0xcd, one backward edge.
    #[test]
    fn a_loop_that_crosses_a_window_is_moved_inside_one() {
        let starts = [0x00, 0xa9, 0xcd, 0xe9, 0xef];
        let edges = [
            (0x00, 0xa9),
            (0xa9, 0xcd),
            (0xcd, 0xcd),
            (0xcd, 0xe9),
            (0xe9, 0xa9),
        ];
        let s = X86
            .best_start(&starts, &edges, 0x120)
            .expect("a better start");
        assert_eq!(windows(s + 0xcd, s + 0xe9, 32), 1);
        // Its closing `jb` (6 bytes) neither crosses nor ends on a boundary.
        assert_eq!((s + 0xe3) / 32, (s + 0xe9) / 32);
    }

    #[test]
    fn closing_branches_are_found() {
        let sizes = BranchSizes {
            conditional: 6,
            jump: 5,
        };
        // 0x00 falls through only; 0x10 branches back or falls through;
        // 0x20 jumps back; 0x30 has two targets, neither next; 0x40 returns.
        let starts = [0x00, 0x10, 0x20, 0x30, 0x40];
        let edges = [
            (0x00, 0x10),
            (0x10, 0x10),
            (0x10, 0x20),
            (0x20, 0x00),
            (0x30, 0x00),
            (0x30, 0x10),
        ];
        assert_eq!(
            branches(&blocks(&starts, 0x48), &edges, sizes),
            vec![(0x1a, 0x20), (0x2b, 0x30), (0x3b, 0x40), (0x35, 0x3b)]
        );
    }

    /// Two inner loops, in a function whose constants need 16-byte
    /// alignment: starting 16 bytes later would save the second a window and
    /// a branch ending on a boundary but put the first one's `jmp` across a
    /// boundary. Not taken, though the two would cost less together.
    #[test]
    fn a_start_that_helps_one_inner_loop_by_hurting_another_is_not_taken() {
        let step16 = Placement { step: 16, ..X86 };
        let starts = [0x00, 0x132, 0x168, 0x171, 0x1d0, 0x200, 0x20f];
        let edges = [
            (0x00, 0x132),
            (0x132, 0x168),
            (0x132, 0x171),
            (0x168, 0x132),
            (0x171, 0x1d0),
            (0x1d0, 0x200),
            (0x1d0, 0x20f),
            (0x200, 0x1d0),
        ];
        assert_eq!(step16.best_start(&starts, &edges, 0x220), None);
        // Without the first loop, the same start is taken.
        let starts = [0x00, 0x171, 0x1d0, 0x200, 0x20f];
        let edges = [
            (0x00, 0x171),
            (0x171, 0x1d0),
            (0x1d0, 0x200),
            (0x1d0, 0x20f),
            (0x200, 0x1d0),
        ];
        assert_eq!(step16.best_start(&starts, &edges, 0x220), Some(16));
    }

    /// An inner loop closed by a `jmp` that a 16-byte later start would put
    /// across a boundary; the outer loop around it would span one window
    /// less there. Not taken.
    #[test]
    fn outer_loops_do_not_pay_for_a_worse_inner_one() {
        let step16 = Placement { step: 16, ..X86 };
        let starts = [0x00, 0x110, 0x132, 0x168, 0x171, 0x1b0];
        let edges = [
            (0x00, 0x110),
            (0x110, 0x132),
            (0x132, 0x168),
            (0x132, 0x171),
            (0x168, 0x132),
            (0x171, 0x110),
            (0x171, 0x1b0),
        ];
        assert_eq!(windows(0x110, 0x1b0, 32), windows(0x120, 0x1c0, 32) + 1);
        assert_eq!(step16.best_start(&starts, &edges, 0x1c0), None);
    }

    /// A function with a long inner loop stays where it is, even where a
    /// small loop in it would gain.
    #[test]
    fn functions_with_long_inner_loops_are_not_moved() {
        // Sieve's shape, with a 20-byte loop, then a 96-byte loop.
        let starts = [0x00, 0x0d, 0x21, 0x40, 0xa0];
        let edges = [
            (0x00, 0x0d),
            (0x0d, 0x0d),
            (0x0d, 0x21),
            (0x21, 0x40),
            (0x40, 0x40),
            (0x40, 0xa0),
        ];
        assert_eq!(X86.best_start(&starts, &edges, 0xb0), None);
        assert!(X86.best_start(&starts[..3], &edges[..3], 0x30).is_some());
    }

    #[test]
    fn no_loops_or_an_aligned_loop_keep_the_window_alignment() {
        assert_eq!(X86.best_start(&[0, 16], &[(0, 16)], 40), None);
        assert_eq!(X86.best_start(&[0, 32, 48], &[(0, 32), (32, 32)], 64), None);
    }

    #[test]
    fn loops_are_weighted_by_depth() {
        // Outer loop 0x10..0x80, inner loop 0x3c..0x54 (24 bytes).
        let starts = [0x00, 0x10, 0x3c, 0x54, 0x80];
        let edges = [(0x10, 0x3c), (0x3c, 0x3c), (0x3c, 0x54), (0x54, 0x10)];
        assert_eq!(
            loops(&blocks(&starts, 0x90), &edges),
            vec![
                Loop {
                    start: 0x3c,
                    end: 0x54,
                    weight: 4,
                    leaf: true,
                },
                Loop {
                    start: 0x10,
                    end: 0x80,
                    weight: 1,
                    leaf: false,
                },
            ]
        );
        let s = X86
            .best_start(&starts, &edges, 0x90)
            .expect("a better start");
        assert_eq!(windows(s + 0x3c, s + 0x54, 32), 1);
    }

    /// The padding lands each function where it asked to start, as the
    /// object places it (the bookkeeping in `Text` must match
    /// cranelift-object's).
    #[test]
    fn functions_start_where_they_asked() {
        use cranelift_codegen::ir::Signature;
        use cranelift_codegen::isa::CallConv;
        use cranelift_module::Linkage;
        use object::{Object as _, ObjectSymbol as _};

        let target = crate::target::Target::new(
            "x86_64-unknown-linux-gnu",
            &crate::target::CodegenOptions::default(),
        )
        .expect("x86_64 target");
        let builder = cranelift_object::ObjectBuilder::new(
            target.isa.clone(),
            "t",
            cranelift_module::default_libcall_names(),
        )
        .expect("object builder");
        let mut object = ObjectModule::new(builder);
        let mut text = Text::new(&*target.isa);
        // (length, preferred start): the first cannot be padded for.
        let funcs = [
            (7, Some(5)),
            (45, None),
            (3, Some(17)),
            (64, Some(31)),
            (1, Some(1)),
        ];
        for (i, &(len, start)) in funcs.iter().enumerate() {
            let id = object
                .declare_function(
                    &format!("f{i}"),
                    Linkage::Export,
                    &Signature::new(CallConv::SystemV),
                )
                .expect("declare");
            let c = Compiled {
                bytes: vec![0x90; len],
                alignment: 32,
                relocs: Vec::new(),
                traps: Vec::new(),
                start,
                start_alignment: 1,
            };
            text.define(&mut object, id, c).expect("define");
        }
        text.finish(&mut object).expect("finish");
        let bytes = object.finish().emit().expect("emit");
        let file = object::File::parse(&*bytes).expect("parse");
        for (i, &(_, start)) in funcs.iter().enumerate() {
            let symbol = file
                .symbols()
                .find(|s| s.name() == Ok(&format!("f{i}")))
                .expect("symbol");
            let want = if i == 0 { 0 } else { start.unwrap_or(0) };
            assert_eq!(symbol.address() % 32, u64::from(want), "f{i}");
        }
    }

    #[test]
    fn the_code_alignment_limits_the_starts() {
        let aarch64 = Placement {
            window: 32,
            step: 4,
            branches: None,
        };
        let starts = [0x00, 0x1c, 0x34];
        let edges = [(0x00, 0x1c), (0x1c, 0x1c)];
        let s = aarch64
            .best_start(&starts, &edges, 0x40)
            .expect("a better start");
        assert_eq!(s % 4, 0);
        assert_eq!(windows(s + 0x1c, s + 0x34, 32), 1);
    }
}
