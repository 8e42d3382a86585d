//! CALL: procedures, built-in and registered.
//!
//! A [`Procedures`] registry maps qualified names to [`Procedure`]s: a signature (typed inputs
//! and outputs, read-only or not) and a body producing rows. The built-ins are
//! `db.labels()`, `db.relationshipTypes()`, `db.propertyKeys()` (the names in use in the
//! transaction's snapshot, sorted) and `db.stats()` (the transaction counters as name/value
//! rows); the API layer adds the caller's (`Database::register_procedure`).
//!
//! [`check_calls`] validates every CALL of a query against the registry before anything runs
//! (unknown procedure, argument count, literal argument types, implicit arguments, YIELD
//! fields), so such mistakes change nothing; `run_call` re-checks what only values can tell.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use super::{Exec, RowBindings, Table};
use crate::cypher::ast::{Call, Clause, Expr, ExprKind, Literal, Query};
use crate::cypher::ParamMap;
use crate::error::{Error, ErrorKind, Result};
use crate::txn::{Transaction, TxnKind};
use crate::value::Value;

/// The type of a procedure input or output field, as written in a signature (`INTEGER?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcType {
    Any,
    Boolean,
    Integer,
    Float,
    /// Integer or float.
    Number,
    String,
    List,
    Map,
    Node,
    Relationship,
    Path,
}

impl ProcType {
    /// Reads a type name as written in signatures (case-insensitive; `LIST OF X` and
    /// `LIST<X>` are both `List`).
    pub fn parse(name: &str) -> Option<ProcType> {
        let upper = name.trim().to_ascii_uppercase();
        let head = upper
            .split(|c: char| c == '<' || c.is_whitespace())
            .next()
            .unwrap_or("");
        Some(match head {
            "ANY" => ProcType::Any,
            "BOOLEAN" | "BOOL" => ProcType::Boolean,
            "INTEGER" | "INT" => ProcType::Integer,
            "FLOAT" => ProcType::Float,
            "NUMBER" => ProcType::Number,
            "STRING" => ProcType::String,
            "LIST" => ProcType::List,
            "MAP" => ProcType::Map,
            "NODE" => ProcType::Node,
            "RELATIONSHIP" => ProcType::Relationship,
            "PATH" => ProcType::Path,
            _ => return None,
        })
    }

    /// Whether a non-null value of this runtime type may be passed where `self` is expected
    /// (integers are assignable to FLOAT and NUMBER).
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            ProcType::Any => true,
            ProcType::Boolean => matches!(v, Value::Bool(_)),
            ProcType::Integer => matches!(v, Value::Int(_)),
            ProcType::Float | ProcType::Number => matches!(v, Value::Int(_) | Value::Float(_)),
            ProcType::String => matches!(v, Value::String(_)),
            ProcType::List => matches!(v, Value::List(_)),
            ProcType::Map => matches!(v, Value::Map(_)),
            ProcType::Node => matches!(v, Value::Node(_)),
            ProcType::Relationship => matches!(v, Value::Relationship(_)),
            ProcType::Path => matches!(v, Value::Path(_)),
        }
    }
}

impl fmt::Display for ProcType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProcType::Any => "ANY",
            ProcType::Boolean => "BOOLEAN",
            ProcType::Integer => "INTEGER",
            ProcType::Float => "FLOAT",
            ProcType::Number => "NUMBER",
            ProcType::String => "STRING",
            ProcType::List => "LIST",
            ProcType::Map => "MAP",
            ProcType::Node => "NODE",
            ProcType::Relationship => "RELATIONSHIP",
            ProcType::Path => "PATH",
        })
    }
}

/// One input or output field of a procedure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcField {
    pub name: String,
    pub ty: ProcType,
    /// Whether null is allowed (`INTEGER?`).
    pub nullable: bool,
}

impl fmt::Display for ProcField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = if self.nullable { "?" } else { "" };
        write!(f, "{} :: {}{q}", self.name, self.ty)
    }
}

/// A procedure body: gets the arguments (already checked against the signature, integers
/// converted to floats for FLOAT inputs) and returns one row per record, each row holding the
/// output fields in signature order.
pub type ProcBody = Arc<dyn Fn(&Transaction, &[Value]) -> Result<Vec<Vec<Value>>> + Send + Sync>;

/// A procedure: its signature and body.
#[derive(Clone)]
pub struct Procedure {
    /// Qualified name as declared, e.g. `test.my.proc`.
    pub name: String,
    pub inputs: Vec<ProcField>,
    /// Empty for a VOID procedure (called for its effect; in a query it passes rows through).
    pub outputs: Vec<ProcField>,
    /// False when it may change state: refused in read-only transactions.
    pub read_only: bool,
    pub body: ProcBody,
}

impl Procedure {
    /// The signature as written in messages: `test.my.proc(in :: INTEGER?) :: (out :: STRING?)`.
    pub fn signature(&self) -> String {
        let list = |fs: &[ProcField]| {
            fs.iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{}({}) :: ({})",
            self.name,
            list(&self.inputs),
            list(&self.outputs)
        )
    }
}

impl fmt::Debug for Procedure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.signature())
    }
}

/// Procedures by name (looked up case-insensitively). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Procedures {
    by_name: HashMap<String, Arc<Procedure>>,
}

impl Default for Procedures {
    fn default() -> Self {
        Procedures::builtin()
    }
}

fn field(name: &str, ty: ProcType) -> ProcField {
    ProcField {
        name: name.to_owned(),
        ty,
        nullable: false,
    }
}

impl Procedures {
    /// The built-in procedures only.
    pub fn builtin() -> Procedures {
        let mut p = Procedures {
            by_name: HashMap::new(),
        };
        let builtins: [(&str, Vec<ProcField>, ProcBody); 4] = [
            (
                "db.labels",
                vec![field("label", ProcType::String)],
                Arc::new(|tx, _| Ok(single(all_labels(tx)))),
            ),
            (
                "db.relationshipTypes",
                vec![field("relationshipType", ProcType::String)],
                Arc::new(|tx, _| Ok(single(all_types(tx)))),
            ),
            (
                "db.propertyKeys",
                vec![field("propertyKey", ProcType::String)],
                Arc::new(|tx, _| Ok(single(all_keys(tx)))),
            ),
            (
                "db.stats",
                vec![
                    field("name", ProcType::String),
                    field("value", ProcType::Integer),
                ],
                Arc::new(|tx, _| Ok(stats(tx))),
            ),
        ];
        for (name, outputs, body) in builtins {
            p.by_name.insert(
                name.to_ascii_lowercase(),
                Arc::new(Procedure {
                    name: name.to_owned(),
                    inputs: Vec::new(),
                    outputs,
                    read_only: true,
                    body,
                }),
            );
        }
        p
    }

    /// Adds `proc`; refuses a name already taken (built-in or registered) and malformed
    /// signatures (empty or duplicate field names).
    pub fn register(&mut self, proc: Procedure) -> Result<()> {
        let key = proc.name.to_ascii_lowercase();
        let valid_name = !proc.name.is_empty()
            && proc.name.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
        if !valid_name {
            return Err(Error::invalid_argument(format!(
                "`{}` is not a valid procedure name; use dotted identifiers like `my.proc`",
                proc.name
            )));
        }
        if let Some(old) = self.by_name.get(&key) {
            return Err(Error::invalid_argument(format!(
                "a procedure named `{}` is already registered ({}); pick another name",
                proc.name,
                old.signature()
            )));
        }
        for fields in [&proc.inputs, &proc.outputs] {
            let mut seen = BTreeSet::new();
            for f in fields {
                if f.name.is_empty() || !seen.insert(f.name.as_str()) {
                    return Err(Error::invalid_argument(format!(
                        "procedure `{}` has an empty or repeated field name `{}`; each input and output needs its own name",
                        proc.name, f.name
                    )));
                }
            }
        }
        self.by_name.insert(key, Arc::new(proc));
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Procedure>> {
        self.by_name.get(&name.to_ascii_lowercase())
    }

    /// Every procedure's signature, sorted by name.
    pub fn signatures(&self) -> Vec<String> {
        let mut v: Vec<&Arc<Procedure>> = self.by_name.values().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v.into_iter().map(|p| p.signature()).collect()
    }

    fn lookup(&self, c: &Call) -> Result<&Arc<Procedure>> {
        let full = c.procedure.join(".");
        self.get(&full).ok_or_else(|| {
            let mut names: Vec<&str> = self.by_name.values().map(|p| p.name.as_str()).collect();
            names.sort_unstable();
            Error::semantic(format!(
                "unknown procedure `{full}`; the available procedures are {}",
                names.join(", ")
            ))
            .at(c.span.line, c.span.column)
        })
    }
}

/// Whether a CALL is standalone: the whole query part is this one clause, so it may take its
/// arguments implicitly from parameters and return the procedure's fields without YIELD.
fn is_standalone(clauses: &[Clause]) -> bool {
    matches!(clauses, [Clause::Call(_)])
}

/// Checks every CALL in `query` against `procs` before anything runs.
pub(crate) fn check_calls(query: &Query, procs: &Procedures, params: &ParamMap) -> Result<()> {
    for part in &query.parts {
        let standalone = is_standalone(&part.clauses);
        for clause in &part.clauses {
            if let Clause::Call(c) = clause {
                check_call(c, procs, params, standalone)?;
            }
        }
    }
    Ok(())
}

fn check_call(c: &Call, procs: &Procedures, params: &ParamMap, standalone: bool) -> Result<()> {
    let p = procs.lookup(c)?;
    let at = |e: Error| e.at(c.span.line, c.span.column);
    match &c.args {
        None if !p.inputs.is_empty() => {
            if !standalone {
                return Err(at(Error::semantic(format!(
                    "procedure `{}` takes arguments, which only a standalone CALL may pass implicitly from parameters; write them out: CALL {}",
                    p.name,
                    p.signature()
                ))));
            }
            for input in &p.inputs {
                if !params.contains_key(&input.name) {
                    return Err(at(Error::semantic(format!(
                        "procedure `{}` takes its argument `{}` implicitly from the parameter ${}, which is not given; pass it as a parameter or write the arguments out",
                        p.name, input.name, input.name
                    ))));
                }
            }
        }
        None => {}
        Some(args) => {
            if args.len() != p.inputs.len() {
                return Err(at(Error::semantic(format!(
                    "procedure `{}` takes {} argument(s), but got {}: {}",
                    p.name,
                    p.inputs.len(),
                    args.len(),
                    p.signature()
                ))));
            }
            for (a, input) in args.iter().zip(&p.inputs) {
                if let Some(v) = literal_value(a) {
                    check_arg(&p.name, input, &v).map_err(|e| {
                        Error::semantic(e.message().to_owned()).at(a.span.line, a.span.column)
                    })?;
                }
            }
        }
    }
    if c.yield_star && !standalone {
        return Err(at(Error::semantic(
            "YIELD * is only allowed in a standalone CALL; name the fields to yield",
        )));
    }
    match &c.yield_items {
        Some(items) => {
            for y in items {
                if !p.outputs.iter().any(|o| o.name == y.field.name) {
                    return Err(Error::semantic(format!(
                        "procedure `{}` has no output `{}`; it yields {}",
                        p.name,
                        y.field.name,
                        output_list(p)
                    ))
                    .at(y.field.span.line, y.field.span.column));
                }
            }
        }
        None if !standalone && !p.outputs.is_empty() && !c.yield_star => {
            return Err(at(Error::semantic(format!(
                "a CALL inside a query must name the outputs it uses with YIELD; procedure `{}` yields {}",
                p.name,
                output_list(p)
            ))));
        }
        None => {}
    }
    Ok(())
}

fn output_list(p: &Procedure) -> String {
    if p.outputs.is_empty() {
        return "nothing (it is VOID)".into();
    }
    p.outputs
        .iter()
        .map(|o| format!("`{}`", o.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value of a constant argument (literals, and lists/maps of them); None otherwise.
fn literal_value(e: &Expr) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Literal(l) => match l {
            Literal::Null => Value::Null,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Float(f) => Value::Float(*f),
            Literal::String(s) => Value::String(s.clone()),
        },
        ExprKind::List(items) => {
            Value::List(items.iter().map(literal_value).collect::<Option<_>>()?)
        }
        ExprKind::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Some((k.name.clone(), literal_value(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// Checks one argument against its input field; returns it converted (INTEGER → FLOAT).
fn check_arg(proc: &str, input: &ProcField, v: &Value) -> Result<Value> {
    if v.is_null() {
        if input.nullable {
            return Ok(Value::Null);
        }
        return Err(Error::type_error(format!(
            "procedure `{proc}` needs a value for its argument `{input}`, but got null"
        )));
    }
    if !input.ty.accepts(v) {
        return Err(Error::type_error(format!(
            "procedure `{proc}` expects its argument `{input}`, but got a {}",
            v.type_name()
        )));
    }
    Ok(match (input.ty, v) {
        (ProcType::Float, Value::Int(i)) => Value::Float(*i as f64),
        _ => v.clone(),
    })
}

impl Exec<'_> {
    /// Runs a CALL for every input row. Returns the table and whether it is the query's
    /// result (a standalone CALL without YIELD returns the procedure's own columns).
    pub(crate) fn run_call(
        &mut self,
        table: Table,
        c: &Call,
        standalone: bool,
    ) -> Result<(Table, bool)> {
        let p = Arc::clone(self.procs.lookup(c)?);
        if !p.read_only && self.tx.r().kind() == TxnKind::ReadOnly {
            return Err(Error::read_only(format!(
                "procedure `{}` may change data and cannot run in a read-only transaction",
                p.name
            ))
            .at(c.span.line, c.span.column));
        }
        // (output column name, index of the field it takes)
        let outputs: Vec<(String, usize)> = match &c.yield_items {
            None => p
                .outputs
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect(),
            Some(items) => {
                let mut outs = Vec::new();
                for y in items {
                    let Some(i) = p.outputs.iter().position(|f| f.name == y.field.name) else {
                        return Err(Error::semantic(format!(
                            "procedure `{}` has no output `{}`; it yields {}",
                            p.name,
                            y.field.name,
                            output_list(&p)
                        ))
                        .at(y.field.span.line, y.field.span.column));
                    };
                    outs.push((y.alias.as_ref().unwrap_or(&y.field).name.clone(), i));
                }
                outs
            }
        };
        let void = p.outputs.is_empty();
        let mut cols = table.cols.clone();
        cols.extend(outputs.iter().map(|(n, _)| n.clone()));
        let mut rows = Vec::new();
        for (n, row) in table.rows.iter().enumerate() {
            if n % 256 == 0 {
                self.control.check()?;
            }
            let b = RowBindings {
                cols: &table.cols,
                vals: row,
                outer: None,
            };
            let records = self.invoke(&p, c, &b)?;
            // A VOID procedure in a query passes each row through once; standalone it
            // returns nothing.
            if void {
                if !standalone {
                    rows.push(row.clone());
                }
                continue;
            }
            for record in &records {
                let mut r = row.clone();
                r.extend(outputs.iter().map(|(_, i)| record[*i].clone()));
                if let Some(pred) = &c.where_ {
                    let b = RowBindings {
                        cols: &cols,
                        vals: &r,
                        outer: None,
                    };
                    if !self.holds(pred, &b)? {
                        continue;
                    }
                }
                rows.push(r);
            }
        }
        // A standalone CALL runs on the unit table, so its columns are exactly the outputs.
        Ok((Table { cols, rows }, standalone))
    }

    /// Evaluates the arguments in `b`, calls the body, and checks the records it returns.
    fn invoke(&self, p: &Procedure, c: &Call, b: &RowBindings) -> Result<Vec<Vec<Value>>> {
        let mut args = Vec::with_capacity(p.inputs.len());
        for (i, input) in p.inputs.iter().enumerate() {
            let (v, span) = match &c.args {
                Some(exprs) => match exprs.get(i) {
                    Some(e) => (self.eval(e, b)?, e.span),
                    None => (Value::Null, c.span),
                },
                // Implicit arguments: check_calls made sure each parameter is there.
                None => (
                    self.params.get(&input.name).cloned().unwrap_or(Value::Null),
                    c.span,
                ),
            };
            args.push(check_arg(&p.name, input, &v).map_err(|e| e.at(span.line, span.column))?);
        }
        let records = (p.body)(self.tx.r(), &args).map_err(|e| {
            if e.position().is_some() {
                e
            } else {
                e.at(c.span.line, c.span.column)
            }
        })?;
        for rec in &records {
            if rec.len() != p.outputs.len() {
                return Err(Error::new(
                    ErrorKind::Error,
                    format!(
                        "procedure `{}` returned a record with {} value(s), but its signature declares {} output(s); fix the procedure",
                        p.name,
                        rec.len(),
                        p.outputs.len()
                    ),
                )
                .at(c.span.line, c.span.column));
            }
            for (v, out) in rec.iter().zip(&p.outputs) {
                let ok = if v.is_null() {
                    out.nullable || out.ty == ProcType::Any
                } else {
                    out.ty.accepts(v)
                };
                if !ok {
                    return Err(Error::new(
                        ErrorKind::Error,
                        format!(
                            "procedure `{}` returned a {} for its output `{out}`; fix the procedure",
                            p.name,
                            v.type_name()
                        ),
                    )
                    .at(c.span.line, c.span.column));
                }
            }
        }
        Ok(records)
    }
}

/// `db.stats()`: the database's transaction counters, one (name, value) row each.
fn stats(tx: &Transaction) -> Vec<Vec<Value>> {
    tx.database_stats()
        .entries()
        .into_iter()
        .map(|(name, v)| {
            vec![
                Value::String(name.to_owned()),
                Value::Int(i64::try_from(v).unwrap_or(i64::MAX)),
            ]
        })
        .collect()
}

fn all_labels(tx: &Transaction) -> Vec<Value> {
    let mut set = BTreeSet::new();
    for n in tx.scan_nodes() {
        for l in tx.node_labels(n) {
            set.insert(tx.label_name(l).to_string());
        }
    }
    set.into_iter().map(Value::String).collect()
}

fn all_types(tx: &Transaction) -> Vec<Value> {
    let mut set = BTreeSet::new();
    for r in tx.scan_rels() {
        if let Some(t) = tx.rel_type(r) {
            set.insert(tx.rel_type_name(t).to_string());
        }
    }
    set.into_iter().map(Value::String).collect()
}

fn all_keys(tx: &Transaction) -> Vec<Value> {
    let mut set = BTreeSet::new();
    for n in tx.scan_nodes() {
        for (k, _) in tx.node_properties(n) {
            set.insert(tx.key_name(k).to_string());
        }
    }
    for r in tx.scan_rels() {
        for (k, _) in tx.rel_properties(r) {
            set.insert(tx.key_name(k).to_string());
        }
    }
    set.into_iter().map(Value::String).collect()
}

fn single(values: Vec<Value>) -> Vec<Vec<Value>> {
    values.into_iter().map(|v| vec![v]).collect()
}
