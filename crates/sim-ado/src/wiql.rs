//! A small WIQL evaluator: enough of the language for the queries the integration sends
//! (`[Field] = 'x'`, `<>`, `>`, `>=`, `<`, `<=`, `IN`/`NOT IN (...)`, `AND`, `OR`, `NOT`,
//! parentheses, `@today - N`, `ORDER BY [System.Id]`). Anything else is a 400, as the service
//! answers an unparsable query.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Field(String),
    Text(String),
    Number(f64),
    Word(String),
    Op(String),
    Open,
    Close,
    Comma,
}

/// A parsed query: the filter and the sort order.
#[derive(Debug)]
pub struct Query {
    filter: Option<Expr>,
    /// `ORDER BY` field and whether descending.
    pub order: Option<(String, bool)>,
    /// The `timePrecision` query parameter: dates compare as instants, not as days.
    time_precision: bool,
}

#[derive(Debug)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(String, String, Value),
    In(String, Vec<Value>, bool),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '[' => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .ok_or("unclosed [")?
                    + i;
                tokens.push(Token::Field(chars[i + 1..end].iter().collect()));
                i = end + 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unclosed string".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => break,
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Text(s));
                i += 1;
            }
            '(' => (tokens.push(Token::Open), i += 1).1,
            ')' => (tokens.push(Token::Close), i += 1).1,
            ',' => (tokens.push(Token::Comma), i += 1).1,
            '<' | '>' | '=' | '-' | '+' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = if matches!(two.as_str(), "<>" | ">=" | "<=") {
                    two
                } else {
                    c.to_string()
                };
                i += op.len();
                tokens.push(Token::Op(op));
            }
            c if c.is_ascii_digit() => {
                let end = chars[i..]
                    .iter()
                    .position(|c| !c.is_ascii_digit() && *c != '.')
                    .map_or(chars.len(), |p| p + i);
                let text: String = chars[i..end].iter().collect();
                tokens.push(Token::Number(
                    text.parse().map_err(|_| format!("bad number {text}"))?,
                ));
                i = end;
            }
            c if c.is_alphanumeric() || c == '@' || c == '_' || c == '.' => {
                let end = chars[i..]
                    .iter()
                    .position(|c| !(c.is_alphanumeric() || *c == '@' || *c == '_' || *c == '.'))
                    .map_or(chars.len(), |p| p + i);
                tokens.push(Token::Word(chars[i..end].iter().collect()));
                i = end;
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// The simulator's clock reading that `@today` is the UTC day of.
    now: jiff::Timestamp,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.keyword("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        while self.keyword("AND") {
            left = Expr::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, String> {
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.factor()?)));
        }
        match self.next() {
            Some(Token::Open) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err("expected )".into()),
                }
            }
            Some(Token::Field(field)) => self.comparison(field),
            other => Err(format!("expected a field, found {other:?}")),
        }
    }

    fn comparison(&mut self, field: String) -> Result<Expr, String> {
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            if self.next() != Some(Token::Open) {
                return Err("expected ( after IN".into());
            }
            let mut values = vec![self.value()?];
            while self.peek() == Some(&Token::Comma) {
                self.at += 1;
                values.push(self.value()?);
            }
            if self.next() != Some(Token::Close) {
                return Err("expected ) after IN list".into());
            }
            return Ok(Expr::In(field, values, negated));
        }
        match self.next() {
            Some(Token::Op(op)) if matches!(op.as_str(), "=" | "<>" | ">" | "<" | ">=" | "<=") => {
                Ok(Expr::Compare(field, op, self.value()?))
            }
            other => Err(format!(
                "expected an operator after [{field}], found {other:?}"
            )),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Text(s)) => Ok(Value::String(s)),
            Some(Token::Number(n)) => Ok(serde_json::json!(n)),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("@today") => {
                let mut days = 0i64;
                if let Some(Token::Op(op)) = self.peek().cloned()
                    && (op == "-" || op == "+")
                {
                    self.at += 1;
                    let Some(Token::Number(n)) = self.next() else {
                        return Err("expected a number of days".into());
                    };
                    #[expect(clippy::cast_possible_truncation, reason = "a small day count")]
                    let n = n as i64;
                    days = if op == "-" { -n } else { n };
                }
                let day = self
                    .now
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date()
                    .checked_add(jiff::Span::new().days(days))
                    .map_err(|e| e.to_string())?;
                Ok(Value::String(day.to_string()))
            }
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
}

/// Parses `SELECT ... FROM WorkItems [WHERE ...] [ORDER BY [f] [ASC|DESC]]`. Without
/// `time_precision`, dates compare by day and a literal with a time of day is refused, as the
/// service does. `@today` is the UTC day of `now` (the simulator's clock).
pub fn parse(text: &str, time_precision: bool, now: jiff::Timestamp) -> Result<Query, String> {
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens, at: 0, now };
    if !p.keyword("SELECT") {
        return Err("expected SELECT".into());
    }
    while !p.keyword("FROM") {
        if p.next().is_none() {
            return Err("expected FROM".into());
        }
    }
    if !p.keyword("WorkItems") {
        return Err("expected FROM WorkItems".into());
    }
    let filter = if p.keyword("WHERE") {
        Some(p.expr()?)
    } else {
        None
    };
    let mut order = None;
    if p.keyword("ORDER") {
        if !p.keyword("BY") {
            return Err("expected BY".into());
        }
        let Some(Token::Field(field)) = p.next() else {
            return Err("expected a field after ORDER BY".into());
        };
        let desc = p.keyword("DESC");
        let _ = p.keyword("ASC");
        order = Some((field, desc));
    }
    if p.at < p.tokens.len() {
        return Err(format!("unexpected {:?}", p.tokens[p.at]));
    }
    if !time_precision && let Some(literal) = filter.as_ref().and_then(timed_literal) {
        return Err(format!(
            "the date '{literal}' has a time of day; set timePrecision=true to compare times"
        ));
    }
    Ok(Query {
        filter,
        order,
        time_precision,
    })
}

/// A string literal of `expr` that is a date with a time of day.
fn timed_literal(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => timed_literal(a).or_else(|| timed_literal(b)),
        Expr::Not(e) => timed_literal(e),
        Expr::Compare(_, _, Value::String(s)) if s.contains('T') && instant(s).is_some() => Some(s),
        Expr::Compare(..) | Expr::In(..) => None,
    }
}

/// A date (`2026-11-25`, midnight UTC) or date-time (`2026-11-25T10:00:00.123Z`) literal.
fn instant(text: &str) -> Option<jiff::Timestamp> {
    text.parse::<jiff::Timestamp>().ok().or_else(|| {
        text.parse::<jiff::civil::Date>()
            .ok()?
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })
}

impl Query {
    /// True when the work item's `fields` match the filter.
    #[must_use]
    pub fn matches(&self, fields: &Value) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| eval(f, fields, self.time_precision))
    }
}

fn eval(expr: &Expr, fields: &Value, time_precision: bool) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, fields, time_precision) && eval(b, fields, time_precision),
        Expr::Or(a, b) => eval(a, fields, time_precision) || eval(b, fields, time_precision),
        Expr::Not(e) => !eval(e, fields, time_precision),
        Expr::In(field, values, negated) => {
            let actual = fields.get(field).unwrap_or(&Value::Null);
            values.iter().any(|v| equal(actual, v)) != *negated
        }
        Expr::Compare(field, op, value) => {
            let actual = fields.get(field).unwrap_or(&Value::Null);
            let ordering = compare(actual, value, time_precision);
            match op.as_str() {
                "=" => equal(actual, value),
                "<>" => !equal(actual, value),
                ">" => ordering == Some(std::cmp::Ordering::Greater),
                "<" => ordering == Some(std::cmp::Ordering::Less),
                ">=" => matches!(
                    ordering,
                    Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                ),
                "<=" => matches!(
                    ordering,
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                ),
                _ => false,
            }
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => false,
    }
}

/// Numbers by value, dates as instants (or as UTC days without `time_precision`), other
/// strings by text.
fn compare(a: &Value, b: &Value, time_precision: bool) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => match (instant(x), instant(y)) {
            (Some(x), Some(y)) if time_precision => Some(x.cmp(&y)),
            (Some(x), Some(y)) => {
                let day = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
                Some(day(x).cmp(&day(y)))
            }
            _ => Some(x.as_str().cmp(y.as_str())),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_integrations_queries_evaluate() {
        let q = parse("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = 'Project 1' AND ([System.State] NOT IN ('Closed','Done','Removed') OR [System.ChangedDate] >= @today - 7) AND [System.Id] > 5 ORDER BY [System.Id] ASC", false, jiff::Timestamp::now()).unwrap();
        let item = |state: &str, id: u64| json!({"System.TeamProject": "Project 1", "System.State": state, "System.Id": id, "System.ChangedDate": "2000-01-01T00:00:00Z"});
        assert!(q.matches(&item("Active", 6)));
        assert!(!q.matches(&item("Closed", 6)));
        assert!(!q.matches(&item("Active", 5)));
        assert_eq!(q.order, Some(("System.Id".into(), false)));
        assert!(
            parse(
                "SELECT [System.Id] FROM WorkItems WHERE [System.State] ~ 'x'",
                false,
                jiff::Timestamp::now()
            )
            .is_err()
        );
    }

    #[test]
    fn dates_compare_as_days_unless_time_precision_is_asked() {
        let at = |changed: &str| json!({"System.ChangedDate": changed});
        let since = "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2026-11-25T10:00:00Z'";
        let error = parse(since, false, jiff::Timestamp::now()).unwrap_err();
        assert!(error.contains("timePrecision"), "{error}");
        let q = parse(since, true, jiff::Timestamp::now()).unwrap();
        // Text order would put "…10:00:00.456Z" before "…10:00:00Z".
        assert!(q.matches(&at("2026-11-25T10:00:00.456Z")));
        assert!(!q.matches(&at("2026-11-25T09:59:59.999Z")));
        let day = parse(
            "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= '2026-11-25'",
            false,
            jiff::Timestamp::now(),
        )
        .unwrap();
        assert!(day.matches(&at("2026-11-25T00:00:00.001Z")));
        assert!(!day.matches(&at("2026-11-24T23:59:59.999Z")));
    }

    #[test]
    fn today_is_the_day_of_the_clock_reading() {
        let now: jiff::Timestamp = "2026-01-10T23:30:00Z".parse().unwrap();
        let week = "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= @today - 7";
        let q = parse(week, false, now).unwrap();
        let at = |changed: &str| json!({"System.ChangedDate": changed});
        // `@today - 7` is 2026-01-03, whatever the day the test runs.
        assert!(q.matches(&at("2026-01-03T00:00:00Z")));
        assert!(q.matches(&at("2026-01-09T12:00:00Z")));
        assert!(!q.matches(&at("2026-01-02T23:59:59.999Z")));
        let later = parse(week, false, "2026-01-11T00:00:00Z".parse().unwrap()).unwrap();
        assert!(!later.matches(&at("2026-01-03T00:00:00Z")));
        assert!(later.matches(&at("2026-01-04T00:00:00Z")));
    }
}
