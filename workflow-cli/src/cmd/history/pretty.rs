//! A stored history's JSON in serde_json's pretty layout, written from each event's stored text.
//!
//! The details' text is re-indented by a byte scanner ([`reindent`]) rather than parsed and
//! serialised again: the store wrote it compact, as serde_json writes, so its strings and numbers
//! are copied through as they are. Whatever the scanner does not copy through unchanged (an escape
//! serde_json would write otherwise, such as `\/` or `\u0041`, a number with a fraction or an
//! exponent, an integer beyond 64 bits, `-0`, deep nesting, text that is not JSON) sends the whole
//! value to serde_json ([`transcode`]), whose output is the reference: both give the same bytes.

use std::io::Write;

/// How deep the scanner follows nested arrays and objects within one value; deeper values go to
/// serde_json, which reports its own limit (128).
const MAX_NESTING: usize = 100;

/// Appends `text`, one JSON value, to `out` in serde_json's pretty layout as if it were written
/// `depth` levels deep in an enclosing document (its first line is not indented: the caller has
/// written the key). Returns `false`, with `out` possibly extended by part of the value, when the
/// text holds something the scanner does not copy through (the caller truncates `out` and calls
/// [`transcode`]).
pub(super) fn reindent(text: &str, depth: usize, out: &mut Vec<u8>) -> bool {
    let mut s = Scanner {
        bytes: text.as_bytes(),
        pos: 0,
        out,
    };
    s.value(depth, 0).is_some() && {
        s.skip_whitespace();
        s.pos == s.bytes.len()
    }
}

/// The stored text's value re-indented by serde_json (parse and serialise): for whatever
/// [`reindent`] leaves to it. The error says why the text is not JSON.
pub(super) fn transcode(text: &str, depth: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, Nested::at(depth));
    // A `Vec` takes every write: an error is the text's.
    serde_transcode::transcode(&mut de, &mut ser).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it.
pub(super) fn push_string(out: &mut Vec<u8>, s: &str) {
    if !has_escapes(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    let mut ser = serde_json::Serializer::new(&mut *out);
    // A `Vec` takes every write, and a `&str` always serialises.
    let _ = serde::Serializer::serialize_str(&mut ser, s);
}

/// Appends `n` in decimal.
pub(super) fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Whether a JSON string writes any of `bytes` escaped.
fn has_escapes(bytes: &[u8]) -> bool {
    let chunks = bytes.chunks_exact(8);
    let rest = chunks.remainder();
    chunks
        .filter_map(|c| <[u8; 8]>::try_from(c).ok())
        .any(|c| any_needs_escape(u64::from_le_bytes(c)))
        || rest.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Whether any of the eight bytes of `x` is below 0x20, `"` or `\` (the classic "has a zero
/// byte" and "has a byte less than n" bit tricks; exact for "any", n = 0x20 ≤ 0x80).
fn any_needs_escape(x: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let below_space = x.wrapping_sub(LO * 0x20) & !x & HI;
    (below_space | zero(x ^ (LO * u64::from(b'"'))) | zero(x ^ (LO * u64::from(b'\\')))) != 0
}

/// Appends the indentation of `depth` levels (two spaces each).
fn indent(out: &mut Vec<u8>, depth: usize) {
    const SPACES: &[u8; 64] = b"                                                                ";
    let mut n = depth * 2;
    while n > 0 {
        let take = n.min(SPACES.len());
        out.extend_from_slice(&SPACES[..take]);
        n -= take;
    }
}

/// The scanner: `None` means "leave this value to serde_json".
struct Scanner<'a, 'o> {
    bytes: &'a [u8],
    pos: usize,
    out: &'o mut Vec<u8>,
}

impl Scanner<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// JSON's insignificant whitespace, which serde_json skips.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// A value at `depth` levels of the output, `nesting` levels inside the text.
    fn value(&mut self, depth: usize, nesting: usize) -> Option<()> {
        self.skip_whitespace();
        match self.peek()? {
            b'{' => self.container(depth, nesting, b'}'),
            b'[' => self.container(depth, nesting, b']'),
            b'"' => self.string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.integer(),
            _ => None,
        }
    }

    /// An object (`close` is `}`) or an array (`]`): each member on its own line one level
    /// deeper, the closing bracket on its own line; `{}` and `[]` when empty.
    fn container(&mut self, depth: usize, nesting: usize, close: u8) -> Option<()> {
        if nesting >= MAX_NESTING {
            return None;
        }
        let open = self.peek()?;
        self.pos += 1;
        self.out.push(open);
        self.skip_whitespace();
        if self.peek()? == close {
            self.pos += 1;
            self.out.push(close);
            return Some(());
        }
        loop {
            self.out.push(b'\n');
            indent(self.out, depth + 1);
            if close == b'}' {
                self.skip_whitespace();
                if self.peek()? != b'"' {
                    return None;
                }
                self.string()?;
                self.skip_whitespace();
                if self.peek()? != b':' {
                    return None;
                }
                self.pos += 1;
                self.out.extend_from_slice(b": ");
            }
            self.value(depth + 1, nesting + 1)?;
            self.skip_whitespace();
            let next = self.peek()?;
            self.pos += 1;
            if next == b',' {
                self.out.push(b',');
            } else if next == close {
                self.out.push(b'\n');
                indent(self.out, depth);
                self.out.push(close);
                return Some(());
            } else {
                return None;
            }
        }
    }

    /// A string, copied whole if every escape in it is one serde_json writes (`\"`, `\\`, `\b`,
    /// `\f`, `\n`, `\r`, `\t`, and `\u00xx` in lowercase for the other control characters) and
    /// no control character is raw.
    fn string(&mut self) -> Option<()> {
        let start = self.pos;
        let bytes = self.bytes;
        let mut i = start + 1;
        loop {
            // Eight bytes at a time while none of them is special.
            while let Some(chunk) = bytes.get(i..i + 8) {
                let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
                if any_needs_escape(word) {
                    break;
                }
                i += 8;
            }
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    i += match *bytes.get(i + 1)? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' => {
                            let hex = bytes.get(i + 2..i + 6)?;
                            let code = match hex {
                                [b'0', b'0', hi @ (b'0' | b'1'), lo] => {
                                    let lo = match lo {
                                        b'0'..=b'9' => lo - b'0',
                                        b'a'..=b'f' => lo - b'a' + 10,
                                        _ => return None,
                                    };
                                    (hi - b'0') * 16 + lo
                                }
                                _ => return None,
                            };
                            // serde_json writes these five short.
                            if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            6
                        }
                        _ => return None,
                    };
                }
                b if b < 0x20 => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        self.out.extend_from_slice(bytes.get(start..self.pos)?);
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if !self.bytes.get(self.pos..)?.starts_with(word) {
            return None;
        }
        self.pos += word.len();
        self.out.extend_from_slice(word);
        Some(())
    }

    /// An integer serde_json reads as a 64-bit one and writes back as it is: no fraction, no
    /// exponent, no leading zero, not `-0`, at most `u64::MAX` (at least `i64::MIN` if negative).
    fn integer(&mut self) -> Option<()> {
        let start = self.pos;
        let negative = self.peek()? == b'-';
        let mut i = start + usize::from(negative);
        let mut magnitude: u64 = 0;
        let first = i;
        while let Some(d @ b'0'..=b'9') = self.bytes.get(i).copied() {
            magnitude = magnitude
                .checked_mul(10)?
                .checked_add(u64::from(d - b'0'))?;
            i += 1;
        }
        let digits = i - first;
        let leading_zero = self.bytes.get(first) == Some(&b'0') && digits > 1;
        if digits == 0 || leading_zero || matches!(self.bytes.get(i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        if negative && !(1..=1u64 << 63).contains(&magnitude) {
            return None;
        }
        self.pos = i;
        self.out.extend_from_slice(self.bytes.get(start..i)?);
        Some(())
    }
}

/// serde_json's pretty layout (two spaces per level, `": "` after keys, empty containers as
/// `{}`/`[]`) starting `depth` levels deep, for a value written inside an enclosing document.
pub(super) struct Nested {
    depth: usize,
    has_value: bool,
}

impl Nested {
    pub(super) fn at(depth: usize) -> Nested {
        Nested {
            depth,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, w: &mut W) -> std::io::Result<()> {
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }
}

impl serde_json::ser::Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde_json's pretty printing of the whole value, shifted right by `depth` levels after
    /// the first line: the reference both paths must give.
    fn reference(text: &str, depth: usize) -> String {
        let v: serde_json::Value = serde_json::from_str(text).expect("JSON");
        let pretty = serde_json::to_string_pretty(&v).expect("pretty");
        pretty.replace('\n', &format!("\n{}", "  ".repeat(depth)))
    }

    fn scanned(text: &str, depth: usize) -> Option<String> {
        let mut out = Vec::new();
        reindent(text, depth, &mut out).then(|| String::from_utf8(out).expect("UTF-8"))
    }

    fn transcoded(text: &str, depth: usize) -> Result<String, String> {
        let mut out = Vec::new();
        transcode(text, depth, &mut out)?;
        Ok(String::from_utf8(out).expect("UTF-8"))
    }

    /// What the scanner copies through comes out as serde_json's pretty printer writes it, at
    /// every depth: nested empty containers, strings with every escape serde_json writes,
    /// integers up to the 64-bit limits, whitespace between tokens.
    #[test]
    fn the_scanner_writes_serde_jsons_pretty_layout() {
        let cases = [
            r#"{"a":1,"b":[],"c":{},"d":[1,{"e":"x\"y\n","f":[[],{}]}],"g":null}"#,
            r#"[]"#,
            r#"{}"#,
            r#"[[]]"#,
            r#"{"a":{}}"#,
            r#"[{},[],[{}],{"a":[[]]}]"#,
            r#""just a string""#,
            r#"[{"a":{"b":{"c":[true,false]}}},18446744073709551615,-9223372036854775808]"#,
            r#"{"name":"P","input":"{\"counter\":5,\"s\":\"a\\\"b\"}","inputDetails":{"truncated":false}}"#,
            r#""\"\\\b\f\n\r\t\u0000\u0001\u001f\u000b\u000e""#,
            "\"é 日本語 🎉 \u{7f} and a long run of plain text past eight bytes\"",
            r#"[0,-1,7,10,1234567890]"#,
            " { \"a\" :\t[ 1 ,\n2 ] , \"b\"\r: { } } ",
            r#"{"":""}"#,
        ];
        for text in cases {
            for depth in [0, 3, 40] {
                let expected = reference(text, depth);
                assert_eq!(scanned(text, depth).as_deref(), Some(&*expected), "{text}");
                assert_eq!(transcoded(text, depth).as_deref(), Ok(&*expected), "{text}");
            }
        }
    }

    /// What serde_json would write otherwise is left to it (and then comes out as it writes it):
    /// escapes it writes differently, numbers it reformats, very deep nesting.
    #[test]
    fn what_serde_json_writes_otherwise_is_left_to_it() {
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_NESTING + 1),
            "]".repeat(MAX_NESTING + 1)
        );
        let cases = [
            r#""a\/b""#.to_string(),
            r#""\u0041""#.to_string(),
            r#""\u007f""#.to_string(),
            r#""\u00e9""#.to_string(),
            r#""\u000A""#.to_string(),
            r#""\u000a""#.to_string(),
            r#""\u0009""#.to_string(),
            r#""\ud83c\udf89""#.to_string(),
            r#"1.5"#.to_string(),
            r#"[1.0]"#.to_string(),
            r#"1e3"#.to_string(),
            r#"{"a":-1.5e300}"#.to_string(),
            r#"-0"#.to_string(),
            r#"18446744073709551616"#.to_string(),
            r#"-9223372036854775809"#.to_string(),
            deep,
        ];
        for text in &cases {
            assert_eq!(scanned(text, 3), None, "{text}");
            assert_eq!(transcoded(text, 3), Ok(reference(text, 3)), "{text}");
        }
    }

    /// Text that is not JSON is never copied through: serde_json says what is wrong with it.
    #[test]
    fn text_that_is_not_json_is_left_to_serde_json_which_says_why() {
        for text in [
            "",
            "{",
            r#"{"a":1"#,
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"[1,]"#,
            r#"[1 2]"#,
            r#"{1:2}"#,
            r#""unterminated"#,
            "\"raw\ncontrol\"",
            r#""bad \x escape""#,
            r#"01"#,
            r#"-"#,
            r#"tru"#,
            r#"nul"#,
            r#"{} {}"#,
            r#"[1] x"#,
            r#"{"a":1}}"#,
        ] {
            assert_eq!(scanned(text, 3), None, "{text:?}");
            let why = transcoded(text, 3).expect_err(text);
            assert!(
                why.contains("line 1") || why.contains("line 2"),
                "{text:?}: {why}"
            );
        }
    }

    #[test]
    fn strings_and_integers_are_written_as_serde_json_writes_them() {
        for s in ["", "2026-12-06T10:00:00.000Z", "a\"b\\c\nd\u{1}é"] {
            let mut out = Vec::new();
            push_string(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).expect("a string"), "{s:?}");
        }
        for n in [0, 1, 9, 10, 99, 160_006, u64::MAX] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().into_bytes());
        }
    }
}
