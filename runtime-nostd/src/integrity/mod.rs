//! The boot-time integrity check: the SHA-256 of the image's constant
//! sections (code, read-only data, descriptors), recomputed and compared
//! with the seal `kiln` wrote into the manifest after linking
//! ([`ImageSeal`]). A firmware whose code, module
//! descriptors or data changed after it was built is refused before any of
//! it runs. This is a check against corruption and naive tampering, not
//! authentication: whoever can rewrite the image can rewrite the seal (see
//! `docs/security.md`).
//!
//! SHA-256 is implemented here (FIPS 180-4) so that every board gets it
//! without target-specific code; on x86_64 and aarch64 CPUs with SHA-256
//! instructions whole blocks go through them instead (`sha_ni`, `sha2_arm`):
//! five times faster on the host, and far cheaper under QEMU. So do riscv64
//! cores whose board declares the vector SHA-2 extensions (`sha2_rvv`).

use crate::abi::ImageSeal;

#[cfg(target_arch = "aarch64")]
mod sha2_arm;
#[cfg(target_arch = "riscv64")]
mod sha2_rvv;
#[cfg(target_arch = "x86_64")]
mod sha_ni;

/// Why an image was refused.
pub struct Mismatch {
    pub expected: [u8; 32],
    pub computed: [u8; 32],
}

/// Checks `seal` against the memory it describes. An image without a seal
/// (`digest_at == 0`, not made by `kiln build`) passes.
pub fn verify(seal: &ImageSeal) -> Result<(), Mismatch> {
    if seal.digest_at == 0 {
        return Ok(());
    }
    let mut hash = Sha256::new();
    let hole = seal.digest_at..seal.digest_at + 32;
    for &[start, len] in &seal.ranges {
        if len == 0 {
            continue;
        }
        // SAFETY: `kiln` wrote the addresses and lengths of the image's own
        // constant sections, which stay mapped and unchanged for the life
        // of the firmware.
        let bytes = unsafe { core::slice::from_raw_parts(start as *const u8, len) };
        let end = start + len;
        if hole.start >= start && hole.end <= end {
            let at = hole.start - start;
            hash.update(&bytes[..at]);
            hash.update(&[0u8; 32]);
            hash.update(&bytes[at + 32..]);
        } else {
            hash.update(bytes);
        }
    }
    let computed = hash.finish();
    if computed == seal.digest {
        Ok(())
    } else {
        Err(Mismatch {
            expected: seal.digest,
            computed,
        })
    }
}

/// The first 8 bytes of a digest in hex, for messages.
pub fn short_hex(digest: &[u8; 32]) -> [u8; 16] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 16];
    for (i, b) in digest[..8].iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// A streaming SHA-256.
pub struct Sha256 {
    state: [u32; 8],
    block: [u8; 64],
    filled: usize,
    length: u64,
}

/// An assembly compression function (`sha_ni`, `sha2_arm`, `sha2_rvv`):
/// `blocks` 64-byte blocks at `data` into the state `a..h` at `state`, with
/// the 64 round constants at `k`.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
type BlockFn = unsafe extern "C" fn(state: *mut u32, data: *const u8, blocks: usize, k: *const u32);

/// The round constants, 16-byte aligned for the SHA-NI path.
#[repr(C, align(16))]
struct RoundConstants([u32; 64]);

const K: RoundConstants = RoundConstants([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256 {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            block: [0; 64],
            filled: 0,
            length: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let take = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < 64 {
                return;
            }
            let block = self.block;
            self.compress(&block);
            self.filled = 0;
        }
        let whole = data.len() - data.len() % 64;
        let (blocks, rest) = data.split_at(whole);
        self.compress_blocks(blocks);
        self.block[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    pub fn finish(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8);
        let mut pad = [0u8; 72];
        pad[0] = 0x80;
        let zeros = (119 - self.filled) % 64;
        pad[zeros + 1..zeros + 9].copy_from_slice(&bits.to_be_bytes());
        // `update` must not count the padding into the length.
        let length = self.length;
        self.update(&pad[..zeros + 9]);
        self.length = length;
        let mut out = [0u8; 32];
        for (word, bytes) in self.state.iter().zip(out.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Compresses whole blocks, with the CPU's SHA instructions where it
    /// has them.
    fn compress_blocks(&mut self, blocks: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        if !blocks.is_empty() && sha_ni::available() {
            // SAFETY: the CPU has the instructions.
            unsafe { self.run(sha_ni::kiln_sha256_blocks_ni, blocks) };
            return;
        }
        #[cfg(target_arch = "aarch64")]
        if !blocks.is_empty() && sha2_arm::available() {
            // SAFETY: as above.
            unsafe { self.run(sha2_arm::kiln_sha256_blocks_arm, blocks) };
            return;
        }
        #[cfg(target_arch = "riscv64")]
        if !blocks.is_empty() && crate::cpu::riscv_vector_sha256() {
            // SAFETY: the board found V, Zvknha or Zvknhb, and Zvkb.
            unsafe { self.run(sha2_rvv::kiln_sha256_blocks_rvv, blocks) };
            return;
        }
        for chunk in blocks.chunks_exact(64) {
            let mut block = [0u8; 64];
            block.copy_from_slice(chunk);
            self.compress(&block);
        }
    }

    /// Runs assembly compression function `f` over `blocks` (whole
    /// 64-byte blocks, at least one).
    ///
    /// # Safety
    /// The CPU has the instructions `f` uses.
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    ))]
    unsafe fn run(&mut self, f: BlockFn, blocks: &[u8]) {
        debug_assert!(!blocks.is_empty() && blocks.len().is_multiple_of(64));
        // SAFETY: the pointers cover the state, `blocks.len() / 64` blocks
        // and the 64 constants; the caller checked the CPU.
        unsafe {
            f(
                self.state.as_mut_ptr(),
                blocks.as_ptr(),
                blocks.len() / 64,
                K.0.as_ptr(),
            )
        }
    }

    fn compress(&mut self, block: &[u8; 64]) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = self.state;
        for (&k, &w) in K.0.iter().zip(&w) {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(k)
                .wrapping_add(w);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (s, v) in self.state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 32]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn sha(data: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(data);
        hex(h.finish())
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            sha(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            sha(&million),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn sha_ni_matches_the_portable_code() {
        #[cfg(target_arch = "x86_64")]
        {
            if !sha_ni::available() {
                eprintln!("no SHA-NI on this CPU: only the portable code was tested");
                return;
            }
            let data: Vec<u8> = (0..64 * 37u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            for blocks in [1, 2, 5, 37] {
                let mut portable = Sha256::new();
                for chunk in data[..64 * blocks].chunks_exact(64) {
                    portable.compress(chunk.try_into().unwrap());
                }
                let mut fast = Sha256::new();
                // SAFETY: checked above.
                unsafe { fast.run(sha_ni::kiln_sha256_blocks_ni, &data[..64 * blocks]) };
                assert_eq!(portable.state, fast.state, "{blocks} blocks");
            }
        }
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 55, 56, 63, 64, 65, 500, 999] {
            let mut h = Sha256::new();
            h.update(&data[..split]);
            h.update(&data[split..]);
            assert_eq!(hex(h.finish()), sha(&data), "split at {split}");
        }
    }

    #[test]
    fn seal_covers_ranges_with_the_digest_as_zeros() {
        let mut image = vec![7u8; 300];
        let base = image.as_ptr() as usize;
        let mut seal = ImageSeal::NONE;
        seal.digest_at = base + 100;
        seal.ranges[0] = [base, 200];
        seal.ranges[1] = [base + 250, 50];
        let mut expected = image.clone();
        expected[100..132].fill(0);
        let mut h = Sha256::new();
        h.update(&expected[..200]);
        h.update(&expected[250..]);
        seal.digest = h.finish();
        // The stored digest itself does not change the result.
        image[100..132].copy_from_slice(&seal.digest);
        assert!(verify(&seal).is_ok());
        image[260] ^= 1;
        let err = verify(&seal).expect_err("a changed byte is found");
        assert_eq!(err.expected, seal.digest);
        image[260] ^= 1;
        image[220] ^= 1; // outside every range
        assert!(verify(&seal).is_ok());
        assert!(
            verify(&ImageSeal::NONE).is_ok(),
            "no seal, nothing to check"
        );
    }
}
