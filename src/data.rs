//! Typed paths: the shape of a workflow's data, checked against its paths at compile time.
//!
//! `#[derive(WorkflowData)]` on a serde type describes its JSON shape (field names as serde writes
//! them, honouring `rename`, `rename_all`, `skip`, `flatten` and `transparent`). Wherever
//! `workflow!` knows the type of the data that reaches a state — the workflow's input type, the
//! output type of a typed task handler, while no path reshapes the data on the way — every field
//! that a JSONPath of that state reads (`input_path`, `$.…` values of `parameters` and
//! `item_selector`, Choice variables, `items_path`, `seconds_path`, …, and `result_selector` /
//! `output_path` against the handler's output) is looked up in that shape by the compiler, and a
//! missing field is a compile error on the path:
//!
//! ```text
//! error[E0080]: evaluation panicked: no field `kidn` in `Order`; did you mean `kind`?
//!   |         Route = choice { $.kidn == "book" => Book, _ => Other };
//!   |                          ^^^^^^
//! ```
//!
//! Types that do not implement [`WorkflowData`] (and `serde_json::Value`, maps and enums) are not
//! checked. The check is a constant evaluation: it runs in `cargo check` and costs nothing at run
//! time.

/// The JSON shape of a type, as far as paths can check it.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow::data::Shape;
/// use workflow::WorkflowData;
///
/// #[derive(Serialize, Deserialize, WorkflowData)]
/// struct Order {
///     #[serde(rename = "orderId")]
///     id: String,
///     lines: Vec<f64>,
/// }
///
/// let Shape::Struct { name, fields, open } = Order::SHAPE else { unreachable!() };
/// assert_eq!((name, open), ("Order", false));
/// assert_eq!(fields.iter().map(|f| f.name).collect::<Vec<_>>(), ["orderId", "lines"]);
/// assert!(matches!(fields[1].shape, Shape::Array(Shape::Scalar("a number"))));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Anything (maps, enums, `serde_json::Value`, types without `WorkflowData`): not checked.
    Any,
    /// A string, number or boolean (named, for messages): it has no fields.
    Scalar(&'static str),
    /// An array of items of this shape.
    Array(&'static Shape),
    /// An object with these fields.
    Struct {
        /// The Rust type name, for messages.
        name: &'static str,
        /// Its fields, by their JSON names.
        fields: &'static [Field],
        /// Whether other fields may appear (`#[serde(flatten)]`): unknown names are not errors.
        open: bool,
    },
}

/// One field of a [`Shape::Struct`].
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow::data::Shape;
/// use workflow::WorkflowData;
///
/// #[derive(Serialize, Deserialize, WorkflowData)]
/// #[serde(rename_all = "camelCase")]
/// struct Item {
///     #[serde(alias = "sku")]
///     item_code: String,
/// }
///
/// let Shape::Struct { fields, .. } = Item::SHAPE else { unreachable!() };
/// assert_eq!((fields[0].name, fields[0].rust), ("itemCode", "item_code"));
/// assert_eq!(fields[0].aliases, ["sku"]);
/// assert!(matches!(fields[0].shape, Shape::Scalar("a string")));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The JSON name (after serde's renames).
    pub name: &'static str,
    /// The Rust field name (for suggestions when serde renames it).
    pub rust: &'static str,
    /// Other names that are read as this field (`#[serde(alias = "…")]`).
    pub aliases: &'static [&'static str],
    /// The field's shape.
    pub shape: &'static Shape,
}

/// A type whose JSON shape is known at compile time. Derive it with `#[derive(WorkflowData)]`.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use workflow::{workflow, TaskError, WorkflowData};
///
/// #[derive(Serialize, Deserialize, WorkflowData)]
/// pub struct Order {
///     pub kind: String,
///     pub total: f64,
/// }
///
/// async fn book(order: Order) -> Result<Order, TaskError> {
///     Ok(order)
/// }
///
/// // `$.kind` is checked against `Order` at compile time: `$.kidn` would not compile
/// // ("no field `kidn` in `Order`; did you mean `kind`?").
/// workflow! {
///     pub Shelve: Order -> Order {
///         start Kind;
///         Kind = choice { $.kind == "book" => Book, _ => Other };
///         Book = task(book) -> end;
///         Other = succeed;
///     }
/// }
///
/// // Scalars, options and collections describe themselves.
/// assert!(matches!(<Vec<String> as WorkflowData>::SHAPE, workflow::data::Shape::Array(_)));
/// ```
pub trait WorkflowData {
    /// The shape.
    const SHAPE: Shape;
}

macro_rules! scalars {
    ($name:literal: $($t:ty),*) => {
        $(impl WorkflowData for $t {
            const SHAPE: Shape = Shape::Scalar($name);
        })*
    };
}
scalars!("a string": String, str, char);
scalars!("a number": u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);
scalars!("a boolean": bool);

impl WorkflowData for serde_json::Value {
    const SHAPE: Shape = Shape::Any;
}

impl WorkflowData for () {
    const SHAPE: Shape = Shape::Any;
}

macro_rules! same {
    ($($t:ident),*) => {
        $(impl<T: WorkflowData> WorkflowData for $t<T> {
            const SHAPE: Shape = T::SHAPE;
        })*
    };
}
same!(Option, Box);
impl<T: WorkflowData + ?Sized> WorkflowData for &T {
    const SHAPE: Shape = T::SHAPE;
}
impl<T: WorkflowData + ?Sized> WorkflowData for std::sync::Arc<T> {
    const SHAPE: Shape = T::SHAPE;
}
impl<T: WorkflowData + ?Sized> WorkflowData for std::rc::Rc<T> {
    const SHAPE: Shape = T::SHAPE;
}

macro_rules! arrays {
    ($($t:ident),*) => {
        $(impl<T: WorkflowData> WorkflowData for $t<T> {
            const SHAPE: Shape = Shape::Array(&T::SHAPE);
        })*
    };
}
use std::collections::{BTreeSet, HashSet, VecDeque};
arrays!(Vec, VecDeque, BTreeSet, HashSet);
impl<T: WorkflowData> WorkflowData for [T] {
    const SHAPE: Shape = Shape::Array(&T::SHAPE);
}
impl<T: WorkflowData, const N: usize> WorkflowData for [T; N] {
    const SHAPE: Shape = Shape::Array(&T::SHAPE);
}
impl<K, V> WorkflowData for std::collections::HashMap<K, V> {
    const SHAPE: Shape = Shape::Any;
}
impl<K, V> WorkflowData for std::collections::BTreeMap<K, V> {
    const SHAPE: Shape = Shape::Any;
}
macro_rules! tuples {
    ($(($($t:ident),*)),*) => {
        $(impl<$($t),*> WorkflowData for ($($t,)*) {
            const SHAPE: Shape = Shape::Array(&Shape::Any);
        })*
    };
}
tuples!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F)
);

/// One step of a path, as the checks see it.
///
/// ```
/// use workflow::data::{check_path, Seg};
/// use workflow::WorkflowData;
///
/// #[derive(serde::Serialize, WorkflowData)]
/// struct Order {
///     lines: Vec<Line>,
/// }
/// #[derive(serde::Serialize, WorkflowData)]
/// struct Line {
///     sku: String,
/// }
///
/// // `$.lines[0].sku`
/// const PATH: &[Seg] = &[Seg::Field("lines"), Seg::Index, Seg::Field("sku")];
/// const _: () = check_path(Some(Order::SHAPE), PATH);
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Seg {
    /// `.name` or `['name']`.
    Field(&'static str),
    /// `[0]`.
    Index,
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The optimal-string-alignment distance of two names of at most 63 bytes (edits and adjacent
/// transpositions; `usize::MAX` for longer names).
const fn distance(a: &[u8], b: &[u8]) -> usize {
    const N: usize = 64;
    if a.len() >= N || b.len() >= N {
        return usize::MAX;
    }
    let mut two = [0usize; N];
    let mut prev = [0usize; N];
    let mut cur = [0usize; N];
    let mut j = 0;
    while j <= b.len() {
        prev[j] = j;
        j += 1;
    }
    let mut i = 1;
    while i <= a.len() {
        cur[0] = i;
        let mut j = 1;
        while j <= b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            let mut best = prev[j - 1] + cost;
            if prev[j] + 1 < best {
                best = prev[j] + 1;
            }
            if cur[j - 1] + 1 < best {
                best = cur[j - 1] + 1;
            }
            if i > 1
                && j > 1
                && a[i - 1] == b[j - 2]
                && a[i - 2] == b[j - 1]
                && two[j - 2] + 1 < best
            {
                best = two[j - 2] + 1;
            }
            cur[j] = best;
            j += 1;
        }
        two = prev;
        prev = cur;
        i += 1;
    }
    prev[b.len()]
}

/// A message assembled at compile time.
struct Msg {
    buf: [u8; 512],
    len: usize,
}

impl Msg {
    const fn new() -> Self {
        Msg {
            buf: [0; 512],
            len: 0,
        }
    }

    const fn push(mut self, s: &str) -> Self {
        let b = s.as_bytes();
        let mut i = 0;
        // Cut at a character boundary when the message is full.
        while i < b.len() && self.len < self.buf.len() - 4 {
            self.buf[self.len] = b[i];
            self.len += 1;
            i += 1;
        }
        while self.len > 0 && i < b.len() && (b[i] & 0xC0) == 0x80 {
            self.len -= 1;
            i -= 1;
        }
        self
    }
}

/// Panics with the message (a compile error in a constant), from `check_path` itself so that
/// rustc's note points there.
macro_rules! fail {
    ($m:expr_2021 $(,)?) => {{
        let m = $m;
        let (text, _) = m.buf.split_at(m.len);
        match core::str::from_utf8(text) {
            Ok(s) => panic!("{}", s),
            Err(_) => panic!("a path names a field that the type does not have"),
        }
    }};
}

/// Checks that `path` (the field steps of a JSONPath, after `$`) exists in `shape`; `None` (a
/// type without [`WorkflowData`]) is not checked. Panics — a compile error, as this runs in a
/// constant — naming the first missing field and the closest existing one.
///
/// ```
/// use workflow::data::{check_path, Seg};
/// use workflow::WorkflowData;
///
/// #[derive(serde::Serialize, WorkflowData)]
/// struct Order {
///     kind: String,
/// }
///
/// // Runs at compile time: a missing field fails the build.
/// const _: () = check_path(Some(Order::SHAPE), &[Seg::Field("kind")]);
/// // A type without `WorkflowData` is not checked.
/// const _: () = check_path(None, &[Seg::Field("anything")]);
/// ```
pub const fn check_path(shape: Option<Shape>, path: &[Seg]) {
    let Some(mut shape) = shape else { return };
    let mut i = 0;
    while i < path.len() {
        match (shape, path[i]) {
            (Shape::Any, _) => return,
            (Shape::Array(item), Seg::Index) => shape = *item,
            (Shape::Struct { fields, open, name }, Seg::Field(want)) => {
                let w = want.as_bytes();
                let mut found = None;
                let mut best: Option<(&str, &str)> = None;
                let mut best_d = usize::MAX;
                let mut k = 0;
                while k < fields.len() {
                    let f = fields[k];
                    if eq(f.name.as_bytes(), w) {
                        found = Some(f.shape);
                        break;
                    }
                    let mut a = 0;
                    while a < f.aliases.len() {
                        if eq(f.aliases[a].as_bytes(), w) {
                            found = Some(f.shape);
                        }
                        a += 1;
                    }
                    if found.is_some() {
                        break;
                    }
                    let d = distance(f.name.as_bytes(), w);
                    if d < best_d {
                        best_d = d;
                        best = Some((f.name, ""));
                    }
                    let d = distance(f.rust.as_bytes(), w);
                    if d < best_d && !eq(f.rust.as_bytes(), f.name.as_bytes()) {
                        best_d = d;
                        best = Some((f.name, f.rust));
                    }
                    k += 1;
                }
                match found {
                    Some(s) => shape = *s,
                    None if open => return,
                    None => {
                        let m = Msg::new()
                            .push("no field `")
                            .push(want)
                            .push("` in `")
                            .push(name)
                            .push("`");
                        // Suggest a name within a third of the longer name's length.
                        let longest = if w.len() > 3 { w.len() } else { 3 };
                        let m = match best {
                            Some((b, rust)) if best_d <= longest / 3 + 1 && rust.is_empty() => {
                                m.push("; did you mean `").push(b).push("`?")
                            }
                            Some((b, rust)) if best_d <= longest / 3 + 1 => m
                                .push("; did you mean `")
                                .push(b)
                                .push("` (serde's name for the field `")
                                .push(rust)
                                .push("`)?"),
                            _ => m.push("; its fields: ").push(list(fields).text()),
                        };
                        fail!(m)
                    }
                }
            }
            (Shape::Struct { name, .. }, Seg::Index) => fail!(Msg::new()
                .push("`")
                .push(name)
                .push("` is an object, not an array"),),
            (Shape::Array(_), Seg::Field(want)) => fail!(Msg::new()
                .push("no field `")
                .push(want)
                .push("` in an array (index it first: `[0]`)"),),
            (Shape::Scalar(what), Seg::Field(want)) => fail!(Msg::new()
                .push("no field `")
                .push(want)
                .push("` in ")
                .push(what),),
            (Shape::Scalar(what), Seg::Index) => fail!(Msg::new().push("cannot index ").push(what)),
        }
        i += 1;
    }
}

/// The names of `fields`, comma-separated.
struct List {
    msg: Msg,
}

impl List {
    const fn text(&self) -> &str {
        let (text, _) = self.msg.buf.split_at(self.msg.len);
        match core::str::from_utf8(text) {
            Ok(s) => s,
            Err(_) => "",
        }
    }
}

const fn list(fields: &[Field]) -> List {
    let mut msg = Msg::new();
    let mut k = 0;
    while k < fields.len() && msg.len < 200 {
        if k > 0 {
            msg = msg.push(", ");
        }
        msg = msg.push("`").push(fields[k].name).push("`");
        k += 1;
    }
    List { msg }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance(b"kind", b"kidn"), 1);
        assert_eq!(distance(b"id", b"kidn"), 2);
        assert_eq!(distance(b"", b"abc"), 3);
        assert_eq!(distance(b"total", b"total"), 0);
    }

    const LINE: Shape = Shape::Struct {
        name: "Line",
        fields: &[Field {
            name: "sku",
            rust: "sku",
            aliases: &[],
            shape: &Shape::Scalar("a string"),
        }],
        open: false,
    };
    const ORDER: Shape = Shape::Struct {
        name: "Order",
        fields: &[
            Field {
                name: "kind",
                rust: "kind",
                aliases: &["type"],
                shape: &Shape::Scalar("a string"),
            },
            Field {
                name: "lines",
                rust: "lines",
                aliases: &[],
                shape: &Shape::Array(&LINE),
            },
            Field {
                name: "unitPrice",
                rust: "unit_price",
                aliases: &[],
                shape: &Shape::Scalar("a number"),
            },
        ],
        open: false,
    };

    fn message(path: &'static [Seg]) -> Option<String> {
        std::panic::catch_unwind(|| check_path(Some(ORDER), path))
            .err()
            .map(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
    }

    #[test]
    fn paths_are_checked() {
        assert_eq!(message(&[Seg::Field("kind")]), None);
        assert_eq!(message(&[Seg::Field("type")]), None);
        assert_eq!(
            message(&[Seg::Field("lines"), Seg::Index, Seg::Field("sku")]),
            None
        );
        assert_eq!(
            message(&[Seg::Field("kidn")]).as_deref(),
            Some("no field `kidn` in `Order`; did you mean `kind`?")
        );
        assert_eq!(
            message(&[Seg::Field("lines"), Seg::Index, Seg::Field("skus")]).as_deref(),
            Some("no field `skus` in `Line`; did you mean `sku`?")
        );
        assert_eq!(
            message(&[Seg::Field("zzzzzz")]).as_deref(),
            Some("no field `zzzzzz` in `Order`; its fields: `kind`, `lines`, `unitPrice`")
        );
        assert_eq!(
            message(&[Seg::Field("unit_prce")]).as_deref(),
            Some("no field `unit_prce` in `Order`; did you mean `unitPrice` (serde's name for the field `unit_price`)?")
        );
        assert_eq!(
            message(&[Seg::Field("kind"), Seg::Field("x")]).as_deref(),
            Some("no field `x` in a string")
        );
        assert_eq!(
            message(&[Seg::Field("lines"), Seg::Field("sku")]).as_deref(),
            Some("no field `sku` in an array (index it first: `[0]`)")
        );
        check_path(None, &[Seg::Field("anything")]);
    }
}
