//! One jq expression compiled with jaq, with jq 1.7 behaviour restored where jaq differs on
//! expressions people use in Port mappings (rust-stack.md §1), and the conversions between
//! `serde_json::Value` and jaq's `Val`.

use std::sync::{Arc, LazyLock};

use regex::Regex;

use jaq_core::{
    Compiler, Ctx, Vars,
    data::JustLut,
    load::{Arena, File, Loader, lex, parse},
};
use jaq_json::Val;
use serde_json::{Map, Number, Value};

type Filter = jaq_core::Filter<JustLut<Val>>;

/// `gsub("literal"; "literal")` where neither side has regex syntax, escapes or interpolation.
/// jaq compiles the regex of `gsub` on every call; a literal replacement is a split and a join
/// with the same result, much faster (every default mapping has `gsub(" "; "")`).
static LITERAL_GSUB: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "a constant pattern, exercised by the tests"
    )]
    Regex::new(r#"\bgsub\(\s*"([^"\\.^$|?*+()\[\]{}]+)"\s*;\s*"([^"\\]*)"\s*\)"#)
        .expect("valid regex")
});

/// A compiled jq expression; cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct Jq {
    source: Arc<str>,
    filter: Arc<Filter>,
    /// The constant string this expression always yields, when it is a plain string literal.
    literal: Option<Arc<str>>,
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jq({:?})", &*self.source)
    }
}

/// Why an expression did not compile: a message with the position in the user's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JqCompileError {
    /// What went wrong, including where.
    pub message: String,
}

/// jaq's native filters, plus the aliases the prelude calls (`__ltrimstr`, ...). Built per
/// compilation because jaq's native table is not `Clone`; compiling happens once per expression.
fn natives() -> impl Iterator<
    Item = (
        &'static str,
        Box<[jaq_core::Bind]>,
        jaq_core::Native<JustLut<Val>>,
    ),
> {
    let all = || {
        jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs())
    };
    let aliases =
        all().filter_map(|(name, args, f)| (name == "limit").then_some(("__limit", args, f)));
    all().chain(aliases).chain(
        crate::natives::natives()
            .into_iter()
            .map(jaq_core::native::run::<JustLut<Val>>),
    )
}

impl Jq {
    /// Compiles `source` after Ocean's single-quote rewrite.
    pub fn compile(source: &str) -> Result<Self, JqCompileError> {
        let rewritten = rewrite_single_quotes(source);
        let rewritten = LITERAL_GSUB
            .replace_all(&rewritten, r#"__gsub_literal("$1"; "$2")"#)
            .into_owned();
        let code = rewritten.as_str();
        let arena = Arena::default();
        let needed = crate::library::needed_by(code);
        let load = || {
            Loader::new(needed.defs.iter().cloned())
                .load(&arena, File { code, path: () })
                .map_err(|errors| JqCompileError {
                    message: describe_load_errors(code, &rewritten, errors),
                })
        };
        // Only the natives a name reaches (jaq keeps the table in every compiled filter:
        // 0.7 MiB for the default mapping); should that ever miss one, the full table decides.
        let pruned = Compiler::default()
            .with_funs(natives().filter(|(name, ..)| needed.names.contains(*name)))
            .with_global_vars(["$ENV"])
            .compile(load()?);
        let compiled = if let Ok(filter) = pruned {
            Ok(filter)
        } else {
            #[cfg(test)]
            tests::FULL_TABLE.with(|n| n.set(n.get() + 1));
            Compiler::default()
                .with_funs(natives())
                .with_global_vars(["$ENV"])
                .compile(load()?)
        };
        let filter = compiled.map_err(|errors| JqCompileError {
            message: errors
                .into_iter()
                .flat_map(|(_, errs)| errs)
                .map(|(name, undefined)| {
                    format!(
                        "undefined {} `{name}`{}",
                        undefined.as_str(),
                        at(code, &rewritten, name)
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        })?;
        let literal = serde_json::from_str::<String>(rewritten.trim())
            .ok()
            .map(Arc::from);
        Ok(Self {
            source: Arc::from(source),
            filter: Arc::new(filter),
            literal,
        })
    }

    /// The expression as the user wrote it.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The constant string this expression yields, when it is a string literal.
    #[must_use]
    pub fn literal(&self) -> Option<&str> {
        self.literal.as_deref()
    }

    /// Runs the expression on `input` and returns its first output (jq.py's `.first()`, as
    /// Ocean does): `Ok(None)` for no output, `Err` with jq's message on error. `halt` is an
    /// error here, never a process exit.
    pub fn first(&self, input: &Val, env: &Val) -> Result<Option<Val>, String> {
        if let Some(literal) = &self.literal {
            return Ok(Some(Val::from(literal.to_string())));
        }
        let ctx = Ctx::<JustLut<Val>>::new(&self.filter.lut, Vars::new([env.clone()]));
        let mut outputs = self.filter.id.run((ctx, input.clone()));
        match outputs.next() {
            None => Ok(None),
            Some(Ok(value)) => Ok(Some(value)),
            Some(Err(exn)) => Err(match exn.get_err() {
                Ok(error) => error.to_string(),
                Err(_) => "the expression halted".to_owned(),
            }),
        }
    }
}

/// Ocean rewrites single-quoted string literals to double-quoted ones, so `'foo'` works as a jq
/// string (mirroring Port's own mapping engine). Text inside double-quoted strings is untouched.
fn rewrite_single_quotes(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars();
    let mut in_double = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_double => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '"' => {
                in_double = !in_double;
                out.push(c);
            }
            '\'' if !in_double => {
                out.push('"');
                for inner in chars.by_ref() {
                    match inner {
                        '\'' => break,
                        '"' => out.push_str("\\\""),
                        other => out.push(other),
                    }
                }
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    out
}

/// " at position N" for a slice of `code`, relative to the user's text after the prelude.
fn at(code: &str, user: &str, part: &str) -> String {
    let span = jaq_core::load::span(code, part);
    let offset = span.start.saturating_sub(code.len() - user.len());
    format!(" at position {offset}")
}

fn describe_load_errors(
    code: &str,
    user: &str,
    errors: jaq_core::load::Errors<&str, ()>,
) -> String {
    let mut messages = Vec::new();
    for (_, error) in errors {
        match error {
            jaq_core::load::Error::Io(items) => {
                messages.extend(
                    items
                        .into_iter()
                        .map(|(path, e)| format!("cannot import `{path}`: {e}")),
                );
            }
            jaq_core::load::Error::Lex(items) => {
                for (expect, found) in items {
                    messages.push(format!(
                        "expected {}{}",
                        lex_expect(&expect),
                        at(code, user, found)
                    ));
                }
            }
            jaq_core::load::Error::Parse(items) => {
                for (expect, found) in items {
                    let found_text = if found.is_empty() {
                        "end of input".to_owned()
                    } else {
                        format!("`{}`", first_token(found))
                    };
                    messages.push(format!(
                        "expected {}, found {found_text}{}",
                        expect.as_str(),
                        at(code, user, found)
                    ));
                }
            }
        }
    }
    messages.join("; ")
}

fn lex_expect(expect: &lex::Expect<&str>) -> &'static str {
    match expect {
        lex::Expect::Delim("(") => "closing parenthesis",
        lex::Expect::Delim("[") => "closing bracket",
        lex::Expect::Delim("{") => "closing brace",
        lex::Expect::Delim(_) => "closing delimiter",
        other => other.as_str(),
    }
}

fn first_token(rest: &str) -> &str {
    rest.split_whitespace()
        .next()
        .unwrap_or(rest)
        .get(..20)
        .unwrap_or(rest.split_whitespace().next().unwrap_or(rest))
}

// Parse errors carry the remaining input as `&str`; keep the type alias visible for readers.
#[allow(
    dead_code,
    reason = "documents the shape of jaq's parse errors used above"
)]
type ParseError<'a> = parse::Error<&'a str>;

/// Converts JSON to jaq's value (objects keep their key order).
#[must_use]
pub fn to_val(value: &Value) -> Val {
    match value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => number_to_val(n),
        Value::String(s) => Val::from(s.clone()),
        Value::Array(items) => items.iter().map(to_val).collect(),
        Value::Object(map) => Val::obj(
            map.iter()
                .map(|(k, v)| (Val::from(k.clone()), to_val(v)))
                .collect(),
        ),
    }
}

fn number_to_val(n: &Number) -> Val {
    if let Some(i) = n.as_i64().and_then(|i| isize::try_from(i).ok()) {
        Val::from(i)
    } else if let Some(f) = n.as_f64() {
        Val::from(f)
    } else {
        Val::Null
    }
}

/// Converts jaq's value to JSON. Non-finite numbers become null (jq prints them as null or
/// 1.797e308; they are not valid JSON for Port).
#[must_use]
pub fn from_val(value: &Val) -> Value {
    match value {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(_) => num_from_val(value),
        Val::TStr(bytes) | Val::BStr(bytes) => {
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        }
        Val::Arr(items) => Value::Array(items.iter().map(from_val).collect()),
        Val::Obj(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map.iter() {
                let key = match k {
                    Val::TStr(bytes) | Val::BStr(bytes) => {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                    other => other.to_string(),
                };
                out.insert(key, from_val(v));
            }
            Value::Object(out)
        }
    }
}

fn num_from_val(value: &Val) -> Value {
    // `Display` prints jaq numbers as JSON numbers (integers exactly, big integers in full).
    let text = value.to_string();
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(u) = text.parse::<u64>() {
        return Value::from(u);
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    thread_local! {
        /// Compilations on this thread that needed the full native table.
        pub(super) static FULL_TABLE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    #[test]
    fn the_pruned_native_table_compiles_every_corpus_expression() {
        let corpus: Value =
            serde_json::from_str(include_str!("../tests/fixtures/jq_compat.json")).unwrap();
        let mut compiled = 0;
        for case in corpus["cases"].as_array().unwrap() {
            let filter = case["filter"].as_str().unwrap();
            compiled += usize::from(Jq::compile(filter).is_ok());
            assert_eq!(FULL_TABLE.with(std::cell::Cell::get), 0, "{filter}");
        }
        assert!(compiled > 50, "{compiled}");
        // An undefined name is only an error after the full table was tried too.
        assert!(Jq::compile("no_such_function").is_err());
        assert_eq!(FULL_TABLE.with(std::cell::Cell::get), 1);
    }

    #[test]
    fn single_quoted_literals_become_jq_strings() {
        assert_eq!(rewrite_single_quotes("'\"x\"'"), "\"\\\"x\\\"\"");
        assert_eq!(rewrite_single_quotes(".a // 'none'"), ".a // \"none\"");
        assert_eq!(rewrite_single_quotes("\"it's\""), "\"it's\"");
    }

    #[test]
    fn values_round_trip_in_key_order() {
        let v = json!({"b": [1, 2.5, "x", null, true], "a": {"z": 1, "y": 2}});
        assert_eq!(from_val(&to_val(&v)), v);
        assert_eq!(
            serde_json::to_string(&from_val(&to_val(&v))).unwrap(),
            v.to_string()
        );
    }

    #[test]
    fn compile_errors_carry_positions() {
        let error = Jq::compile(".a | ]").unwrap_err();
        assert!(error.message.contains("position"), "{}", error.message);
        let error = Jq::compile(".a | nosuch(1)").unwrap_err();
        assert!(error.message.contains("nosuch"), "{}", error.message);
    }

    #[test]
    fn literal_gsub_takes_the_fast_path_with_the_same_result() {
        let input = Val::from("a b  c".to_owned());
        for (source, expected) in [
            ("gsub(\" \"; \"\")", "abc"),
            ("gsub(\" \"; \"-\")", "a-b--c"),
            ("gsub(\"b \"; \"\")", "a  c"),
        ] {
            assert!(LITERAL_GSUB.is_match(source), "{source}");
            let jq = Jq::compile(source).unwrap();
            assert_eq!(
                from_val(&jq.first(&input, &Val::Null).unwrap().unwrap()),
                json!(expected),
                "{source}"
            );
        }
        assert!(
            !LITERAL_GSUB.is_match("gsub(\"_release?x\"; \"\")"),
            "regex syntax keeps the regex path"
        );
        assert!(
            !LITERAL_GSUB.is_match("gsub(\"a\"; \"\\(.x)\")"),
            "interpolation keeps the regex path"
        );
    }

    #[test]
    fn halt_is_an_error_not_an_exit() {
        let jq = Jq::compile("halt_error").unwrap();
        assert!(jq.first(&Val::from("x".to_owned()), &Val::Null).is_err());
    }
}
