//! Registering procedures that Cypher's `CALL` can run (`Database::register_procedure`).
//!
//! A procedure has a signature — qualified name, typed inputs, typed outputs, read-only or
//! not — written in the usual Cypher form and read by [`ProcedureSignature::parse`]:
//!
//! ```text
//! my.lookup(name :: STRING?, id :: INTEGER) :: (city :: STRING?, code :: INTEGER?)
//! my.touch() :: ()            -- VOID: called for its effect, yields nothing
//! ```
//!
//! `?` marks a field that may be null. The callback gets the arguments (checked against the
//! signature; an INTEGER passed to a FLOAT input arrives as a float) and returns the records,
//! each a row of output values in signature order.

use std::sync::Arc;

use super::connection::{caller_value, engine_value};
use super::Value;
use crate::cypher::exec::{ProcBody, ProcField, ProcType, Procedure};
use crate::error::{Error, Result};
use crate::txn::Transaction;
use crate::value;

pub use crate::cypher::exec::{ProcField as ProcedureField, ProcType as ProcedureType};

/// What a procedure is called and what it takes and yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureSignature {
    /// Qualified name: dotted identifiers, e.g. `my.lookup`.
    pub name: String,
    pub inputs: Vec<ProcField>,
    /// Empty for a VOID procedure.
    pub outputs: Vec<ProcField>,
    /// False when the procedure changes state: it is then refused in read-only transactions.
    pub read_only: bool,
}

impl ProcedureSignature {
    /// Reads `name(in :: TYPE[?], ...) :: (out :: TYPE[?], ...)`; the procedure is read-only
    /// (see [`ProcedureSignature::writes`]). Types: ANY, BOOLEAN, INTEGER, FLOAT, NUMBER,
    /// STRING, LIST (also `LIST OF T`, `LIST<T>`), MAP, NODE, RELATIONSHIP, PATH.
    pub fn parse(text: &str) -> Result<ProcedureSignature> {
        let bad = |what: &str| {
            Error::invalid_argument(format!(
                "procedure signature `{text}`: {what}; write it like `my.proc(in :: INTEGER?) :: (out :: STRING?)`"
            ))
        };
        let open = text.find('(').ok_or_else(|| bad("no `(` after the name"))?;
        let name = text[..open].trim().to_owned();
        let close =
            matching_paren(text, open).ok_or_else(|| bad("the inputs' `(` is not closed"))?;
        let inputs = parse_fields(&text[open + 1..close]).map_err(|e| bad(&e))?;
        let rest = text[close + 1..].trim();
        let rest = rest
            .strip_prefix("::")
            .ok_or_else(|| bad("no `::` before the outputs"))?
            .trim();
        let rest = rest.strip_suffix(':').unwrap_or(rest).trim();
        let outputs = if rest.eq_ignore_ascii_case("VOID") {
            Vec::new()
        } else {
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| bad("the outputs must be in parentheses, `()` for none"))?;
            parse_fields(inner).map_err(|e| bad(&e))?
        };
        Ok(ProcedureSignature {
            name,
            inputs,
            outputs,
            read_only: true,
        })
    }

    /// Marks the procedure as changing state (refused in read-only transactions).
    pub fn writes(mut self) -> ProcedureSignature {
        self.read_only = false;
        self
    }
}

fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `a :: INTEGER?, b :: LIST OF STRING` → fields.
fn parse_fields(text: &str) -> std::result::Result<Vec<ProcField>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    for part in split_top_level(text) {
        let (name, ty) = part
            .split_once("::")
            .ok_or_else(|| format!("field `{}` has no `:: TYPE`", part.trim()))?;
        let name = name.trim().trim_matches('`').to_owned();
        let ty = ty.trim();
        let (ty, nullable) = match ty.strip_suffix('?') {
            Some(t) => (t.trim(), true),
            None => (ty, false),
        };
        let parsed = ProcType::parse(ty).ok_or_else(|| format!("unknown type `{ty}`"))?;
        fields.push(ProcField {
            name,
            ty: parsed,
            nullable,
        });
    }
    Ok(fields)
}

/// Splits on commas outside `<...>`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The callback a registered procedure runs: arguments in, records out.
pub type ProcedureCallback = dyn Fn(&[Value]) -> Result<Vec<Vec<Value>>> + Send + Sync;

/// Wraps a caller's callback as an engine procedure: arguments are materialized as API
/// values in the calling transaction's view, records converted back (nodes and
/// relationships by id, which must exist in that transaction).
pub(crate) fn engine_procedure(
    sig: ProcedureSignature,
    callback: Arc<ProcedureCallback>,
) -> Procedure {
    let name = sig.name.clone();
    let body: ProcBody = Arc::new(move |tx: &Transaction, args: &[value::Value]| {
        let api_args: Vec<Value> = args.iter().map(|a| caller_value(a.clone(), tx)).collect();
        let records = callback(&api_args)?;
        records
            .iter()
            .map(|rec| rec.iter().map(|v| to_engine(v, tx, &name)).collect())
            .collect()
    });
    Procedure {
        name: sig.name,
        inputs: sig.inputs,
        outputs: sig.outputs,
        read_only: sig.read_only,
        body,
    }
}

fn to_engine(v: &Value, tx: &Transaction, proc: &str) -> Result<value::Value> {
    Ok(match v {
        Value::Node(n) => {
            if !tx.node_exists(n.id) {
                return Err(Error::invalid_argument(format!(
                    "procedure `{proc}` returned node {} which does not exist in this transaction",
                    n.id
                )));
            }
            value::Value::Node(n.id)
        }
        Value::Relationship(r) => {
            if !tx.rel_exists(r.id) {
                return Err(Error::invalid_argument(format!(
                    "procedure `{proc}` returned relationship {} which does not exist in this transaction",
                    r.id
                )));
            }
            value::Value::Relationship(r.id)
        }
        Value::Path(_) => {
            return Err(Error::invalid_argument(format!(
                "procedure `{proc}` returned a path, which procedures cannot yield yet; yield its nodes and relationships as lists"
            )))
        }
        Value::List(items) => value::Value::List(
            items
                .iter()
                .map(|i| to_engine(i, tx, proc))
                .collect::<Result<_>>()?,
        ),
        Value::Map(m) => value::Value::Map(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), to_engine(v, tx, proc)?)))
                .collect::<Result<_>>()?,
        ),
        other => engine_value(other, proc)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_parse_with_nullability_and_void() {
        let s = ProcedureSignature::parse(
            "test.my.proc(name :: STRING?, id :: INTEGER) :: (city :: STRING?, l :: LIST OF INTEGER?)",
        )
        .unwrap();
        assert_eq!(s.name, "test.my.proc");
        assert_eq!(s.inputs.len(), 2);
        assert!(s.inputs[0].nullable && !s.inputs[1].nullable);
        assert_eq!(s.inputs[1].ty, ProcType::Integer);
        assert_eq!(s.outputs[1].ty, ProcType::List);
        let v = ProcedureSignature::parse("test.doNothing() :: ()").unwrap();
        assert!(v.inputs.is_empty() && v.outputs.is_empty());
        let t = ProcedureSignature::parse("a.b(x :: INTEGER?) :: (a :: INTEGER?) :").unwrap();
        assert_eq!(t.outputs.len(), 1);
    }

    #[test]
    fn bad_signatures_say_what_is_wrong() {
        for bad in [
            "noparens",
            "a.b(x INTEGER) :: ()",
            "a.b(x :: WHATEVER) :: ()",
            "a.b() (x :: INTEGER)",
            "a.b( :: ()",
        ] {
            let e = ProcedureSignature::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
