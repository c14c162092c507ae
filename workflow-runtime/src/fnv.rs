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

/// The FNV-1a hashes of `texts`, in order, appended to `hashes`. The same values as [`fnv1a`] of
/// each, four texts at a time: FNV-1a waits for each byte's multiplication before the next, so
/// one text runs at the multiplier's latency; four independent ones keep it busy (about three
/// times faster over a page of stored events). Only the SQLite store reads pages.
#[cfg(feature = "sqlite")]
pub(crate) fn fnv1a_each<'a>(texts: impl IntoIterator<Item = &'a [u8]>, hashes: &mut Vec<u64>) {
    const PRIME: u64 = 0x0100_0000_01b3;
    let step = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(PRIME);
    let mut texts = texts.into_iter().peekable();
    while texts.peek().is_some() {
        let mut group: [&[u8]; 4] = [&[]; 4];
        let mut n = 0;
        for (slot, text) in group.iter_mut().zip(texts.by_ref()) {
            *slot = text;
            n += 1;
        }
        let [a, b, c, d] = group;
        let mut h = [Fnv::new().0; 4];
        let common = a.len().min(b.len()).min(c.len()).min(d.len());
        for (((&x, &y), &z), &w) in a.iter().zip(b).zip(c).zip(d) {
            h = [step(h[0], x), step(h[1], y), step(h[2], z), step(h[3], w)];
        }
        for (lane, text) in group.iter().enumerate().take(n) {
            let mut rest = Fnv(h[lane]);
            rest.bytes(text.get(common..).unwrap_or_default());
            hashes.push(rest.finish());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four at a time gives each text's own hash, whatever their lengths and count.
    #[cfg(feature = "sqlite")]
    #[test]
    fn hashes_of_many_texts_are_each_texts_hash() {
        let texts: Vec<Vec<u8>> = (0..11)
            .map(|i: usize| (0..(i * 37) % 101).map(|j| (j * i) as u8 ^ 0x5a).collect())
            .collect();
        for count in 0..texts.len() {
            let mut hashes = vec![7];
            fnv1a_each(texts[..count].iter().map(Vec::as_slice), &mut hashes);
            let expected: Vec<u64> = std::iter::once(7)
                .chain(texts[..count].iter().map(|t| fnv1a(t)))
                .collect();
            assert_eq!(hashes, expected, "{count} texts");
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let mut h = Fnv::new();
        std::io::Write::write_all(&mut h, b"a").expect("hashing cannot fail");
        assert_eq!(h.finish(), fnv1a(b"a"));
    }
}
