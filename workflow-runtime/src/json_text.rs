//! JSON text of big documents, read and written on all cores with exactly the serial result.
//!
//! A whole `workflow run` of a million-item Map spends almost half its CPU time reading the
//! input text and printing the output; both are serial in serde_json. Here:
//!
//! - [`read`]: one structural scan of the text (strings and escapes tracked, nothing else
//!   decoded) finds the members of its large arrays and objects; the members are read by
//!   serde_json (and checked by [`workflow_asl::limits::check_numbers`]) in chunks on scoped
//!   threads, and put together in document order (an object's keys keep their order, and a
//!   repeated key keeps its first place and last value, as serde_json's `preserve_order` map
//!   does). Anything unusual (an error anywhere, deep nesting) answers `None`, and the caller
//!   reads the text serially, so its error messages (line, column) are serde_json's own.
//! - [`write`]: the members of large arrays and objects are written to buffers in chunks on
//!   scoped threads, then in order; the bytes are serde_json's compact text.

use std::io::{self, Write};
use std::ops::Range;

use serde_json::{Map, Value};

/// How many members an array or object needs before it is walked on all cores (a thread costs
/// tens of microseconds; a member, tens of nanoseconds).
pub(crate) const PARALLEL_MIN: usize = 1 << 16;

/// `f` over `items` cut in one chunk per core, the chunks on scoped threads (the first on this
/// one); the results in chunk order.
pub(crate) fn on_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(threads);
    let mut chunks = items.chunks(size.max(1));
    let first = chunks.next().unwrap_or(&[]);
    let f = &f;
    std::thread::scope(|s| {
        let others: Vec<_> = chunks.map(|c| s.spawn(move || f(c))).collect();
        let mut out = vec![f(first)];
        for h in others {
            // A panic in `f` is one in this thread's code too: pass it on.
            out.push(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

/// Texts shorter than this are not worth the threads: [`read`] answers `None`.
pub const READ_PARALLEL_MIN: usize = 1 << 20;

/// An array or object whose text is at least this long is cut into its members.
const SPLIT_MIN: usize = 1 << 14;

/// Containers this deep or deeper are never cut (big documents are wide, not deep).
const SPLIT_DEPTH: usize = 8;

/// Nesting this deep goes to the serial reader: serde_json refuses more than 127 levels, and
/// that error must be its own.
const MAX_DEPTH: usize = 100;

/// Reads a large JSON text into the value `serde_json::from_str` gives, its parts on all
/// cores, when [`workflow_asl::limits::check_numbers`] accepts it too.
///
/// `None` when the text is shorter than [`READ_PARALLEL_MIN`], is not an array or object, is
/// not valid JSON, holds a number `check_numbers` refuses, or nests deeper than 100 levels: read
/// it serially then, for serde_json's own value or error message.
///
/// ```
/// let text = format!("[{}0]", "1, ".repeat(1 << 19));
/// let value = workflow_runtime::json_text::read(&text).expect("a large valid array");
/// assert_eq!(value, serde_json::from_str::<serde_json::Value>(&text).unwrap());
/// // Errors are left to the serial reader, which reports where they are.
/// assert!(workflow_runtime::json_text::read(&text.replace("1, 0", "1, 0,")).is_none());
/// ```
pub fn read(text: &str) -> Option<Value> {
    if text.len() < READ_PARALLEL_MIN {
        return None;
    }
    read_split(text, SPLIT_MIN)
}

/// JSON whitespace (not Rust's `char::is_whitespace`, which takes more).
const fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// `range` of `text` without JSON whitespace at either end.
fn trimmed(text: &[u8], mut range: Range<usize>) -> Range<usize> {
    while range.start < range.end && is_ws(text[range.start]) {
        range.start += 1;
    }
    while range.start < range.end && is_ws(text[range.end - 1]) {
        range.end -= 1;
    }
    range
}

/// A container the scan cut: its brackets' positions and its separators (`,` and `:` at its
/// own level).
struct Cut {
    open: usize,
    close: usize,
    object: bool,
    separators: Vec<usize>,
}

/// One step of the document in order: what [`read_split`] reads in parallel (`Leaf`) and the
/// containers it assembles around the leaves.
enum Item {
    /// A member read by serde_json on its own: its key's span in an object, its value's span.
    Leaf(Option<Range<usize>>, Range<usize>),
    /// A cut container starts: its key's span in an object, whether it is an object, how many
    /// members it has.
    Open(Option<Range<usize>>, bool, usize),
    /// The innermost open container ends.
    Close,
}

/// [`read`] with containers of at least `split_min` bytes cut into their members.
fn read_split(text: &str, split_min: usize) -> Option<Value> {
    let bytes = text.as_bytes();
    let cuts = scan(bytes, split_min)?;
    let root = cuts.last()?;
    let mut items = Vec::new();
    // The cuts by position: `emit` meets them in this order.
    let mut order: Vec<usize> = (0..cuts.len()).collect();
    order.sort_unstable_by_key(|&n| cuts[n].open);
    let mut next = order.iter().copied().peekable();
    next.next();
    emit(bytes, &cuts, cuts.len() - 1, None, &mut next, &mut items)?;
    debug_assert!(root.close < bytes.len());
    // The leaves, on all cores: a leaf's number check and value (and key), or `None` for the
    // whole chunk at its first error.
    let parsed = on_chunks(&items, |chunk| {
        let mut out = Vec::with_capacity(chunk.len());
        for item in chunk {
            if let Item::Leaf(key, value) = item {
                let key = match key {
                    Some(k) => Some(serde_json::from_str::<String>(&text[k.clone()]).ok()?),
                    None => None,
                };
                let value = &text[value.clone()];
                workflow_asl::limits::check_numbers(value).ok()?;
                out.push((key, serde_json::from_str::<Value>(value).ok()?));
            }
        }
        Some(out)
    });
    let mut leaves = Vec::with_capacity(parsed.len());
    for chunk in parsed {
        leaves.push(chunk?);
    }
    assemble(text, &items, leaves.into_iter().flatten())
}

/// The containers of at least `split_min` bytes (outermost last), or `None` when the text is
/// not one array or object between whitespace, its brackets or strings do not match, or it
/// nests [`MAX_DEPTH`] levels.
fn scan(bytes: &[u8], split_min: usize) -> Option<Vec<Cut>> {
    // Open containers: (position, is object, where its separators start in `separators`).
    let mut stack: Vec<(usize, bool, usize)> = Vec::new();
    let mut separators: Vec<usize> = Vec::new();
    let mut cuts = Vec::new();
    let start = trimmed(bytes, 0..bytes.len());
    if start.is_empty() || !matches!(bytes[start.start], b'[' | b'{') {
        return None;
    }
    let mut i = start.start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                loop {
                    match bytes.get(i)? {
                        b'"' => break,
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
            }
            b @ (b'[' | b'{') => {
                if stack.len() >= MAX_DEPTH {
                    return None;
                }
                stack.push((i, b == b'{', separators.len()));
            }
            b @ (b']' | b'}') => {
                let (open, object, from) = stack.pop()?;
                if object != (b == b'}') {
                    return None;
                }
                if stack.len() < SPLIT_DEPTH && i - open >= split_min {
                    cuts.push(Cut {
                        open,
                        close: i,
                        object,
                        separators: separators.split_off(from),
                    });
                } else {
                    separators.truncate(from);
                }
                if stack.is_empty() {
                    // The root: only whitespace may follow, and it must have been cut.
                    let rest = trimmed(bytes, i + 1..bytes.len());
                    let root_cut = cuts.last().is_some_and(|c| c.open == open);
                    return (rest.is_empty() && root_cut).then_some(cuts);
                }
            }
            b',' | b':' if stack.len() <= SPLIT_DEPTH => separators.push(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Appends the items of `cuts[index]` (with `key` in its parent object) to `items`, `next`
/// being the cuts after it by position; `None` when its members are not separated as JSON
/// separates them.
fn emit(
    bytes: &[u8],
    cuts: &[Cut],
    index: usize,
    key: Option<Range<usize>>,
    next: &mut std::iter::Peekable<impl Iterator<Item = usize>>,
    items: &mut Vec<Item>,
) -> Option<()> {
    let cut = &cuts[index];
    let open = items.len();
    items.push(Item::Open(key, cut.object, 0));
    let mut members = 0;
    let inner = cut.open + 1..cut.close;
    if !(cut.separators.is_empty() && trimmed(bytes, inner.clone()).is_empty()) {
        // Members between the commas; in an object, each `key: value` around its one colon.
        let mut member_start = inner.start;
        let mut colon = None;
        let ends = cut.separators.iter().copied().chain([inner.end]);
        for end in ends {
            if end < inner.end && bytes[end] == b':' {
                if !cut.object || colon.replace(end).is_some() {
                    return None;
                }
                continue;
            }
            let (key, value) = match (cut.object, colon.take()) {
                (true, Some(c)) => (Some(trimmed(bytes, member_start..c)), c + 1..end),
                (false, None) => (None, member_start..end),
                _ => return None,
            };
            let value = trimmed(bytes, value);
            if value.is_empty() {
                return None;
            }
            // The member is a cut container itself, or a leaf.
            match next.peek().map(|&n| (n, &cuts[n])) {
                Some((n, c)) if c.open == value.start && c.close + 1 == value.end => {
                    next.next();
                    emit(bytes, cuts, n, key, next, items)?;
                }
                // A cut that starts before this member, or inside it, is no member.
                Some((_, c)) if c.open < value.end => return None,
                _ => items.push(Item::Leaf(key, value)),
            }
            member_start = end + 1;
            members += 1;
        }
    }
    if let Item::Open(_, _, count) = &mut items[open] {
        *count = members;
    }
    items.push(Item::Close);
    Some(())
}

/// The document from `items`, with the leaves' keys and values in order; `None` when a cut
/// container's key is not a JSON string.
fn assemble(
    text: &str,
    items: &[Item],
    mut leaves: impl Iterator<Item = (Option<String>, Value)>,
) -> Option<Value> {
    // The open containers, each with its key in its parent.
    let mut stack: Vec<(Option<String>, Value)> = Vec::new();
    let put = |parent: &mut Value, key: Option<String>, value: Value| match (parent, key) {
        (Value::Array(a), None) => a.push(value),
        (Value::Object(o), Some(k)) => {
            o.insert(k, value);
        }
        _ => unreachable!("emit gives keys exactly to an object's members"),
    };
    for item in items {
        match item {
            Item::Open(key, object, members) => {
                let key = match key {
                    Some(k) => Some(serde_json::from_str::<String>(&text[k.clone()]).ok()?),
                    None => None,
                };
                let container = if *object {
                    Value::Object(Map::with_capacity(*members))
                } else {
                    Value::Array(Vec::with_capacity(*members))
                };
                stack.push((key, container));
            }
            Item::Leaf(..) => {
                let (key, value) = leaves.next()?;
                put(&mut stack.last_mut()?.1, key, value);
            }
            Item::Close => {
                let (key, value) = stack.pop()?;
                match stack.last_mut() {
                    Some((_, parent)) => put(parent, key, value),
                    None => return Some(value),
                }
            }
        }
    }
    None
}

/// Writes `v` as compact JSON text, exactly the bytes of `serde_json::to_writer`; the members of
/// arrays and objects with at least 65,536 members are written on all cores.
///
/// ```
/// let v = serde_json::json!({"a": [1, "two", {"three": null}]});
/// let mut text = Vec::new();
/// workflow_runtime::json_text::write(&v, &mut text)?;
/// assert_eq!(text, serde_json::to_vec(&v)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(v: &Value, out: &mut dyn Write) -> io::Result<()> {
    write_split(v, out, PARALLEL_MIN, 0)
}

/// Containers this deep are written by serde_json without looking for large members.
const WRITE_DEPTH: usize = 4;

/// [`write`] with containers of `parallel_min` members or more written on all cores.
fn write_split(
    v: &Value,
    out: &mut dyn Write,
    parallel_min: usize,
    depth: usize,
) -> io::Result<()> {
    match v {
        Value::Array(a) if a.len() >= parallel_min && !a.is_empty() => {
            let chunks = on_chunks(a, |chunk| {
                let mut buf = Vec::new();
                for v in chunk {
                    buf.push(b',');
                    serial(&mut buf, v)?;
                }
                Ok::<_, io::Error>(buf)
            });
            write_chunks(out, b'[', chunks, b']')
        }
        Value::Object(o) if o.len() >= parallel_min && !o.is_empty() => {
            let entries: Vec<(&String, &Value)> = o.iter().collect();
            let chunks = on_chunks(&entries, |chunk| {
                let mut buf = Vec::new();
                for (k, v) in chunk {
                    buf.push(b',');
                    serde_json::to_writer(&mut buf, k).map_err(io::Error::other)?;
                    buf.push(b':');
                    serial(&mut buf, v)?;
                }
                Ok::<_, io::Error>(buf)
            });
            write_chunks(out, b'{', chunks, b'}')
        }
        // Smaller containers near the top are walked for large members.
        Value::Array(a) if depth < WRITE_DEPTH => {
            out.write_all(b"[")?;
            for (n, v) in a.iter().enumerate() {
                if n > 0 {
                    out.write_all(b",")?;
                }
                write_split(v, out, parallel_min, depth + 1)?;
            }
            out.write_all(b"]")
        }
        Value::Object(o) if depth < WRITE_DEPTH => {
            out.write_all(b"{")?;
            for (n, (k, v)) in o.iter().enumerate() {
                if n > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, k).map_err(io::Error::other)?;
                out.write_all(b":")?;
                write_split(v, out, parallel_min, depth + 1)?;
            }
            out.write_all(b"}")
        }
        _ => serial(out, v),
    }
}

/// `v` by serde_json.
fn serial(out: &mut dyn Write, v: &Value) -> io::Result<()> {
    serde_json::to_writer(out, v).map_err(io::Error::other)
}

/// `open`, the chunks' texts (each member after a comma, the first comma dropped), `close`.
fn write_chunks(
    out: &mut dyn Write,
    open: u8,
    chunks: Vec<io::Result<Vec<u8>>>,
    close: u8,
) -> io::Result<()> {
    out.write_all(&[open])?;
    let mut first = true;
    for chunk in chunks {
        let chunk = chunk?;
        let text = match chunk.split_first() {
            Some((_comma, rest)) if first => {
                first = false;
                rest
            }
            _ => &chunk[..],
        };
        out.write_all(text)?;
    }
    out.write_all(&[close])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The serial path of `workflow run`: the number check, then serde_json.
    fn serial_read(text: &str) -> Option<Value> {
        workflow_asl::limits::check_numbers(text).ok()?;
        serde_json::from_str(text).ok()
    }

    /// `read_split` with every container cut (`split_min` 0) and with some cut (`split_min` 1
    /// and 8): the serial value, key order included, or `None` when the serial read fails. With
    /// all cut, only a text that is no array or object is left to the serial reader.
    fn same_as_serial(text: &str) {
        let serial = serial_read(text);
        let container = text.trim_start().starts_with(['[', '{']);
        for split_min in [0, 1, 8] {
            let parallel = read_split(text, split_min);
            if parallel.is_none() && !(split_min == 0 && container) {
                continue;
            }
            match &serial {
                Some(v) => {
                    let got = parallel.unwrap_or_else(|| panic!("refused {text:?}"));
                    assert_eq!(&got, v, "{text:?}");
                    assert_eq!(got.to_string(), v.to_string(), "key order of {text:?}");
                }
                None => assert!(parallel.is_none(), "accepted {text:?}"),
            }
        }
    }

    #[test]
    fn documents_are_read_as_serde_json_reads_them() {
        let texts = [
            "[]",
            "{}",
            " [ ] ",
            "\n{\r\n}\t",
            "[1]",
            "[1, 2.5, -3e10, 18446744073709551615, -9223372036854775808, 0.0, -0]",
            r#"["a", "b,c", "d:e", "[f]", "{g}", "h\"]", "i\\", "\\\"", "\u00e9\ud83d\ude00", "é😀"]"#,
            r#"{"a": 1, "b": [true, false, null], "c": {"d": {}}, "e": []}"#,
            r#"{"z": 1, "a": 2, "m": 3}"#,
            r#"{"a": 1, "b": 2, "a": 3}"#,
            r#"{"k\"ey": 1, "\u0041": 2, "é": {"[": "]", "{": "}"}}"#,
            r#"[[[[[[[[[[[[1, [2]]]]]]]]]]]], {"a": [{"b": [{"c": []}]}]}]"#,
            r#"{"outer": {"inner": [1, 2, {"x": "y"}], "more": [[], {}]}, "tail": "t"}"#,
            "[ 1 , 2 ,\n3\n]",
            "{ \"a\" : 1 , \"b\" :\t2 }",
            "1",
            "\"[1, 2]\"",
        ];
        for text in texts {
            same_as_serial(text);
        }
    }

    #[test]
    fn anything_the_serial_read_refuses_is_left_to_it() {
        let texts = [
            "",
            "[",
            "]",
            "[1,]",
            "[,1]",
            "[,]",
            "[1 2]",
            "[1:2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{,}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":1:2}",
            "{\"a\"::1}",
            "{1:2}",
            "{a:1}",
            "[\"a]",
            "[1]]",
            "[[1]",
            "[1] x",
            "x [1]",
            "[1] [2]",
            "{\"a\":[1}",
            "[{\"a\":1]}",
            "[tru]",
            "[01]",
            "[1.]",
            "[\"\\x\"]",
            "[\"\\ud800\"]",
            "{\"\\ud800\": 1}",
            "[1e400]",
            "[-1e400]",
            "[1e-400]",
            "[123456789012345678901234567890]",
            "{\"a\": [1, 2, 99999999999999999999]}",
            "[\"a\" \"b\"]",
            "[1\u{a0}]",
            "[\"unterminated",
            "[1, {\"a\": [2, \"]\"], \"b\"}]",
        ];
        for text in texts {
            assert!(serial_read(text).is_none(), "serial accepts {text:?}");
            same_as_serial(text);
        }
    }

    #[test]
    fn deep_nesting_goes_to_the_serial_reader() {
        // serde_json accepts 127 levels and refuses 128; either way its own answer is given.
        for depth in [99, 100, 127, 128, 5_000] {
            let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let parallel = read_split(&text, 0);
            assert_eq!(parallel.is_some(), depth <= MAX_DEPTH, "depth {depth}");
            if let Some(v) = parallel {
                assert_eq!(Some(v), serial_read(&text));
            }
        }
    }

    #[test]
    fn only_large_texts_are_read_on_all_cores() {
        assert_eq!(read("[1, 2]"), None);
        let items: Vec<Value> = (0..60_000)
            .map(|i| json!({"id": i, "v": format!("item-{i}\"\n"), "n": [i, 1.5, null]}))
            .collect();
        let doc = json!({"meta": {"b": 1, "a": 2}, "items": items});
        for text in [doc.to_string(), serde_json::to_string_pretty(&doc).unwrap()] {
            assert!(text.len() >= READ_PARALLEL_MIN);
            let got = read(&text).expect("a large valid document");
            assert_eq!(got.to_string(), doc.to_string());
            // One bad member anywhere: the serial reader's message.
            let bad = text.replacen("item-59999", "item-59999\u{1}", 1);
            assert!(read(&bad).is_none());
        }
    }

    #[test]
    fn the_writer_writes_serde_jsons_bytes() {
        let values = [
            json!([]),
            json!({}),
            json!([1, "a\"b", null, [], {}, {"k\u{1}": [true, 1.5e300]}]),
            json!({"z": 1, "a": [{"b": [[[[[[1]]]]]]}, "é😀"], "m": {"n": {}}}),
        ];
        for v in &values {
            for parallel_min in [0, 1, 2, 3, usize::MAX] {
                let mut text = Vec::new();
                write_split(v, &mut text, parallel_min, 0).unwrap();
                assert_eq!(
                    text,
                    serde_json::to_vec(v).unwrap(),
                    "{v} at {parallel_min}"
                );
            }
        }
        let items: Vec<Value> = (0..PARALLEL_MIN + 5).map(|i| json!({"i": i})).collect();
        let keyed: Map<String, Value> = (0..PARALLEL_MIN + 5)
            .map(|i| (format!("k{}", PARALLEL_MIN + 5 - i), json!([i])))
            .collect();
        let big = json!({"items": items, "keyed": keyed});
        let mut text = Vec::new();
        write(&big, &mut text).unwrap();
        assert_eq!(text, serde_json::to_vec(&big).unwrap());
    }

    /// Values of every shape: scalars (strings with escapes and non-ASCII), arrays, objects
    /// with keys from a small alphabet.
    fn values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a\"\\\\\n\u{1}é😀,:\\[\\]{}]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[ab\"é:,]{0,2}", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn generated_documents_read_and_write_as_serially(
            v in values(),
            pretty in any::<bool>(),
            edit in any::<(usize, u8)>(),
        ) {
            let mut text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                v.to_string()
            };
            same_as_serial(&text);
            for parallel_min in [0, 2] {
                let mut written = Vec::new();
                write_split(&v, &mut written, parallel_min, 0).unwrap();
                prop_assert_eq!(&written, &serde_json::to_vec(&v).unwrap());
            }
            // One byte replaced by a structural one: still the serial answer.
            let at = edit.0 % text.len();
            if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                let with = b"[]{},:\" \\1"[usize::from(edit.1) % 10] as char;
                text.replace_range(at..at + 1, with.encode_utf8(&mut [0; 4]));
                same_as_serial(&text);
            }
        }
    }
}
