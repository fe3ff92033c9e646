//! The compact form of a spec-test script that `kiln wast` links into a
//! firmware: one command per directive that needs the compiled code
//! (instantiate, register, invoke, get, link and instantiation failures).
//! Directives about malformed or invalid modules are decided on the host and
//! never reach the firmware.
//!
//! Encoding: little-endian; strings as `u32 length + bytes`. The encoder is
//! used by the compiler, the decoder by the driver in the firmware.

use alloc::vec::Vec;

use crate::abi::valtype;

pub const MAGIC: [u8; 4] = *b"KWS2";

/// Module index of a module that failed to compile on the host.
pub const NO_MODULE: u32 = u32::MAX;

/// A value passed to an invoked function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value {
    /// A `valtype` code.
    pub ty: u8,
    /// The value's bits (a `v128`'s 16 bytes little-endian; other types
    /// in the low 64 bits).
    pub bits: u128,
}

/// An expected result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Exactly this value (floats compared bit for bit).
    Exact(Value),
    CanonicalNan {
        ty: u8,
    },
    ArithmeticNan {
        ty: u8,
    },
    /// A null reference of this type (0: of any reference type).
    RefNull {
        ty: u8,
    },
    /// A non-null reference of this type.
    RefNonNull {
        ty: u8,
    },
    /// A `v128` of float lanes (`ty`: `F32` or `F64`), some of which are NaN
    /// patterns: lane `i` is a canonical NaN if bit `i` of `canonical` is
    /// set, an arithmetic NaN if bit `i` of `arithmetic` is, else exactly
    /// its bits in `bits`.
    Lanes {
        ty: u8,
        bits: u128,
        canonical: u8,
        arithmetic: u8,
    },
}

/// What a command expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Plain action: must not trap.
    Nothing,
    Return(Vec<Pattern>),
    /// A trap of this `TrapKind`.
    Trap(u8),
    Exhaustion,
}

/// One command, borrowing its strings from the encoded script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// Instantiate `module` (index into the manifest's modules); it becomes
    /// the current instance and, if `name` is not empty, is known by it.
    /// [`NO_MODULE`] stands for a module the host could not compile: there
    /// is no current instance after it (the host reported the failure).
    Module {
        line: u32,
        module: u32,
        name: &'a [u8],
    },
    /// Make instance `instance` (empty: current) importable as `as_name`.
    Register {
        line: u32,
        as_name: &'a [u8],
        instance: &'a [u8],
    },
    Invoke {
        line: u32,
        instance: &'a [u8],
        func: &'a [u8],
        args: Vec<Value>,
        expect: Expect,
    },
    Get {
        line: u32,
        instance: &'a [u8],
        global: &'a [u8],
        expect: Expect,
    },
    /// Instantiating `module` must fail to link.
    Unlinkable { line: u32, module: u32 },
    /// Instantiating `module` must trap (start function or segments).
    Uninstantiable { line: u32, module: u32, trap: u8 },
}

mod tag {
    pub const END: u8 = 0;
    pub const MODULE: u8 = 1;
    pub const REGISTER: u8 = 2;
    pub const INVOKE: u8 = 3;
    pub const GET: u8 = 4;
    pub const UNLINKABLE: u8 = 5;
    pub const UNINSTANTIABLE: u8 = 6;

    pub const EXPECT_NOTHING: u8 = 0;
    pub const EXPECT_RETURN: u8 = 1;
    pub const EXPECT_TRAP: u8 = 2;
    pub const EXPECT_EXHAUSTION: u8 = 3;

    pub const PAT_EXACT: u8 = 0;
    pub const PAT_CANONICAL_NAN: u8 = 1;
    pub const PAT_ARITHMETIC_NAN: u8 = 2;
    pub const PAT_REF_NULL: u8 = 3;
    pub const PAT_REF_NON_NULL: u8 = 4;
    pub const PAT_LANES: u8 = 5;
}

/// Builds an encoded script.
pub struct Encoder {
    out: Vec<u8>,
    commands: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    pub fn new() -> Self {
        Encoder {
            out: MAGIC.to_vec(),
            commands: 0,
        }
    }

    /// Number of commands so far.
    pub fn len(&self) -> usize {
        self.commands
    }

    pub fn is_empty(&self) -> bool {
        self.commands == 0
    }

    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &[u8]) {
        self.u32(s.len() as u32);
        self.out.extend_from_slice(s);
    }
    fn value(&mut self, v: &Value) {
        self.u8(v.ty);
        self.u64(v.bits as u64);
        if v.ty == valtype::V128 {
            self.u64((v.bits >> 64) as u64);
        }
    }
    fn expect(&mut self, e: &Expect) {
        match e {
            Expect::Nothing => self.u8(tag::EXPECT_NOTHING),
            Expect::Return(patterns) => {
                self.u8(tag::EXPECT_RETURN);
                self.u32(patterns.len() as u32);
                for p in patterns {
                    match p {
                        Pattern::Exact(v) => {
                            self.u8(tag::PAT_EXACT);
                            self.value(v);
                        }
                        Pattern::CanonicalNan { ty } => {
                            self.u8(tag::PAT_CANONICAL_NAN);
                            self.u8(*ty);
                        }
                        Pattern::ArithmeticNan { ty } => {
                            self.u8(tag::PAT_ARITHMETIC_NAN);
                            self.u8(*ty);
                        }
                        Pattern::RefNull { ty } => {
                            self.u8(tag::PAT_REF_NULL);
                            self.u8(*ty);
                        }
                        Pattern::RefNonNull { ty } => {
                            self.u8(tag::PAT_REF_NON_NULL);
                            self.u8(*ty);
                        }
                        Pattern::Lanes {
                            ty,
                            bits,
                            canonical,
                            arithmetic,
                        } => {
                            self.u8(tag::PAT_LANES);
                            self.u8(*ty);
                            self.u64(*bits as u64);
                            self.u64((*bits >> 64) as u64);
                            self.u8(*canonical);
                            self.u8(*arithmetic);
                        }
                    }
                }
            }
            Expect::Trap(kind) => {
                self.u8(tag::EXPECT_TRAP);
                self.u8(*kind);
            }
            Expect::Exhaustion => self.u8(tag::EXPECT_EXHAUSTION),
        }
    }

    pub fn push(&mut self, command: &Command<'_>) {
        self.commands += 1;
        match command {
            Command::Module { line, module, name } => {
                self.u8(tag::MODULE);
                self.u32(*line);
                self.u32(*module);
                self.str(name);
            }
            Command::Register {
                line,
                as_name,
                instance,
            } => {
                self.u8(tag::REGISTER);
                self.u32(*line);
                self.str(as_name);
                self.str(instance);
            }
            Command::Invoke {
                line,
                instance,
                func,
                args,
                expect,
            } => {
                self.u8(tag::INVOKE);
                self.u32(*line);
                self.str(instance);
                self.str(func);
                self.u32(args.len() as u32);
                for a in args {
                    self.value(a);
                }
                self.expect(expect);
            }
            Command::Get {
                line,
                instance,
                global,
                expect,
            } => {
                self.u8(tag::GET);
                self.u32(*line);
                self.str(instance);
                self.str(global);
                self.expect(expect);
            }
            Command::Unlinkable { line, module } => {
                self.u8(tag::UNLINKABLE);
                self.u32(*line);
                self.u32(*module);
            }
            Command::Uninstantiable { line, module, trap } => {
                self.u8(tag::UNINSTANTIABLE);
                self.u32(*line);
                self.u32(*module);
                self.u8(*trap);
            }
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.u8(tag::END);
        self.out
    }
}

/// Reads commands from an encoded script.
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
}

/// The script is truncated or corrupt.
#[derive(Debug)]
pub struct BadScript;

impl<'a> Decoder<'a> {
    pub fn new(data: &'a [u8]) -> Result<Self, BadScript> {
        if data.get(..4) != Some(&MAGIC[..]) {
            return Err(BadScript);
        }
        Ok(Decoder { data, pos: 4 })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BadScript> {
        let end = self.pos.checked_add(n).ok_or(BadScript)?;
        let s = self.data.get(self.pos..end).ok_or(BadScript)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, BadScript> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, BadScript> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, BadScript> {
        let mut v = [0u8; 8];
        v.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(v))
    }
    fn str(&mut self) -> Result<&'a [u8], BadScript> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn value(&mut self) -> Result<Value, BadScript> {
        let ty = self.u8()?;
        let mut bits = u128::from(self.u64()?);
        if ty == valtype::V128 {
            bits |= u128::from(self.u64()?) << 64;
        }
        Ok(Value { ty, bits })
    }
    fn expect(&mut self) -> Result<Expect, BadScript> {
        Ok(match self.u8()? {
            tag::EXPECT_NOTHING => Expect::Nothing,
            tag::EXPECT_RETURN => {
                let n = self.u32()?;
                let mut patterns = Vec::new();
                for _ in 0..n {
                    patterns.push(match self.u8()? {
                        tag::PAT_EXACT => Pattern::Exact(self.value()?),
                        tag::PAT_CANONICAL_NAN => Pattern::CanonicalNan { ty: self.u8()? },
                        tag::PAT_ARITHMETIC_NAN => Pattern::ArithmeticNan { ty: self.u8()? },
                        tag::PAT_REF_NULL => Pattern::RefNull { ty: self.u8()? },
                        tag::PAT_REF_NON_NULL => Pattern::RefNonNull { ty: self.u8()? },
                        tag::PAT_LANES => Pattern::Lanes {
                            ty: self.u8()?,
                            bits: u128::from(self.u64()?) | u128::from(self.u64()?) << 64,
                            canonical: self.u8()?,
                            arithmetic: self.u8()?,
                        },
                        _ => return Err(BadScript),
                    });
                }
                Expect::Return(patterns)
            }
            tag::EXPECT_TRAP => Expect::Trap(self.u8()?),
            tag::EXPECT_EXHAUSTION => Expect::Exhaustion,
            _ => return Err(BadScript),
        })
    }

    /// The next command, `None` at the end.
    pub fn next_command(&mut self) -> Result<Option<Command<'a>>, BadScript> {
        Ok(Some(match self.u8()? {
            tag::END => return Ok(None),
            tag::MODULE => Command::Module {
                line: self.u32()?,
                module: self.u32()?,
                name: self.str()?,
            },
            tag::REGISTER => Command::Register {
                line: self.u32()?,
                as_name: self.str()?,
                instance: self.str()?,
            },
            tag::INVOKE => {
                let line = self.u32()?;
                let instance = self.str()?;
                let func = self.str()?;
                let n = self.u32()?;
                let mut args = Vec::new();
                for _ in 0..n {
                    args.push(self.value()?);
                }
                Command::Invoke {
                    line,
                    instance,
                    func,
                    args,
                    expect: self.expect()?,
                }
            }
            tag::GET => Command::Get {
                line: self.u32()?,
                instance: self.str()?,
                global: self.str()?,
                expect: self.expect()?,
            },
            tag::UNLINKABLE => Command::Unlinkable {
                line: self.u32()?,
                module: self.u32()?,
            },
            tag::UNINSTANTIABLE => Command::Uninstantiable {
                line: self.u32()?,
                module: self.u32()?,
                trap: self.u8()?,
            },
            _ => return Err(BadScript),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn commands_round_trip() {
        let commands = vec![
            Command::Module {
                line: 1,
                module: 0,
                name: b"$m",
            },
            Command::Register {
                line: 2,
                as_name: b"M",
                instance: b"",
            },
            Command::Invoke {
                line: 3,
                instance: b"",
                func: b"f",
                args: vec![Value {
                    ty: valtype::I32,
                    bits: 7,
                }],
                expect: Expect::Return(vec![
                    Pattern::Exact(Value {
                        ty: valtype::F32,
                        bits: 0x7fc0_0000,
                    }),
                    Pattern::CanonicalNan { ty: valtype::F64 },
                    Pattern::RefNull {
                        ty: valtype::EXTERNREF,
                    },
                    Pattern::RefNonNull {
                        ty: valtype::FUNCREF,
                    },
                    Pattern::Exact(Value {
                        ty: valtype::V128,
                        bits: 0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10,
                    }),
                    Pattern::Lanes {
                        ty: valtype::F32,
                        bits: 0x3f80_0000 << 64,
                        canonical: 0b0001,
                        arithmetic: 0b1000,
                    },
                ]),
            },
            Command::Get {
                line: 4,
                instance: b"$m",
                global: b"g",
                expect: Expect::Trap(3),
            },
            Command::Unlinkable { line: 5, module: 1 },
            Command::Uninstantiable {
                line: 6,
                module: 2,
                trap: 10,
            },
            Command::Invoke {
                line: 7,
                instance: b"",
                func: b"r",
                args: vec![],
                expect: Expect::Exhaustion,
            },
        ];
        let mut enc = Encoder::new();
        for c in &commands {
            enc.push(c);
        }
        let bytes = enc.finish();
        let mut dec = Decoder::new(&bytes).unwrap();
        for c in &commands {
            assert_eq!(dec.next_command().unwrap().as_ref(), Some(c));
        }
        assert_eq!(dec.next_command().unwrap(), None);
    }

    #[test]
    fn truncated_script_is_an_error() {
        let mut enc = Encoder::new();
        enc.push(&Command::Unlinkable { line: 5, module: 1 });
        let bytes = enc.finish();
        let mut dec = Decoder::new(&bytes[..bytes.len() - 3]).unwrap();
        assert!(dec.next_command().is_err());
    }
}
