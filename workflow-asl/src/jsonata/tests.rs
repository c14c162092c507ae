use serde_json::{json, Map, Value};

use super::*;

fn eval(expr: &str, input: Option<Value>) -> Result<Option<Value>, Error> {
    evaluate(expr, input.as_ref(), &Map::new())
}

#[test]
fn evaluates_with_input_and_bindings() {
    let mut b = Map::new();
    b.insert("x".into(), json!(4));
    let out = evaluate("a + $x", Some(&json!({"a": 1})), &b).unwrap();
    assert_eq!(out, Some(json!(5)));
    assert_eq!(eval("a", None).unwrap(), None);
    assert_eq!(
        eval("[1,2,3].($ * 2)", None).unwrap(),
        Some(json!([2, 4, 6]))
    );
}

#[test]
fn integral_numbers_print_without_a_fraction() {
    let v = eval("6 / 2", None).unwrap().unwrap();
    assert_eq!(v.to_string(), "3");
    assert_eq!(eval("1.5 * 3", None).unwrap().unwrap().to_string(), "4.5");
}

#[test]
fn infinity_is_a_string_in_step_functions() {
    // floci-io/floci#2737: AWS returns "Infinity" for 1/0.
    let e = Expression::parse("1/0").unwrap();
    match e.evaluate_aws(None, &Scope::new()) {
        Ok(v) => assert_eq!(v, Some(json!("Infinity"))),
        Err(err) => assert_eq!(err.code, "D1001", "{err}"),
    }
}

#[test]
fn errors_carry_jsonata_codes() {
    let e = eval("'a' + 1", None).unwrap_err();
    assert_eq!(e.code, "T2001", "{e}");
    let e = Expression::parse("1 +").unwrap_err();
    assert_eq!(e.code, "S0207", "{e}");
    assert!(!e.message.starts_with("S0207"), "{e}");
}

#[test]
fn jsonata_2_1_operators_are_refused() {
    // Step Functions implements JSONata 2.0.6; `??` and `?:` came with 2.1.
    assert!(Expression::parse("$a ?? 1").is_err());
    assert!(Expression::parse("$a ?: 1").is_err());
    assert!(Expression::parse("$a ? 1 : 2").is_ok());
}

#[test]
fn eval_is_unavailable() {
    // floci-io/floci#2737: AWS fails `$eval("1+1")` with T1006.
    let e = eval("$eval('1+1')", None).unwrap_err();
    assert_eq!(e.code, "T1006");
}

#[test]
fn aws_functions() {
    // AWS docs, "Transforming data with JSONata in Step Functions".
    assert_eq!(
        eval("$partition([1,2,3,4,5,6,7,8,9], 3)", None).unwrap(),
        Some(json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
    );
    assert_eq!(
        eval("$partition([1,2,3,4,5], 2)", None).unwrap(),
        Some(json!([[1, 2], [3, 4], [5]]))
    );
    assert_eq!(
        eval("$range(0, 10, 2)", None).unwrap(),
        Some(json!([0, 2, 4, 6, 8, 10]))
    );
    assert_eq!(
        eval("$range(5, 1, -2)", None).unwrap(),
        Some(json!([5, 3, 1]))
    );
    assert_eq!(
        eval("$hash('input data', 'SHA-1')", None).unwrap(),
        Some(json!("aaff4a450a104cd177d28d18d74485e8cae074b7"))
    );
    assert_eq!(
        eval("$hash('abc', 'MD5')", None).unwrap(),
        Some(json!("900150983cd24fb0d6963f7d28e17f72"))
    );
    assert!(eval("$hash('abc', 'SHA-3')", None).is_err());
    // java.util.Random(42).nextDouble()
    assert_eq!(
        eval("$random(42)", None).unwrap(),
        Some(json!(0.7275636800328681))
    );
    let r = eval("$random()", None).unwrap().unwrap().as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
    let u = eval("$uuid()", None).unwrap().unwrap();
    let u = u.as_str().unwrap();
    assert_eq!(u.len(), 36);
    assert_eq!(&u[14..15], "4");
    assert_eq!(
        eval("$parse('{\"a\": [1, true]}')", None).unwrap(),
        Some(json!({"a": [1, true]}))
    );
    assert!(eval("$parse('{')", None).is_err());
}

#[test]
fn seeded_scope_is_reproducible() {
    let e = Expression::parse("[$uuid(), $random()]").unwrap();
    let a = e.evaluate(None, &Scope::with_seed(7)).unwrap();
    let b = e.evaluate(None, &Scope::with_seed(7)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn top_level_references() {
    // floci-io/floci#2670: `UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone' at the top
    // level is not supported.`
    let top = |s: &str| Expression::parse(s).unwrap().top_level_reference();
    assert_eq!(top("phone"), Some(TopLevel::Field("phone".into())));
    assert_eq!(
        top("phone").unwrap().message(),
        "Reference to 'phone' at the top level is not supported."
    );
    assert_eq!(top("$x + a.b"), Some(TopLevel::Field("a".into())));
    assert_eq!(top("$"), Some(TopLevel::Context));
    assert_eq!(top("$$.a"), Some(TopLevel::Root));
    assert_eq!(top("$states.input.a.b[c > 1].(d + e)"), None);
    assert_eq!(top("$map($states.input, function($v) { $v.name })"), None);
    assert_eq!(top("$states.input.items{kind: $count($)}"), None);
    assert_eq!(top("{'a': $x, 'b': [1, $y]}"), None);
}

#[test]
fn runaway_expressions_end_with_an_error() {
    // An infinite recursion, a huge range: an error, never a hang or an abort.
    let e = eval("($f := function($n) { $f($n + 1) + 1 }; $f(0))", None).unwrap_err();
    assert!(!e.code.is_empty(), "{e}");
    assert!(eval("[1..100000000]", None).is_err());
}

#[test]
fn deep_input_converts_without_overflow() {
    let mut v = json!(1);
    for _ in 0..1000 {
        v = json!([v]);
    }
    let mut b = Map::new();
    b.insert("d".into(), v.clone());
    let out = evaluate("$d", None, &b).unwrap();
    assert_eq!(out, Some(v));
}

#[test]
fn a_scope_reuses_its_evaluator_without_leaking_bindings() {
    let mut scope = Scope::with_seed(1);
    scope.bind("x", &json!(2));
    let assign = Expression::parse("($y := $x * 10; $y)").unwrap();
    let read_y = Expression::parse("$y").unwrap();
    let fails = Expression::parse("$x + 'a'").unwrap();
    let read_x = Expression::parse("$x").unwrap();
    assert_eq!(assign.evaluate(None, &scope).unwrap(), Some(json!(20)));
    // A binding one evaluation made is gone in the next.
    assert_eq!(read_y.evaluate(None, &scope).unwrap(), None);
    // An error leaves the scope usable, with its variables.
    assert_eq!(fails.evaluate(None, &scope).unwrap_err().code, "T2002");
    assert_eq!(read_x.evaluate(None, &scope).unwrap(), Some(json!(2)));
    // Binding after an evaluation is seen by the next one.
    scope.bind("x", &json!(3));
    assert_eq!(read_x.evaluate(None, &scope).unwrap(), Some(json!(3)));
    // `$random()` continues one sequence across the scope's evaluations.
    let random = Expression::parse("$random()").unwrap();
    let a = random.evaluate(None, &scope).unwrap();
    let b = random.evaluate(None, &scope).unwrap();
    assert_ne!(a, b);
}

#[test]
fn bind_object_is_binding_the_object() {
    let (input, ctx) = (
        json!({"a": [1, {"b": 2}]}),
        json!({"Execution": {"Id": "e"}}),
    );
    let mut by_entries = Scope::new();
    by_entries.bind_object("states", &[("input", &input), ("context", &ctx)]);
    let mut by_value = Scope::new();
    by_value.bind("states", &json!({"input": input, "context": ctx}));
    let e = Expression::parse("$states").unwrap();
    assert_eq!(
        e.evaluate(None, &by_entries).unwrap(),
        e.evaluate(None, &by_value).unwrap()
    );
    assert_eq!(
        e.evaluate(None, &by_entries).unwrap(),
        Some(json!({"input": {"a": [1, {"b": 2}]}, "context": {"Execution": {"Id": "e"}}}))
    );
}

/// `$var.a.b` is answered by looking the fields up (`VarPath`), in converted variables and in
/// borrowed JSON objects (`bind_object`); every answer must be the engine's.
#[test]
fn variable_paths_answer_as_the_engine_does() {
    let input = json!({"name": "w1", "n": 1.0, "big": 12345678901234567890u64, "nul": null,
        "last": {"i": 3, "f": 2.5, "deep": {"x": [1], "y": {"z": [1.0, {"a": 2.0}]}}},
        "arr": [{"a": 1}, {"a": 2}], "one": [5], "empty": {}, "s": "t"});
    let ctx = json!({"Execution": {"Id": "x"}});
    for lazy in [false, true] {
        let mut scope = Scope::with_seed(1);
        if lazy {
            scope.bind_object("states", &[("input", &input), ("context", &ctx)]);
        } else {
            scope.bind("states", &json!({"input": input, "context": ctx}));
        }
        scope.bind("sum", &json!(7));
        scope.bind("arr", &json!([1, 2]));
        scope.bind("obj", &json!({"k": {"v": true}}));
        let cases = [
            ("$states.input.name", true),
            ("$states.input.n", true),
            ("$states.input.big", true),
            ("$states.input.nul", true),
            ("$states.input.nul.x", false),
            ("$states.input.last", true),
            ("$states.input.last.i", true),
            ("$states.input.last.f", true),
            ("$states.input.last.deep", true),
            ("$states.input.last.deep.y", true),
            ("$states.input.last.deep.x", false),
            ("$states.input.missing", true),
            ("$states.input.missing.x", true),
            ("$states.missing", true),
            ("$states.input.arr", false),
            ("$states.input.arr.a", false),
            ("$states.input.one", false),
            ("$states.input.s.length", false),
            ("$states.input.empty", true),
            ("$states.context.Execution.Id", true),
            ("$states.input", true),
            ("$states", true),
            ("$sum", true),
            ("$arr", false),
            ("$obj.k.v", true),
            ("$obj.k", true),
            ("$unbound", false),
            ("$unbound.x", false),
            ("$string", false),
        ];
        for (src, answered_by_lookup) in cases {
            let fast = Expression::parse(src).unwrap();
            let path = fast.var_path.as_ref().expect("the shape");
            let mut slow = fast.clone();
            slow.var_path = None;
            let answered = path.lookup_json(&scope, convert::NonFinite::Null).is_some()
                || path.lookup(&scope).is_some();
            assert_eq!(answered, answered_by_lookup, "{src} (lazy: {lazy})");
            for aws in [false, true] {
                let (a, b) = if aws {
                    (
                        fast.evaluate_aws(None, &scope),
                        slow.evaluate_aws(None, &scope),
                    )
                } else {
                    (fast.evaluate(None, &scope), slow.evaluate(None, &scope))
                };
                assert_eq!(a, b, "{src} (lazy: {lazy})");
                if let (Ok(Some(a)), Ok(Some(b))) = (&a, &b) {
                    assert_eq!(a.to_string(), b.to_string(), "{src}: the same text");
                }
            }
        }
    }
    for src in [
        "$states.input.arr[0]",
        "$states.input.name[]",
        "$states.input.*",
        "$states.input.(name)",
        "$states.input.last.%",
        "$states.input@$x.name",
        "$",
        "name",
        "$range(1, 2)",
        "$states.input.name & 'x'",
    ] {
        let e = Expression::parse(src).unwrap();
        assert!(e.var_path.is_none(), "{src} is left to the engine");
    }
}
