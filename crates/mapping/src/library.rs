//! The jq definitions an expression can call: jaq's standard library, jaq-json's, and our
//! prelude of jq 1.7 behaviours, pruned to those the expression reaches.
//!
//! jaq compiles every definition it is given into the program, whether called or not: with the
//! whole library, each compiled expression held ~90 KB, 7 MiB of the 21 MiB heap peak of `bench`
//! for the ~70 expressions of the default mapping. jaq resolves every call when compiling, so a
//! definition that no name in the closure mentions can never run: leaving it out changes
//! nothing but memory (a name that is only mentioned, e.g. inside a string, merely keeps a
//! definition that is not needed).

use std::{collections::HashSet, sync::LazyLock};

use jaq_core::load::{self, parse::Def};
use regex::Regex;

/// Definitions our expressions get on top of jaq's. Each restores jq 1.7.1's behaviour where
/// jaq 3 differs (rust-stack.md §1): `ltrimstr`/`rtrimstr` pass non-strings through, `join`
/// renders null as "" and numbers/booleans as JSON, `todate` drops fractional seconds,
/// `@base64d` accepts unpadded input, `limit` with a negative count yields everything, and
/// `@csv`, `@tsv`, `IN`, `INDEX` exist. `env` reads `$ENV`, which the host binds (to `{}` when
/// environment access is disabled, as `OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS=false`
/// does). They come after jaq's definitions, so jaq's own definitions keep calling jaq's
/// versions, as when they were prepended to the expression.
const PRELUDE: &str = r#"def ltrimstr($x): __ltrimstr_jq($x);
def rtrimstr($x): __rtrimstr_jq($x);
def join($x): __join_jq($x);
def todate: if type == "number" then floor else . end | todateiso8601;
def limit($n; f): if $n > 0 then __limit($n; f) elif $n == 0 then empty else f end;
def @base64d: tostring | . + (("=" * ((4 - (length % 4)) % 4)) // "") | decode_base64;
def @csv: map(if type == "string" then "\"" + gsub("\""; "\"\"") + "\"" elif type == "null" then "" elif type == "boolean" or type == "number" then tojson else error("is not valid in a csv row") end) | join(",");
def @tsv: map(if type == "string" then gsub("\\\\"; "\\\\") | gsub("\t"; "\\t") | gsub("\n"; "\\n") | gsub("\r"; "\\r") elif type == "null" then "" elif type == "boolean" or type == "number" then tojson else error("is not valid in a tsv row") end) | join("\t");
def IN(s): any(s == .; .);
def IN(src; s): any(src == s; .);
def INDEX(stream; idx_expr): reduce stream as $row ({}; .[$row | idx_expr | tostring] |= $row);
def INDEX(idx_expr): INDEX(.[]; idx_expr);
def env: $ENV;
"#;

/// A definition and the names its body mentions.
struct Entry {
    def: Def<&'static str>,
    mentions: HashSet<String>,
}

/// Every definition in the order jaq must see them (a definition calls only earlier ones or
/// itself), with what each mentions.
static LIBRARY: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    #[expect(
        clippy::expect_used,
        reason = "a constant text, exercised by every test"
    )]
    let prelude: Vec<Def<&'static str>> =
        load::parse(PRELUDE, |p| p.defs()).expect("the prelude parses");
    jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(prelude)
        .map(|def| Entry {
            mentions: names(&format!("{:?}", def.body)),
            def,
        })
        .collect()
});

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    #[expect(clippy::expect_used, reason = "a constant pattern")]
    Regex::new(r"@?[A-Za-z_][A-Za-z0-9_]*").expect("valid regex")
});

fn names(text: &str) -> HashSet<String> {
    NAME.find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// What an expression can reach: definitions (in library order) and every name that `code`
/// or those definitions mention (native filters are looked up among these).
pub(crate) struct Needed {
    pub(crate) defs: Vec<Def<&'static str>>,
    pub(crate) names: HashSet<String>,
}

/// What `code` can reach.
pub(crate) fn needed_by(code: &str) -> Needed {
    let mut wanted = names(code);
    let mut keep = vec![false; LIBRARY.len()];
    // Backwards: a definition only calls earlier ones, so when we reach one, everything that
    // could call it has been seen.
    for (i, entry) in LIBRARY.iter().enumerate().rev() {
        if wanted.contains(entry.def.name) {
            keep[i] = true;
            wanted.extend(entry.mentions.iter().cloned());
        }
    }
    let defs = LIBRARY
        .iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|(entry, _)| entry.def.clone())
        .collect();
    Needed {
        defs,
        names: wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(code: &str) -> Vec<&'static str> {
        needed_by(code).defs.iter().map(|def| def.name).collect()
    }

    #[test]
    fn a_plain_path_needs_no_definition_and_a_call_brings_what_it_calls() {
        assert!(kept(".fields[\"System.Title\"]").is_empty());
        let to_entries = kept("to_entries");
        assert!(to_entries.contains(&"to_entries"), "{to_entries:?}");
        // A name keeps every definition of that name: jaq's `join` stays beside ours, which
        // comes later and so is the one the expression calls.
        assert_eq!(kept(".a | join(\",\")").last(), Some(&"join"));
        let csv = kept("@csv");
        assert!(csv.contains(&"@csv") && csv.contains(&"join"), "{csv:?}");
    }

    #[test]
    fn far_fewer_definitions_than_the_whole_library() {
        assert!(LIBRARY.len() > 100, "{}", LIBRARY.len());
        assert!(kept(".items | map(select(.x)) | length").len() < 10);
    }
}
