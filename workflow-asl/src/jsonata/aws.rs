//! The functions Step Functions adds to JSONata, and the one it removes.
//!
//! From "Transforming data with JSONata in Step Functions"
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>), with the
//! behaviour AWS was measured to have:
//! - `$partition(array, size)`: the array cut into chunks of `size` (the last may be shorter),
//!   like `States.ArrayPartition`.
//! - `$range(start, end, step)`: the numbers from `start` to `end` *inclusive*, `step` apart, like
//!   `States.ArrayRange` (`$range(0, 10, 2)` is `[0, 2, 4, 6, 8, 10]`).
//! - `$hash(data, algorithm)`: the lowercase hexadecimal digest of a string with `MD5`, `SHA-1`,
//!   `SHA-256`, `SHA-384` or `SHA-512`, like `States.Hash`.
//! - `$random([seed])`: a number in [0, 1); with a seed it is `java.util.Random(seed).nextDouble()`
//!   (`$random(42)` is `0.7275636800328681`), as on AWS.
//! - `$uuid()`: a version 4 UUID.
//! - `$parse(text)`: a JSON string parsed into a value (AWS's replacement for `$eval`).
//! - `$eval` is unavailable: AWS fails with `T1006` (floci-io/floci#2737).

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;
use md5::Digest;
use std::rc::Rc;

use super::convert;
use super::Error;
use crate::eval::{Entropy, SplitMix64};
use crate::intrinsic::{hex, uuid_v4, JavaRandom};

/// The source of `$random()` and `$uuid()`, shared by the functions of one evaluation.
/// `None` until first used when seeded from the operating system.
pub(super) struct EntropyCell(RefCell<Option<SplitMix64>>);

impl EntropyCell {
    /// Seeded from the operating system (the hasher keys of `RandomState`) and the clock, on
    /// first use.
    pub(super) fn from_os() -> Self {
        EntropyCell(RefCell::new(None))
    }

    /// A fixed sequence.
    pub(super) fn seeded(seed: u64) -> Self {
        EntropyCell(RefCell::new(Some(SplitMix64::new(seed))))
    }

    fn next_u64(&self) -> u64 {
        self.0
            .borrow_mut()
            .get_or_insert_with(|| {
                let mut h = RandomState::new().build_hasher();
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                h.write_u128(nanos);
                SplitMix64::new(h.finish())
            })
            .next_u64()
    }
}

struct Shared<'a>(&'a EntropyCell);

impl Entropy for Shared<'_> {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

fn err(code: &str, message: impl std::fmt::Display) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

fn arg_error(function: &str, n: usize, want: &str) -> EvaluatorError {
    err(
        "T0410",
        format!("Argument {n} of function \"{function}\" does not match function signature; expected {want}"),
    )
}

fn arity(function: &str, args: &[JValue], min: usize, max: usize) -> Result<(), EvaluatorError> {
    if args.len() < min || args.len() > max {
        return Err(err(
            "T0410",
            format!(
                "Function \"{function}\" takes {} argument{}; it was given {}",
                if min == max {
                    min.to_string()
                } else {
                    format!("{min} to {max}")
                },
                if max == 1 { "" } else { "s" },
                args.len()
            ),
        ));
    }
    Ok(())
}

fn integer(function: &str, n: usize, v: &JValue) -> Result<i64, EvaluatorError> {
    match v {
        JValue::Number(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            Ok(*f as i64)
        }
        _ => Err(arg_error(function, n, "an integer")),
    }
}

/// `$partition(array, size)`.
fn partition(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity("partition", args, 2, 2)?;
    let items: Vec<JValue> = match &args[0] {
        JValue::Array(a) => a.iter().cloned().collect(),
        JValue::Undefined => return Ok(JValue::Undefined),
        other => vec![other.clone()],
    };
    let size = integer("partition", 2, &args[1])?;
    if size <= 0 {
        return Err(err(
            "D3141",
            "The chunk size of function \"partition\" must be a positive integer",
        ));
    }
    let chunks = items
        .chunks(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|c| JValue::array(c.to_vec()))
        .collect();
    Ok(JValue::array(chunks))
}

/// `$range(start, end, step)`, end-inclusive.
fn range(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity("range", args, 2, 3)?;
    let start = integer("range", 1, &args[0])?;
    let end = integer("range", 2, &args[1])?;
    let step = match args.get(2) {
        Some(s) => integer("range", 3, s)?,
        None => 1,
    };
    if step == 0 {
        return Err(err("D3142", "The step of function \"range\" must not be 0"));
    }
    let count = if (step > 0 && end < start) || (step < 0 && end > start) {
        0
    } else {
        (end - start) / step + 1
    };
    if count > super::MAX_SEQUENCE as i64 {
        return Err(err(
            "D2014",
            format!(
                "The size of the sequence allocated by function \"range\" must not exceed {}",
                super::MAX_SEQUENCE
            ),
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut v = start;
    for _ in 0..count {
        out.push(JValue::Number(v as f64));
        v += step;
    }
    // A sequence, as JSONata's own functions return them: one number alone is that number
    // (AWS: `$range(1, 1, 1)` is `1`, recorded in the conformance corpus).
    Ok(JValue::sequence(out))
}

/// `$hash(data, algorithm)`.
fn hash(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity("hash", args, 2, 2)?;
    let data = match &args[0] {
        JValue::String(s) => s.clone(),
        JValue::Undefined => return Ok(JValue::Undefined),
        _ => return Err(arg_error("hash", 1, "a string")),
    };
    let Some(algorithm) = args[1].as_str() else {
        return Err(arg_error("hash", 2, "a string"));
    };
    let bytes = data.as_bytes();
    let digest = match algorithm {
        "MD5" => hex(&md5::Md5::digest(bytes)),
        "SHA-1" => hex(&sha1::Sha1::digest(bytes)),
        "SHA-256" => hex(&sha2::Sha256::digest(bytes)),
        "SHA-384" => hex(&sha2::Sha384::digest(bytes)),
        "SHA-512" => hex(&sha2::Sha512::digest(bytes)),
        other => {
            return Err(err(
                "D3143",
                format!("The hashing algorithm '{other}' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
            ))
        }
    };
    Ok(JValue::string(digest))
}

/// `$parse(text)`.
fn parse(args: &[JValue]) -> Result<JValue, EvaluatorError> {
    arity("parse", args, 1, 1)?;
    let text = match &args[0] {
        JValue::String(s) => s.clone(),
        JValue::Undefined => return Ok(JValue::Undefined),
        _ => return Err(arg_error("parse", 1, "a string")),
    };
    match crate::json::parse(&text) {
        Ok(parsed) => Ok(convert::to_engine(&parsed.value)),
        Err(d) => Err(err(
            "D3144",
            format!(
                "The argument of function \"parse\" is not JSON: {}",
                d.message
            ),
        )),
    }
}

/// Installs AWS's functions (and removes `$eval`) on an evaluator.
/// The functions [`register`] adds or replaces.
pub(super) const NAMES: [&str; 7] = [
    "partition",
    "range",
    "hash",
    "parse",
    "uuid",
    "random",
    "eval",
];

pub(super) fn register(ev: &mut Evaluator, entropy: &Rc<EntropyCell>) -> Result<(), Error> {
    let fail = |e: EvaluatorError| Error::new("D0000", e.message());
    ev.register_fn("partition", partition).map_err(fail)?;
    ev.register_fn("range", range).map_err(fail)?;
    ev.register_fn("hash", hash).map_err(fail)?;
    ev.register_fn("parse", parse).map_err(fail)?;
    let e = Rc::clone(entropy);
    ev.register_fn("uuid", move |args: &[JValue]| {
        arity("uuid", args, 0, 0)?;
        Ok(JValue::string(uuid_v4(&mut Shared(&e))))
    })
    .map_err(fail)?;
    let e = Rc::clone(entropy);
    ev.register_fn_override("random", move |args: &[JValue]| {
        arity("random", args, 0, 1)?;
        match args.first() {
            None | Some(JValue::Undefined) => {
                // 53 random bits, as Java's nextDouble() draws them.
                Ok(JValue::Number(
                    (e.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64),
                ))
            }
            Some(seed) => {
                let seed = integer("random", 1, seed)?;
                Ok(JValue::Number(JavaRandom::new(seed).next_double()))
            }
        }
    })
    .map_err(fail)?;
    ev.register_fn_override("eval", |_: &[JValue]| {
        Err(err("T1006", "Attempted to invoke a non-function"))
    })
    .map_err(fail)?;
    Ok(())
}
