//! The direct plan of a prepared point lookup: `MATCH (n:L {k: $p}) RETURN n.a, n.b AS c`.
//!
//! The general compiled plan (`prepared.rs`, `MatchReturn`) answers this statement with one
//! index equality seek whose answer it takes as exact (see `Searcher::index_start`), then, per
//! node found, binds the node in the search state and evaluates each item (`n.a` reads the
//! node's property). This plan does exactly those reads (the same `Transaction::index_seek`,
//! the same `Transaction::node_property` per item and node, in the same order), without the
//! search state, the property map's evaluation, or the expression evaluator.
//!
//! It answers only where the general plan would take the seek as exact; everywhere else
//! [`run`] returns `None` and the general plan runs: the parameter is missing or is not an
//! integer or a string (other values are re-checked under Cypher equality after the seek),
//! the transaction records its reads for serializable validation (the general plan then
//! re-reads each node, and that read must be recorded), the key is not in the catalog, or no
//! index on `(L, k)` is usable by the transaction. Missing-parameter errors therefore come
//! from the general plan, as before.

use crate::cypher::ast::{ExprKind, Ident, Match, Projection};
use crate::cypher::eval::deleted_entity;
use crate::cypher::ExecControl;
use crate::error::Result;
use crate::storage::graph::GraphData;
use crate::storage::index::KeyRange;
use crate::storage::LabelId;
use crate::txn::{Isolation, Transaction, TxnKind};
use crate::value::Value;

thread_local! {
    static DIRECT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many statements the direct seek answered on this thread (tests: that a differential
/// test exercised it).
#[doc(hidden)]
pub fn direct_seeks() -> u64 {
    DIRECT.with(|d| d.get())
}

/// A statement of the shape in the module comment, compiled against one catalog.
pub(crate) struct Seek {
    label: LabelId,
    /// The property map's one key.
    key: Ident,
    /// The parameter its value comes from (without the `$`).
    param: String,
    /// Each item's property key, in column order.
    items: Vec<Ident>,
    names: Vec<String>,
}

impl Seek {
    /// The statement's column names.
    pub fn columns(&self) -> &[String] {
        &self.names
    }

    /// The parameter the seek's value comes from.
    pub fn param(&self) -> &str {
        &self.param
    }
}

/// The seek plan of `MATCH m RETURN p` when the statement has the module comment's shape and
/// its label is in `tx`'s catalog.
pub(crate) fn compile(m: &Match, p: &Projection, tx: &Transaction) -> Option<Seek> {
    if m.optional || m.where_.is_some() || !p.is_plain() {
        return None;
    }
    let [part] = m.pattern.parts.as_slice() else {
        return None;
    };
    if part.variable.is_some()
        || part.selector != crate::cypher::ast::PathSelector::All
        || !part.element.chain.is_empty()
    {
        return None;
    }
    let node = &part.element.start;
    let var = &node.variable.as_ref()?.name;
    let [label] = node.labels.as_slice() else {
        return None;
    };
    let ExprKind::Map(entries) = &node.properties.as_ref()?.kind else {
        return None;
    };
    let [(key, value)] = entries.as_slice() else {
        return None;
    };
    let ExprKind::Parameter(param) = &value.kind else {
        return None;
    };
    let mut items = Vec::with_capacity(p.items.len());
    for item in &p.items {
        let ExprKind::Property(of, k) = &item.expr.kind else {
            return None;
        };
        match &of.kind {
            ExprKind::Variable(v) if v == var => items.push(k.clone()),
            _ => return None,
        }
    }
    let label = label
        .cached
        .get_or(tx.catalog_uid(), || tx.label_id(&label.name))?;
    Some(Seek {
        label,
        key: key.clone(),
        param: param.clone(),
        items,
        names: p.items.iter().map(|i| i.name().to_owned()).collect(),
    })
}

/// Starts loading the index slot that running `s` (compiled against catalog `uid`) with an
/// integer `arg` would probe first in `graph`'s base image: issued before the transaction
/// begins, so that beginning it overlaps the memory access. A hint: a wrong guess (another
/// catalog, an index since dropped) costs a wasted load and changes no result.
pub(crate) fn prefetch(s: &Seek, uid: u32, graph: &GraphData, arg: i64) {
    if let Some(key) = s.key.cached.get_or(uid, || None) {
        graph.prefetch_index_eq(s.label, key, &Value::Int(arg));
    }
}

/// Runs `s` in `tx` with the parameter's value `arg` (`None`: not given), each value of a
/// row passed through `out` (the caller's representation). `None` when the general plan must
/// answer instead (see the module comment); nothing has been read then that the general
/// plan would not read again.
pub(crate) fn run<T>(
    s: &Seek,
    tx: &Transaction,
    control: &ExecControl,
    arg: Option<Value>,
    out: impl Fn(Value) -> T,
) -> Result<Option<Vec<Vec<T>>>> {
    let Some(arg @ (Value::Int(_) | Value::String(_))) = arg else {
        return Ok(None);
    };
    if tx.kind() != TxnKind::ReadOnly && tx.isolation() != Isolation::Snapshot {
        return Ok(None);
    }
    let uid = tx.catalog_uid();
    let Some(key) = s.key.cached.get_or(uid, || tx.key_id(&s.key.name)) else {
        return Ok(None);
    };
    control.check()?;
    let Some(ids) = tx.index_seek(s.label, key, &KeyRange::eq(arg)) else {
        return Ok(None);
    };
    let mut rows = Vec::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        // As often as the general plan's search checks (once per 4096 candidates).
        if i > 0 && i % 4096 == 0 {
            control.check()?;
        }
        let mut row = Vec::with_capacity(s.items.len());
        for k in &s.items {
            let v = k
                .cached
                .get_or(uid, || tx.key_id(&k.name))
                .map_or(Value::Null, |k| tx.node_property(id, k));
            // What `n.k` reports for a node this transaction deleted (a seek finds none; the
            // check keeps the two plans' answers the same by construction).
            if v.is_null() && tx.node_deleted_here(id) {
                return Err(deleted_entity(
                    "node",
                    id,
                    &format!("property `{}`", k.name),
                ));
            }
            row.push(out(v));
        }
        rows.push(row);
    }
    DIRECT.with(|d| d.set(d.get() + 1));
    super::PEAK_ROWS.with(|p| p.set(rows.len()));
    Ok(Some(rows))
}
