//! Static checks of a parsed expression against what a detector knows: every `$variable` must
//! exist (an event variable of the detector's event type or a model score), every `@list` must
//! exist, operands must have types the operator accepts, and the whole expression must be a
//! condition.

use super::{BinOp, Expr, Func, InSet, Literal, RuleError, UnOp};

/// Static type of a sub-expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Num,
    Str,
    Bool,
    Null,
    /// Unknown until evaluation (never produced for known variables).
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Num => "a number",
            Ty::Str => "a string",
            Ty::Bool => "a condition",
            Ty::Null => "null",
            Ty::Any => "a value",
        }
    }
}

/// The names an expression may use.
pub trait Schema {
    /// The type of `$name`, or `None` if there is no such variable.
    fn variable(&self, name: &str) -> Option<Ty>;
    /// Whether `@name` exists.
    fn list_exists(&self, name: &str) -> bool;
}

/// Check `expr` against `schema`.
pub fn check(expr: &Expr, schema: &dyn Schema) -> Result<(), RuleError> {
    match ty(expr, schema)? {
        Ty::Bool | Ty::Any => Ok(()),
        other => Err(RuleError::general(format!("the expression must be a condition (true or false), but it is {}", other.name()))),
    }
}

fn lit_ty(l: &Literal) -> Ty {
    match l {
        Literal::Num(_) => Ty::Num,
        Literal::Str(_) => Ty::Str,
        Literal::Bool(_) => Ty::Bool,
        Literal::Null => Ty::Null,
    }
}

fn compatible(a: Ty, b: Ty) -> bool {
    a == b || matches!(a, Ty::Any | Ty::Null) || matches!(b, Ty::Any | Ty::Null)
}

fn describe(e: &Expr) -> String {
    let s = e.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

fn ty(e: &Expr, schema: &dyn Schema) -> Result<Ty, RuleError> {
    Ok(match e {
        Expr::Lit(l) => lit_ty(l),
        Expr::Var(name) => schema.variable(name).ok_or_else(|| {
            RuleError::general(format!("the variable '${name}' is not defined for this detector's event type (use an event variable or a model score such as '$<model_id>_insightscore')"))
        })?,
        Expr::Unary(UnOp::Not, inner) => match ty(inner, schema)? {
            Ty::Bool | Ty::Any => Ty::Bool,
            other => return Err(RuleError::general(format!("'!' needs a condition, but '{}' is {}", describe(inner), other.name()))),
        },
        Expr::Unary(UnOp::Neg, inner) => match ty(inner, schema)? {
            Ty::Num | Ty::Any => Ty::Num,
            other => return Err(RuleError::general(format!("'-' needs a number, but '{}' is {}", describe(inner), other.name()))),
        },
        Expr::Binary(op, a, b) => {
            let (ta, tb) = (ty(a, schema)?, ty(b, schema)?);
            match op {
                BinOp::And | BinOp::Or => {
                    for (side, t) in [(a, ta), (b, tb)] {
                        if !matches!(t, Ty::Bool | Ty::Any) {
                            return Err(RuleError::general(format!("'{}' needs conditions on both sides, but '{}' is {}", op.symbol(), describe(side), t.name())));
                        }
                    }
                    Ty::Bool
                }
                BinOp::Eq | BinOp::Ne => {
                    if !compatible(ta, tb) {
                        return Err(RuleError::general(format!("cannot compare {} with {} in '{}'", ta.name(), tb.name(), describe(e))));
                    }
                    Ty::Bool
                }
                BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => {
                    if ta == Ty::Null || tb == Ty::Null {
                        return Err(RuleError::general(format!("'{}' cannot order null; check for a missing value with '==' or '!=' null", op.symbol())));
                    }
                    if ta == Ty::Bool || tb == Ty::Bool {
                        return Err(RuleError::general(format!("'{}' cannot order conditions in '{}'", op.symbol(), describe(e))));
                    }
                    if !compatible(ta, tb) {
                        return Err(RuleError::general(format!("cannot compare {} with {} in '{}'", ta.name(), tb.name(), describe(e))));
                    }
                    Ty::Bool
                }
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                    for (side, t) in [(a, ta), (b, tb)] {
                        if !matches!(t, Ty::Num | Ty::Any) {
                            return Err(RuleError::general(format!("'{}' needs numbers, but '{}' is {}", op.symbol(), describe(side), t.name())));
                        }
                    }
                    Ty::Num
                }
            }
        }
        Expr::In { value, set, negated } => {
            let kw = if *negated { "not in" } else { "in" };
            let tv = ty(value, schema)?;
            if tv == Ty::Bool {
                return Err(RuleError::general(format!("'{kw}' needs a value on its left, but '{}' is a condition", describe(value))));
            }
            match set {
                InSet::Literals(items) => {
                    for item in items {
                        let ti = lit_ty(item);
                        if !compatible(tv, ti) {
                            return Err(RuleError::general(format!("'{}' is {} but the list after '{kw}' holds {} ({item})", describe(value), tv.name(), ti.name())));
                        }
                    }
                }
                InSet::List(name) => {
                    if !schema.list_exists(name) {
                        return Err(RuleError::general(format!("the list '@{name}' does not exist")));
                    }
                }
            }
            Ty::Bool
        }
        Expr::Call(func, args) => {
            let t = match args.first() {
                Some(a) => ty(a, schema)?,
                None => Ty::Any,
            };
            match func {
                Func::Lowercase | Func::Uppercase => {
                    if !matches!(t, Ty::Str | Ty::Any | Ty::Null) {
                        return Err(RuleError::general(format!("{}() needs a string, but '{}' is {}", func.name(), args.first().map(describe).unwrap_or_default(), t.name())));
                    }
                    Ty::Str
                }
                Func::RegexMatch(..) => {
                    if t == Ty::Bool {
                        return Err(RuleError::general(format!("regex_match() needs a string, but '{}' is a condition", args.first().map(describe).unwrap_or_default())));
                    }
                    Ty::Bool
                }
            }
        }
    })
}
