//! 64-bit FNV-1a, the one stable hash of the runtime: the seeds derived from scopes and Map Run
//! ids, the stores' checksums and definition hashes, the input hash of a recorded Map Run child.
//! Unlike std's `DefaultHasher` its value is the same on every platform and in every version, so
//! what it produces can be stored and compared later.

/// An FNV-1a hash being fed; also an [`std::io::Write`], so a value can be serialised into it.
#[derive(Debug, Clone)]
pub(crate) struct Fnv(u64);

impl Fnv {
    /// The hash of nothing (FNV-1a's offset basis).
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    /// Feeds `bytes`.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// The hash of what was fed.
    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The FNV-1a hash of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h = Fnv::new();
    h.bytes(bytes);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv::new();
        std::io::Write::write_all(&mut h, b"a").expect("hashing cannot fail");
        assert_eq!(h.finish(), fnv1a(b"a"));
    }
}
