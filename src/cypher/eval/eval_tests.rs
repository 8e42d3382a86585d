//! Evaluator tests on hand-built ASTs against a real (in-memory) transaction.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::cypher::ast::{Ident, PatternElement, SingleQuery, Span};
use crate::error::ErrorKind;
use crate::storage::Graph;
use crate::txn::{Isolation, TxnKind, TxnManager};

// ---- AST builders --------------------------------------------------------------------------

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}
fn id(name: &str) -> Ident {
    Ident {
        name: name.into(),
        span: Span::default(),
        cached: Default::default(),
    }
}
fn int(i: i64) -> Expr {
    e(ExprKind::Literal(Literal::Int(i)))
}
fn flt(f: f64) -> Expr {
    e(ExprKind::Literal(Literal::Float(f)))
}
fn st(s: &str) -> Expr {
    e(ExprKind::Literal(Literal::String(s.into())))
}
fn boolean(b: bool) -> Expr {
    e(ExprKind::Literal(Literal::Bool(b)))
}
fn null() -> Expr {
    e(ExprKind::Literal(Literal::Null))
}
fn var(n: &str) -> Expr {
    e(ExprKind::Variable(n.into()))
}
fn list(items: Vec<Expr>) -> Expr {
    e(ExprKind::List(items))
}
fn bin(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    e(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}
fn prop(target: Expr, key: &str) -> Expr {
    e(ExprKind::Property(Box::new(target), id(key)))
}
fn call(name: &str, args: Vec<Expr>) -> Expr {
    e(ExprKind::FunctionCall {
        name: name.into(),
        distinct: false,
        args,
    })
}

// ---- context -------------------------------------------------------------------------------

struct Vars(HashMap<String, Value>);
impl Bindings for Vars {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

/// Answers every pattern with `rows` and every subquery with `count`.
struct FakeSubqueries {
    rows: Vec<Vec<(String, Value)>>,
    count: usize,
}
impl SubqueryRunner for FakeSubqueries {
    fn match_pattern(
        &self,
        _: &PatternElement,
        _: Option<&str>,
        _: &dyn Bindings,
        _: &EvalContext,
    ) -> Result<Vec<Vec<(String, Value)>>> {
        Ok(self.rows.clone())
    }
    fn run_subquery(&self, _: &SingleQuery, _: &dyn Bindings, _: &EvalContext) -> Result<usize> {
        Ok(self.count)
    }
}

struct Fixture {
    tx: Transaction,
    params: ParamMap,
    control: ExecControl,
    subs: FakeSubqueries,
    vars: Vars,
}

impl Fixture {
    /// A graph with `(a:Person:Admin {name: 'Ann', age: 30})-[:KNOWS {since: 2001}]->(b)`,
    /// bound as `a`, `b`, `r`.
    fn new() -> Fixture {
        let m = Arc::new(TxnManager::new(Arc::new(Graph::new()), None, 0, false));
        let mut tx = m.begin(TxnKind::ReadWrite, Isolation::Serializable);
        let person = tx.intern_label("Person");
        let admin = tx.intern_label("Admin");
        let name = tx.intern_key("name");
        let age = tx.intern_key("age");
        let since = tx.intern_key("since");
        let knows = tx.intern_rel_type("KNOWS");
        let a = tx
            .create_node(
                &[person, admin],
                vec![(name, Value::from("Ann")), (age, Value::Int(30))],
            )
            .expect("create a");
        let b = tx.create_node(&[], vec![]).expect("create b");
        let r = tx
            .create_rel(a, b, knows, vec![(since, Value::Int(2001))])
            .expect("create r");
        let mut vars = HashMap::new();
        vars.insert("a".to_string(), Value::Node(a));
        vars.insert("b".to_string(), Value::Node(b));
        vars.insert("r".to_string(), Value::Relationship(r));
        vars.insert("n".to_string(), Value::Null);
        Fixture {
            tx,
            params: [("p".to_string(), Value::Int(5))].into_iter().collect(),
            control: ExecControl::default(),
            subs: FakeSubqueries {
                rows: vec![],
                count: 0,
            },
            vars: Vars(vars),
        }
    }

    fn eval(&self, expr: &Expr) -> Result<Value> {
        let ctx = EvalContext {
            tx: &self.tx,
            params: &self.params,
            control: &self.control,
            subqueries: &self.subs,
        };
        eval(expr, &self.vars, &ctx)
    }

    fn ok(&self, expr: Expr) -> Value {
        match self.eval(&expr) {
            Ok(v) => v,
            Err(err) => panic!("{expr:?} failed: {err}"),
        }
    }

    fn err(&self, expr: Expr) -> Error {
        match self.eval(&expr) {
            Ok(v) => panic!("{expr:?} should fail, gave {v:?}"),
            Err(err) => err,
        }
    }
}

fn ints(v: &[i64]) -> Value {
    Value::List(v.iter().map(|i| Value::Int(*i)).collect())
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn literals_parameters_and_variables() {
    let f = Fixture::new();
    assert_eq!(f.ok(int(1)), Value::Int(1));
    assert_eq!(f.ok(e(ExprKind::Parameter("p".into()))), Value::Int(5));
    let missing = f.err(e(ExprKind::Parameter("q".into())));
    assert_eq!(missing.kind(), ErrorKind::Semantic);
    assert!(missing.message().contains("Expected parameter: $q"));
    let unknown = f.err(var("zz"));
    assert_eq!(unknown.kind(), ErrorKind::Semantic);
    assert!(unknown.message().contains("zz"));
    let m = f.ok(e(ExprKind::Map(vec![(id("k"), int(1)), (id("j"), null())])));
    assert_eq!(
        m,
        Value::Map(
            [
                ("j".to_string(), Value::Null),
                ("k".to_string(), Value::Int(1))
            ]
            .into_iter()
            .collect()
        )
    );
}

#[test]
fn properties_labels_and_types_through_the_transaction() {
    let f = Fixture::new();
    assert_eq!(f.ok(prop(var("a"), "name")), Value::from("Ann"));
    assert_eq!(f.ok(prop(var("a"), "missing")), Value::Null);
    assert_eq!(f.ok(prop(var("b"), "name")), Value::Null);
    assert_eq!(f.ok(prop(var("r"), "since")), Value::Int(2001));
    assert_eq!(f.ok(prop(var("n"), "name")), Value::Null);
    assert_eq!(f.err(prop(int(1), "x")).kind(), ErrorKind::Type);
    let map = e(ExprKind::Map(vec![(id("k"), int(7))]));
    assert_eq!(f.ok(prop(map.clone(), "k")), Value::Int(7));
    assert_eq!(f.ok(prop(map, "nope")), Value::Null);
    // Dynamic access n['key'].
    let dynamic = e(ExprKind::Index(Box::new(var("a")), Box::new(st("age"))));
    assert_eq!(f.ok(dynamic), Value::Int(30));

    let has = |v: &str, labels: &[&str]| {
        e(ExprKind::HasLabels(
            Box::new(var(v)),
            labels.iter().map(|l| id(l)).collect(),
        ))
    };
    assert_eq!(f.ok(has("a", &["Person"])), Value::Bool(true));
    assert_eq!(f.ok(has("a", &["Person", "Admin"])), Value::Bool(true));
    assert_eq!(f.ok(has("a", &["Person", "Nope"])), Value::Bool(false));
    assert_eq!(f.ok(has("b", &["Person"])), Value::Bool(false));
    assert_eq!(f.ok(has("n", &["Person"])), Value::Null);

    let labels = f.ok(call("labels", vec![var("a")]));
    assert_eq!(
        labels,
        Value::List(vec![Value::from("Person"), Value::from("Admin")])
    );
    assert_eq!(f.ok(call("type", vec![var("r")])), Value::from("KNOWS"));
    assert_eq!(f.ok(call("type", vec![var("n")])), Value::Null);
    assert_eq!(f.err(call("type", vec![var("a")])).kind(), ErrorKind::Type);
    assert_eq!(f.err(call("labels", vec![int(1)])).kind(), ErrorKind::Type);
    let keys = f.ok(call("keys", vec![var("a")]));
    let Value::List(mut keys) = keys else {
        panic!("keys() must give a list");
    };
    keys.sort_by(crate::cypher::semantics::order);
    assert_eq!(keys, vec![Value::from("age"), Value::from("name")]);
    let props = f.ok(call("properties", vec![var("r")]));
    assert_eq!(
        props,
        Value::Map(
            [("since".to_string(), Value::Int(2001))]
                .into_iter()
                .collect()
        )
    );
    assert_eq!(
        f.err(call("properties", vec![int(1)])).kind(),
        ErrorKind::Type
    );
    assert_eq!(f.ok(call("startNode", vec![var("r")])), f.vars.0["a"]);
    assert_eq!(f.ok(call("endNode", vec![var("r")])), f.vars.0["b"]);
}

#[test]
fn boolean_operators_short_circuit_and_check_types() {
    let f = Fixture::new();
    // The right side would be a type error, but AND with false on the left never looks.
    assert_eq!(
        f.ok(bin(BinaryOp::And, boolean(false), int(1))),
        Value::Bool(false)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::Or, boolean(true), int(1))),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::And, null(), boolean(false))),
        Value::Bool(false)
    );
    assert_eq!(f.ok(bin(BinaryOp::Or, null(), boolean(false))), Value::Null);
    assert_eq!(
        f.ok(bin(BinaryOp::Xor, boolean(true), boolean(false))),
        Value::Bool(true)
    );
    assert_eq!(
        f.err(bin(BinaryOp::And, boolean(true), int(1))).kind(),
        ErrorKind::Type
    );
    assert_eq!(
        f.ok(e(ExprKind::Unary(UnaryOp::Not, Box::new(null())))),
        Value::Null
    );
}

#[test]
fn arithmetic_comparison_and_strings() {
    let f = Fixture::new();
    assert_eq!(
        f.ok(bin(BinaryOp::Add, int(1), flt(0.5))),
        Value::Float(1.5)
    );
    assert_eq!(
        f.err(bin(BinaryOp::Add, int(i64::MAX), int(1))).kind(),
        ErrorKind::Error
    );
    assert_eq!(
        f.err(bin(BinaryOp::Div, int(1), int(0))).kind(),
        ErrorKind::Error
    );
    let te = f.err(bin(BinaryOp::Add, int(1), st("a")));
    assert_eq!(te.kind(), ErrorKind::Type);
    assert_eq!(te.message(), "cannot add Integer and String");
    assert_eq!(f.ok(bin(BinaryOp::Pow, int(2), int(3))), Value::Float(8.0));
    assert_eq!(f.ok(bin(BinaryOp::Lt, int(1), flt(1.5))), Value::Bool(true));
    assert_eq!(f.ok(bin(BinaryOp::Lt, int(1), st("a"))), Value::Null);
    assert_eq!(f.ok(bin(BinaryOp::Eq, int(1), flt(1.0))), Value::Bool(true));
    assert_eq!(f.ok(bin(BinaryOp::Ne, int(1), null())), Value::Null);
    let nan = bin(BinaryOp::Div, flt(0.0), flt(0.0));
    assert_eq!(
        f.ok(bin(BinaryOp::Gt, nan.clone(), int(1))),
        Value::Bool(false)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::Eq, nan.clone(), nan)),
        Value::Bool(false)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::StartsWith, st("hello"), st("he"))),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::EndsWith, st("hello"), st("lo"))),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::Contains, st("hello"), st("xx"))),
        Value::Bool(false)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::Contains, st("hello"), int(1))),
        Value::Null
    );
    assert_eq!(
        f.ok(bin(BinaryOp::In, int(2), list(vec![int(1), int(2)]))),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(bin(BinaryOp::RegexMatch, int(2), st("a"))),
        Value::Null
    );
    assert_eq!(
        f.ok(bin(BinaryOp::RegexMatch, st("abc"), st("a.*"))),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(e(ExprKind::IsNull {
            expr: Box::new(null()),
            negated: true
        })),
        Value::Bool(false)
    );
}

#[test]
fn index_and_slice() {
    let f = Fixture::new();
    let l = || list(vec![int(1), int(2), int(3)]);
    let idx = |c: Expr, i: Expr| e(ExprKind::Index(Box::new(c), Box::new(i)));
    assert_eq!(f.ok(idx(l(), int(0))), Value::Int(1));
    assert_eq!(f.ok(idx(l(), int(-1))), Value::Int(3));
    assert_eq!(f.ok(idx(l(), int(3))), Value::Null);
    assert_eq!(f.ok(idx(l(), int(-4))), Value::Null);
    assert_eq!(f.ok(idx(l(), null())), Value::Null);
    assert_eq!(f.err(idx(l(), flt(1.0))).kind(), ErrorKind::Type);
    assert_eq!(f.err(idx(int(1), int(0))).kind(), ErrorKind::Type);
    let m = e(ExprKind::Map(vec![(id("k"), int(1))]));
    assert_eq!(f.ok(idx(m.clone(), st("k"))), Value::Int(1));
    assert_eq!(f.err(idx(m, int(0))).kind(), ErrorKind::Type);
    let sl = e(ExprKind::Slice(
        Box::new(l()),
        Some(Box::new(int(-2))),
        None,
    ));
    assert_eq!(f.ok(sl), ints(&[2, 3]));
}

#[test]
fn case_forms() {
    let f = Fixture::new();
    let simple = |operand: Expr| {
        e(ExprKind::Case {
            operand: Some(Box::new(operand)),
            whens: vec![(int(1), st("one")), (int(2), st("two"))],
            else_: Some(Box::new(st("other"))),
        })
    };
    assert_eq!(f.ok(simple(flt(2.0))), Value::from("two"));
    assert_eq!(f.ok(simple(int(9))), Value::from("other"));
    assert_eq!(f.ok(simple(null())), Value::from("other"));
    let generic = e(ExprKind::Case {
        operand: None,
        whens: vec![
            (null(), st("null")),
            (bin(BinaryOp::Gt, int(2), int(1)), st("yes")),
        ],
        else_: None,
    });
    assert_eq!(f.ok(generic), Value::from("yes"));
    let no_else = e(ExprKind::Case {
        operand: None,
        whens: vec![(boolean(false), st("x"))],
        else_: None,
    });
    assert_eq!(f.ok(no_else), Value::Null);
}

#[test]
fn comprehensions_quantifiers_reduce() {
    let f = Fixture::new();
    let xs = || list(vec![int(1), int(2), int(3), int(4)]);
    let even = bin(BinaryOp::Eq, bin(BinaryOp::Mod, var("x"), int(2)), int(0));
    let comp = e(ExprKind::ListComprehension {
        variable: id("x"),
        list: Box::new(xs()),
        filter: Some(Box::new(even.clone())),
        map: Some(Box::new(bin(BinaryOp::Mul, var("x"), int(10)))),
    });
    assert_eq!(f.ok(comp), ints(&[20, 40]));
    // The comprehension variable shadows an outer one and does not leak.
    let shadow = e(ExprKind::ListComprehension {
        variable: id("a"),
        list: Box::new(xs()),
        filter: None,
        map: None,
    });
    assert_eq!(f.ok(shadow), ints(&[1, 2, 3, 4]));
    let null_list = e(ExprKind::ListComprehension {
        variable: id("x"),
        list: Box::new(null()),
        filter: None,
        map: None,
    });
    assert_eq!(f.ok(null_list), Value::Null);

    let q = |quantifier: Quantifier, l: Expr, pred: Expr| {
        e(ExprKind::Quantified {
            quantifier,
            variable: id("x"),
            list: Box::new(l),
            filter: Some(Box::new(pred)),
        })
    };
    let gt2 = || bin(BinaryOp::Gt, var("x"), int(2));
    assert_eq!(f.ok(q(Quantifier::Any, xs(), gt2())), Value::Bool(true));
    assert_eq!(f.ok(q(Quantifier::All, xs(), gt2())), Value::Bool(false));
    assert_eq!(f.ok(q(Quantifier::None, xs(), gt2())), Value::Bool(false));
    assert_eq!(f.ok(q(Quantifier::Single, xs(), gt2())), Value::Bool(false));
    let with_null = || list(vec![int(3), null()]);
    assert_eq!(f.ok(q(Quantifier::All, with_null(), gt2())), Value::Null);
    assert_eq!(
        f.ok(q(Quantifier::Any, with_null(), gt2())),
        Value::Bool(true)
    );
    assert_eq!(f.ok(q(Quantifier::Single, with_null(), gt2())), Value::Null);

    let sum = e(ExprKind::Reduce {
        accumulator: id("acc"),
        init: Box::new(int(0)),
        variable: id("x"),
        list: Box::new(xs()),
        expr: Box::new(bin(BinaryOp::Add, var("acc"), var("x"))),
    });
    assert_eq!(f.ok(sum), Value::Int(10));
}

#[test]
fn map_projection() {
    let f = Fixture::new();
    let proj = e(ExprKind::MapProjection {
        variable: id("a"),
        items: vec![
            MapProjectionItem::Property(id("name")),
            MapProjectionItem::Literal(id("k"), int(1)),
            MapProjectionItem::Variable(id("b")),
        ],
    });
    let Value::Map(m) = f.ok(proj) else {
        panic!("map projection must give a map");
    };
    assert_eq!(m.get("name"), Some(&Value::from("Ann")));
    assert_eq!(m.get("k"), Some(&Value::Int(1)));
    assert_eq!(m.get("b"), Some(&f.vars.0["b"]));
    let all = e(ExprKind::MapProjection {
        variable: id("a"),
        items: vec![MapProjectionItem::AllProperties],
    });
    let Value::Map(m) = f.ok(all) else {
        panic!("map projection must give a map");
    };
    assert_eq!(m.len(), 2);
    let on_null = e(ExprKind::MapProjection {
        variable: id("n"),
        items: vec![MapProjectionItem::AllProperties],
    });
    assert_eq!(f.ok(on_null), Value::Null);
}

#[test]
fn functions_and_coalesce_laziness() {
    let f = Fixture::new();
    assert_eq!(f.ok(call("toUpper", vec![st("a")])), Value::from("A"));
    // coalesce stops at the first non-null argument: the failing one is never evaluated.
    let lazy = call(
        "coalesce",
        vec![null(), int(2), bin(BinaryOp::Div, int(1), int(0))],
    );
    assert_eq!(f.ok(lazy), Value::Int(2));
    let unknown = f.err(call("foo", vec![]));
    assert_eq!(unknown.kind(), ErrorKind::Semantic);
    assert_eq!(unknown.message(), "Unknown function 'foo'");
    assert_eq!(
        f.err(call("count", vec![int(1)])).kind(),
        ErrorKind::Internal
    );
    assert_eq!(f.err(e(ExprKind::CountStar)).kind(), ErrorKind::Internal);
    assert_eq!(
        f.ok(call("exists", vec![prop(var("a"), "name")])),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(call("exists", vec![prop(var("a"), "nope")])),
        Value::Bool(false)
    );
}

#[test]
fn subqueries_go_through_the_runner() {
    let mut f = Fixture::new();
    let pattern = PatternElement {
        start: crate::cypher::ast::NodePattern {
            variable: Some(id("a")),
            labels: vec![],
            properties: None,
            span: Span::default(),
        },
        chain: vec![],
        span: Span::default(),
    };
    let pred = e(ExprKind::PatternPredicate(Box::new(pattern.clone())));
    assert_eq!(f.ok(pred.clone()), Value::Bool(false));
    assert_eq!(f.ok(call("exists", vec![pred.clone()])), Value::Bool(false));
    let query = SingleQuery {
        clauses: vec![],
        span: Span::default(),
    };
    f.subs.count = 3;
    f.subs.rows = vec![
        vec![("m".to_string(), Value::Int(1))],
        vec![("m".to_string(), Value::Int(2))],
    ];
    assert_eq!(f.ok(pred), Value::Bool(true));
    assert_eq!(
        f.ok(e(ExprKind::ExistsSubquery(Box::new(query.clone())))),
        Value::Bool(true)
    );
    assert_eq!(
        f.ok(e(ExprKind::CountSubquery(Box::new(query)))),
        Value::Int(3)
    );
    let comp = e(ExprKind::PatternComprehension {
        path_variable: None,
        pattern: Box::new(pattern),
        filter: Some(Box::new(bin(BinaryOp::Gt, var("m"), int(1)))),
        map: Box::new(bin(BinaryOp::Add, var("m"), int(100))),
    });
    assert_eq!(f.ok(comp), ints(&[102]));
}

#[test]
fn long_loops_observe_interrupts() {
    let f = Fixture::new();
    f.control
        .interrupt
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let comp = e(ExprKind::ListComprehension {
        variable: id("x"),
        list: Box::new(call("range", vec![int(1), int(10)])),
        filter: None,
        map: None,
    });
    assert_eq!(f.err(comp).kind(), ErrorKind::Interrupted);
}
