//! Evaluation of a checked expression against one event's values.
//!
//! Missing values are `null`. Comparisons with `null` other than `==` / `!=` are false,
//! arithmetic with `null` (or a division by zero) gives `null`, and `and` / `or` treat anything
//! that is not `true` as false, so a rule over a missing value does not match instead of failing
//! the prediction.

use super::{fmt_num, BinOp, Expr, Func, InSet, Literal, UnOp};
use std::borrow::Cow;
use std::fmt::Write as _;

/// A runtime value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Num(f64),
    Str(Cow<'a, str>),
    Bool(bool),
}

impl Value<'_> {
    /// The value as rule text (`"abc"`, `12.5`, `true`, `null`).
    pub fn render(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Num(v) => fmt_num(*v),
            Value::Str(s) => format!("\"{}\"", s.replace('"', "\\\"")),
            Value::Bool(b) => b.to_string(),
        }
    }
    /// The value as list entries compare it (strings as is, numbers formatted).
    fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Value::Num(v) => Some(Cow::Owned(fmt_num(*v))),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            Value::Null => None,
        }
    }
}

/// Where an evaluation reads its values.
pub trait Scope {
    /// The value of `$name` (`Value::Null` when missing).
    fn var(&self, name: &str) -> Value<'_>;
    /// Whether `@list` holds `entry`.
    fn list_contains(&self, list: &str, entry: &str) -> bool;
}

/// Whether the condition holds for `scope`.
pub fn evaluate(expr: &Expr, scope: &dyn Scope) -> bool {
    matches!(eval(expr, scope), Value::Bool(true))
}

fn lit<'a>(l: &'a Literal) -> Value<'a> {
    match l {
        Literal::Num(v) => Value::Num(*v),
        Literal::Str(s) => Value::Str(Cow::Borrowed(s)),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Null,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Num(x), Value::Num(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        _ => false,
    }
}

fn eval<'a>(e: &'a Expr, scope: &'a dyn Scope) -> Value<'a> {
    match e {
        Expr::Lit(l) => lit(l),
        Expr::Var(name) => scope.var(name),
        Expr::Unary(UnOp::Not, inner) => match eval(inner, scope) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Bool(true),
        },
        Expr::Unary(UnOp::Neg, inner) => match eval(inner, scope) {
            Value::Num(v) => Value::Num(-v),
            _ => Value::Null,
        },
        Expr::Binary(BinOp::And, a, b) => Value::Bool(matches!(eval(a, scope), Value::Bool(true)) && matches!(eval(b, scope), Value::Bool(true))),
        Expr::Binary(BinOp::Or, a, b) => Value::Bool(matches!(eval(a, scope), Value::Bool(true)) || matches!(eval(b, scope), Value::Bool(true))),
        Expr::Binary(op, a, b) => {
            let (x, y) = (eval(a, scope), eval(b, scope));
            match op {
                BinOp::Eq => Value::Bool(equal(&x, &y)),
                BinOp::Ne => Value::Bool(!equal(&x, &y)),
                BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => {
                    let ord = match (&x, &y) {
                        (Value::Num(p), Value::Num(q)) => p.partial_cmp(q),
                        (Value::Str(p), Value::Str(q)) => Some(p.cmp(q)),
                        _ => None,
                    };
                    Value::Bool(match ord {
                        None => false,
                        Some(o) => match op {
                            BinOp::Gt => o.is_gt(),
                            BinOp::Ge => o.is_ge(),
                            BinOp::Lt => o.is_lt(),
                            _ => o.is_le(),
                        },
                    })
                }
                _ => match (x, y) {
                    (Value::Num(p), Value::Num(q)) => {
                        let r = match op {
                            BinOp::Add => p + q,
                            BinOp::Sub => p - q,
                            BinOp::Mul => p * q,
                            BinOp::Div => p / q,
                            _ => p % q,
                        };
                        if r.is_finite() {
                            Value::Num(r)
                        } else {
                            Value::Null
                        }
                    }
                    _ => Value::Null,
                },
            }
        }
        Expr::In { value, set, negated } => {
            let v = eval(value, scope);
            let found = match set {
                InSet::Literals(items) => items.iter().any(|l| equal(&v, &lit(l))),
                InSet::List(name) => match v.as_text() {
                    Some(t) => scope.list_contains(name, &t),
                    None => false,
                },
            };
            Value::Bool(found != *negated)
        }
        Expr::Call(func, args) => {
            let arg = args.first().map(|a| eval(a, scope)).unwrap_or(Value::Null);
            match func {
                Func::Lowercase => match arg {
                    Value::Str(s) => Value::Str(Cow::Owned(s.to_lowercase())),
                    _ => Value::Null,
                },
                Func::Uppercase => match arg {
                    Value::Str(s) => Value::Str(Cow::Owned(s.to_uppercase())),
                    _ => Value::Null,
                },
                Func::RegexMatch(re, _) => match arg.as_text() {
                    Some(t) => Value::Bool(re.is_match(&t)),
                    None => Value::Bool(false),
                },
            }
        }
    }
}

/// The expression with every `$variable` replaced by its value in `scope` (AWS's
/// `expressionWithValues`).
pub fn render_with_values(expr: &Expr, scope: &dyn Scope) -> String {
    let mut s = String::new();
    let _ = write_expr_to(&mut s, expr, &mut |name, buf| {
        buf.push_str(&scope.var(name).render());
        true
    });
    s
}

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Binary(op, ..) => op.precedence(),
        Expr::In { .. } => 4,
        Expr::Unary(UnOp::Not, _) => 3,
        _ => 9,
    }
}

/// Write `e` in canonical form (what `Display` prints).
pub(crate) fn write_expr(f: &mut std::fmt::Formatter<'_>, e: &Expr) -> std::fmt::Result {
    let mut s = String::new();
    write_expr_to(&mut s, e, &mut |_, _| false)?;
    f.write_str(&s)
}

/// Write `e` into `out`; `var` may write a variable's replacement text (returning true when it did).
fn write_expr_to(out: &mut String, e: &Expr, var: &mut dyn FnMut(&str, &mut String) -> bool) -> std::fmt::Result {
    let child = |out: &mut String, c: &Expr, wrap: bool, var: &mut dyn FnMut(&str, &mut String) -> bool| -> std::fmt::Result {
        if wrap {
            out.push('(');
            write_expr_to(out, c, var)?;
            out.push(')');
            Ok(())
        } else {
            write_expr_to(out, c, var)
        }
    };
    match e {
        Expr::Lit(l) => write!(out, "{l}"),
        Expr::Var(name) => {
            if !var(name, out) {
                write!(out, "${name}")?;
            }
            Ok(())
        }
        Expr::Unary(UnOp::Not, inner) => {
            out.push('!');
            child(out, inner, precedence(inner) < 9, var)
        }
        Expr::Unary(UnOp::Neg, inner) => {
            out.push('-');
            child(out, inner, precedence(inner) < 9, var)
        }
        Expr::Binary(op, a, b) => {
            let p = op.precedence();
            child(out, a, precedence(a) < p || (p == 4 && precedence(a) == 4), var)?;
            write!(out, " {} ", op.symbol())?;
            // Left-associative: a right operand of the same precedence needs parentheses,
            // except for `and` / `or`, which associate both ways.
            let same_assoc = matches!((op, b.as_ref()), (BinOp::And, Expr::Binary(BinOp::And, ..)) | (BinOp::Or, Expr::Binary(BinOp::Or, ..)));
            child(out, b, precedence(b) < p || (precedence(b) == p && !same_assoc), var)
        }
        Expr::In { value, set, negated } => {
            child(out, value, precedence(value) <= 4, var)?;
            out.push_str(if *negated { " not in " } else { " in " });
            match set {
                InSet::List(l) => write!(out, "@{l}"),
                InSet::Literals(items) => {
                    out.push('[');
                    for (i, l) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(", ");
                        }
                        write!(out, "{l}")?;
                    }
                    out.push(']');
                    Ok(())
                }
            }
        }
        Expr::Call(func, args) => {
            write!(out, "{}(", func.name())?;
            if let Func::RegexMatch(_, pattern) = func {
                write!(out, "\"{}\", ", pattern.replace('"', "\\\""))?;
            }
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr_to(out, a, var)?;
            }
            out.push(')');
            Ok(())
        }
    }
}
