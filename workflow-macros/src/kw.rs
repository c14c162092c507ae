//! The words of the DSL (serde's `symbol.rs`): state kinds and the other reserved words, as
//! `syn::custom_keyword!` types so that `lookahead1` lists them in "expected one of" errors.

syn::custom_keyword!(start);
syn::custom_keyword!(end);
syn::custom_keyword!(task);
syn::custom_keyword!(pass);
syn::custom_keyword!(choice);
syn::custom_keyword!(wait);
syn::custom_keyword!(succeed);
syn::custom_keyword!(fail);
syn::custom_keyword!(parallel);
syn::custom_keyword!(map);
syn::custom_keyword!(file);

/// The state kinds, for "did you mean" on a misspelt kind.
pub const KINDS: &[&str] = &[
    "task", "pass", "choice", "wait", "succeed", "fail", "parallel", "map",
];

/// The type tests usable in a Choice rule, with the ASL operator each becomes.
pub const TESTS: &[(&str, &str)] = &[
    ("is_present", "IsPresent"),
    ("is_null", "IsNull"),
    ("is_numeric", "IsNumeric"),
    ("is_string", "IsString"),
    ("is_boolean", "IsBoolean"),
    ("is_timestamp", "IsTimestamp"),
];
