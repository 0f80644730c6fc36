//! Recursive-descent parser for DETECTORPL. Precedence, loosest first: `or`; `and`; prefix
//! `!`/`not`; one comparison or `in` (comparisons do not chain); `+ -`; `* / %`; unary `-`;
//! literals, `$variables`, calls and parentheses.

use super::lexer::{Tok, Token};
use super::{BinOp, Expr, Func, InSet, Literal, RuleError, UnOp};

/// Deepest nesting accepted (parentheses, negations), so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub(crate) struct Parser {
    tokens: Vec<Token>,
    i: usize,
    depth: usize,
}

fn is_keyword(w: &str) -> bool {
    matches!(w, "and" | "or" | "not" | "in")
}

impl Parser {
    pub fn new(tokens: Vec<Token>) -> Self {
        Parser { tokens, i: 0, depth: 0 }
    }

    fn peek(&self) -> &Token {
        &self.tokens[self.i.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, k: usize) -> &Tok {
        &self.tokens[(self.i + k).min(self.tokens.len() - 1)].kind
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.peek().kind, Tok::Ident(x) if x == w)
    }

    fn unexpected(&self, expected: &str) -> RuleError {
        let t = self.peek();
        RuleError::at(t.pos, format!("expected {expected} but found {}", t.kind.describe()))
    }

    fn expect(&mut self, kind: Tok, what: &str) -> Result<Token, RuleError> {
        if self.peek().kind == kind {
            Ok(self.next())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn enter(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::at(self.peek().pos, format!("the expression is nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    pub fn parse_all(mut self) -> Result<Expr, RuleError> {
        let e = self.or()?;
        if self.peek().kind != Tok::Eof {
            let t = self.peek();
            let hint = match &t.kind {
                Tok::Var(_) | Tok::Num(..) | Tok::Str(_) => "; combine conditions with 'and' or 'or'",
                Tok::RParen => "; unbalanced parentheses",
                _ => "",
            };
            return Err(RuleError::at(t.pos, format!("unexpected {}{hint}", t.kind.describe())));
        }
        Ok(e)
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.next();
            let right = self.and()?;
            left = Expr::Binary(BinOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.not()?;
        while self.is_word("and") {
            self.next();
            let right = self.not()?;
            left = Expr::Binary(BinOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, RuleError> {
        if self.peek().kind == Tok::Bang || (self.is_word("not") && !matches!(self.peek_at(1), Tok::Ident(w) if w == "in")) {
            self.next();
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Unary(UnOp::Not, Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, RuleError> {
        let left = self.sum()?;
        let op = match &self.peek().kind {
            Tok::EqEq => Some(BinOp::Eq),
            Tok::NotEq => Some(BinOp::Ne),
            Tok::Gt => Some(BinOp::Gt),
            Tok::Ge => Some(BinOp::Ge),
            Tok::Lt => Some(BinOp::Lt),
            Tok::Le => Some(BinOp::Le),
            _ => None,
        };
        let out = if let Some(op) = op {
            self.next();
            let right = self.sum()?;
            Expr::Binary(op, Box::new(left), Box::new(right))
        } else if self.is_word("in") {
            self.next();
            let set = self.set()?;
            Expr::In { value: Box::new(left), set, negated: false }
        } else if self.is_word("not") && matches!(self.peek_at(1), Tok::Ident(w) if w == "in") {
            self.next();
            self.next();
            let set = self.set()?;
            Expr::In { value: Box::new(left), set, negated: true }
        } else {
            return Ok(left);
        };
        let t = self.peek();
        if matches!(t.kind, Tok::EqEq | Tok::NotEq | Tok::Gt | Tok::Ge | Tok::Lt | Tok::Le) || matches!(&t.kind, Tok::Ident(w) if w == "in") {
            return Err(RuleError::at(t.pos, format!("comparisons cannot be chained: unexpected {}", t.kind.describe())));
        }
        Ok(out)
    }

    fn set(&mut self) -> Result<InSet, RuleError> {
        match self.peek().kind.clone() {
            Tok::List(name) => {
                self.next();
                Ok(InSet::List(name))
            }
            Tok::LBracket => {
                self.next();
                let mut items = Vec::new();
                if self.peek().kind == Tok::RBracket {
                    return Err(RuleError::at(self.peek().pos, "the list after 'in' is empty"));
                }
                loop {
                    items.push(self.set_literal()?);
                    match self.peek().kind {
                        Tok::Comma => {
                            self.next();
                        }
                        Tok::RBracket => {
                            self.next();
                            break;
                        }
                        _ => return Err(self.unexpected("',' or ']'")),
                    }
                }
                Ok(InSet::Literals(items))
            }
            _ => Err(self.unexpected("'[' or an @list after 'in'")),
        }
    }

    fn set_literal(&mut self) -> Result<Literal, RuleError> {
        let t = self.next();
        Ok(match t.kind {
            Tok::Num(v, _) => Literal::Num(v),
            Tok::Minus => match self.next().kind {
                Tok::Num(v, _) => Literal::Num(-v),
                _ => return Err(RuleError::at(t.pos, "expected a number after '-' in the list")),
            },
            Tok::Str(s) => Literal::Str(s),
            Tok::Ident(w) if w == "true" => Literal::Bool(true),
            Tok::Ident(w) if w == "false" => Literal::Bool(false),
            Tok::Ident(w) if w == "null" => Literal::Null,
            other => return Err(RuleError::at(t.pos, format!("the values after 'in' must be literals, found {}", other.describe()))),
        })
    }

    fn sum(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek().kind {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            let right = self.product()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn product(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().kind {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(left),
            };
            self.next();
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.peek().kind == Tok::Minus {
            self.next();
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(match inner {
                Expr::Lit(Literal::Num(v)) => Expr::Lit(Literal::Num(-v)),
                other => Expr::Unary(UnOp::Neg, Box::new(other)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let t = self.peek().clone();
        match t.kind {
            Tok::Num(v, _) => {
                self.next();
                Ok(Expr::Lit(Literal::Num(v)))
            }
            Tok::Str(s) => {
                self.next();
                Ok(Expr::Lit(Literal::Str(s)))
            }
            Tok::Var(v) => {
                self.next();
                Ok(Expr::Var(v))
            }
            Tok::List(l) => Err(RuleError::at(t.pos, format!("the list '@{l}' can only be used after 'in' or 'not in'"))),
            Tok::LParen => {
                self.next();
                self.enter()?;
                let e = self.or()?;
                self.depth -= 1;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Ident(w) => match w.as_str() {
                "true" => {
                    self.next();
                    Ok(Expr::Lit(Literal::Bool(true)))
                }
                "false" => {
                    self.next();
                    Ok(Expr::Lit(Literal::Bool(false)))
                }
                "null" => {
                    self.next();
                    Ok(Expr::Lit(Literal::Null))
                }
                k if is_keyword(k) => Err(RuleError::at(t.pos, format!("expected a value but found '{k}'"))),
                name => {
                    if *self.peek_at(1) != Tok::LParen {
                        let upper = name.to_ascii_uppercase();
                        if matches!(upper.as_str(), "AND" | "OR" | "NOT" | "IN" | "TRUE" | "FALSE" | "NULL") {
                            return Err(RuleError::at(t.pos, format!("unknown word '{name}': keywords are lowercase ('{}')", name.to_ascii_lowercase())));
                        }
                        return Err(RuleError::at(t.pos, format!("unknown name '{name}': variables start with '$' and strings are quoted")));
                    }
                    self.call()
                }
            },
            Tok::Eof => Err(RuleError::at(t.pos, "the expression ends where a value was expected")),
            other => Err(RuleError::at(t.pos, format!("expected a value but found {}", other.describe()))),
        }
    }

    fn call(&mut self) -> Result<Expr, RuleError> {
        let name_tok = self.next();
        let Tok::Ident(name) = name_tok.kind else { return Err(RuleError::at(name_tok.pos, "expected a function name")) };
        self.expect(Tok::LParen, "'('")?;
        self.enter()?;
        let mut args = Vec::new();
        if self.peek().kind != Tok::RParen {
            loop {
                args.push(self.or()?);
                if self.peek().kind == Tok::Comma {
                    self.next();
                    continue;
                }
                break;
            }
        }
        self.depth -= 1;
        self.expect(Tok::RParen, "',' or ')'")?;
        let arity = |n: usize| -> Result<(), RuleError> {
            if args.len() != n {
                return Err(RuleError::at(name_tok.pos, format!("{name}() takes {n} argument{}, {} given", if n == 1 { "" } else { "s" }, args.len())));
            }
            Ok(())
        };
        match name.as_str() {
            "lowercase" => {
                arity(1)?;
                Ok(Expr::Call(super::Func::Lowercase, args))
            }
            "uppercase" => {
                arity(1)?;
                Ok(Expr::Call(super::Func::Uppercase, args))
            }
            "regex_match" => {
                arity(2)?;
                let mut args = args;
                let subject = args.pop().unwrap_or(Expr::Lit(Literal::Null));
                let pattern = match args.pop() {
                    Some(Expr::Lit(Literal::Str(p))) => p,
                    _ => return Err(RuleError::at(name_tok.pos, "the first argument of regex_match() must be a quoted pattern")),
                };
                let re = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| RuleError::at(name_tok.pos, format!("invalid regular expression \"{pattern}\": {}", first_line(&e.to_string()))))?;
                Ok(Expr::Call(Func::RegexMatch(Box::new(re), pattern), vec![subject]))
            }
            other => Err(RuleError::at(name_tok.pos, format!("unknown function '{other}' (functions: lowercase, uppercase, regex_match)"))),
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}
