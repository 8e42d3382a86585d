//! Parser tests: AST shapes for every construct, error messages and positions, and hostile
//! input (deep nesting on a small stack, huge literals).

use super::*;
use crate::error::ErrorKind;

fn ok(q: &str) -> Statement {
    match parse(q) {
        Ok(s) => s,
        Err(e) => panic!("failed to parse {q:?}: {e}"),
    }
}

fn query(q: &str) -> Query {
    match ok(q).kind {
        StatementKind::Query(q) => q,
        other => panic!("not a query: {other:?}"),
    }
}

fn clauses(q: &str) -> Vec<Clause> {
    let mut qu = query(q);
    assert_eq!(qu.parts.len(), 1);
    qu.parts.remove(0).clauses
}

/// The expression of `RETURN <e>`.
fn expr(e: &str) -> Expr {
    let q = format!("RETURN {e}");
    match clauses(&q).remove(0) {
        Clause::Return(mut r) => r.projection.items.remove(0).expr,
        other => panic!("not RETURN: {other:?}"),
    }
}

fn err(q: &str) -> crate::error::Error {
    match parse(q) {
        Ok(s) => panic!("{q:?} parsed but should fail: {s:?}"),
        Err(e) => e,
    }
}

fn syntax_err(q: &str) -> crate::error::Error {
    let e = err(q);
    assert_eq!(e.kind(), ErrorKind::Syntax, "{q:?}: {e}");
    e
}

fn pos(e: &crate::error::Error) -> (usize, usize) {
    let p = e.position().expect("error has a position");
    (p.line, p.column)
}

/// Renders an expression compactly so tests can compare tree shapes.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(Literal::Null) => "null".into(),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::Int(i)) => i.to_string(),
        ExprKind::Literal(Literal::Float(f)) => format!("{f:?}"),
        ExprKind::Literal(Literal::String(s)) => format!("{s:?}"),
        ExprKind::Parameter(p) => format!("${p}"),
        ExprKind::Variable(v) => v.clone(),
        ExprKind::List(items) => {
            format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            )
        }
        ExprKind::Map(kv) => format!(
            "{{{}}}",
            kv.iter()
                .map(|(k, v)| format!("{}: {}", k.name, show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::Property(t, k) => format!("{}.{}", show(t), k.name),
        ExprKind::Index(a, i) => format!("{}[{}]", show(a), show(i)),
        ExprKind::Slice(a, f, t) => format!(
            "{}[{}..{}]",
            show(a),
            f.as_deref().map(show).unwrap_or_default(),
            t.as_deref().map(show).unwrap_or_default()
        ),
        ExprKind::Unary(op, a) => format!("({op:?} {})", show(a)),
        ExprKind::Binary(op, a, b) => format!("({op:?} {} {})", show(a), show(b)),
        ExprKind::IsNull { expr, negated } => {
            format!(
                "({} {})",
                if *negated { "NotNull" } else { "IsNull" },
                show(expr)
            )
        }
        ExprKind::HasLabels(a, l) => format!(
            "{}:{}",
            show(a),
            l.iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(":")
        ),
        ExprKind::FunctionCall {
            name,
            distinct,
            args,
        } => format!(
            "{name}({}{})",
            if *distinct { "DISTINCT " } else { "" },
            args.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::CountStar => "count(*)".into(),
        other => format!("{other:?}"),
    }
}

fn shape(e: &str) -> String {
    show(&expr(e))
}

// ---- literals -----------------------------------------------------------------------------

#[test]
fn literals() {
    assert_eq!(shape("null"), "null");
    assert_eq!(shape("TRUE"), "true");
    assert_eq!(shape("False"), "false");
    assert_eq!(shape("42"), "42");
    assert_eq!(shape("0x1F"), "31");
    assert_eq!(shape("0o17"), "15");
    assert_eq!(shape("1.5"), "1.5");
    assert_eq!(shape(".5"), "0.5");
    assert_eq!(shape("1e3"), "1000.0");
    assert_eq!(shape("1.5E-3"), "0.0015");
    assert_eq!(shape("-7"), "-7");
    assert_eq!(shape("-9223372036854775808"), i64::MIN.to_string());
    assert_eq!(shape("9223372036854775807"), i64::MAX.to_string());
    assert_eq!(shape("$name"), "$name");
    assert_eq!(shape("$0"), "$0");
}

#[test]
fn integer_overflow_is_a_syntax_error() {
    let e = syntax_err("RETURN 9223372036854775808");
    assert!(e.message().contains("integer literal too large"), "{e}");
    assert_eq!(pos(&e), (1, 8));
    let e = syntax_err("RETURN 0x8000000000000000");
    assert!(e.message().contains("integer literal too large"), "{e}");
    let e = syntax_err("RETURN 123456789012345678901234567890");
    assert!(e.message().contains("integer literal too large"), "{e}");
    syntax_err("RETURN 1e400");
    syntax_err("RETURN 0x");
    syntax_err("RETURN 12abc");
}

#[test]
fn strings_and_escapes() {
    assert_eq!(shape(r#"'a\'b'"#), r#""a'b""#);
    assert_eq!(shape(r#""a\"b""#), r#""a\"b""#);
    let e = expr(r"'\\ \n \t \r \b \f \u00e9 \U0001F600'");
    assert_eq!(
        e.kind,
        ExprKind::Literal(Literal::String("\\ \n \t \r \u{8} \u{c} é 😀".to_string()))
    );
    let e = syntax_err(r"RETURN 'a\qb'");
    assert!(e.message().contains("invalid escape"), "{e}");
    assert_eq!(pos(&e), (1, 10));
    let e = syntax_err(r"RETURN '\u12'");
    assert!(e.message().contains("unicode"), "{e}");
    let e = syntax_err(r"RETURN '\uD800'");
    assert!(e.message().contains("unicode"), "{e}");
    let e = syntax_err("RETURN 1,\n  'abc");
    assert!(e.message().contains("unterminated string"), "{e}");
    assert_eq!(pos(&e), (2, 3));
}

#[test]
fn comments_and_quoted_identifiers() {
    let c =
        clauses("MATCH (`my node`:`La``bel`) // comment\n/* block\n comment */ RETURN `my node`");
    let Clause::Match(m) = &c[0] else { panic!() };
    let n = &m.pattern.parts[0].element.start;
    assert_eq!(
        n.variable.as_ref().map(|v| v.name.as_str()),
        Some("my node")
    );
    assert_eq!(n.labels[0].name, "La`bel");
    let e = syntax_err("RETURN 1 /* never closed");
    assert!(e.message().contains("unterminated comment"), "{e}");
    assert_eq!(pos(&e), (1, 10));
    syntax_err("RETURN `unclosed");
}

// ---- operators and precedence -------------------------------------------------------------

#[test]
fn precedence() {
    assert_eq!(shape("1 + 2 * 3"), "(Add 1 (Mul 2 3))");
    assert_eq!(shape("1 - 2 - 3"), "(Sub (Sub 1 2) 3)");
    assert_eq!(shape("2 ^ 3 ^ 2"), "(Pow (Pow 2 3) 2)");
    assert_eq!(shape("-2 ^ 2"), "(Pow -2 2)");
    assert_eq!(shape("-a ^ 2"), "(Pow (Neg a) 2)");
    assert_eq!(shape("+a"), "(Pos a)");
    assert_eq!(shape("a OR b XOR c AND d"), "(Or a (Xor b (And c d)))");
    assert_eq!(shape("a AND b AND c"), "(And a (And b c))");
    assert_eq!(shape("a AND b AND c AND d"), "(And (And a b) (And c d))");
    assert_eq!(shape("a OR b AND c OR d"), "(Or a (Or (And b c) d))");
    assert_eq!(shape("NOT a = b"), "(Not (Eq a b))");
    assert_eq!(shape("NOT a AND b"), "(And (Not a) b)");
    assert_eq!(shape("NOT NOT a"), "(Not (Not a))");
    assert_eq!(shape("a = b IN c"), "(Eq a (In b c))");
    assert_eq!(shape("a IN b = c"), "(Eq (In a b) c)");
    assert_eq!(shape("x IN [1] + [2]"), "(In x (Add [1] [2]))");
    assert_eq!(shape("a + b STARTS WITH c"), "(StartsWith (Add a b) c)");
    assert_eq!(shape("a ENDS WITH 'x'"), "(EndsWith a \"x\")");
    assert_eq!(shape("a CONTAINS b OR c"), "(Or (Contains a b) c)");
    assert_eq!(shape("a =~ 'x.*'"), "(RegexMatch a \"x.*\")");
    assert_eq!(shape("a <> b"), "(Ne a b)");
    assert_eq!(shape("a != b"), "(Ne a b)");
    assert_eq!(shape("a % b / c"), "(Div (Mod a b) c)");
    assert_eq!(shape("a IS NULL"), "(IsNull a)");
    assert_eq!(shape("a.b IS NOT NULL AND c"), "(And (NotNull a.b) c)");
    assert_eq!(shape("x IN l IS NULL"), "(IsNull (In x l))");
    assert_eq!(shape("n:A:B"), "n:A:B");
    assert_eq!(shape("n:A AND m:B"), "(And n:A m:B)");
}

#[test]
fn chained_comparisons_desugar_to_and() {
    assert_eq!(shape("a < b <= c"), "(And (Lt a b) (Le b c))");
    assert_eq!(
        shape("1 < x > 2 = y"),
        "(And (And (Lt 1 x) (Gt x 2)) (Eq 2 y))"
    );
    assert_eq!(shape("a >= b"), "(Ge a b)");
}

#[test]
fn postfix_operators() {
    assert_eq!(shape("n.a.b"), "n.a.b");
    assert_eq!(shape("l[0]"), "l[0]");
    assert_eq!(shape("l[1..2]"), "l[1..2]");
    assert_eq!(shape("l[..2]"), "l[..2]");
    assert_eq!(shape("l[1..]"), "l[1..]");
    assert_eq!(shape("l[..]"), "l[..]");
    assert_eq!(shape("m['k'].x[0]"), "m[\"k\"].x[0]");
    assert_eq!(shape("(n).name"), "n.name");
    assert_eq!(shape("-n.x"), "(Neg n.x)");
    assert_eq!(shape("n.`weird key`"), "n.weird key");
    assert_eq!(shape("n.count"), "n.count");
}

#[test]
fn collections_and_functions() {
    assert_eq!(shape("[1, 'a', [2]]"), "[1, \"a\", [2]]");
    assert_eq!(shape("[]"), "[]");
    assert_eq!(shape("{a: 1, `b c`: [x]}"), "{a: 1, b c: [x]}");
    assert_eq!(shape("{}"), "{}");
    assert_eq!(shape("{``: 1}"), "{: 1}");
    assert_eq!(shape("count(*)"), "count(*)");
    assert_eq!(shape("COUNT( * )"), "count(*)");
    assert_eq!(shape("count(DISTINCT n.x)"), "count(DISTINCT n.x)");
    assert_eq!(shape("toUpper('a')"), "toUpper(\"a\")");
    assert_eq!(shape("db.labels()"), "db.labels()");
    assert_eq!(shape("a.b.c(1, 2)"), "a.b.c(1, 2)");
    assert_eq!(shape("exists(n.prop)"), "exists(n.prop)");
    let e = err("RETURN {a: 1, a: 2}");
    assert_eq!(e.kind(), ErrorKind::Semantic);
    assert_eq!(pos(&e), (1, 15));
}

#[test]
fn case_expressions() {
    let ExprKind::Case {
        operand,
        whens,
        else_,
    } = expr("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END").kind
    else {
        panic!()
    };
    assert_eq!(operand.map(|o| show(&o)), Some("x".to_string()));
    assert_eq!(whens.len(), 2);
    assert_eq!(else_.map(|e| show(&e)), Some("\"c\"".to_string()));
    let ExprKind::Case {
        operand,
        whens,
        else_,
    } = expr("case when a > 1 then 1 end").kind
    else {
        panic!()
    };
    assert!(operand.is_none() && else_.is_none());
    assert_eq!(show(&whens[0].0), "(Gt a 1)");
    syntax_err("RETURN CASE END");
    syntax_err("RETURN CASE WHEN 1 THEN 2");
}

#[test]
fn comprehensions_and_quantifiers() {
    let ExprKind::ListComprehension {
        variable,
        list,
        filter,
        map,
    } = expr("[x IN range(1, 10) WHERE x % 2 = 0 | x * 2]").kind
    else {
        panic!()
    };
    assert_eq!(variable.name, "x");
    assert_eq!(show(&list), "range(1, 10)");
    assert_eq!(
        filter.map(|f| show(&f)).as_deref(),
        Some("(Eq (Mod x 2) 0)")
    );
    assert_eq!(map.map(|m| show(&m)).as_deref(), Some("(Mul x 2)"));
    let ExprKind::ListComprehension { filter, map, .. } = expr("[x IN l]").kind else {
        panic!()
    };
    assert!(filter.is_none() && map.is_none());

    let ExprKind::PatternComprehension {
        path_variable,
        pattern,
        filter,
        map,
    } = expr("[p = (a)-[:R]->(b:B) WHERE b.x > 1 | b.name]").kind
    else {
        panic!()
    };
    assert_eq!(path_variable.map(|v| v.name).as_deref(), Some("p"));
    assert_eq!(pattern.chain.len(), 1);
    assert!(filter.is_some());
    assert_eq!(show(&map), "b.name");
    let ExprKind::PatternComprehension { path_variable, .. } = expr("[(a)-->(b) | b]").kind else {
        panic!()
    };
    assert!(path_variable.is_none());

    for (q, want) in [
        ("all", Quantifier::All),
        ("ANY", Quantifier::Any),
        ("none", Quantifier::None),
        ("single", Quantifier::Single),
    ] {
        let ExprKind::Quantified {
            quantifier,
            variable,
            filter,
            ..
        } = expr(&format!("{q}(x IN [1, 2] WHERE x > 1)")).kind
        else {
            panic!()
        };
        assert_eq!(quantifier, want);
        assert_eq!(variable.name, "x");
        assert!(filter.is_some());
    }

    let ExprKind::Reduce {
        accumulator,
        init,
        variable,
        expr: body,
        ..
    } = expr("reduce(acc = 0, x IN [1, 2] | acc + x)").kind
    else {
        panic!()
    };
    assert_eq!(
        (accumulator.name.as_str(), variable.name.as_str()),
        ("acc", "x")
    );
    assert_eq!(show(&init), "0");
    assert_eq!(show(&body), "(Add acc x)");
}

#[test]
fn map_projection() {
    let ExprKind::MapProjection { variable, items } = expr("n {.a, .*, k: 1 + 1, v}").kind else {
        panic!()
    };
    assert_eq!(variable.name, "n");
    assert!(matches!(&items[0], MapProjectionItem::Property(k) if k.name == "a"));
    assert_eq!(items[1], MapProjectionItem::AllProperties);
    assert!(
        matches!(&items[2], MapProjectionItem::Literal(k, e) if k.name == "k" && show(e) == "(Add 1 1)")
    );
    assert!(matches!(&items[3], MapProjectionItem::Variable(v) if v.name == "v"));
}

#[test]
fn subqueries_and_pattern_predicates() {
    let c = clauses("MATCH (a) WHERE (a)-[:KNOWS]->(:Person) AND NOT (a)<--() RETURN a");
    let Clause::Match(m) = &c[0] else { panic!() };
    let Some(ExprKind::Binary(BinaryOp::And, l, r)) = m.where_.as_ref().map(|w| &w.kind) else {
        panic!()
    };
    let ExprKind::PatternPredicate(p) = &l.kind else {
        panic!("{l:?}")
    };
    assert_eq!(p.chain[0].0.types[0].name, "KNOWS");
    assert_eq!(p.chain[0].1.labels[0].name, "Person");
    assert!(matches!(&r.kind, ExprKind::Unary(UnaryOp::Not, inner)
        if matches!(inner.kind, ExprKind::PatternPredicate(_))));

    // A lone node in parentheses is a parenthesised expression.
    assert_eq!(shape("(a)"), "a");
    assert_eq!(shape("(a) - (b)"), "(Sub a b)");

    let c = clauses("MATCH (a) WHERE EXISTS { MATCH (a)-->(b) WHERE b.x = 1 } RETURN a");
    let Clause::Match(m) = &c[0] else { panic!() };
    let Some(ExprKind::ExistsSubquery(q)) = m.where_.as_ref().map(|w| &w.kind) else {
        panic!()
    };
    let Clause::Match(inner) = &q.clauses[0] else {
        panic!()
    };
    assert!(inner.where_.is_some());

    let c = clauses("MATCH (a) WHERE exists { (a)-->(b) WHERE b.x = 1 } RETURN a");
    let Clause::Match(m) = &c[0] else { panic!() };
    let Some(ExprKind::ExistsSubquery(q)) = m.where_.as_ref().map(|w| &w.kind) else {
        panic!()
    };
    assert_eq!(q.clauses.len(), 1);

    let ExprKind::CountSubquery(q) = expr("COUNT { (a)-->() }").kind else {
        panic!()
    };
    assert_eq!(q.clauses.len(), 1);
    let ExprKind::CountSubquery(q) = expr("count { MATCH (a)-->(b) RETURN b }").kind else {
        panic!()
    };
    assert_eq!(q.clauses.len(), 2);
}

#[test]
fn patterns_are_not_values() {
    syntax_err("MATCH (n) RETURN (n)-->()");
    syntax_err("MATCH (n) RETURN size((n)-->())");
    syntax_err("MATCH (n) SET n.x = (n)-->()");
    ok("MATCH (n) RETURN exists((n)-->())");
    ok("MATCH (a), (b) WITH shortestPath((a)-[*]-(b)) AS p RETURN p");
    ok("MATCH (n) WHERE NOT (n)-->() OR (n)<--() RETURN n");
}

// ---- patterns -----------------------------------------------------------------------------

fn first_rel(q: &str) -> RelPattern {
    let c = clauses(q);
    let Clause::Match(m) = &c[0] else { panic!() };
    m.pattern.parts[0].element.chain[0].0.clone()
}

#[test]
fn relationship_patterns() {
    let r = first_rel("MATCH (a)-[r:T1|T2|:T3 *1..3 {w: 1}]->(b) RETURN r");
    assert_eq!(r.variable.map(|v| v.name).as_deref(), Some("r"));
    let types: Vec<_> = r.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(types, ["T1", "T2", "T3"]);
    assert_eq!(r.direction, RelDirection::Right);
    assert_eq!(
        r.length,
        Some(VarLength {
            min: Some(1),
            max: Some(3)
        })
    );
    assert!(r.properties.is_some());

    assert_eq!(
        first_rel("MATCH (a)<--(b) RETURN a").direction,
        RelDirection::Left
    );
    assert_eq!(
        first_rel("MATCH (a)--(b) RETURN a").direction,
        RelDirection::Both
    );
    assert_eq!(
        first_rel("MATCH (a)<-->(b) RETURN a").direction,
        RelDirection::Both
    );
    assert_eq!(
        first_rel("MATCH (a)<-[]-(b) RETURN a").direction,
        RelDirection::Left
    );
    let lens = [
        ("*", None, None),
        ("*2", Some(2), Some(2)),
        ("*1..3", Some(1), Some(3)),
        ("*..3", None, Some(3)),
        ("*2..", Some(2), None),
        ("* 1 .. 3", Some(1), Some(3)),
    ];
    for (l, min, max) in lens {
        let r = first_rel(&format!("MATCH (a)-[{l}]->(b) RETURN a"));
        assert_eq!(r.length, Some(VarLength { min, max }), "{l}");
    }
    assert_eq!(first_rel("MATCH (a)-->(b) RETURN a").length, None);
}

#[test]
fn node_patterns_and_parts() {
    let c = clauses(
        "MATCH p = (a:A:B {k: 1}), q = shortestPath((a)-[*]-(b)), allShortestPaths((x)-->(y)) \
         RETURN p",
    );
    let Clause::Match(m) = &c[0] else { panic!() };
    let parts = &m.pattern.parts;
    assert_eq!(parts.len(), 3);
    assert_eq!(
        parts[0].variable.as_ref().map(|v| v.name.as_str()),
        Some("p")
    );
    assert_eq!(parts[0].selector, PathSelector::All);
    let labels: Vec<_> = parts[0]
        .element
        .start
        .labels
        .iter()
        .map(|l| &l.name)
        .collect();
    assert_eq!(labels, ["A", "B"]);
    assert_eq!(parts[1].selector, PathSelector::Shortest);
    assert_eq!(parts[2].selector, PathSelector::AllShortest);
    assert!(parts[2].variable.is_none());

    let c = clauses("CREATE (n $props) RETURN n");
    let Clause::Create(cr) = &c[0] else { panic!() };
    assert_eq!(
        cr.pattern.parts[0]
            .element
            .start
            .properties
            .as_ref()
            .map(|e| e.kind.clone()),
        Some(ExprKind::Parameter("props".into()))
    );
    let c = clauses("MATCH (a)-->(b)<--(c), () RETURN a");
    let Clause::Match(m) = &c[0] else { panic!() };
    assert_eq!(m.pattern.parts[0].element.chain.len(), 2);
    assert!(m.pattern.parts[1].element.start.variable.is_none());
}

// ---- clauses ------------------------------------------------------------------------------

#[test]
fn match_with_return() {
    let c = clauses(
        "OPTIONAL MATCH (n) WITH DISTINCT n.x AS x, n WHERE x > 1 \
         RETURN *, x + 1 AS y ORDER BY x DESC, y ASCENDING, n.z DESCENDING SKIP 1 LIMIT $l",
    );
    let Clause::Match(m) = &c[0] else { panic!() };
    assert!(m.optional && m.where_.is_none());
    let Clause::With(w) = &c[1] else { panic!() };
    assert!(w.projection.distinct);
    assert_eq!(w.projection.items[0].name(), "x");
    assert_eq!(w.projection.items[1].name(), "n");
    assert!(w.where_.is_some());
    let Clause::Return(r) = &c[2] else { panic!() };
    assert!(r.projection.star);
    assert_eq!(r.projection.items[0].name(), "y");
    let desc: Vec<_> = r.projection.order_by.iter().map(|s| s.descending).collect();
    assert_eq!(desc, [true, false, true]);
    assert_eq!(r.projection.skip.as_ref().map(show).as_deref(), Some("1"));
    assert_eq!(r.projection.limit.as_ref().map(show).as_deref(), Some("$l"));
}

#[test]
fn projection_text_is_the_source_slice() {
    let c = clauses("MATCH (n) RETURN  n.name ,count( DISTINCT n ),\n  [x IN l | x]  AS y");
    let Clause::Return(r) = &c[1] else { panic!() };
    let texts: Vec<_> = r.projection.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["n.name", "count( DISTINCT n )", "[x IN l | x]"]);
    assert_eq!(r.projection.items[2].name(), "y");
}

#[test]
fn unwind_create_delete() {
    let c = clauses("UNWIND [1, 2] AS x CREATE (:N {v: x})-[:R]->(m) DETACH DELETE m");
    let Clause::Unwind(u) = &c[0] else { panic!() };
    assert_eq!(u.alias.name, "x");
    assert_eq!(show(&u.expr), "[1, 2]");
    let Clause::Create(cr) = &c[1] else { panic!() };
    assert_eq!(cr.pattern.parts[0].element.chain.len(), 1);
    let Clause::Delete(d) = &c[2] else { panic!() };
    assert!(d.detach);
    let c = clauses("MATCH (n) DELETE n, n.x");
    let Clause::Delete(d) = &c[1] else { panic!() };
    assert!(!d.detach);
    assert_eq!(d.exprs.len(), 2);
}

#[test]
fn merge_with_actions() {
    let c = clauses(
        "MERGE (n:P {id: 1}) ON MATCH SET n.seen = n.seen + 1 ON CREATE SET n.seen = 0, n:New \
         ON MATCH SET n += {a: 1}",
    );
    let Clause::Merge(m) = &c[0] else { panic!() };
    assert_eq!(m.on_create.len(), 2);
    assert_eq!(m.on_match.len(), 2);
    assert!(matches!(&m.on_create[1], SetItem::Labels { labels, .. } if labels[0].name == "New"));
    assert!(matches!(&m.on_match[1], SetItem::MergeMap { variable, .. } if variable.name == "n"));
}

#[test]
fn set_and_remove_items() {
    let c = clauses("MATCH (n) SET n.p = 1, n = {a: 1}, n += $m, n:L:M, (n).q = 2, n.a.b = 3");
    let Clause::Set(s) = &c[1] else { panic!() };
    let SetItem::Property {
        target, key, value, ..
    } = &s.items[0]
    else {
        panic!()
    };
    assert_eq!(
        (
            show(target).as_str(),
            key.name.as_str(),
            show(value).as_str()
        ),
        ("n", "p", "1")
    );
    assert!(matches!(&s.items[1], SetItem::Replace { variable, .. } if variable.name == "n"));
    assert!(matches!(&s.items[2], SetItem::MergeMap { value, .. } if show(value) == "$m"));
    assert!(matches!(&s.items[3], SetItem::Labels { labels, .. } if labels.len() == 2));
    assert!(matches!(&s.items[4], SetItem::Property { target, key, .. }
        if show(target) == "n" && key.name == "q"));
    assert!(matches!(&s.items[5], SetItem::Property { target, key, .. }
        if show(target) == "n.a" && key.name == "b"));

    let c = clauses("MATCH (n) REMOVE n.p, n:L:M, n.a.b");
    let Clause::Remove(r) = &c[1] else { panic!() };
    assert!(matches!(&r.items[0], RemoveItem::Property { key, .. } if key.name == "p"));
    assert!(matches!(&r.items[1], RemoveItem::Labels { labels, .. } if labels.len() == 2));
    assert!(matches!(&r.items[2], RemoveItem::Property { target, .. } if show(target) == "n.a"));
    syntax_err("MATCH (n) SET n + 1 = 2");
    syntax_err("MATCH (n) REMOVE n");
}

#[test]
fn call_clause() {
    let c = clauses("CALL db.labels() YIELD label AS l, x WHERE l <> 'A' RETURN l");
    let Clause::Call(call) = &c[0] else { panic!() };
    assert_eq!(call.procedure, ["db", "labels"]);
    assert_eq!(call.args.as_ref().map(Vec::len), Some(0));
    let items = call.yield_items.as_ref().expect("yield items");
    assert_eq!(items[0].field.name, "label");
    assert_eq!(items[0].alias.as_ref().map(|a| a.name.as_str()), Some("l"));
    assert!(items[1].alias.is_none());
    assert!(call.where_.is_some());

    let c = clauses("CALL test.proc");
    let Clause::Call(call) = &c[0] else { panic!() };
    assert!(call.args.is_none() && call.yield_items.is_none() && !call.yield_star);
    let c = clauses("CALL test.proc(1, 'a') YIELD *");
    let Clause::Call(call) = &c[0] else { panic!() };
    assert!(call.yield_star && call.yield_items.is_none());
    syntax_err("CALL test.proc(1) YIELD * RETURN x");
    syntax_err("CALL test.proc YIELD x RETURN x");
}

#[test]
fn load_csv_and_foreach() {
    let c = clauses(
        "LOAD CSV WITH HEADERS FROM 'file:///a.csv' AS row FIELDTERMINATOR ';' \
         CREATE (:R {v: row.v})",
    );
    let Clause::LoadCsv(l) = &c[0] else { panic!() };
    assert!(l.with_headers);
    assert_eq!(l.alias.name, "row");
    assert_eq!(l.field_terminator.as_deref(), Some(";"));
    let c = clauses("LOAD CSV FROM $url AS row RETURN row");
    let Clause::LoadCsv(l) = &c[0] else { panic!() };
    assert!(!l.with_headers && l.field_terminator.is_none());

    let c = clauses("MATCH (n) FOREACH (x IN [1, 2] | SET n.v = x FOREACH (y IN [x] | CREATE ()))");
    let Clause::Foreach(f) = &c[1] else { panic!() };
    assert_eq!(f.variable.name, "x");
    assert_eq!(f.clauses.len(), 2);
    assert!(matches!(&f.clauses[1], Clause::Foreach(_)));
    syntax_err("FOREACH (x IN [1] | MATCH (n) RETURN n)");
}

#[test]
fn trailing_keywords_are_usable_as_names() {
    let c = clauses("MATCH (a)-->(b) RETURN a AS by, b AS limit ORDER BY by DESC, limit SKIP 1");
    let Clause::Return(r) = &c[1] else { panic!() };
    assert_eq!(r.projection.items[0].name(), "by");
    assert_eq!(r.projection.order_by.len(), 2);
    assert!(r.projection.order_by[0].descending);
    assert_eq!(show(&r.projection.order_by[1].expr), "limit");
    assert!(r.projection.skip.is_some());
    syntax_err("RETURN 1 AS where");
    syntax_err("MATCH (n) RETURN WHERE");
}

#[test]
fn union_queries() {
    let q = query("RETURN 1 AS a UNION RETURN 2 AS a UNION RETURN 3 AS a");
    assert_eq!(q.parts.len(), 3);
    assert_eq!(q.union_all, [false, false]);
    let q = query("RETURN 1 AS a UNION ALL RETURN 2 AS a");
    assert_eq!(q.union_all, [true]);
    syntax_err("RETURN 1 AS a UNION RETURN 2 AS a UNION ALL RETURN 3 AS a");
    syntax_err("RETURN 1 AS a UNION RETURN 2 AS b");
}

#[test]
fn clause_order_rules() {
    syntax_err("MATCH (n)");
    syntax_err("RETURN 1 MATCH (n) RETURN n");
    syntax_err("CREATE (a) MATCH (b) RETURN b");
    ok("CREATE (a) WITH a MATCH (b) RETURN b");
    ok("MATCH (n) SET n.x = 1");
    syntax_err("MATCH (n) WITH n.x RETURN 1");
    syntax_err("RETURN 1 AS a, 2 AS a");
    syntax_err("CREATE (a)-[:R]-(b)");
    syntax_err("CREATE (a)-->(b)");
    syntax_err("CREATE (a)-[:R*2]->(b)");
    syntax_err("MERGE (a)-[:A|B]->(b)");
    syntax_err("MATCH (n $p) RETURN n");
    syntax_err("MATCH (n) DELETE n:L");
    syntax_err("MATCH (n) WHERE EXISTS { MATCH (n)-->(m) SET m.x = 1 } RETURN n");
}

// ---- statements ---------------------------------------------------------------------------

#[test]
fn control_statements() {
    assert!(matches!(
        ok("EXPLAIN MATCH (n) RETURN n").kind,
        StatementKind::Explain(_)
    ));
    assert!(matches!(
        ok("profile RETURN 1").kind,
        StatementKind::Profile(_)
    ));
    assert_eq!(
        ok("BEGIN").kind,
        StatementKind::Begin {
            read_only: false,
            isolation: None
        }
    );
    assert_eq!(
        ok("BEGIN READ ONLY").kind,
        StatementKind::Begin {
            read_only: true,
            isolation: None
        }
    );
    assert_eq!(
        ok("begin read write isolation level snapshot;").kind,
        StatementKind::Begin {
            read_only: false,
            isolation: Some(IsolationLevel::Snapshot)
        }
    );
    assert_eq!(
        ok("BEGIN ISOLATION LEVEL SERIALIZABLE").kind,
        StatementKind::Begin {
            read_only: false,
            isolation: Some(IsolationLevel::Serializable)
        }
    );
    assert_eq!(ok("COMMIT").kind, StatementKind::Commit);
    assert_eq!(ok("ROLLBACK;").kind, StatementKind::Rollback);
    assert_eq!(ok("CHECKPOINT").kind, StatementKind::Checkpoint);
    assert_eq!(ok("CHECK").kind, StatementKind::Check);
    assert_eq!(ok("check").kind, StatementKind::Check);
    assert_eq!(ok("SHOW INDEXES").kind, StatementKind::ShowIndexes);
    assert_eq!(ok("SHOW CONSTRAINTS").kind, StatementKind::ShowConstraints);
    assert_eq!(
        ok("SHOW TRANSACTIONS").kind,
        StatementKind::ShowTransactions
    );
    syntax_err("BEGIN READ SOMETIMES");
    syntax_err("COMMIT now");
}

#[test]
fn schema_statements() {
    let StatementKind::CreateIndex {
        name,
        if_not_exists,
        label,
        properties,
    } = ok("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name, p.age)").kind
    else {
        panic!()
    };
    assert_eq!(name.map(|n| n.name).as_deref(), Some("person_name"));
    assert!(if_not_exists);
    assert_eq!(label.name, "Person");
    let props: Vec<_> = properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(props, ["name", "age"]);
    let StatementKind::CreateIndex {
        name,
        if_not_exists,
        ..
    } = ok("CREATE INDEX FOR (p:Person) ON (p.name)").kind
    else {
        panic!()
    };
    assert!(name.is_none() && !if_not_exists);

    let StatementKind::CreateUniqueConstraint {
        name, properties, ..
    } = ok("CREATE CONSTRAINT uniq FOR (n:User) REQUIRE n.email IS UNIQUE").kind
    else {
        panic!()
    };
    assert_eq!(name.map(|n| n.name).as_deref(), Some("uniq"));
    assert_eq!(properties.len(), 1);
    let StatementKind::CreateUniqueConstraint {
        name,
        if_not_exists,
        properties,
        ..
    } = ok("CREATE CONSTRAINT IF NOT EXISTS FOR (n:User) REQUIRE (n.a, n.b) IS UNIQUE").kind
    else {
        panic!()
    };
    assert!(name.is_none() && if_not_exists);
    assert_eq!(properties.len(), 2);
    assert_eq!(
        ok("DROP INDEX person_name IF EXISTS").kind,
        StatementKind::DropIndex {
            name: Ident {
                name: "person_name".into(),
                span: Span {
                    start: 11,
                    end: 22,
                    line: 1,
                    column: 12
                },
                cached: Default::default(),
            },
            if_exists: true
        }
    );
    assert!(matches!(
        ok("DROP CONSTRAINT uniq").kind,
        StatementKind::DropConstraint {
            if_exists: false,
            ..
        }
    ));
    syntax_err("CREATE INDEX FOR (p:Person) ON (q.name)");
    syntax_err("CREATE CONSTRAINT FOR (n:User) REQUIRE n.email IS NOT NULL");
}

#[test]
fn trailing_input_is_an_error() {
    ok("RETURN 1;");
    let e = syntax_err("RETURN 1; RETURN 2");
    assert_eq!(pos(&e), (1, 11));
    syntax_err("RETURN 1 2");
}

// ---- errors -------------------------------------------------------------------------------

#[test]
fn error_messages_and_positions() {
    let e = syntax_err("RETRUN 1");
    assert_eq!(
        e.message(),
        "Invalid input 'RETRUN': expected a clause such as MATCH, CREATE or RETURN"
    );
    assert_eq!(pos(&e), (1, 1));
    let e = syntax_err("MATCH (n)\nRETRUN n");
    assert!(e.message().starts_with("Invalid input 'RETRUN'"), "{e}");
    assert_eq!(pos(&e), (2, 1));
    let e = syntax_err("MATCH (n RETURN n");
    assert!(
        e.message().contains("'RETURN'") && e.message().contains("')'"),
        "{e}"
    );
    assert_eq!(pos(&e), (1, 10));
    let e = syntax_err("RETURN [1, 2");
    assert!(
        e.message().contains("end of input") && e.message().contains("']'"),
        "{e}"
    );
    let e = syntax_err("RETURN (1 + 2");
    assert!(
        e.message()
            .contains("expected ')' to close the '(' at line 1, column 8"),
        "{e}"
    );
    let e = syntax_err("MATCH (a)-[r:T\n RETURN a");
    assert!(e.message().contains("'[' at line 1, column 11"), "{e}");
    assert_eq!(pos(&e), (2, 2));
    let e = syntax_err("RETURN [1, (2)]]");
    assert!(e.message().contains("never opened"), "{e}");
    assert_eq!(pos(&e), (1, 16));
    let e = syntax_err("RETURN {a: [1}");
    assert!(e.message().contains("']'"), "{e}");
    let e = syntax_err("RETURN 1 +");
    assert!(e.message().contains("expected an expression"), "{e}");
    // Columns count characters, not bytes.
    let e = syntax_err("RETURN 'é', ]");
    assert_eq!(pos(&e), (1, 13));
    let e = syntax_err("RETURN #");
    assert_eq!(pos(&e), (1, 8));
    syntax_err("");
    syntax_err("   ");
    syntax_err(";");
}

#[test]
fn spans_have_lines_and_columns() {
    let c = clauses("MATCH (n)\n  WHERE n.x = 1\nRETURN n.x AS x");
    let Clause::Match(m) = &c[0] else { panic!() };
    let w = m.where_.as_ref().expect("where");
    assert_eq!((w.span.line, w.span.column), (2, 9));
    assert_eq!(w.span.end - w.span.start, "n.x = 1".len());
    let Clause::Return(r) = &c[1] else { panic!() };
    assert_eq!((r.span.line, r.span.column), (3, 1));
    let src = "RETURN (1 + 2) * 3";
    let e = expr(&src[7..]);
    assert_eq!(&src[e.span.start..e.span.end], "(1 + 2) * 3");
    let ExprKind::Binary(_, l, _) = &e.kind else {
        panic!()
    };
    assert_eq!(&src[l.span.start..l.span.end], "(1 + 2)");
}

// ---- hostile input ------------------------------------------------------------------------

/// Parses on a thread with a 256 KiB stack, as embedders with small thread stacks would.
fn parse_small_stack(q: String) -> Result<Statement> {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            parse(&q).map(|_| ()).map(|()| Statement {
                kind: StatementKind::Commit,
                span: Span::default(),
            })
        })
        .expect("spawn")
        .join()
        .expect("parser thread panicked")
}

fn assert_too_deep(q: String) {
    let e = parse_small_stack(q).expect_err("must fail");
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert!(
        e.message()
            .contains("nested too deeply (more than 200 levels)"),
        "{e}"
    );
}

#[test]
fn deep_nesting_is_rejected_on_a_small_stack() {
    let n = 10_000;
    assert_too_deep(format!("RETURN {}1{}", "(".repeat(n), ")".repeat(n)));
    assert_too_deep(format!("RETURN {}1{}", "[".repeat(n), "]".repeat(n)));
    assert_too_deep(format!("RETURN {}1", "NOT ".repeat(n)));
    assert_too_deep(format!("RETURN {}1", "- ".repeat(n)));
    assert_too_deep(format!(
        "RETURN {}",
        "{a: ".repeat(n) + "1" + &"}".repeat(n)
    ));
    assert_too_deep(format!("RETURN 1{}", " + 1".repeat(n)));
    assert_too_deep(format!("RETURN a{}", ".b".repeat(n)));
    assert_too_deep(format!("RETURN 1{}", " < 1".repeat(n)));
    assert_too_deep(format!("RETURN {}1", "(((((".repeat(n / 5)));
    assert_too_deep(format!(
        "MATCH (n) WHERE {}true{} RETURN n",
        "EXISTS { MATCH (n) WHERE ".repeat(n),
        " }".repeat(n)
    ));
    assert_too_deep(format!("RETURN {}1{}", "f(".repeat(n), ")".repeat(n)));
    assert_too_deep(format!(
        "RETURN {}1{}",
        "CASE WHEN ".repeat(n),
        " THEN 1 END".repeat(n)
    ));
    assert_too_deep(format!(
        "MATCH (a) WHERE {}true{} RETURN a",
        "(a)-[:R {k: ".repeat(n),
        "}]->()".repeat(n)
    ));
    assert_too_deep(format!(
        "MATCH (n) {} SET n.x = 1 {}",
        "FOREACH (x IN [1] | ".repeat(n),
        ")".repeat(n)
    ));
}

#[test]
fn nesting_just_under_the_cap_parses_on_a_small_stack() {
    // Each level below costs one nesting step; the RETURN expression itself is one more.
    let n = MAX_DEPTH - 2;
    assert!(parse_small_stack(format!("RETURN {}1{}", "(".repeat(n), ")".repeat(n))).is_ok());
    assert!(parse_small_stack(format!("RETURN {}1{}", "[".repeat(n), "]".repeat(n))).is_ok());
    assert!(parse_small_stack(format!("RETURN {}1", "NOT ".repeat(n))).is_ok());
    assert!(parse_small_stack(format!("RETURN 1{}", " + 1".repeat(n - 2))).is_ok());
}

#[test]
fn long_boolean_chains_are_balanced() {
    let q = format!(
        "MATCH (n) WHERE {} RETURN n",
        (0..5_000)
            .map(|i| format!("n.id = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ")
    );
    let c = parse_small_stack(q);
    assert!(c.is_ok(), "{c:?}");
    let e = expr(
        &(0..1_000)
            .map(|i| format!("x{i}"))
            .collect::<Vec<_>>()
            .join(" AND "),
    );
    assert!(expr::height(&e) <= 12, "height {}", expr::height(&e));
}

#[test]
fn huge_string_literal_parses_in_linear_time() {
    let big = "x".repeat(10 * 1024 * 1024);
    let q = format!("RETURN '{big}' AS s");
    let t = std::time::Instant::now();
    let e = expr(&q[7..q.len() - 5]);
    assert!(matches!(e.kind, ExprKind::Literal(Literal::String(ref s)) if s.len() == big.len()));
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
}

#[test]
fn wide_but_shallow_queries_parse() {
    let list = (0..20_000)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let ExprKind::List(items) = expr(&format!("[{list}]")).kind else {
        panic!()
    };
    assert_eq!(items.len(), 20_000);
    let many_nodes = (0..2_000)
        .map(|i| format!("(n{i})"))
        .collect::<Vec<_>>()
        .join(", ");
    ok(&format!("MATCH {many_nodes} RETURN 1"));
    let chain = "-->()".repeat(5_000);
    ok(&format!("MATCH (){chain} RETURN 1"));
}

#[test]
fn garbage_never_panics() {
    let fragments = [
        "MATCH", "(", ")", "[", "]", "{", "}", "-", "->", "<-", "*", "..", ":", "'", "\"", "`",
        "$", "RETURN", "WITH", "n", "1", "0x", "1e", ".", ",", "|", "CASE", "WHEN", "END", "IN",
        "\\", "/*", "//", "=", "+=", "é", "\u{0}", "EXISTS", "COUNT", "FOREACH", "CALL", "YIELD",
    ];
    // A deterministic pseudo-random walk over fragment sequences.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        let mut q = String::new();
        let len = (state % 12) as usize + 1;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            q.push_str(fragments[(state % fragments.len() as u64) as usize]);
            if state & 1 == 0 {
                q.push(' ');
            }
        }
        let _ = parse(&q);
    }
    // Every prefix of a rich query.
    let rich = "MATCH p = (a:A {k: [1, 2.5, 'x\\n']})-[r:T|U*1..2]->(b) WHERE a.x =~ 'y' \
                AND all(z IN r WHERE z.w > 0) WITH a, [q IN nodes(p) | q {.k}] AS ns \
                ORDER BY a.k DESC SKIP 1 LIMIT 2 MERGE (a)-[:X]->(c) ON CREATE SET c += {u: 1} \
                RETURN CASE WHEN a IS NULL THEN 0 ELSE count(*) END AS c";
    ok(rich);
    for (i, _) in rich.char_indices() {
        let _ = parse(&rich[..i]);
    }
}

thread_local! {
    /// (depth, stack address) when nesting first reached 10 and 60 levels.
    static STACK_AT: std::cell::Cell<[(usize, usize); 2]> =
        const { std::cell::Cell::new([(0, 0); 2]) };
}

/// Records the stack address when nesting first reaches 10 and 60 levels (called from
/// `enter_n`).
#[inline(never)]
pub(super) fn record_stack_depth(depth: usize) {
    let marker = 0u8;
    let addr = std::hint::black_box(&marker) as *const u8 as usize;
    STACK_AT.with(|c| {
        let mut v = c.get();
        if depth >= 10 && v[0].0 == 0 {
            v[0] = (depth, addr);
        } else if depth >= 60 && v[1].0 == 0 {
            v[1] = (depth, addr);
        }
        c.set(v);
    });
}

/// Stack bytes used per nesting level while parsing `q` (which must nest 60 levels).
fn stack_per_level(q: &str) -> usize {
    STACK_AT.with(|c| c.set([(0, 0); 2]));
    let _ = parse(q);
    let [(d0, a0), (d1, a1)] = STACK_AT.with(|c| c.get());
    assert!(d0 != 0 && d1 != 0, "query did not nest 60 levels: {q}");
    a0.abs_diff(a1) / (d1 - d0)
}

#[test]
fn stack_use_per_level_fits_a_small_stack() {
    // 200 levels must fit in 256 KiB with room for the clauses around them.
    let n = 70;
    let cases = [
        format!("RETURN {}1{}", "(".repeat(n), ")".repeat(n)),
        format!("RETURN {}1{}", "[".repeat(n), "]".repeat(n)),
        format!("RETURN {}1", "NOT ".repeat(n)),
        format!("RETURN {}1", "- ".repeat(n)),
        format!("RETURN {}", "{a: ".repeat(n) + "1" + &"}".repeat(n)),
        format!("RETURN {}", "f(".repeat(n) + "1" + &")".repeat(n)),
        format!("RETURN 1{}", " + (1".repeat(n) + &")".repeat(n)),
        format!("RETURN {}", "[x IN ".repeat(n) + "1" + &"]".repeat(n)),
        format!(
            "RETURN {}",
            "CASE WHEN ".repeat(n) + "1" + &" THEN 1 END".repeat(n)
        ),
        format!(
            "MATCH (n) WHERE {}true{} RETURN n",
            "EXISTS { MATCH (n) WHERE ".repeat(n / 4),
            " }".repeat(n / 4)
        ),
        format!(
            "MATCH (n) {} SET n.x = 1 {}",
            "FOREACH (x IN [1] | ".repeat(n / 4),
            ")".repeat(n / 4)
        ),
        format!(
            "MATCH (a) WHERE {}true{} RETURN a",
            "(a)-[:R {k: ".repeat(n / 2),
            "}]->()".repeat(n / 2)
        ),
    ];
    for (i, q) in cases.iter().enumerate() {
        let per = stack_per_level(q);
        eprintln!("{per:5} bytes/level: {}", &q[..q.len().min(40)]);
        // The forms hostile input uses most (parentheses, lists, NOT, minus) must reach the
        // depth cap before the stack budget, so their error is exactly the depth error.
        if i < 4 {
            assert!(
                per * MAX_DEPTH < STACK_BUDGET,
                "{per} bytes per level for {q}"
            );
        }
    }
}

/// The TCK precedence scenarios return `X AS a, <X with explicit parentheses> AS b`: both
/// must parse to the same tree.
#[test]
fn tck_precedence_scenarios_match_their_parenthesised_forms() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/tck/features/expressions/precedence");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("TCK not found at {}: skipping", dir.display());
        return;
    };
    let mut checked = 0;
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for scenario in text.split("Scenario").skip(1) {
            let Some(q_start) = scenario.find("\"\"\"") else {
                continue;
            };
            let rest = &scenario[q_start + 3..];
            let Some(q_end) = rest.find("\"\"\"") else {
                continue;
            };
            let query = &rest[..q_end];
            let mut rows: Vec<Vec<(String, String)>> = Vec::new();
            if let Some(ex) = scenario.find("Examples:") {
                let table: Vec<Vec<String>> = scenario[ex..]
                    .lines()
                    .skip(1)
                    .map(str::trim)
                    .take_while(|l| l.starts_with('|'))
                    .map(|l| {
                        l.trim_matches('|')
                            .split('|')
                            .map(|c| c.trim().to_string())
                            .collect()
                    })
                    .collect();
                if let Some((header, body)) = table.split_first() {
                    for r in body {
                        rows.push(header.iter().cloned().zip(r.iter().cloned()).collect());
                    }
                }
            } else {
                rows.push(Vec::new());
            }
            for row in rows {
                let mut q = query.to_string();
                for (k, v) in &row {
                    q = q.replace(&format!("<{k}>"), v);
                }
                let Ok(st) = parse(&q) else { continue };
                let StatementKind::Query(qu) = st.kind else {
                    continue;
                };
                let Some(Clause::Return(r)) = qu.parts[0].clauses.last() else {
                    continue;
                };
                let item = |n: &str| r.projection.items.iter().find(|i| i.name() == n);
                let bare = |t: &str| -> String {
                    t.chars()
                        .filter(|c| !matches!(c, '(' | ')') && !c.is_whitespace())
                        .collect()
                };
                if let (Some(a), Some(b)) = (item("a"), item("b")) {
                    if bare(&a.text) != bare(&b.text) {
                        continue;
                    }
                    assert_eq!(show(&a.expr), show(&b.expr), "in query:\n{q}");
                    checked += 1;
                }
            }
        }
    }
    println!("checked {checked} precedence queries");
    assert!(checked > 0);
}
