//! DETECTORPL, the language of Fraud Detector rules: parse, check against the event type, and
//! evaluate.
//!
//! What the language has (AWS's "Rule language reference"): `$variables` (event variables and
//! model scores such as `$my_model_insightscore`), `@lists`, number / string / `true` / `false`
//! / `null` literals, comparisons `== != > >= < <=`, membership `in` / `not in` against
//! `[literal, …]` or `@list`, `and`, `or`, negation `!` (also spelled `not`), arithmetic
//! `+ - * / %` with unary minus, parentheses, and the functions `lowercase(s)`, `uppercase(s)`
//! and `regex_match("pattern", s)` (a whole-string match, as Java's `matches()` on RE2J; the
//! `regex` crate has the same RE2 syntax and linear-time guarantee). A missing value is `null`:
//! `$v == null` / `$v != null` check for it. An expression must be a condition (a boolean) and
//! at most 4,000 characters.
//!
//! Why hand-written: the grammar is a dozen productions of an expression language; a
//! recursive-descent parser gives precise, position-carrying messages for the
//! `ValidationException` a client sees, keeps the evaluator allocation-free on the hot path
//! (GetEventPrediction), and adds no parser-generator dependency to a lean build.
//!
//! Layout: `lexer.rs` (tokens), `parser.rs` (tokens → [`Expr`]), `check.rs` (static types
//! against a [`Schema`]), `eval.rs` (evaluation against a [`Scope`]).

mod check;
mod eval;
mod lexer;
mod parser;

pub use check::{check, Schema, Ty};
pub use eval::{evaluate, render_with_values, Scope, Value};

/// Longest expression AWS accepts.
pub const MAX_EXPRESSION_LEN: usize = 4000;

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    /// Where the problem is (1-based column), if it is about one place.
    pub pos: Option<usize>,
    /// The explanation.
    pub message: String,
}

impl RuleError {
    pub(crate) fn at(pos: usize, message: impl Into<String>) -> Self {
        RuleError { pos: Some(pos), message: message.into() }
    }
    pub(crate) fn general(message: impl Into<String>) -> Self {
        RuleError { pos: None, message: message.into() }
    }
    /// The text sent in the `ValidationException`.
    pub fn client_message(&self) -> String {
        match self.pos {
            Some(p) => format!("Invalid rule expression: {} (at position {p})", self.message),
            None => format!("Invalid rule expression: {}", self.message),
        }
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!x` / `not x`.
    Not,
    /// `-x`.
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        }
    }
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
        }
    }
}

/// The built-in functions.
#[derive(Debug, Clone)]
pub enum Func {
    /// `lowercase(s)`.
    Lowercase,
    /// `uppercase(s)`.
    Uppercase,
    /// `regex_match("pattern", s)`: the pattern is compiled once, anchored at both ends.
    RegexMatch(Box<regex::Regex>, String),
}

impl Func {
    /// The function's name in DETECTORPL.
    pub fn name(&self) -> &'static str {
        match self {
            Func::Lowercase => "lowercase",
            Func::Uppercase => "uppercase",
            Func::RegexMatch(..) => "regex_match",
        }
    }
}

/// The right-hand side of `in`.
#[derive(Debug, Clone)]
pub enum InSet {
    /// `[1, 2, "x"]`.
    Literals(Vec<Literal>),
    /// `@name`.
    List(String),
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Lit(Literal),
    /// `$name` (the name without `$`).
    Var(String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `value in set` / `value not in set`.
    In { value: Box<Expr>, set: InSet, negated: bool },
    /// `regex_match` keeps only its subject here; the pattern is in [`Func::RegexMatch`].
    Call(Func, Vec<Expr>),
}

impl Expr {
    /// Every `$variable` the expression reads, in order of first use.
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Var(v) = e {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
        });
        out
    }

    /// Every `@list` the expression reads.
    pub fn lists(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::In { set: InSet::List(l), .. } = e {
                if !out.contains(l) {
                    out.push(l.clone());
                }
            }
        });
        out
    }

    fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Lit(_) | Expr::Var(_) => {}
            Expr::Unary(_, e) => e.walk(f),
            Expr::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::In { value, .. } => value.walk(f),
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
        }
    }
}

/// Parse an expression (syntax only; see [`check`] for names and types).
pub fn parse(src: &str) -> Result<Expr, RuleError> {
    if src.trim().is_empty() {
        return Err(RuleError::general("the expression is empty"));
    }
    if src.chars().count() > MAX_EXPRESSION_LEN {
        return Err(RuleError::general(format!("the expression is longer than {MAX_EXPRESSION_LEN} characters")));
    }
    let tokens = lexer::tokenize(src)?;
    parser::Parser::new(tokens).parse_all()
}

/// Format a number as DETECTORPL prints it (integers without a fraction).
pub(crate) fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Num(v) => write!(f, "{}", fmt_num(*v)),
            Literal::Str(s) => write!(f, "\"{}\"", s.replace('"', "\\\"")),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => write!(f, "null"),
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        eval::write_expr(f, self)
    }
}

#[cfg(test)]
mod tests;
