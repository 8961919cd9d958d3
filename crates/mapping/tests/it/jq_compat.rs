//! jq compatibility: every case of `tests/fixtures/jq_compat.json` (values produced by jq 1.7.1,
//! the engine Ocean runs, and re-checked in CI by `tests/jq_oracle.py`) must give the same value
//! here.

use mapping::{Jq, from_val, to_val};
use serde_json::Value;

/// Equal as JSON values, with numbers compared numerically (jq.py turns `5.0` into a float, jaq
/// may keep an integer; Port sees the same number).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn jaq_with_our_prelude_matches_jq_1_7_on_the_corpus() {
    let corpus: Value = serde_json::from_str(include_str!("../fixtures/jq_compat.json")).unwrap();
    let env = to_val(&serde_json::json!({}));
    let mut failures = Vec::new();
    let cases = corpus["cases"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let filter = case["filter"].as_str().unwrap();
        let input = to_val(&corpus["inputs"][case["input"].as_str().unwrap()]);
        let got = match Jq::compile(filter) {
            Ok(jq) => match jq.first(&input, &env) {
                Ok(Some(value)) => from_val(&value),
                Ok(None) => Value::Null,
                Err(error) => Value::String(format!("<error: {error}>")),
            },
            Err(error) => Value::String(format!("<compile error: {}>", error.message)),
        };
        if !same(&got, &case["expected"]) {
            failures.push(format!(
                "{name}: `{filter}` gave {got}, jq 1.7.1 gives {}",
                case["expected"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
