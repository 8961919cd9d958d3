//! Native (Rust) filters behind the jq 1.7 compatibility prelude of [`crate::jq`]. Written in
//! Rust rather than jq because jaq evaluates `type` and comparisons slowly enough that a
//! jq-level `join` or `ltrimstr` wrapper cost ~10 µs per call (measured with
//! `cargo bench -p mapping`), and these run on every entity of the default mapping.

use jaq_core::{
    Error, RunPtr,
    data::JustLut,
    native::{Filter, bome, unary, v},
};
use jaq_json::Val;

type D = JustLut<Val>;

fn text(value: &Val) -> Option<String> {
    match value {
        Val::TStr(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        _ => None,
    }
}

/// jq 1.7's `ltrimstr`/`rtrimstr`: non-string input or argument passes through unchanged.
fn trim(input: Val, fix: &Val, prefix: bool) -> Val {
    let (Some(s), Some(f)) = (text(&input), text(fix)) else {
        return input;
    };
    let stripped = if prefix {
        s.strip_prefix(&f)
    } else {
        s.strip_suffix(&f)
    };
    stripped.map_or(input, |rest| Val::from(rest.to_owned()))
}

/// jq 1.7's `join`: null → "", strings as is, numbers and booleans as JSON, others an error.
fn join(input: &Val, sep: &Val) -> Result<Val, Error<Val>> {
    let Val::Arr(items) = input else {
        return Err(Error::str(format!("Cannot iterate over {input}")));
    };
    let sep = text(sep).ok_or_else(|| Error::str("join separator must be a string"))?;
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&sep);
        }
        match item {
            Val::Null => {}
            Val::TStr(_) | Val::BStr(_) => {
                out.push_str(&text(item).unwrap_or_else(|| item.to_string()));
            }
            Val::Bool(_) | Val::Num(_) => out.push_str(&item.to_string()),
            Val::Arr(_) | Val::Obj(_) => {
                return Err(Error::str(format!("Cannot join with {item}")));
            }
        }
    }
    Ok(Val::from(out))
}

/// `gsub` with a literal pattern and replacement (see `LITERAL_GSUB` in `jq.rs`).
fn replace_all(input: &Val, pattern: &Val, replacement: &Val) -> Result<Val, Error<Val>> {
    match (text(input), text(pattern), text(replacement)) {
        (Some(s), Some(p), Some(r)) => Ok(Val::from(s.replace(&p, &r))),
        _ => Err(Error::str(format!(
            "{input} cannot be matched, as it is not a string"
        ))),
    }
}

/// The natives, under the names the prelude calls.
pub(crate) fn natives() -> [Filter<RunPtr<D>>; 4] {
    [
        ("__ltrimstr_jq", v(1), |cv| {
            unary(cv, |s, fix| Ok(trim(s, &fix, true)))
        }),
        ("__rtrimstr_jq", v(1), |cv| {
            unary(cv, |s, fix| Ok(trim(s, &fix, false)))
        }),
        ("__join_jq", v(1), |cv| unary(cv, |a, sep| join(&a, &sep))),
        ("__gsub_literal", v(2), |mut cv| {
            let replacement = cv.0.pop_var();
            let pattern = cv.0.pop_var();
            bome(replace_all(&cv.1, &pattern, &replacement))
        }),
    ]
}
