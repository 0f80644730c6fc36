//! Metric math: the expressions of GetMetricData queries and alarms (`m1/m2*100`,
//! `SUM(METRICS())`, `FILL(m1, 0)`), parsed into a small tree and evaluated over time series.
//!
//! Values are scalars, time series (timestamp → value) or arrays of time series. As in
//! CloudWatch: arithmetic between two series keeps the timestamps both have; between a series
//! and a scalar applies to every point; an array applies the operation to each member.
//! `SUM`/`AVG`/`MIN`/`MAX`/`STDDEV` of an array give one series (per timestamp, over the members
//! that have a value there) and of one series give a scalar. Points that come out NaN or
//! infinite (division by zero) are dropped. Functions: `METRICS([filter])`, `SUM`, `AVG`, `MIN`,
//! `MAX`, `STDDEV`, `ABS`, `CEIL`, `FLOOR`, `FILL(x, value|REPEAT|LINEAR)`, `DIFF`, `RATE`,
//! `PERIOD`; array literals `[m1, m2]`.

use std::collections::{BTreeMap, HashMap};

/// How deeply an expression may nest (parentheses and calls).
const MAX_DEPTH: usize = 64;

/// One time series: a label and its points (epoch seconds → value).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    pub label: String,
    pub points: BTreeMap<i64, f64>,
}

/// The value of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Scalar(f64),
    Series(Series),
    Array(Vec<Series>),
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Str(String),
    /// A query id (`m1`) or a bare word argument (`REPEAT`).
    Ref(String),
    Neg(Box<Expr>),
    Bin(char, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    List(Vec<Expr>),
}

/// What an expression is evaluated against.
pub struct Env<'a> {
    /// The values of the other queries, by id.
    pub vars: &'a HashMap<String, Val>,
    /// Every metric (MetricStat) query's series, in request order, for `METRICS()`.
    pub metrics: &'a [Series],
    /// The period starts of the request (epoch seconds), for `FILL` and scalar results.
    pub grid: &'a [i64],
    /// The period in seconds.
    pub period: i64,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Sym(char),
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Tok::Num(
                text.parse().map_err(|_| format!("Invalid number {text}"))?,
            ));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c == '"' || c == '\'' {
            let quote = c;
            i += 1;
            let start = i;
            while i < chars.len() && chars[i] != quote {
                i += 1;
            }
            if i >= chars.len() {
                return Err("Unterminated string".into());
            }
            out.push(Tok::Str(chars[start..i].iter().collect()));
            i += 1;
        } else if "+-*/^(),[]".contains(c) {
            out.push(Tok::Sym(c));
            i += 1;
        } else {
            return Err(format!("Unexpected character '{c}'"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Sym(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("Expression is nested too deeply".into());
        }
        Ok(())
    }
    fn expr(&mut self) -> Result<Expr, String> {
        self.enter()?;
        let mut left = self.term()?;
        loop {
            let op = if self.eat('+') {
                '+'
            } else if self.eat('-') {
                '-'
            } else {
                break;
            };
            left = Expr::Bin(op, Box::new(left), Box::new(self.term()?));
        }
        self.depth -= 1;
        Ok(left)
    }
    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat('*') {
                '*'
            } else if self.eat('/') {
                '/'
            } else {
                break;
            };
            left = Expr::Bin(op, Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat('-') {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        let base = self.primary()?;
        if self.eat('^') {
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Bin('^', Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }
    fn list(&mut self, close: char) -> Result<Vec<Expr>, String> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(',') {
                return Err(format!("Expected ',' or '{close}'"));
            }
        }
    }
    fn primary(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Expr::Num(n))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Str(s))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.eat('(') {
                    self.enter()?;
                    let args = self.list(')')?;
                    self.depth -= 1;
                    Ok(Expr::Call(name.to_ascii_uppercase(), args))
                } else {
                    Ok(Expr::Ref(name))
                }
            }
            Some(Tok::Sym('(')) => {
                self.pos += 1;
                let e = self.expr()?;
                if !self.eat(')') {
                    return Err("Expected ')'".into());
                }
                Ok(e)
            }
            Some(Tok::Sym('[')) => {
                self.pos += 1;
                self.enter()?;
                let items = self.list(']')?;
                self.depth -= 1;
                Ok(Expr::List(items))
            }
            Some(Tok::Sym(c)) => Err(format!("Unexpected '{c}'")),
            None => Err("Unexpected end of expression".into()),
        }
    }
}

/// Parse an expression.
pub fn parse(src: &str) -> Result<Expr, String> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.pos != p.toks.len() {
        return Err("Unexpected input after the expression".into());
    }
    Ok(e)
}

/// The query ids an expression refers to, and whether it calls `METRICS()`.
pub fn references(e: &Expr, ids: &mut Vec<String>) -> bool {
    match e {
        Expr::Ref(id) => {
            ids.push(id.clone());
            false
        }
        Expr::Neg(x) => references(x, ids),
        Expr::Bin(_, a, b) => references(a, ids) | references(b, ids),
        Expr::Call(name, args) => args
            .iter()
            .fold(name == "METRICS", |acc, a| references(a, ids) | acc),
        Expr::List(items) => items.iter().fold(false, |acc, a| references(a, ids) | acc),
        Expr::Num(_) | Expr::Str(_) => false,
    }
}

fn finite(points: BTreeMap<i64, f64>) -> BTreeMap<i64, f64> {
    points.into_iter().filter(|(_, v)| v.is_finite()).collect()
}

fn apply(op: char, a: f64, b: f64) -> f64 {
    match op {
        '+' => a + b,
        '-' => a - b,
        '*' => a * b,
        '/' => a / b,
        _ => a.powf(b),
    }
}

fn binary(op: char, a: Val, b: Val) -> Result<Val, String> {
    let with_scalar = |s: Series, y: f64, scalar_left: bool| Series {
        points: finite(
            s.points
                .iter()
                .map(|(t, v)| {
                    (
                        *t,
                        if scalar_left {
                            apply(op, y, *v)
                        } else {
                            apply(op, *v, y)
                        },
                    )
                })
                .collect(),
        ),
        label: s.label,
    };
    Ok(match (a, b) {
        (Val::Scalar(x), Val::Scalar(y)) => Val::Scalar(apply(op, x, y)),
        (Val::Series(s), Val::Scalar(y)) => Val::Series(with_scalar(s, y, false)),
        (Val::Scalar(x), Val::Series(s)) => Val::Series(with_scalar(s, x, true)),
        (Val::Series(a), Val::Series(b)) => Val::Series(Series {
            points: finite(
                a.points
                    .iter()
                    .filter_map(|(t, v)| b.points.get(t).map(|w| (*t, apply(op, *v, *w))))
                    .collect(),
            ),
            label: a.label,
        }),
        (Val::Array(items), other @ (Val::Scalar(_) | Val::Series(_))) => Val::Array(
            items
                .into_iter()
                .map(|s| match binary(op, Val::Series(s), other.clone()) {
                    Ok(Val::Series(r)) => r,
                    _ => Series::default(),
                })
                .collect(),
        ),
        (other @ (Val::Scalar(_) | Val::Series(_)), Val::Array(items)) => Val::Array(
            items
                .into_iter()
                .map(|s| match binary(op, other.clone(), Val::Series(s)) {
                    Ok(Val::Series(r)) => r,
                    _ => Series::default(),
                })
                .collect(),
        ),
        (Val::Array(_), Val::Array(_)) => {
            return Err("Operations between two arrays of time series are not supported".into())
        }
    })
}

fn map_points(v: Val, f: impl Fn(f64) -> f64 + Copy) -> Val {
    match v {
        Val::Scalar(x) => Val::Scalar(f(x)),
        Val::Series(s) => Val::Series(Series {
            points: finite(s.points.into_iter().map(|(t, x)| (t, f(x))).collect()),
            label: s.label,
        }),
        Val::Array(a) => Val::Array(
            a.into_iter()
                .map(|s| Series {
                    points: finite(s.points.into_iter().map(|(t, x)| (t, f(x))).collect()),
                    label: s.label,
                })
                .collect(),
        ),
    }
}

fn map_series(v: Val, f: &dyn Fn(Series) -> Series) -> Result<Val, String> {
    Ok(match v {
        Val::Series(s) => Val::Series(f(s)),
        Val::Array(a) => Val::Array(a.into_iter().map(f).collect()),
        Val::Scalar(_) => return Err("This function needs a time series".into()),
    })
}

fn aggregate(name: &str, xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() as f64;
    Some(match name {
        "SUM" => xs.iter().sum(),
        "AVG" => xs.iter().sum::<f64>() / n,
        "MIN" => xs.iter().copied().fold(f64::INFINITY, f64::min),
        "MAX" => xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => {
            let mean = xs.iter().sum::<f64>() / n;
            (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
        }
    })
}

/// Evaluate an expression.
pub fn eval(e: &Expr, env: &Env) -> Result<Val, String> {
    match e {
        Expr::Num(n) => Ok(Val::Scalar(*n)),
        Expr::Str(s) => Err(format!("Unexpected string \"{s}\"")),
        Expr::Ref(id) => env
            .vars
            .get(id)
            .cloned()
            .ok_or_else(|| format!("Unrecognized identifier {id}")),
        Expr::Neg(x) => Ok(map_points(eval(x, env)?, |v| -v)),
        Expr::Bin(op, a, b) => binary(*op, eval(a, env)?, eval(b, env)?),
        Expr::List(items) => {
            let mut out = Vec::new();
            for item in items {
                match eval(item, env)? {
                    Val::Series(s) => out.push(s),
                    Val::Array(a) => out.extend(a),
                    Val::Scalar(_) => return Err("An array may only contain time series".into()),
                }
            }
            Ok(Val::Array(out))
        }
        Expr::Call(name, args) => call(name, args, env),
    }
}

fn call(name: &str, args: &[Expr], env: &Env) -> Result<Val, String> {
    let arity = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "{name} takes {n} argument{}",
                if n == 1 { "" } else { "s" }
            ))
        }
    };
    match name {
        "METRICS" => {
            let filter = match args {
                [] => None,
                [Expr::Str(s)] => Some(s.as_str()),
                _ => return Err("METRICS takes an optional string filter".into()),
            };
            Ok(Val::Array(
                env.metrics
                    .iter()
                    .filter(|s| filter.is_none_or(|f| s.label.contains(f)))
                    .cloned()
                    .collect(),
            ))
        }
        "SUM" | "AVG" | "MIN" | "MAX" | "STDDEV" => {
            let v = if args.len() == 1 {
                eval(&args[0], env)?
            } else {
                eval(&Expr::List(args.to_vec()), env)?
            };
            Ok(match v {
                Val::Scalar(x) => Val::Scalar(x),
                Val::Series(s) => {
                    match aggregate(name, &s.points.values().copied().collect::<Vec<_>>()) {
                        Some(x) => Val::Scalar(x),
                        None => Val::Series(Series {
                            label: s.label,
                            points: BTreeMap::new(),
                        }),
                    }
                }
                Val::Array(items) => {
                    let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                    for s in &items {
                        for (t, v) in &s.points {
                            by_time.entry(*t).or_default().push(*v);
                        }
                    }
                    let points = finite(
                        by_time
                            .into_iter()
                            .filter_map(|(t, xs)| aggregate(name, &xs).map(|v| (t, v)))
                            .collect(),
                    );
                    Val::Series(Series {
                        label: String::new(),
                        points,
                    })
                }
            })
        }
        "ABS" | "CEIL" | "FLOOR" => {
            arity(1)?;
            let f: fn(f64) -> f64 = match name {
                "ABS" => f64::abs,
                "CEIL" => f64::ceil,
                _ => f64::floor,
            };
            Ok(map_points(eval(&args[0], env)?, f))
        }
        "PERIOD" => {
            arity(1)?;
            let period = env.period as f64;
            map_series(eval(&args[0], env)?, &|s| Series {
                points: s.points.keys().map(|t| (*t, period)).collect(),
                label: s.label,
            })
        }
        "DIFF" | "RATE" => {
            arity(1)?;
            let rate = name == "RATE";
            map_series(eval(&args[0], env)?, &|s| {
                let pts: Vec<(i64, f64)> = s.points.into_iter().collect();
                let points = pts
                    .windows(2)
                    .map(|w| {
                        let d = w[1].1 - w[0].1;
                        (
                            w[1].0,
                            if rate {
                                d / (w[1].0 - w[0].0) as f64
                            } else {
                                d
                            },
                        )
                    })
                    .collect();
                Series {
                    points: finite(points),
                    label: s.label,
                }
            })
        }
        "FILL" => {
            arity(2)?;
            let target = eval(&args[0], env)?;
            let grid = env.grid;
            let how = match &args[1] {
                Expr::Ref(w) if w.eq_ignore_ascii_case("REPEAT") => Fill::Repeat,
                Expr::Ref(w) if w.eq_ignore_ascii_case("LINEAR") => Fill::Linear,
                other => match eval(other, env)? {
                    Val::Scalar(x) => Fill::Value(x),
                    _ => {
                        return Err(
                            "FILL takes a number, REPEAT or LINEAR as its second argument".into(),
                        )
                    }
                },
            };
            map_series(target, &|s| Series {
                points: fill(&s.points, grid, how),
                label: s.label,
            })
        }
        other => Err(format!("Unrecognized function name {other}")),
    }
}

#[derive(Clone, Copy)]
enum Fill {
    Value(f64),
    Repeat,
    Linear,
}

fn fill(points: &BTreeMap<i64, f64>, grid: &[i64], how: Fill) -> BTreeMap<i64, f64> {
    let mut out = points.clone();
    for t in grid {
        if out.contains_key(t) {
            continue;
        }
        let before = points.range(..*t).next_back();
        let after = points.range(*t..).next();
        let v = match how {
            Fill::Value(x) => Some(x),
            Fill::Repeat => before.or(after).map(|(_, v)| *v),
            Fill::Linear => match (before, after) {
                (Some((t0, v0)), Some((t1, v1))) => {
                    Some(v0 + (v1 - v0) * (*t - t0) as f64 / (*t1 - *t0) as f64)
                }
                (Some((_, v)), None) | (None, Some((_, v))) => Some(*v),
                (None, None) => None,
            },
        };
        if let Some(v) = v {
            out.insert(*t, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, pts: &[(i64, f64)]) -> Series {
        Series {
            label: label.into(),
            points: pts.iter().copied().collect(),
        }
    }

    fn run(src: &str, vars: &HashMap<String, Val>, metrics: &[Series]) -> Result<Val, String> {
        let grid = [0, 60, 120];
        eval(
            &parse(src)?,
            &Env {
                vars,
                metrics,
                grid: &grid,
                period: 60,
            },
        )
    }

    #[test]
    fn parses_precedence() {
        assert_eq!(
            parse("m1/m2*100").unwrap(),
            Expr::Bin(
                '*',
                Box::new(Expr::Bin(
                    '/',
                    Box::new(Expr::Ref("m1".into())),
                    Box::new(Expr::Ref("m2".into()))
                )),
                Box::new(Expr::Num(100.0))
            )
        );
        assert_eq!(
            parse("-2^2").unwrap(),
            Expr::Neg(Box::new(Expr::Bin(
                '^',
                Box::new(Expr::Num(2.0)),
                Box::new(Expr::Num(2.0))
            )))
        );
        for bad in ["", "m1 +", "(m1", "m1)", "SUM(m1,", "m1 $ m2", "\"x", "1 2"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&"(".repeat(1000)).is_err());
        assert!(parse(&"-".repeat(1000)).is_err());
    }

    #[test]
    fn arithmetic_and_functions() {
        let m1 = series("A", &[(0, 1.0), (60, 2.0), (120, 3.0)]);
        let m2 = series("B", &[(0, 4.0), (60, 0.0)]);
        let vars: HashMap<String, Val> = [
            ("m1".to_string(), Val::Series(m1.clone())),
            ("m2".to_string(), Val::Series(m2.clone())),
        ]
        .into();
        let metrics = [m1.clone(), m2.clone()];
        // m1/m2*100: common timestamps only, division by zero dropped.
        assert_eq!(
            run("m1/m2*100", &vars, &metrics).unwrap(),
            Val::Series(series("A", &[(0, 25.0)]))
        );
        assert_eq!(run("SUM(m1)", &vars, &metrics).unwrap(), Val::Scalar(6.0));
        assert_eq!(
            run("AVG(m1) * 2", &vars, &metrics).unwrap(),
            Val::Scalar(4.0)
        );
        let Val::Series(s) = run("SUM(METRICS())", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(
            s.points,
            [(0, 5.0), (60, 2.0), (120, 3.0)].into_iter().collect()
        );
        let Val::Array(a) = run("METRICS() * 2", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(a.len(), 2);
        assert_eq!(a[1].points[&0], 8.0);
        let Val::Array(a) = run("METRICS(\"B\")", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(a, vec![m2.clone()]);
        let Val::Series(s) = run("MAX([m1, m2])", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(s.points[&0], 4.0);
        let Val::Series(s) = run("FILL(m2, 7)", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(s.points[&120], 7.0);
        let Val::Series(s) = run("FILL(m2, REPEAT)", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(s.points[&120], 0.0);
        let Val::Series(s) = run("RATE(m1)", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(s.points[&60], 1.0 / 60.0);
        let Val::Series(s) = run("DIFF(m1)", &vars, &metrics).unwrap() else {
            panic!()
        };
        assert_eq!(s.points.len(), 2);
        assert_eq!(run("ABS(-3)", &vars, &metrics).unwrap(), Val::Scalar(3.0));
        assert!(run("NOPE(m1)", &vars, &metrics)
            .unwrap_err()
            .contains("Unrecognized function name"));
        assert!(run("m9", &vars, &metrics).is_err());
        assert!(run("METRICS() + METRICS()", &vars, &metrics).is_err());
        let mut ids = Vec::new();
        assert!(references(&parse("SUM(METRICS()) / m2").unwrap(), &mut ids));
        assert_eq!(ids, vec!["m2".to_string()]);
    }
}
