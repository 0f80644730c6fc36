//! DETECTORPL parser, checker and evaluator tests.

use super::*;
use std::collections::{HashMap, HashSet};

struct TestSchema;

impl Schema for TestSchema {
    fn variable(&self, name: &str) -> Option<Ty> {
        Some(match name {
            "amt" | "n" | "fraud_model_insightscore" | "lat" => Ty::Num,
            "email" | "country" | "ip" | "state" | "phone" => Ty::Str,
            "flag" => Ty::Bool,
            _ => return None,
        })
    }
    fn list_exists(&self, name: &str) -> bool {
        name == "blocked_emails"
    }
}

#[derive(Default)]
struct Event {
    vars: HashMap<&'static str, Value<'static>>,
    lists: HashMap<&'static str, HashSet<&'static str>>,
}

impl Scope for Event {
    fn var(&self, name: &str) -> Value<'_> {
        self.vars.get(name).cloned().unwrap_or(Value::Null)
    }
    fn list_contains(&self, list: &str, entry: &str) -> bool {
        self.lists.get(list).is_some_and(|l| l.contains(entry))
    }
}

fn event() -> Event {
    let mut e = Event::default();
    e.vars.insert("amt", Value::Num(250.0));
    e.vars.insert("n", Value::Num(7.0));
    e.vars.insert("fraud_model_insightscore", Value::Num(960.0));
    e.vars.insert("email", Value::Str("Bob@Gmail.com".into()));
    e.vars.insert("country", Value::Str("US".into()));
    e.vars.insert("state", Value::Str("VA".into()));
    e.vars.insert("phone", Value::Str("+1 412 515 4616".into()));
    e.vars.insert("flag", Value::Bool(true));
    e.lists.insert("blocked_emails", ["evil@example.com", "bob@gmail.com"].into_iter().collect());
    e
}

fn compile(src: &str) -> Result<Expr, RuleError> {
    let e = parse(src)?;
    check(&e, &TestSchema)?;
    Ok(e)
}

fn holds(src: &str) -> bool {
    let e = compile(src).unwrap_or_else(|err| panic!("{src}: {}", err.client_message()));
    evaluate(&e, &event())
}

#[test]
fn documented_examples_parse_and_evaluate() {
    assert!(holds("$amt < 1000"));
    assert!(holds("$n in [5, 7, 25, 100]"));
    assert!(!holds("$n not in [5, 7, 25, 100]"));
    assert!(holds("$country != \"UK\""));
    assert!(holds("$amt == 250"));
    assert!(holds("$amt + $n < 300"));
    assert!(holds("regex_match(\".*@gmail\\.com\", lowercase($email))"));
    assert!(!holds("regex_match(\".*@gmail\\.com\", $email)"));
    assert!(holds("regex_match(\".*\\+1.*\", $phone)"));
    assert!(holds("lowercase($email) in @blocked_emails"));
    assert!(!holds("$email in @blocked_emails"));
    assert!(holds("$fraud_model_insightscore > 900"));
    assert!(holds("$fraud_model_insightscore > 900 and $amt >= 100"));
    assert!(holds("($fraud_model_insightscore > 990 or $state == \"VA\") and $flag == true"));
    assert!(holds("!($amt > 1000)"));
    assert!(holds("not ($amt > 1000)"));
    assert!(holds("uppercase($state) == \"VA\""));
    assert!(holds("$amt % 100 == 50"));
    assert!(holds("$amt / 2 - 25 == 100"));
    assert!(holds("-$amt < 0"));
    assert!(holds("$amt * 2 >= 500.0"));
    assert!(holds("$state >= \"TX\""));
    assert!(holds("$flag"));
    assert!(holds("'single' == 'single'"));
}

#[test]
fn null_checks_and_missing_values() {
    assert!(holds("$ip == null"));
    assert!(!holds("$ip != null"));
    assert!(holds("$email != null"));
    assert!(!holds("$lat > 10"), "comparisons with a missing value are false");
    assert!(!holds("$lat + 1 > 0"), "arithmetic with a missing value is null");
    assert!(holds("$lat == null and $amt > 1"));
    assert!(!holds("$amt / 0 > 1"), "division by zero is null, not a match");
    assert!(holds("$ip not in [\"1.2.3.4\"]"));
}

#[test]
fn precedence_and_display_round_trip() {
    let cases = [
        ("$amt > 1 or $n > 1 and $amt < 2", "$amt > 1 or $n > 1 and $amt < 2"),
        ("($amt > 1 or $n > 1) and $amt < 2", "($amt > 1 or $n > 1) and $amt < 2"),
        ("$amt - ($n - 1) > 0", "$amt - ($n - 1) > 0"),
        ("$amt - $n - 1 > 0", "$amt - $n - 1 > 0"),
        ("2 * ($amt + 1) > 0", "2 * ($amt + 1) > 0"),
        ("!($amt > 1)", "!($amt > 1)"),
        ("$country in [\"US\", \"CA\"]", "$country in [\"US\", \"CA\"]"),
        ("lowercase($email) not in @blocked_emails", "lowercase($email) not in @blocked_emails"),
        ("regex_match(\"a.*\", $email)", "regex_match(\"a.*\", $email)"),
        ("$amt>-5", "$amt > -5"),
    ];
    for (src, want) in cases {
        let e = compile(src).unwrap();
        assert_eq!(e.to_string(), want, "{src}");
        let again = compile(&e.to_string()).unwrap();
        assert_eq!(again.to_string(), want);
    }
    // `and` binds tighter than `or`.
    assert!(holds("$amt > 1000 and $n > 1 or $n == 7"));
    assert!(!holds("$amt > 1000 and ($n > 1 or $n == 7)"));
}

#[test]
fn expression_with_values() {
    let e = compile("$amt > 100 and lowercase($email) == \"bob@gmail.com\" and $ip == null").unwrap();
    assert_eq!(render_with_values(&e, &event()), "250 > 100 and lowercase(\"Bob@Gmail.com\") == \"bob@gmail.com\" and null == null");
}

#[test]
fn variables_and_lists_are_listed() {
    let e = compile("$amt > 1 and ($email in @blocked_emails or $amt < $n)").unwrap();
    assert_eq!(e.variables(), vec!["amt", "email", "n"]);
    assert_eq!(e.lists(), vec!["blocked_emails"]);
}

#[test]
fn invalid_expressions_are_rejected_with_a_reason() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("   ", "empty"),
        ("$amt >", "ends where a value was expected"),
        ("> 5", "expected a value"),
        ("$amt > > 5", "expected a value"),
        ("$amt = 5", "'=='"),
        ("$amt == 5 && $n == 1", "'and' and 'or'"),
        ("$amt == 5 || $n == 1", "'and' and 'or'"),
        ("$amt == 5 AND $n == 1", "unexpected 'AND'"),
        ("amt > 5", "variables start with '$'"),
        ("$ > 5", "variable name"),
        ("@ in [1]", "list name"),
        ("$amt > 5 $n > 1", "combine conditions"),
        ("($amt > 5", "')'"),
        ("$amt > 5)", "unbalanced"),
        ("$amt in [1, 2", "',' or ']'"),
        ("$amt in []", "empty"),
        ("$amt in [$n]", "must be literals"),
        ("$amt in 5", "'[' or an @list"),
        ("$amt in @unknown_list", "does not exist"),
        ("@blocked_emails == \"x\"", "only be used after 'in'"),
        ("$email == \"unterminated", "unterminated"),
        ("$amt > 1.2.3", "unexpected"),
        ("$amt > 12abc", "invalid number"),
        ("$amt > 1e999", "out of range"),
        ("$amt # 5", "unexpected character '#'"),
        ("$unknown_var > 5", "not defined"),
        ("$amt", "must be a condition"),
        ("$amt + 1", "must be a condition"),
        ("\"text\"", "must be a condition"),
        ("$email > 5", "cannot compare a string with a number"),
        ("$amt == \"5\"", "cannot compare a number with a string"),
        ("$amt > null", "cannot order null"),
        ("$flag > true", "cannot order conditions"),
        ("$email + 1 > 2", "needs numbers"),
        ("$amt > 1 and $amt", "conditions on both sides"),
        ("$amt or $n > 1", "conditions on both sides"),
        ("!$amt", "needs a condition"),
        ("-$email == 1", "needs a number"),
        ("$amt in [\"a\", \"b\"]", "holds a string"),
        ("($amt > 1) in [true]", "needs a value on its left"),
        ("$amt < $n < 10", "cannot be chained"),
        ("$amt == 1 == 1", "cannot be chained"),
        ("lowercase($amt) == \"x\"", "needs a string"),
        ("lowercase($email, $state) == \"x\"", "takes 1 argument"),
        ("regex_match($email, $email)", "quoted pattern"),
        ("regex_match(\"(unclosed\", $email)", "invalid regular expression"),
        ("regex_match(\"a\")", "takes 2 arguments"),
        ("len($email) > 1", "unknown function 'len'"),
        ("$amt > 1 and", "ends where a value was expected"),
        ("and $amt > 1", "expected a value but found 'and'"),
        ("$amt > 1 or or $n > 1", "expected a value but found 'or'"),
        ("$amt not > 1", "unexpected 'not'"),
        ("$amt in", "'[' or an @list"),
        ("(((", "ends where a value was expected"),
        ("TRUE", "keywords are lowercase"),
    ];
    for (src, want) in cases {
        match parse(src).and_then(|e| check(&e, &TestSchema).map(|_| e)) {
            Ok(e) => panic!("{src:?} was accepted as {e}"),
            Err(err) => {
                let msg = err.client_message();
                assert!(msg.starts_with("Invalid rule expression: "), "{msg}");
                assert!(msg.contains(want), "{src:?}: {msg:?} does not mention {want:?}");
            }
        }
    }
}

#[test]
fn error_positions_point_at_the_problem() {
    let err = parse("$amt > 5 and $n ==").unwrap_err();
    assert_eq!(err.pos, Some(19));
    let err = parse("$amt = 5").unwrap_err();
    assert_eq!(err.pos, Some(6));
}

#[test]
fn limits_hold_on_hostile_input() {
    let long = format!("$amt > {}", "1".repeat(MAX_EXPRESSION_LEN));
    assert!(parse(&long).unwrap_err().message.contains("longer than"));
    let deep = format!("{}$amt > 1{}", "(".repeat(200), ")".repeat(200));
    assert!(parse(&deep).unwrap_err().message.contains("nested"));
    let negs = format!("{}$amt > 1", "!".repeat(500));
    assert!(parse(&negs).is_err());
    // Regular expressions run in linear time (RE2 semantics): a classic catastrophic pattern
    // is harmless.
    let e = compile("regex_match(\"(a+)+b\", $email)").unwrap();
    let mut ev = event();
    ev.vars.insert("email", Value::Str("a".repeat(5000).into()));
    assert!(!evaluate(&e, &ev));
}
