//! DETECTORPL tokens: `$variables`, `@lists`, numbers, quoted strings, keywords and function
//! names, operators and brackets. Positions are 1-based character columns, as they appear in
//! the messages of [`super::RuleError`].

use super::RuleError;

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    /// 1-based column of the first character.
    pub pos: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A number literal (its value and its text).
    Num(f64, String),
    /// A quoted string (unescaped).
    Str(String),
    /// `$name`.
    Var(String),
    /// `@name`.
    List(String),
    /// A bare word: keyword (`and`, `or`, `not`, `in`, `true`, `false`, `null`) or function name.
    Ident(String),
    EqEq,
    NotEq,
    Gt,
    Ge,
    Lt,
    Le,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eof,
}

impl Tok {
    /// How the token is quoted in error messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Num(_, t) => format!("'{t}'"),
            Tok::Str(s) => format!("'\"{s}\"'"),
            Tok::Var(v) => format!("'${v}'"),
            Tok::List(l) => format!("'@{l}'"),
            Tok::Ident(i) => format!("'{i}'"),
            Tok::EqEq => "'=='".into(),
            Tok::NotEq => "'!='".into(),
            Tok::Gt => "'>'".into(),
            Tok::Ge => "'>='".into(),
            Tok::Lt => "'<'".into(),
            Tok::Le => "'<='".into(),
            Tok::Plus => "'+'".into(),
            Tok::Minus => "'-'".into(),
            Tok::Star => "'*'".into(),
            Tok::Slash => "'/'".into(),
            Tok::Percent => "'%'".into(),
            Tok::Bang => "'!'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::Comma => "','".into(),
            Tok::Eof => "the end of the expression".into(),
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Split `src` into tokens (ending with [`Tok::Eof`]).
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = |a: char, b: char| c == a && chars.get(i + 1) == Some(&b);
        let (kind, len) = if two('=', '=') {
            (Tok::EqEq, 2)
        } else if two('!', '=') {
            (Tok::NotEq, 2)
        } else if two('>', '=') {
            (Tok::Ge, 2)
        } else if two('<', '=') {
            (Tok::Le, 2)
        } else {
            match c {
                '>' => (Tok::Gt, 1),
                '<' => (Tok::Lt, 1),
                '+' => (Tok::Plus, 1),
                '-' => (Tok::Minus, 1),
                '*' => (Tok::Star, 1),
                '/' => (Tok::Slash, 1),
                '%' => (Tok::Percent, 1),
                '!' => (Tok::Bang, 1),
                '(' => (Tok::LParen, 1),
                ')' => (Tok::RParen, 1),
                '[' => (Tok::LBracket, 1),
                ']' => (Tok::RBracket, 1),
                ',' => (Tok::Comma, 1),
                '=' => return Err(RuleError::at(pos, "unexpected '=': compare values with '=='")),
                '&' | '|' => return Err(RuleError::at(pos, format!("unexpected '{c}': combine conditions with 'and' and 'or'"))),
                '$' | '@' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < chars.len() && is_name_char(chars[j]) {
                        j += 1;
                    }
                    if j == start {
                        let what = if c == '$' { "variable" } else { "list" };
                        return Err(RuleError::at(pos, format!("'{c}' must be followed by a {what} name")));
                    }
                    let name: String = chars[start..j].iter().collect();
                    let kind = if c == '$' { Tok::Var(name) } else { Tok::List(name) };
                    out.push(Token { kind, pos });
                    i = j;
                    continue;
                }
                '"' | '\'' => {
                    let quote = c;
                    let mut j = i + 1;
                    let mut s = String::new();
                    loop {
                        match chars.get(j) {
                            None => return Err(RuleError::at(pos, "unterminated string literal")),
                            Some(&ch) if ch == quote => break,
                            // A backslash keeps the next character as is (regex patterns keep
                            // their own escapes: `"\."` stays `\.`), except an escaped quote.
                            Some('\\') => match chars.get(j + 1) {
                                Some(&next) if next == quote => {
                                    s.push(next);
                                    j += 2;
                                }
                                Some(&next) => {
                                    s.push('\\');
                                    s.push(next);
                                    j += 2;
                                }
                                None => return Err(RuleError::at(pos, "unterminated string literal")),
                            },
                            Some(&ch) => {
                                s.push(ch);
                                j += 1;
                            }
                        }
                    }
                    out.push(Token { kind: Tok::Str(s), pos });
                    i = j + 1;
                    continue;
                }
                d if d.is_ascii_digit() || (d == '.' && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())) => {
                    let mut j = i;
                    let mut seen_dot = false;
                    let mut seen_exp = false;
                    while j < chars.len() {
                        let ch = chars[j];
                        if ch.is_ascii_digit() {
                            j += 1;
                        } else if ch == '.' && !seen_dot && !seen_exp {
                            seen_dot = true;
                            j += 1;
                        } else if (ch == 'e' || ch == 'E') && !seen_exp && j > i {
                            seen_exp = true;
                            j += 1;
                            if matches!(chars.get(j), Some('+') | Some('-')) {
                                j += 1;
                            }
                        } else {
                            break;
                        }
                    }
                    let text: String = chars[i..j].iter().collect();
                    if j < chars.len() && is_name_char(chars[j]) {
                        return Err(RuleError::at(pos, format!("invalid number '{text}{}'", chars[j])));
                    }
                    let v: f64 = text.parse().map_err(|_| RuleError::at(pos, format!("invalid number '{text}'")))?;
                    if !v.is_finite() {
                        return Err(RuleError::at(pos, format!("number '{text}' is out of range")));
                    }
                    out.push(Token { kind: Tok::Num(v, text), pos });
                    i = j;
                    continue;
                }
                w if w.is_ascii_alphabetic() || w == '_' => {
                    let mut j = i;
                    while j < chars.len() && is_name_char(chars[j]) {
                        j += 1;
                    }
                    out.push(Token { kind: Tok::Ident(chars[i..j].iter().collect()), pos });
                    i = j;
                    continue;
                }
                other => return Err(RuleError::at(pos, format!("unexpected character '{other}'"))),
            }
        };
        out.push(Token { kind, pos });
        i += len;
    }
    out.push(Token { kind: Tok::Eof, pos: chars.len() + 1 });
    Ok(out)
}
