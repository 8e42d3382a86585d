//! The TCK's value notation in expected tables and parameters, and its comparison with
//! result values of the public API (TCK semantics: entities compare by labels/type and
//! properties, never by id).

use std::collections::BTreeMap;

use graphdb::api::{Node, Relationship, Value};

#[derive(Debug, Clone)]
pub struct TNode {
    pub labels: Vec<String>,
    pub props: Vec<(String, TVal)>,
}

#[derive(Debug, Clone)]
pub struct TRel {
    pub rel_type: String,
    pub props: Vec<(String, TVal)>,
}

/// A value as written in the TCK.
#[derive(Debug, Clone)]
pub enum TVal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<TVal>),
    Map(Vec<(String, TVal)>),
    Node(TNode),
    Rel(TRel),
    /// The start node, then (relationship, points forward, next node) per hop.
    Path(TNode, Vec<(TRel, bool, TNode)>),
}

struct P<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

/// Parses one cell. Errors name what was not understood.
pub fn parse(text: &str) -> Result<TVal, String> {
    let mut p = P {
        s: text.as_bytes(),
        src: text,
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing text in value '{text}' at {}", p.i));
    }
    Ok(v)
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "expected '{}' at {} in '{}'",
                c as char, self.i, self.src
            ))
        }
    }
    fn rest_starts(&mut self, w: &str) -> bool {
        self.ws();
        self.src[self.i..].starts_with(w)
    }
    fn ident(&mut self) -> Result<String, String> {
        self.ws();
        if self.eat(b'`') {
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i] != b'`' {
                self.i += 1;
            }
            let name = self.src[start..self.i].to_string();
            self.expect(b'`')?;
            return Ok(name);
        }
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(format!("expected a name at {} in '{}'", self.i, self.src));
        }
        Ok(self.src[start..self.i].to_string())
    }
    fn value(&mut self) -> Result<TVal, String> {
        match self.peek() {
            None => Err(format!("empty value '{}'", self.src)),
            Some(b'\'') | Some(b'"') => self.string().map(TVal::Str),
            Some(b'[') => {
                let save = self.i;
                self.i += 1;
                if self.peek() == Some(b':') {
                    self.i = save;
                    return self.rel().map(TVal::Rel);
                }
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                Ok(TVal::List(items))
            }
            Some(b'{') => self.map().map(TVal::Map),
            Some(b'(') => self.node().map(TVal::Node),
            Some(b'<') => self.path(),
            _ => self.scalar(),
        }
    }
    fn string(&mut self) -> Result<String, String> {
        let q = self.s[self.i];
        self.i += 1;
        let mut out = String::new();
        let mut chars = self.src[self.i..].char_indices();
        while let Some((off, c)) = chars.next() {
            if c == q as char {
                self.i += off + 1;
                return Ok(out);
            }
            if c == '\\' {
                match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, o)) => out.push(o),
                    None => break,
                }
            } else {
                out.push(c);
            }
        }
        Err(format!("unterminated string in '{}'", self.src))
    }
    fn map(&mut self) -> Result<Vec<(String, TVal)>, String> {
        self.expect(b'{')?;
        let mut out = Vec::new();
        if self.eat(b'}') {
            return Ok(out);
        }
        loop {
            let k = self.ident()?;
            self.expect(b':')?;
            let v = self.value()?;
            out.push((k, v));
            if self.eat(b'}') {
                return Ok(out);
            }
            self.expect(b',')?;
        }
    }
    fn node(&mut self) -> Result<TNode, String> {
        self.expect(b'(')?;
        let mut labels = Vec::new();
        while self.eat(b':') {
            labels.push(self.ident()?);
        }
        let props = if self.peek() == Some(b'{') {
            self.map()?
        } else {
            Vec::new()
        };
        self.expect(b')')?;
        Ok(TNode { labels, props })
    }
    fn rel(&mut self) -> Result<TRel, String> {
        self.expect(b'[')?;
        self.expect(b':')?;
        let rel_type = self.ident()?;
        let props = if self.peek() == Some(b'{') {
            self.map()?
        } else {
            Vec::new()
        };
        self.expect(b']')?;
        Ok(TRel { rel_type, props })
    }
    fn path(&mut self) -> Result<TVal, String> {
        self.expect(b'<')?;
        let start = self.node()?;
        let mut hops = Vec::new();
        while !self.eat(b'>') {
            let backward = self.eat(b'<');
            self.expect(b'-')?;
            let r = self.rel()?;
            self.expect(b'-')?;
            let forward = self.eat(b'>');
            if forward == backward {
                return Err(format!("path hop without one direction in '{}'", self.src));
            }
            let n = self.node()?;
            hops.push((r, forward, n));
        }
        Ok(TVal::Path(start, hops))
    }
    fn scalar(&mut self) -> Result<TVal, String> {
        for (w, v) in [
            ("null", TVal::Null),
            ("true", TVal::Bool(true)),
            ("false", TVal::Bool(false)),
            ("NaN", TVal::Float(f64::NAN)),
            ("-Infinity", TVal::Float(f64::NEG_INFINITY)),
            ("Infinity", TVal::Float(f64::INFINITY)),
            ("-Inf", TVal::Float(f64::NEG_INFINITY)),
            ("Inf", TVal::Float(f64::INFINITY)),
        ] {
            if self.rest_starts(w) {
                self.i += w.len();
                return Ok(v);
            }
        }
        let start = self.i;
        if matches!(self.s.get(self.i), Some(b'-') | Some(b'+')) {
            self.i += 1;
        }
        let mut float = false;
        while let Some(&c) = self.s.get(self.i) {
            if c.is_ascii_digit() {
                self.i += 1;
            } else if c == b'.' || c == b'e' || c == b'E' {
                float = true;
                self.i += 1;
                if (c == b'e' || c == b'E') && matches!(self.s.get(self.i), Some(b'-') | Some(b'+'))
                {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
        let t = &self.src[start..self.i];
        if t.is_empty() || t == "-" {
            return Err(format!(
                "cannot read a value at {} in '{}'",
                start, self.src
            ));
        }
        if float {
            t.parse::<f64>()
                .map(TVal::Float)
                .map_err(|e| format!("bad float '{t}': {e}"))
        } else {
            t.parse::<i64>()
                .map(TVal::Int)
                .map_err(|e| format!("bad integer '{t}': {e}"))
        }
    }
}

/// The TCK value as a parameter value (entities cannot be parameters).
pub fn to_param(v: &TVal) -> Result<Value, String> {
    Ok(match v {
        TVal::Null => Value::Null,
        TVal::Bool(b) => Value::Bool(*b),
        TVal::Int(i) => Value::Int(*i),
        TVal::Float(f) => Value::Float(*f),
        TVal::Str(s) => Value::String(s.clone()),
        TVal::List(l) => Value::List(l.iter().map(to_param).collect::<Result<_, _>>()?),
        TVal::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_param(v)?)))
                .collect::<Result<BTreeMap<_, _>, String>>()?,
        ),
        _ => return Err("an entity cannot be a parameter".into()),
    })
}

fn float_eq(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    // The TCK writes floats as Java prints them (shortest round-trip form), so the relative
    // tolerance only absorbs last-digit differences of the printing, not real errors.
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

fn props_eq(exp: &[(String, TVal)], got: &BTreeMap<String, Value>, unordered: bool) -> bool {
    exp.len() == got.len()
        && exp
            .iter()
            .all(|(k, v)| got.get(k).is_some_and(|g| matches(v, g, unordered)))
}

fn node_eq(e: &TNode, n: &Node, unordered: bool) -> bool {
    let mut el: Vec<&String> = e.labels.iter().collect();
    let mut gl: Vec<&String> = n.labels.iter().collect();
    el.sort();
    gl.sort();
    el == gl && props_eq(&e.props, &n.properties, unordered)
}

fn rel_eq(e: &TRel, r: &Relationship, unordered: bool) -> bool {
    e.rel_type == r.rel_type && props_eq(&e.props, &r.properties, unordered)
}

/// Whether the result value `got` is the expected `exp`. With `unordered`, lists compare as
/// multisets (the TCK's "ignoring element order for lists").
pub fn matches(exp: &TVal, got: &Value, unordered: bool) -> bool {
    match (exp, got) {
        (TVal::Null, Value::Null) => true,
        (TVal::Bool(a), Value::Bool(b)) => a == b,
        (TVal::Int(a), Value::Int(b)) => a == b,
        (TVal::Float(a), Value::Float(b)) => float_eq(*a, *b),
        (TVal::Str(a), Value::String(b)) => a == b,
        // The TCK writes temporal values as their Cypher string form: '2015-07-21'.
        (TVal::Str(a), temporal) if temporal.temporal_string().is_some() => {
            temporal.temporal_string().as_deref() == Some(a.as_str())
        }
        (TVal::List(a), Value::List(b)) => {
            if a.len() != b.len() {
                return false;
            }
            if unordered {
                multiset_match(a, b, |e, g| matches(e, g, unordered))
            } else {
                a.iter().zip(b).all(|(e, g)| matches(e, g, unordered))
            }
        }
        (TVal::Map(a), Value::Map(b)) => props_eq(a, b, unordered),
        (TVal::Node(a), Value::Node(b)) => node_eq(a, b, unordered),
        (TVal::Rel(a), Value::Relationship(b)) => rel_eq(a, b, unordered),
        (TVal::Path(start, hops), Value::Path(p)) => {
            if p.nodes.len() != hops.len() + 1 || p.relationships.len() != hops.len() {
                return false;
            }
            if !node_eq(start, &p.nodes[0], unordered) {
                return false;
            }
            hops.iter().enumerate().all(|(i, (r, fwd, n))| {
                let rel = &p.relationships[i];
                let (from, to) = (p.nodes[i].id, p.nodes[i + 1].id);
                let dir_ok = if *fwd {
                    rel.start == from && rel.end == to
                } else {
                    rel.start == to && rel.end == from
                };
                dir_ok && rel_eq(r, rel, unordered) && node_eq(n, &p.nodes[i + 1], unordered)
            })
        }
        _ => false,
    }
}

/// Whether each expected item pairs with a distinct actual item (greedy; equality is exact
/// enough that greedy pairing does not miss a matching).
pub fn multiset_match<E, G>(exp: &[E], got: &[G], eq: impl Fn(&E, &G) -> bool) -> bool {
    if exp.len() != got.len() {
        return false;
    }
    let mut used = vec![false; got.len()];
    for e in exp {
        match (0..got.len()).find(|&j| !used[j] && eq(e, &got[j])) {
            Some(j) => used[j] = true,
            None => return false,
        }
    }
    true
}

/// A result value in the TCK's notation, for failure messages.
pub fn show(v: &Value) -> String {
    fn props(p: &BTreeMap<String, Value>) -> String {
        if p.is_empty() {
            return String::new();
        }
        let inner: Vec<String> = p.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect();
        format!(" {{{}}}", inner.join(", "))
    }
    fn node(n: &Node) -> String {
        let labels: String = n.labels.iter().map(|l| format!(":{l}")).collect();
        format!("({labels}{})", props(&n.properties))
    }
    fn rel(r: &Relationship) -> String {
        format!("[:{}{}]", r.rel_type, props(&r.properties))
    }
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::String(s) => format!("'{s}'"),
        Value::List(l) => format!("[{}]", l.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Map(m) => {
            let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Node(n) => node(n),
        Value::Relationship(r) => rel(r),
        Value::Path(p) => {
            let mut s = format!("<{}", p.nodes.first().map(node).unwrap_or_default());
            for (i, r) in p.relationships.iter().enumerate() {
                let fwd = p.nodes.get(i).is_some_and(|n| n.id == r.start);
                let next = p.nodes.get(i + 1).map(node).unwrap_or_default();
                if fwd {
                    s += &format!("-{}->{next}", rel(r));
                } else {
                    s += &format!("<-{}-{next}", rel(r));
                }
            }
            s + ">"
        }
        // Temporal values in the TCK's notation: their string form, quoted.
        other => match other.temporal_string() {
            Some(t) => format!("'{t}'"),
            None => format!("{other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64, labels: &[&str], props: &[(&str, Value)]) -> Node {
        Node {
            id,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn temporal_values_match_their_string_notation() {
        use graphdb::temporal::parse;
        let d = Value::Date(parse::date("1984-10-11").unwrap());
        assert!(matches(&parse("'1984-10-11'").unwrap(), &d, false));
        assert!(!matches(&parse("'1984-10-12'").unwrap(), &d, false));
        // Only the string notation stands for a temporal value.
        assert!(!matches(&parse("1").unwrap(), &d, false));
        let list = Value::List(vec![
            Value::Duration(parse::duration("PT1S").unwrap()),
            Value::Time(parse::time("12:00+01:00").unwrap()),
        ]);
        assert!(matches(
            &parse("['12:00+01:00', 'PT1S']").unwrap(),
            &list,
            true
        ));
        assert_eq!(show(&d), "'1984-10-11'");
    }

    #[test]
    fn scalars_lists_and_maps_parse_and_compare_strictly() {
        let v = parse("[1, 2.5, 'a\\'b', null, true, {k: [NaN, -Inf]}]").unwrap();
        let got = Value::List(vec![
            Value::Int(1),
            Value::Float(2.5),
            Value::String("a'b".into()),
            Value::Null,
            Value::Bool(true),
            Value::Map(
                [(
                    "k".to_string(),
                    Value::List(vec![
                        Value::Float(f64::NAN),
                        Value::Float(f64::NEG_INFINITY),
                    ]),
                )]
                .into(),
            ),
        ]);
        assert!(matches(&v, &got, false));
        // An integer is not a float, and list order counts unless told otherwise.
        assert!(!matches(&parse("1.0").unwrap(), &Value::Int(1), false));
        let rev = parse("[2, 1]").unwrap();
        let l = Value::List(vec![Value::Int(1), Value::Int(2)]);
        assert!(!matches(&rev, &l, false));
        assert!(matches(&rev, &l, true));
        assert!(parse("[1, 2").is_err());
    }

    #[test]
    fn entities_compare_by_labels_and_properties_and_paths_by_direction() {
        let a = node(7, &["B", "A"], &[("name", Value::String("x".into()))]);
        assert!(matches(
            &parse("(:A:B {name: 'x'})").unwrap(),
            &Value::Node(a.clone()),
            false
        ));
        assert!(!matches(
            &parse("(:A {name: 'x'})").unwrap(),
            &Value::Node(a.clone()),
            false
        ));
        let b = node(9, &[], &[]);
        let r = Relationship {
            id: 1,
            rel_type: "T".into(),
            start: 9,
            end: 7,
            properties: BTreeMap::new(),
        };
        let path = Value::Path(graphdb::api::Path {
            nodes: vec![a, b],
            relationships: vec![r],
        });
        assert!(matches(
            &parse("<(:A:B {name: 'x'})<-[:T]-()>").unwrap(),
            &path,
            false
        ));
        assert!(!matches(
            &parse("<(:A:B {name: 'x'})-[:T]->()>").unwrap(),
            &path,
            false
        ));
    }
}
