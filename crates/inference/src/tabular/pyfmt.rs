//! Python's `repr(float)`, because SageMaker's XGBoost containers are Python programs: their
//! replies (`",".join(map(str, preds.tolist()))`) and error messages print numbers the way
//! CPython does, and clients compare those bytes.
//!
//! CPython prints the shortest digits that round-trip (as Rust's formatter does) but switches
//! to exponent notation below 1e-4 and from 1e16 (`1e-05`, `1e+16`) and always shows a
//! fractional part in fixed notation (`4.0`).

/// `repr(v)` in Python 3 (`str(v)` is the same).
pub fn float_repr(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // The shortest round-trip digit count, then the correctly rounded (ties-to-even) digits of
    // that length, as CPython picks among equally short candidates: "-4.566554546356201e0".
    let shortest = format!("{v:e}");
    let n = shortest.split_once('e').map_or(0, |(m, _)| m.chars().filter(|c| c.is_ascii_digit()).count());
    let sci = format!("{v:.*e}", n.saturating_sub(1));
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if !(-4..16).contains(&exp) {
        let mut m = digits[..1].to_string();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize));
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}.0", "0".repeat(int_len - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
    }
}

/// `repr` of an `f32` widened to a Python float, as `numpy.float32(...).tolist()` gives.
pub fn f32_repr(v: f32) -> String {
    float_repr(v as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_cpython() {
        let cases: &[(f64, &str)] = &[
            (4.566554546356201, "4.566554546356201"),
            (4.0, "4.0"),
            (-4.0, "-4.0"),
            (0.5, "0.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789.0, "123456789.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.25e17, "1.25e+17"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
            (-0.0, "-0.0"),
            // Two 17-digit candidates round-trip; CPython picks the correctly rounded one.
            (162.678009033203125, "162.67800903320312"),
        ];
        for (v, want) in cases {
            assert_eq!(float_repr(*v), *want, "{v}");
        }
        // numpy.float32(0.1).tolist() == 0.10000000149011612
        assert_eq!(f32_repr(0.1), "0.10000000149011612");
    }
}
