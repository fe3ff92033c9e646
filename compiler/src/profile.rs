//! Profiles for profile-guided compiles (`--profile FILE`): which functions
//! a run spent its time in, as the host board's sampler wrote them (`kiln
//! run --profile-out FILE`, format in `kiln_runtime::profile`).
//!
//! With a profile, the functions it saw are compiled by the optimising tier
//! and every other function by the fast tier (see `Tier`): most of a large
//! program never runs in a given workload, and compiling it cheaply is where
//! the compile time goes. Function indices do not depend on the target, so
//! a profile recorded on the host board serves every board.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The functions a profile saw running, per module.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct Profile {
    /// (SHA-256 of the module's Wasm, sampled function indices, sorted).
    modules: Vec<([u8; 32], Vec<u32>)>,
}

impl Profile {
    /// Reads one or more profile files; their samples add up.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Profile> {
        let mut profile = Profile::default();
        for path in paths {
            let path = path.as_ref();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the profile {}", path.display()))?;
            profile
                .add(&text)
                .with_context(|| format!("bad profile {}", path.display()))?;
        }
        Ok(profile)
    }

    /// Adds the functions of one profile's text.
    pub fn add(&mut self, text: &str) -> Result<()> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        match lines.next() {
            Some((_, kiln_runtime::profile::FORMAT)) => {}
            _ => bail!(
                "the first line is not `{}` (record one with `kiln run --profile-out`)",
                kiln_runtime::profile::FORMAT
            ),
        }
        let mut current: Option<usize> = None;
        for (n, line) in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                [comment, ..] if comment.starts_with('#') => {}
                ["module", _name, sha] => {
                    let sha = parse_sha256(sha).with_context(|| format!("line {n}"))?;
                    current = Some(match self.modules.iter().position(|m| m.0 == sha) {
                        Some(i) => i,
                        None => {
                            self.modules.push((sha, Vec::new()));
                            self.modules.len() - 1
                        }
                    });
                }
                ["outside", count] => {
                    count
                        .parse::<u64>()
                        .with_context(|| format!("line {n}: bad sample count `{count}`"))?;
                }
                [index, count] => {
                    let Some(m) = current else {
                        bail!("line {n}: a function before any `module` line");
                    };
                    let index = index
                        .parse::<u32>()
                        .with_context(|| format!("line {n}: bad function index `{index}`"))?;
                    count
                        .parse::<u64>()
                        .with_context(|| format!("line {n}: bad sample count `{count}`"))?;
                    self.modules[m].1.push(index);
                }
                _ => bail!(
                    "line {n}: expected `INDEX SAMPLES`, `module NAME SHA256` or `outside SAMPLES`, found `{line}`"
                ),
            }
        }
        for (_, functions) in &mut self.modules {
            functions.sort_unstable();
            functions.dedup();
        }
        Ok(())
    }

    /// The sampled functions of the module with this SHA-256 of its Wasm;
    /// an error naming both modules when the profile has none of it (it was
    /// recorded for another build of the program).
    pub fn functions_of(&self, wasm_sha256: &[u8; 32]) -> Result<&[u32]> {
        if let Some((_, functions)) = self.modules.iter().find(|m| &m.0 == wasm_sha256) {
            return Ok(functions);
        }
        let recorded: Vec<String> = self.modules.iter().map(|m| short_hex(&m.0)).collect();
        bail!(
            "the profile was recorded for another module (sha256 {}), not this one (sha256 {}): record it again with `kiln run --profile-out`",
            if recorded.is_empty() {
                "none".to_string()
            } else {
                recorded.join(", ")
            },
            short_hex(wasm_sha256)
        )
    }
}

fn parse_sha256(hex: &str) -> Result<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        bail!("bad SHA-256 `{hex}`: expected 64 hex digits");
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).unwrap_or("");
        out[i] = u8::from_str_radix(text, 16)
            .with_context(|| format!("bad SHA-256 `{hex}`: expected 64 hex digits"))?;
    }
    Ok(out)
}

fn short_hex(sha: &[u8; 32]) -> String {
    sha[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        + "..."
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn reads_what_the_runtime_writes_and_adds_profiles_up() {
        let mut p = Profile::default();
        p.add(&format!(
            "kiln-profile 1\nmodule app {SHA_A}\n7 30\n2 5\nmodule other {SHA_B}\n1 1\noutside 4\n"
        ))
        .unwrap();
        p.add(&format!(
            "kiln-profile 1\n# a comment\nmodule app {SHA_A}\n9 1\n2 8\noutside 0\n"
        ))
        .unwrap();
        assert_eq!(p.functions_of(&[0xaa; 32]).unwrap(), &[2, 7, 9]);
        assert_eq!(p.functions_of(&[0xbb; 32]).unwrap(), &[1]);
    }

    #[test]
    fn a_profile_of_another_module_is_refused_with_both_hashes() {
        let mut p = Profile::default();
        p.add(&format!(
            "kiln-profile 1\nmodule app {SHA_A}\n1 1\noutside 0\n"
        ))
        .unwrap();
        let err = p.functions_of(&[0xcc; 32]).unwrap_err().to_string();
        assert!(
            err.contains("recorded for another module (sha256 aaaaaaaaaaaa...)"),
            "{err}"
        );
        assert!(
            err.contains("not this one (sha256 cccccccccccc...)"),
            "{err}"
        );
    }

    #[test]
    fn malformed_profiles_name_the_line() {
        let cases = [
            ("not a profile\n", "the first line is not `kiln-profile 1`"),
            (
                "kiln-profile 1\n3 4\n",
                "line 2: a function before any `module` line",
            ),
            (
                &format!("kiln-profile 1\nmodule app {SHA_A}\nx 4\n"),
                "line 3: bad function index `x`",
            ),
            ("kiln-profile 1\nmodule app 12\n", "line 2"),
            (
                &format!("kiln-profile 1\nmodule app {SHA_A}\n1 2 3\n"),
                "line 3: expected `INDEX SAMPLES`",
            ),
        ];
        for (text, expected) in cases {
            let err = Profile::default().add(text).unwrap_err();
            let message = format!("{err:#}");
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }
}
