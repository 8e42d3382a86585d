//! Predicates and operands over a batch of rows: one pass per operator over the whole
//! batch, property values gathered for every row at once.

use std::borrow::Cow;

use super::columns::Columns;
use super::shape::{Operand, Pred, Var};
use super::Rows;
use crate::cypher::ast::BinaryOp;
use crate::cypher::semantics;
use crate::cypher::ParamMap;
use crate::error::{Error, Result};
use crate::storage::{Catalog, KeyId, LabelId};
use crate::txn::ReadView;
use crate::value::Value;

/// Three-valued truth per row: `FALSE`, `TRUE` or `NULL`.
pub(crate) const FALSE: u8 = 0;
pub(crate) const TRUE: u8 = 1;
pub(crate) const NULL: u8 = 2;

fn tri(v: Option<bool>) -> u8 {
    match v {
        Some(true) => TRUE,
        Some(false) => FALSE,
        None => NULL,
    }
}

/// What operands read while a batch is evaluated. `Sync` parts only, so that workers on
/// several threads each build one: names resolve in the catalog directly (the transaction
/// would record nothing for them either, as the batch engine runs only in transactions that
/// record no reads).
pub(crate) struct Env<'a> {
    pub catalog: &'a Catalog,
    pub view: &'a ReadView<'a>,
    pub params: &'a ParamMap,
    pub columns: &'a Columns<'a>,
}

/// An operand's values for a batch: one value for every row, or one per row.
pub(crate) enum Gathered<'a> {
    One(Cow<'a, Value>),
    Many(Vec<Value>),
}

impl Gathered<'_> {
    pub fn get(&self, i: usize) -> &Value {
        match self {
            Gathered::One(v) => v,
            Gathered::Many(vs) => &vs[i],
        }
    }
}

fn id_value(id: u64) -> Result<Value> {
    i64::try_from(id)
        .map(Value::Int)
        .map_err(|_| Error::internal(format!("entity id {id} exceeds the Integer range")))
}

impl Env<'_> {
    fn key(&self, k: &crate::cypher::ast::Ident) -> Option<KeyId> {
        k.cached
            .get_or(self.catalog.uid(), || self.catalog.keys.get(&k.name))
    }

    fn label(&self, l: &crate::cypher::ast::Ident) -> Option<LabelId> {
        l.cached
            .get_or(self.catalog.uid(), || self.catalog.labels.get(&l.name))
    }

    /// `op`'s value on every row of `rows`.
    pub fn gather<'o>(&self, op: &'o Operand, rows: &Rows) -> Result<Gathered<'o>> {
        Ok(match op {
            Operand::Const(v) => Gathered::One(Cow::Borrowed(v)),
            Operand::Param(p) => Gathered::One(Cow::Owned(
                self.params.get(p).cloned().unwrap_or(Value::Null),
            )),
            Operand::Prop(var, key) => {
                let Some(key) = self.key(key) else {
                    return Ok(Gathered::One(Cow::Owned(Value::Null)));
                };
                Gathered::Many(match *var {
                    Var::Node(p) => {
                        let ids = &rows.nodes[p][..rows.len];
                        match self.columns.get(key) {
                            Some(col) => ids.iter().map(|&id| col.value(id)).collect(),
                            None => ids
                                .iter()
                                .map(|&id| {
                                    self.view
                                        .node(id)
                                        .and_then(|n| n.prop(key).map(Cow::into_owned))
                                        .unwrap_or(Value::Null)
                                })
                                .collect(),
                        }
                    }
                    Var::Rel(h) => rows.rels[h][..rows.len]
                        .iter()
                        .map(|&id| {
                            self.view
                                .rel(id)
                                .and_then(|r| r.prop(key).map(Cow::into_owned))
                                .unwrap_or(Value::Null)
                        })
                        .collect(),
                })
            }
            Operand::Id(var) => Gathered::Many(
                ids_of(*var, rows)
                    .iter()
                    .map(|&id| id_value(id))
                    .collect::<Result<_>>()?,
            ),
            Operand::Entity(var) => Gathered::Many(match *var {
                Var::Node(p) => rows.nodes[p][..rows.len]
                    .iter()
                    .map(|&id| Value::Node(id))
                    .collect(),
                Var::Rel(h) => rows.rels[h][..rows.len]
                    .iter()
                    .map(|&id| Value::Relationship(id))
                    .collect(),
            }),
        })
    }

    /// `p`'s truth (`TRUE`, `FALSE`, `NULL`) on every row of `rows`, into `out`.
    pub fn eval(&self, p: &Pred, rows: &Rows, out: &mut Vec<u8>) -> Result<()> {
        out.clear();
        let n = rows.len;
        match p {
            Pred::Const(v) => out.resize(n, tri(*v)),
            Pred::Cmp(op, a, b) => {
                if let Some(fast) = self.int_columns(*op, a, b, rows, out) {
                    return fast;
                }
                let (a, b) = (self.gather(a, rows)?, self.gather(b, rows)?);
                out.extend((0..n).map(|i| tri(compare(*op, a.get(i), b.get(i)))));
            }
            Pred::IsNull(a, negated) => {
                let a = self.gather(a, rows)?;
                out.extend((0..n).map(|i| tri(Some(a.get(i).is_null() != *negated))));
            }
            Pred::Labels(pos, labels) => {
                let ids: Option<Vec<LabelId>> = labels.iter().map(|l| self.label(l)).collect();
                match ids {
                    // A label never interned is on no node.
                    None => out.resize(n, FALSE),
                    Some(ids) => out.extend(rows.nodes[*pos][..n].iter().map(|&id| {
                        tri(Some(
                            self.view
                                .node(id)
                                .is_some_and(|node| ids.iter().all(|&l| node.has_label(l))),
                        ))
                    })),
                }
            }
            Pred::Not(x) => {
                self.eval(x, rows, out)?;
                for t in out.iter_mut() {
                    *t = match *t {
                        TRUE => FALSE,
                        FALSE => TRUE,
                        _ => NULL,
                    };
                }
            }
            Pred::And(x, y) | Pred::Or(x, y) | Pred::Xor(x, y) => {
                self.eval(x, rows, out)?;
                let mut right = Vec::with_capacity(n);
                self.eval(y, rows, &mut right)?;
                let f: fn(u8, u8) -> u8 = match p {
                    Pred::And(..) => |a, b| {
                        if a == FALSE || b == FALSE {
                            FALSE
                        } else if a == NULL || b == NULL {
                            NULL
                        } else {
                            TRUE
                        }
                    },
                    Pred::Or(..) => |a, b| {
                        if a == TRUE || b == TRUE {
                            TRUE
                        } else if a == NULL || b == NULL {
                            NULL
                        } else {
                            FALSE
                        }
                    },
                    _ => |a, b| {
                        if a == NULL || b == NULL {
                            NULL
                        } else {
                            a ^ b
                        }
                    },
                };
                for (a, b) in out.iter_mut().zip(right) {
                    *a = f(*a, b);
                }
            }
        }
        Ok(())
    }

    /// The fast path of the common comparison: two node properties both held in integer
    /// columns, or one and an integer constant. `None`: not this case.
    fn int_columns(
        &self,
        op: BinaryOp,
        a: &Operand,
        b: &Operand,
        rows: &Rows,
        out: &mut Vec<u8>,
    ) -> Option<Result<()>> {
        let side = |o: &Operand| -> Option<IntSide<'_>> {
            match o {
                Operand::Prop(Var::Node(p), k) => {
                    let col = self.columns.get(self.key(k)?)?.ints()?;
                    Some(IntSide::Col(col, &rows.nodes[*p][..rows.len]))
                }
                Operand::Const(Value::Int(c)) => Some(IntSide::Const(*c)),
                _ => None,
            }
        };
        let (x, y) = (side(a)?, side(b)?);
        if matches!((&x, &y), (IntSide::Const(_), IntSide::Const(_))) {
            return None;
        }
        let cmp: fn(i64, i64) -> bool = match op {
            BinaryOp::Eq => |a, b| a == b,
            BinaryOp::Ne => |a, b| a != b,
            BinaryOp::Lt => |a, b| a < b,
            BinaryOp::Le => |a, b| a <= b,
            BinaryOp::Gt => |a, b| a > b,
            BinaryOp::Ge => |a, b| a >= b,
            _ => return None,
        };
        out.extend((0..rows.len).map(|i| match (x.at(i), y.at(i)) {
            (Some(a), Some(b)) => u8::from(cmp(a, b)),
            _ => NULL,
        }));
        Some(Ok(()))
    }
}

enum IntSide<'a> {
    Col(&'a super::columns::IntColumn<'a>, &'a [u64]),
    Const(i64),
}

impl IntSide<'_> {
    #[inline]
    fn at(&self, i: usize) -> Option<i64> {
        match self {
            IntSide::Col(c, ids) => c.get(ids[i]),
            IntSide::Const(v) => Some(*v),
        }
    }
}

/// Cypher's comparison, with integers decided inline.
#[inline]
fn compare(op: BinaryOp, a: &Value, b: &Value) -> Option<bool> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Some(match op {
            BinaryOp::Eq => x == y,
            BinaryOp::Ne => x != y,
            BinaryOp::Lt => x < y,
            BinaryOp::Le => x <= y,
            BinaryOp::Gt => x > y,
            _ => x >= y,
        });
    }
    semantics::comparison(op, a, b)
}

fn ids_of(var: Var, rows: &Rows) -> &[u64] {
    match var {
        Var::Node(p) => &rows.nodes[p][..rows.len],
        Var::Rel(h) => &rows.rels[h][..rows.len],
    }
}
