//! Numeric functions. Following Cypher, the transcendental and rounding functions return
//! Float for Integer input too; `abs` and `sign` keep Integers.

use super::{bad_type, one, out_of_range, two};
use crate::error::Result;
use crate::value::Value;

fn num_arg(func: &str, v: &Value) -> Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i as f64)),
        Value::Float(f) => Ok(Some(*f)),
        other => Err(bad_type(func, "a number", other)),
    }
}

fn float_fn(func: &str, args: Vec<Value>, f: impl Fn(f64) -> f64) -> Result<Value> {
    Ok(num_arg(func, &one(args))?.map_or(Value::Null, |x| Value::Float(f(x))))
}

pub(super) fn abs(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| out_of_range(format!("abs({i}) does not fit in a 64-bit integer"))),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        other => Err(bad_type("abs", "a number", &other)),
    }
}

pub(super) fn sign(args: Vec<Value>) -> Result<Value> {
    match one(args) {
        Value::Null => Ok(Value::Null),
        Value::Int(i) => Ok(Value::Int(i.signum())),
        Value::Float(f) => Ok(Value::Int(if f > 0.0 {
            1
        } else if f < 0.0 {
            -1
        } else {
            0
        })),
        other => Err(bad_type("sign", "a number", &other)),
    }
}

pub(super) fn ceil(args: Vec<Value>) -> Result<Value> {
    float_fn("ceil", args, f64::ceil)
}
pub(super) fn floor(args: Vec<Value>) -> Result<Value> {
    float_fn("floor", args, f64::floor)
}
pub(super) fn sqrt(args: Vec<Value>) -> Result<Value> {
    float_fn("sqrt", args, f64::sqrt)
}
pub(super) fn exp(args: Vec<Value>) -> Result<Value> {
    float_fn("exp", args, f64::exp)
}
pub(super) fn log(args: Vec<Value>) -> Result<Value> {
    float_fn("log", args, f64::ln)
}
pub(super) fn log10(args: Vec<Value>) -> Result<Value> {
    float_fn("log10", args, f64::log10)
}
pub(super) fn sin(args: Vec<Value>) -> Result<Value> {
    float_fn("sin", args, f64::sin)
}
pub(super) fn cos(args: Vec<Value>) -> Result<Value> {
    float_fn("cos", args, f64::cos)
}
pub(super) fn tan(args: Vec<Value>) -> Result<Value> {
    float_fn("tan", args, f64::tan)
}
pub(super) fn cot(args: Vec<Value>) -> Result<Value> {
    float_fn("cot", args, |x| 1.0 / x.tan())
}
pub(super) fn asin(args: Vec<Value>) -> Result<Value> {
    float_fn("asin", args, f64::asin)
}
pub(super) fn acos(args: Vec<Value>) -> Result<Value> {
    float_fn("acos", args, f64::acos)
}
pub(super) fn atan(args: Vec<Value>) -> Result<Value> {
    float_fn("atan", args, f64::atan)
}
pub(super) fn degrees(args: Vec<Value>) -> Result<Value> {
    float_fn("degrees", args, f64::to_degrees)
}
pub(super) fn radians(args: Vec<Value>) -> Result<Value> {
    float_fn("radians", args, f64::to_radians)
}

pub(super) fn atan2(args: Vec<Value>) -> Result<Value> {
    let (y, x) = two(args);
    Ok(match (num_arg("atan2", &y)?, num_arg("atan2", &x)?) {
        (Some(y), Some(x)) => Value::Float(y.atan2(x)),
        _ => Value::Null,
    })
}

pub(super) fn pi(_: Vec<Value>) -> Result<Value> {
    Ok(Value::Float(std::f64::consts::PI))
}
pub(super) fn e(_: Vec<Value>) -> Result<Value> {
    Ok(Value::Float(std::f64::consts::E))
}

/// Uniform in `[0, 1)`, from the standard library's randomly keyed SipHash (no RNG crate
/// needed for this quality of randomness).
pub(super) fn rand(_: Vec<Value>) -> Result<Value> {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    // The top 53 bits make an exactly representable fraction below 1.
    Ok(Value::Float(
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64,
    ))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Up,
    Down,
    Ceiling,
    Floor,
    HalfUp,
    HalfDown,
    HalfEven,
}

fn parse_mode(v: &Value) -> Result<Mode> {
    let Value::String(s) = v else {
        return Err(bad_type("round", "a String rounding mode", v));
    };
    Ok(match s.to_ascii_uppercase().as_str() {
        "UP" => Mode::Up,
        "DOWN" => Mode::Down,
        "CEILING" => Mode::Ceiling,
        "FLOOR" => Mode::Floor,
        "HALF_UP" => Mode::HalfUp,
        "HALF_DOWN" => Mode::HalfDown,
        "HALF_EVEN" => Mode::HalfEven,
        _ => {
            return Err(out_of_range(format!(
                "round() mode '{s}' is unknown; use UP, DOWN, CEILING, FLOOR, HALF_UP, HALF_DOWN or HALF_EVEN"
            )))
        }
    })
}

/// Rounds `x` to `precision` decimal places in the given mode, working on the shortest
/// decimal form of `x` (what the user wrote), so `round(1.005, 2)` is `1.01`, not the `1.0`
/// that binary scaling would give.
fn round_decimal(x: f64, precision: i64, mode: Mode) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let negative = x < 0.0;
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    // Digits kept: those before the decimal point (exp + 1) plus `precision` after it.
    let keep = exp.saturating_add(1).saturating_add(precision);
    let Ok(keep) = usize::try_from(keep) else {
        // Everything is below the rounding position: the kept part is 0 and the dropped
        // part is less than half a unit.
        return match mode {
            Mode::Up => sign_of(negative) * 10f64.powi(-precision as i32),
            Mode::Ceiling if !negative => 10f64.powi(-precision as i32),
            Mode::Floor if negative => -(10f64.powi(-precision as i32)),
            _ => 0.0 * sign_of(negative),
        };
    };
    if keep >= digits.len() {
        return x;
    }
    let mut kept: u128 = 0;
    for d in &digits[..keep] {
        kept = kept * 10 + u128::from(*d);
    }
    let first_dropped = digits[keep];
    let rest_zero = digits[keep + 1..].iter().all(|d| *d == 0);
    let nonzero = first_dropped != 0 || !rest_zero;
    let above_half = first_dropped > 5 || (first_dropped == 5 && !rest_zero);
    let exactly_half = first_dropped == 5 && rest_zero;
    let away = match mode {
        Mode::Up => nonzero,
        Mode::Down => false,
        Mode::Ceiling => nonzero && !negative,
        Mode::Floor => nonzero && negative,
        Mode::HalfUp => above_half || exactly_half,
        Mode::HalfDown => above_half,
        Mode::HalfEven => above_half || (exactly_half && kept % 2 == 1),
    };
    if away {
        kept += 1;
    }
    let magnitude: f64 = format!("{kept}e{}", -precision).parse().unwrap_or(f64::NAN);
    sign_of(negative) * magnitude
}

fn sign_of(negative: bool) -> f64 {
    if negative {
        -1.0
    } else {
        1.0
    }
}

/// `round(x)` rounds half toward positive infinity (Cypher's classic behaviour);
/// `round(x, precision [, mode])` rounds to decimal places, HALF_UP by default.
pub(super) fn round(args: Vec<Value>) -> Result<Value> {
    let Some(x) = num_arg("round", args.first().unwrap_or(&Value::Null))? else {
        return Ok(Value::Null);
    };
    let Some(p) = args.get(1) else {
        let r = x.round();
        // `f64::round` goes away from zero on ties; Cypher goes toward +infinity.
        let tie_below = x < 0.0 && r - x == -0.5;
        return Ok(Value::Float(if tie_below { r + 1.0 } else { r }));
    };
    let precision = match p {
        Value::Null => return Ok(Value::Null),
        Value::Int(p) if (-400..=400).contains(p) => *p,
        Value::Int(p) => {
            return Err(out_of_range(format!(
                "round() precision {p} is out of range (-400 to 400)"
            )))
        }
        other => return Err(bad_type("round", "an Integer precision", other)),
    };
    let mode = match args.get(2) {
        Some(Value::Null) => return Ok(Value::Null),
        Some(m) => parse_mode(m)?,
        None => Mode::HalfUp,
    };
    Ok(Value::Float(round_decimal(x, precision, mode)))
}

#[cfg(test)]
mod tests {
    use super::super::call_pure;
    use super::*;
    use crate::error::ErrorKind;

    fn c(name: &str, args: Vec<Value>) -> Result<Value, ErrorKind> {
        call_pure(name, args).map_err(|e| e.kind())
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }
    fn i(x: i64) -> Value {
        Value::Int(x)
    }

    #[test]
    fn abs_sign() {
        assert_eq!(c("abs", vec![i(-3)]), Ok(i(3)));
        assert_eq!(c("abs", vec![f(-3.5)]), Ok(f(3.5)));
        assert_eq!(c("abs", vec![i(i64::MIN)]), Err(ErrorKind::Error));
        assert_eq!(c("abs", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(c("abs", vec!["1".into()]), Err(ErrorKind::Type));
        assert_eq!(c("sign", vec![i(-3)]), Ok(i(-1)));
        assert_eq!(c("sign", vec![f(0.5)]), Ok(i(1)));
        assert_eq!(c("sign", vec![f(0.0)]), Ok(i(0)));
    }

    #[test]
    fn float_functions() {
        assert_eq!(c("ceil", vec![f(1.2)]), Ok(f(2.0)));
        assert_eq!(c("ceil", vec![i(1)]), Ok(f(1.0)));
        assert_eq!(c("floor", vec![f(-1.2)]), Ok(f(-2.0)));
        assert_eq!(c("sqrt", vec![i(16)]), Ok(f(4.0)));
        assert_eq!(c("exp", vec![i(0)]), Ok(f(1.0)));
        assert_eq!(c("log", vec![f(std::f64::consts::E)]), Ok(f(1.0)));
        assert_eq!(c("log10", vec![i(1000)]), Ok(f(3.0)));
        assert_eq!(c("sin", vec![i(0)]), Ok(f(0.0)));
        assert_eq!(c("cos", vec![i(0)]), Ok(f(1.0)));
        assert_eq!(c("tan", vec![i(0)]), Ok(f(0.0)));
        assert_eq!(c("asin", vec![i(0)]), Ok(f(0.0)));
        assert_eq!(c("acos", vec![i(1)]), Ok(f(0.0)));
        assert_eq!(c("atan", vec![i(0)]), Ok(f(0.0)));
        assert_eq!(c("atan2", vec![i(0), i(1)]), Ok(f(0.0)));
        assert_eq!(c("atan2", vec![Value::Null, i(1)]), Ok(Value::Null));
        assert_eq!(c("degrees", vec![f(std::f64::consts::PI)]), Ok(f(180.0)));
        assert_eq!(c("pi", vec![]), Ok(f(std::f64::consts::PI)));
        assert_eq!(c("e", vec![]), Ok(f(std::f64::consts::E)));
        assert_eq!(c("sqrt", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(c("sqrt", vec![Value::Bool(true)]), Err(ErrorKind::Type));
        assert!(matches!(c("sqrt", vec![i(-1)]), Ok(Value::Float(x)) if x.is_nan()));
    }

    #[test]
    fn rand_is_in_unit_interval_and_varies() {
        let draws: Vec<f64> = (0..100)
            .map(|_| match c("rand", vec![]) {
                Ok(Value::Float(x)) => x,
                other => panic!("rand() gave {other:?}"),
            })
            .collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn rounding() {
        assert_eq!(c("round", vec![f(3.5)]), Ok(f(4.0)));
        assert_eq!(c("round", vec![f(-1.5)]), Ok(f(-1.0)));
        assert_eq!(c("round", vec![f(-1.6)]), Ok(f(-2.0)));
        assert_eq!(c("round", vec![f(0.49999999999999994)]), Ok(f(0.0)));
        assert_eq!(c("round", vec![i(3)]), Ok(f(3.0)));
        assert_eq!(c("round", vec![f(1.005), i(2)]), Ok(f(1.01)));
        assert_eq!(c("round", vec![f(-1.55), i(1)]), Ok(f(-1.6)));
        assert_eq!(c("round", vec![f(1234.5), i(-2)]), Ok(f(1200.0)));
        assert_eq!(
            c("round", vec![f(2.5), i(0), "HALF_EVEN".into()]),
            Ok(f(2.0))
        );
        assert_eq!(
            c("round", vec![f(2.51), i(0), "HALF_DOWN".into()]),
            Ok(f(3.0))
        );
        assert_eq!(
            c("round", vec![f(2.5), i(0), "HALF_DOWN".into()]),
            Ok(f(2.0))
        );
        assert_eq!(
            c("round", vec![f(-2.1), i(0), "CEILING".into()]),
            Ok(f(-2.0))
        );
        assert_eq!(c("round", vec![f(-2.1), i(0), "FLOOR".into()]), Ok(f(-3.0)));
        assert_eq!(c("round", vec![f(2.1), i(0), "UP".into()]), Ok(f(3.0)));
        assert_eq!(c("round", vec![f(0.001), i(1), "UP".into()]), Ok(f(0.1)));
        assert_eq!(c("round", vec![f(0.001), i(1)]), Ok(f(0.0)));
        assert_eq!(
            c("round", vec![f(1.0), i(0), "SIDEWAYS".into()]),
            Err(ErrorKind::Error)
        );
        assert_eq!(c("round", vec![Value::Null]), Ok(Value::Null));
    }
}
