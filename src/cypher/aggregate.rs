//! Aggregate functions: accumulators fed one value per row by the executor.
//!
//! Every accumulator ignores nulls (`count(x)` counts non-null values); DISTINCT is a filter
//! in front of any accumulator that drops values equivalent ([`GroupKey`]) to one already
//! seen. `count(*)` is the executor's: it counts rows, not values.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::ast::{Expr, ExprKind, MapProjectionItem};
use super::semantics::{order, GroupKey};
use crate::error::{Error, ErrorKind, Result};
use crate::temporal::duration::Num;
use crate::temporal::Duration;
use crate::value::Value;

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "collect",
    "stdev",
    "stdevp",
    "percentilecont",
    "percentiledisc",
];

/// Whether `name` is an aggregate function (case-insensitive).
pub fn is_aggregate(name: &str) -> bool {
    AGGREGATES.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Whether `expr` contains an aggregate call or `count(*)` outside nested scopes.
///
/// List/pattern comprehensions, quantifiers, reduce and subqueries are not searched: an
/// aggregate there is not an aggregation of the enclosing projection.
pub fn contains_aggregate(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::CountStar => true,
        ExprKind::FunctionCall { name, args, .. } => {
            is_aggregate(name) || args.iter().any(contains_aggregate)
        }
        ExprKind::Literal(_) | ExprKind::Parameter(_) | ExprKind::Variable(_) => false,
        ExprKind::List(items) => items.iter().any(contains_aggregate),
        ExprKind::Map(entries) => entries.iter().any(|(_, e)| contains_aggregate(e)),
        ExprKind::Property(e, _) | ExprKind::HasLabels(e, _) | ExprKind::Unary(_, e) => {
            contains_aggregate(e)
        }
        ExprKind::IsNull { expr, .. } => contains_aggregate(expr),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            contains_aggregate(a) || contains_aggregate(b)
        }
        ExprKind::Slice(e, from, to) => {
            contains_aggregate(e)
                || from.as_deref().is_some_and(contains_aggregate)
                || to.as_deref().is_some_and(contains_aggregate)
        }
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => {
            operand.as_deref().is_some_and(contains_aggregate)
                || whens
                    .iter()
                    .any(|(w, t)| contains_aggregate(w) || contains_aggregate(t))
                || else_.as_deref().is_some_and(contains_aggregate)
        }
        ExprKind::MapProjection { items, .. } => items.iter().any(|item| match item {
            MapProjectionItem::Literal(_, e) => contains_aggregate(e),
            _ => false,
        }),
        ExprKind::ListComprehension { .. }
        | ExprKind::PatternComprehension { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::Reduce { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_) => false,
    }
}

/// The running state of one aggregate over one group.
pub trait Accumulator {
    fn update(&mut self, v: Value) -> Result<()>;
    fn finish(&mut self) -> Result<Value>;
}

/// A new accumulator for aggregate `name`; `extra_args` are the evaluated arguments after the
/// first (the percentile of percentileCont/percentileDisc).
pub fn new_accumulator(
    name: &str,
    distinct: bool,
    extra_args: Vec<Value>,
) -> Result<Box<dyn Accumulator>> {
    let lname = name.to_ascii_lowercase();
    let expected_extra = usize::from(lname.starts_with("percentile"));
    if extra_args.len() != expected_extra {
        return Err(Error::semantic(format!(
            "{name}() takes {} argument(s), got {}",
            expected_extra + 1,
            extra_args.len() + 1
        )));
    }
    let inner: Box<dyn Accumulator> = match lname.as_str() {
        "count" => Box::new(Count(0)),
        "sum" => Box::new(Sum::default()),
        "avg" => Box::new(Avg::default()),
        "min" => Box::new(Extreme {
            best: None,
            keep: Ordering::Less,
        }),
        "max" => Box::new(Extreme {
            best: None,
            keep: Ordering::Greater,
        }),
        "collect" => Box::new(Collect(Vec::new())),
        "stdev" => Box::new(StdDev::new(true)),
        "stdevp" => Box::new(StdDev::new(false)),
        "percentilecont" | "percentiledisc" => Box::new(Percentile {
            p: percentile_arg(name, extra_args.first().unwrap_or(&Value::Null))?,
            continuous: lname == "percentilecont",
            values: Vec::new(),
        }),
        _ => {
            return Err(Error::semantic(format!(
                "Unknown aggregate function '{name}'"
            )))
        }
    };
    Ok(if distinct {
        Box::new(Distinct {
            seen: HashSet::new(),
            inner,
        })
    } else {
        inner
    })
}

fn percentile_arg(name: &str, v: &Value) -> Result<f64> {
    let p = match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        other => {
            return Err(Error::type_error(format!(
                "{name}() expects a number percentile, got {}",
                other.type_name()
            )))
        }
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::new(
            ErrorKind::Error,
            format!("{name}() percentile must be between 0.0 and 1.0, got {p}"),
        ));
    }
    Ok(p)
}

fn not_a_number(func: &str, v: &Value) -> Error {
    Error::type_error(format!(
        "{func}() can only aggregate numbers, got {}",
        v.type_name()
    ))
}

struct Distinct {
    seen: HashSet<GroupKey>,
    inner: Box<dyn Accumulator>,
}

impl Accumulator for Distinct {
    fn update(&mut self, v: Value) -> Result<()> {
        if v.is_null() || !self.seen.insert(GroupKey::new(&v)) {
            return Ok(());
        }
        self.inner.update(v)
    }
    fn finish(&mut self) -> Result<Value> {
        self.inner.finish()
    }
}

struct Count(i64);

impl Accumulator for Count {
    fn update(&mut self, v: Value) -> Result<()> {
        if !v.is_null() {
            self.0 += 1;
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        Ok(Value::Int(self.0))
    }
}

/// Integers stay an exact Integer sum (overflow is an error) until a Float arrives; from
/// then on the sum is a Float. Durations sum to a Duration; mixing them with numbers is a
/// type error.
#[derive(Default)]
struct Sum {
    int: i64,
    float: Option<f64>,
    dur: Option<Duration>,
    numbers: bool,
}

fn mixed_durations(func: &str) -> Error {
    Error::type_error(format!(
        "{func}() cannot mix durations and numbers; aggregate them separately"
    ))
}

/// Adds a duration to a running duration total.
fn add_duration(total: &mut Option<Duration>, d: Duration) -> Result<()> {
    *total = Some(match total {
        Some(t) => t.checked_add(d)?,
        None => d,
    });
    Ok(())
}

impl Accumulator for Sum {
    fn update(&mut self, v: Value) -> Result<()> {
        match (&v, self.dur.is_some(), self.numbers) {
            (Value::Duration(_), _, true) => return Err(mixed_durations("sum")),
            (Value::Duration(d), _, false) => return add_duration(&mut self.dur, *d),
            (Value::Int(_) | Value::Float(_), true, _) => return Err(mixed_durations("sum")),
            (Value::Int(_) | Value::Float(_), false, _) => self.numbers = true,
            _ => {}
        }
        match (v, &mut self.float) {
            (Value::Null, _) => {}
            (Value::Int(i), None) => {
                self.int = self.int.checked_add(i).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Error,
                        "integer overflow in sum(): the total does not fit in a 64-bit integer; sum toFloat(x) instead",
                    )
                })?;
            }
            (Value::Int(i), Some(f)) => *f += i as f64,
            (Value::Float(x), None) => self.float = Some(self.int as f64 + x),
            (Value::Float(x), Some(f)) => *f += x,
            (other, _) => return Err(not_a_number("sum", &other)),
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        if let Some(d) = self.dur {
            return Ok(Value::Duration(d));
        }
        Ok(self.float.map_or(Value::Int(self.int), Value::Float))
    }
}

/// Integers are summed exactly in i128 so that averaging many large integers neither
/// overflows nor loses precision before the final division. Durations average to a Duration.
#[derive(Default)]
struct Avg {
    int: i128,
    float: f64,
    dur: Option<Duration>,
    n: u64,
}

impl Accumulator for Avg {
    fn update(&mut self, v: Value) -> Result<()> {
        let numbers = self.n > 0 && self.dur.is_none();
        match v {
            Value::Null => return Ok(()),
            Value::Duration(_) if numbers => return Err(mixed_durations("avg")),
            Value::Duration(d) => add_duration(&mut self.dur, d)?,
            Value::Int(_) | Value::Float(_) if self.dur.is_some() => {
                return Err(mixed_durations("avg"))
            }
            Value::Int(i) => self.int += i128::from(i),
            Value::Float(f) => self.float += f,
            other => return Err(not_a_number("avg", &other)),
        }
        self.n += 1;
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        if self.n == 0 {
            return Ok(Value::Null);
        }
        if let Some(d) = self.dur {
            let n = i64::try_from(self.n).unwrap_or(i64::MAX);
            return d.div_num(Num::Int(n)).map(Value::Duration);
        }
        Ok(Value::Float((self.int as f64 + self.float) / self.n as f64))
    }
}

/// min / max by the global sort order, so mixed types compare as openCypher orders them
/// (numbers above strings above lists, ...).
struct Extreme {
    best: Option<Value>,
    /// `Less` for min, `Greater` for max: replace the best when the new value orders so.
    keep: Ordering,
}

impl Accumulator for Extreme {
    fn update(&mut self, v: Value) -> Result<()> {
        if v.is_null() {
            return Ok(());
        }
        let better = match &self.best {
            None => true,
            Some(b) => order(&v, b) == self.keep,
        };
        if better {
            self.best = Some(v);
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        Ok(self.best.take().unwrap_or(Value::Null))
    }
}

struct Collect(Vec<Value>);

impl Accumulator for Collect {
    fn update(&mut self, v: Value) -> Result<()> {
        if !v.is_null() {
            self.0.push(v);
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        Ok(Value::List(std::mem::take(&mut self.0)))
    }
}

/// Standard deviation by Welford's online algorithm (numerically stable in one pass).
struct StdDev {
    sample: bool,
    n: u64,
    mean: f64,
    m2: f64,
}

impl StdDev {
    fn new(sample: bool) -> StdDev {
        StdDev {
            sample,
            n: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }
}

impl Accumulator for StdDev {
    fn update(&mut self, v: Value) -> Result<()> {
        let x = match v {
            Value::Null => return Ok(()),
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            other => {
                let name = if self.sample { "stDev" } else { "stDevP" };
                return Err(not_a_number(name, &other));
            }
        };
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        Ok(())
    }
    fn finish(&mut self) -> Result<Value> {
        let denom = if self.sample {
            self.n.saturating_sub(1)
        } else {
            self.n
        };
        if denom == 0 {
            return Ok(Value::Float(0.0));
        }
        Ok(Value::Float((self.m2 / denom as f64).sqrt()))
    }
}

struct Percentile {
    p: f64,
    continuous: bool,
    values: Vec<Value>,
}

impl Accumulator for Percentile {
    fn update(&mut self, v: Value) -> Result<()> {
        match v {
            Value::Null => Ok(()),
            Value::Int(_) | Value::Float(_) => {
                self.values.push(v);
                Ok(())
            }
            other => Err(not_a_number(
                if self.continuous {
                    "percentileCont"
                } else {
                    "percentileDisc"
                },
                &other,
            )),
        }
    }
    fn finish(&mut self) -> Result<Value> {
        if self.values.is_empty() {
            return Ok(Value::Null);
        }
        self.values.sort_by(order);
        let n = self.values.len();
        let as_f = |v: &Value| match v {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            _ => f64::NAN,
        };
        if self.continuous {
            let pos = self.p * (n - 1) as f64;
            // `pos` is within [0, n-1], so both indexes are in bounds.
            let lo = (pos.floor() as usize).min(n - 1);
            let hi = (pos.ceil() as usize).min(n - 1);
            let (a, b) = (as_f(&self.values[lo]), as_f(&self.values[hi]));
            Ok(Value::Float(a + (b - a) * (pos - lo as f64)))
        } else {
            // The smallest value with at least a fraction `p` of values at or below it.
            let idx = ((self.p * n as f64).ceil() as usize)
                .saturating_sub(1)
                .min(n - 1);
            Ok(self.values[idx].clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cypher::ast::{Literal, Span};

    fn run(name: &str, distinct: bool, extra: Vec<Value>, input: Vec<Value>) -> Result<Value> {
        let mut acc = new_accumulator(name, distinct, extra)?;
        for v in input {
            acc.update(v)?;
        }
        acc.finish()
    }
    fn agg(name: &str, input: Vec<Value>) -> Result<Value> {
        run(name, false, vec![], input)
    }
    fn i(x: i64) -> Value {
        Value::Int(x)
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }
    const N: Value = Value::Null;

    #[test]
    fn names() {
        for n in [
            "count",
            "COUNT",
            "stDev",
            "stdevp",
            "percentileCont",
            "collect",
        ] {
            assert!(is_aggregate(n), "{n}");
        }
        assert!(!is_aggregate("size"));
        assert_eq!(
            new_accumulator("nope", false, vec![])
                .err()
                .map(|e| e.kind()),
            Some(ErrorKind::Semantic)
        );
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(agg("count", vec![]), Ok(i(0)));
        assert_eq!(agg("sum", vec![]), Ok(i(0)));
        assert_eq!(agg("avg", vec![]), Ok(N));
        assert_eq!(agg("min", vec![]), Ok(N));
        assert_eq!(agg("max", vec![N, N]), Ok(N));
        assert_eq!(agg("collect", vec![N]), Ok(Value::List(vec![])));
        assert_eq!(agg("stDev", vec![]), Ok(f(0.0)));
        assert_eq!(run("percentileDisc", false, vec![f(0.5)], vec![]), Ok(N));
    }

    #[test]
    fn nulls_are_ignored() {
        assert_eq!(agg("count", vec![i(1), N, i(1)]), Ok(i(2)));
        assert_eq!(agg("sum", vec![i(1), N, i(2)]), Ok(i(3)));
        assert_eq!(agg("avg", vec![i(1), N, i(2)]), Ok(f(1.5)));
        assert_eq!(
            agg("collect", vec![i(1), N, i(2)]),
            Ok(Value::List(vec![i(1), i(2)]))
        );
    }

    #[test]
    fn sums() {
        assert_eq!(agg("sum", vec![i(1), f(0.5)]), Ok(f(1.5)));
        assert_eq!(agg("sum", vec![f(0.5), i(1)]), Ok(f(1.5)));
        assert_eq!(
            agg("sum", vec![i(i64::MAX), i(1)]).map_err(|e| e.kind()),
            Err(ErrorKind::Error)
        );
        assert_eq!(
            agg("sum", vec![i(1), "a".into()]).map_err(|e| e.kind()),
            Err(ErrorKind::Type)
        );
        // Averages of huge integers do not overflow.
        assert_eq!(
            agg("avg", vec![i(i64::MAX), i(i64::MAX)]),
            Ok(f(i64::MAX as f64))
        );
    }

    #[test]
    fn durations_sum_and_average_to_durations() {
        let d = |s: &str| Value::Duration(crate::temporal::parse::duration(s).unwrap());
        assert_eq!(agg("sum", vec![d("P1D"), N, d("PT1H")]), Ok(d("P1DT1H")));
        assert_eq!(agg("avg", vec![d("PT1H"), d("PT2H"), N]), Ok(d("PT1H30M")));
        for func in ["sum", "avg"] {
            assert_eq!(
                agg(func, vec![d("P1D"), i(1)]).map_err(|e| e.kind()),
                Err(ErrorKind::Type)
            );
            assert_eq!(
                agg(func, vec![i(1), d("P1D")]).map_err(|e| e.kind()),
                Err(ErrorKind::Type)
            );
        }
        let huge = d("P768614336404564650Y");
        assert_eq!(
            agg("sum", vec![huge.clone(), huge]).map_err(|e| e.kind()),
            Err(ErrorKind::Error)
        );
    }

    #[test]
    fn min_max_across_types() {
        assert_eq!(agg("min", vec![i(3), f(1.5), i(2)]), Ok(f(1.5)));
        assert_eq!(agg("max", vec![i(3), f(1.5), N]), Ok(i(3)));
        // Numbers order above strings, strings above lists.
        assert_eq!(
            agg("max", vec!["z".into(), i(1), Value::List(vec![])]),
            Ok(i(1))
        );
        assert_eq!(
            agg("min", vec!["z".into(), i(1), Value::List(vec![])]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(agg("min", vec!["b".into(), "a".into()]), Ok("a".into()));
    }

    #[test]
    fn distinct() {
        let input = vec![i(1), f(1.0), i(2), N, i(2), f(f64::NAN), f(f64::NAN)];
        assert_eq!(run("count", true, vec![], input.clone()), Ok(i(3)));
        assert_eq!(run("count", false, vec![], input), Ok(i(6)));
        assert_eq!(
            run(
                "collect",
                true,
                vec![],
                vec!["a".into(), "a".into(), "b".into()]
            ),
            Ok(Value::List(vec!["a".into(), "b".into()]))
        );
        assert_eq!(run("sum", true, vec![], vec![i(2), i(2), i(3)]), Ok(i(5)));
    }

    #[test]
    fn standard_deviation() {
        let data = vec![i(2), i(4), i(4), i(4), i(5), i(5), i(7), i(9)];
        assert_eq!(agg("stDevP", data.clone()), Ok(f(2.0)));
        let Ok(Value::Float(s)) = agg("stDev", data) else {
            panic!("stDev must return a Float");
        };
        assert!((s - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(agg("stDev", vec![i(5)]), Ok(f(0.0)));
    }

    #[test]
    fn percentiles() {
        let data = || vec![f(10.0), f(30.0), f(20.0)];
        for (p, want) in [(0.0, 10.0), (0.5, 20.0), (1.0, 30.0)] {
            assert_eq!(
                run("percentileDisc", false, vec![f(p)], data()),
                Ok(f(want))
            );
            assert_eq!(
                run("percentileCont", false, vec![f(p)], data()),
                Ok(f(want))
            );
        }
        assert_eq!(
            run("percentileCont", false, vec![f(0.25)], data()),
            Ok(f(15.0))
        );
        assert_eq!(
            run(
                "percentileDisc",
                false,
                vec![f(0.4)],
                vec![i(1), i(2), i(3)]
            ),
            Ok(i(2))
        );
        for bad in [i(1000), i(-1), f(1.1)] {
            assert_eq!(
                new_accumulator("percentileCont", false, vec![bad.clone()])
                    .err()
                    .map(|e| e.kind()),
                Some(ErrorKind::Error)
            );
            assert_eq!(
                new_accumulator("percentileDisc", false, vec![bad])
                    .err()
                    .map(|e| e.kind()),
                Some(ErrorKind::Error)
            );
        }
        assert!(new_accumulator("percentileDisc", false, vec![]).is_err());
    }

    fn e(kind: ExprKind) -> Expr {
        Expr::new(kind, Span::default())
    }
    fn call(name: &str, args: Vec<Expr>) -> Expr {
        e(ExprKind::FunctionCall {
            name: name.into(),
            distinct: false,
            args,
        })
    }

    #[test]
    fn finds_aggregates() {
        let x = || e(ExprKind::Variable("x".into()));
        assert!(contains_aggregate(&e(ExprKind::CountStar)));
        assert!(contains_aggregate(&call("Count", vec![x()])));
        assert!(!contains_aggregate(&call("size", vec![x()])));
        let nested = e(ExprKind::Binary(
            crate::cypher::ast::BinaryOp::Add,
            Box::new(e(ExprKind::Literal(Literal::Int(1)))),
            Box::new(call("toString", vec![call("max", vec![x()])])),
        ));
        assert!(contains_aggregate(&nested));
        let comprehension = e(ExprKind::ListComprehension {
            variable: crate::cypher::ast::Ident {
                name: "y".into(),
                span: Span::default(),
                cached: Default::default(),
            },
            list: Box::new(x()),
            filter: None,
            map: Some(Box::new(call("collect", vec![x()]))),
        });
        assert!(!contains_aggregate(&comprehension));
    }
}
