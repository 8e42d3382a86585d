//! WITH and RETURN: projection, implicit grouping with aggregates, DISTINCT, ORDER BY,
//! SKIP and LIMIT.
//!
//! Aggregates may sit anywhere inside an item (`count(*) + 1`, `{k: collect(x)}`): each
//! aggregate call is replaced by a placeholder variable whose name no query can spell (it
//! starts with a NUL), its accumulator runs per group, and the rewritten item is evaluated
//! with the placeholders bound to the results.

use std::borrow::Cow;
use std::collections::HashMap;

use super::compat::{new_accumulator, order, Accumulator};
use super::{Exec, GroupKey, NoBindings, Overlay, RowBindings, Table};
use crate::cypher::ast::{Expr, ExprKind, Projection, ProjectionItem, SortItem};
use crate::cypher::plan::{contains_aggregate, is_aggregate_call, map_children};
use crate::error::{Error, Result};
use crate::value::Value;

/// One aggregate call found in a projection.
struct AggSpec {
    /// `None` for `count(*)`.
    name: Option<String>,
    distinct: bool,
    args: Vec<Expr>,
}

enum Acc {
    Star(i64),
    Func(Box<dyn Accumulator>),
}

fn placeholder(i: usize) -> String {
    format!("\u{0}agg{i}")
}

/// Replaces aggregate calls in `e` by placeholders, recording them in `aggs`.
fn extract_aggs(e: &Expr, aggs: &mut Vec<AggSpec>) -> Expr {
    match &e.kind {
        ExprKind::CountStar => {
            aggs.push(AggSpec {
                name: None,
                distinct: false,
                args: Vec::new(),
            });
            Expr::new(ExprKind::Variable(placeholder(aggs.len() - 1)), e.span)
        }
        ExprKind::FunctionCall {
            name,
            distinct,
            args,
        } if is_aggregate_call(name) => {
            aggs.push(AggSpec {
                name: Some(name.clone()),
                distinct: *distinct,
                args: args.clone(),
            });
            Expr::new(ExprKind::Variable(placeholder(aggs.len() - 1)), e.span)
        }
        _ => map_children(e, &mut |c| extract_aggs(c, aggs)),
    }
}

/// Values by name for the projected columns.
struct Named<'a> {
    names: &'a [String],
    vals: &'a [Value],
}

impl crate::cypher::eval::Bindings for Named<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.vals.get(i))
    }
}

/// A projected row with what ORDER BY may still look at.
struct Out {
    vals: Vec<Value>,
    /// The input row it came from (the first of its group when aggregating).
    src: Vec<Value>,
    /// Aggregate results (placeholders), empty without aggregation.
    aggs: Vec<Value>,
}

impl Exec<'_> {
    /// Projects `table`; `where_` is a WITH's WHERE, which sees the projected names and,
    /// behind them, the variables from before the projection.
    pub(crate) fn project(
        &mut self,
        table: Table,
        p: &Projection,
        where_: Option<&Expr>,
    ) -> Result<Table> {
        let mut star_items: Vec<ProjectionItem> = Vec::new();
        if p.star {
            let mut names: Vec<&String> = table.cols.iter().collect();
            names.sort();
            for n in names {
                star_items.push(ProjectionItem {
                    expr: Expr::new(ExprKind::Variable(n.clone()), Default::default()),
                    alias: None,
                    text: n.clone(),
                });
            }
        }
        let items: Vec<&ProjectionItem> = star_items.iter().chain(&p.items).collect();
        let names: Vec<String> = items.iter().map(|i| i.name().to_owned()).collect();

        // Rewriting copies the expressions: only done when there is an aggregate.
        let aggregating = items.iter().any(|i| contains_aggregate(&i.expr))
            || p.order_by.iter().any(|s| contains_aggregate(&s.expr));
        let mut aggs = Vec::new();
        let (rewritten, is_agg, sort_exprs): (Vec<Expr>, Vec<bool>, Vec<Cow<'_, Expr>>) =
            if aggregating {
                let rewritten: Vec<Expr> = items
                    .iter()
                    .map(|i| extract_aggs(&i.expr, &mut aggs))
                    .collect();
                let is_agg = items
                    .iter()
                    .zip(&rewritten)
                    .map(|(i, r)| *r != i.expr)
                    .collect();
                let sort_exprs = p
                    .order_by
                    .iter()
                    .map(|s| Cow::Owned(extract_aggs(&s.expr, &mut aggs)))
                    .collect();
                (rewritten, is_agg, sort_exprs)
            } else {
                let sort_exprs = p.order_by.iter().map(|s| Cow::Borrowed(&s.expr)).collect();
                (Vec::new(), vec![false; items.len()], sort_exprs)
            };
        let agg_names: Vec<String> = (0..aggs.len()).map(placeholder).collect();

        let mut outs: Vec<Out> = if aggs.is_empty() {
            let mut outs = Vec::with_capacity(table.rows.len());
            for (n, row) in table.rows.into_iter().enumerate() {
                if n % 1024 == 0 {
                    self.control.check()?;
                }
                let b = RowBindings {
                    cols: &table.cols,
                    vals: &row,
                    outer: None,
                };
                let vals = items
                    .iter()
                    .map(|i| self.eval(&i.expr, &b))
                    .collect::<Result<Vec<_>>>()?;
                outs.push(Out {
                    vals,
                    src: row,
                    aggs: Vec::new(),
                });
            }
            outs
        } else {
            self.aggregate(
                &table, &items, &rewritten, &is_agg, &aggs, &names, &agg_names,
            )?
        };

        if p.distinct {
            let mut seen = std::collections::HashSet::new();
            outs.retain(|o| seen.insert(GroupKey::new(&Value::List(o.vals.clone()))));
        }

        if !p.order_by.is_empty() {
            let mut keyed: Vec<(Vec<Value>, Out)> = Vec::with_capacity(outs.len());
            for (n, o) in outs.into_iter().enumerate() {
                if n % 1024 == 0 {
                    self.control.check()?;
                }
                let keys = {
                    let projected = Named {
                        names: &names,
                        vals: &o.vals,
                    };
                    let aggb = Named {
                        names: &agg_names,
                        vals: &o.aggs,
                    };
                    let src = RowBindings {
                        cols: &table.cols,
                        vals: &o.src,
                        outer: None,
                    };
                    let inner = Overlay {
                        first: &projected,
                        second: &src,
                    };
                    let b = Overlay {
                        first: &aggb,
                        second: &inner,
                    };
                    sort_exprs
                        .iter()
                        .map(|e| self.eval(e, &b))
                        .collect::<Result<Vec<_>>>()?
                };
                keyed.push((keys, o));
            }
            let dirs: Vec<bool> = p.order_by.iter().map(|s: &SortItem| s.descending).collect();
            keyed.sort_by(|(a, _), (b, _)| {
                for ((x, y), desc) in a.iter().zip(b).zip(&dirs) {
                    let o = order(x, y);
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            outs = keyed.into_iter().map(|(_, o)| o).collect();
        }

        let skip = match &p.skip {
            Some(e) => self.count_arg(e, "SKIP")?,
            None => 0,
        };
        let limit = match &p.limit {
            Some(e) => Some(self.count_arg(e, "LIMIT")?),
            None => None,
        };
        let mut rows: Vec<Vec<Value>> = Vec::new();
        for (n, o) in outs
            .into_iter()
            .skip(skip)
            .take(limit.unwrap_or(usize::MAX))
            .enumerate()
        {
            if let Some(pred) = where_ {
                if n % 1024 == 0 {
                    self.control.check()?;
                }
                let projected = Named {
                    names: &names,
                    vals: &o.vals,
                };
                let src = RowBindings {
                    cols: &table.cols,
                    vals: &o.src,
                    outer: None,
                };
                let b = Overlay {
                    first: &projected,
                    second: &src,
                };
                if !self.holds(pred, &b)? {
                    continue;
                }
            }
            rows.push(o.vals);
        }
        Ok(Table { cols: names, rows })
    }

    /// SKIP / LIMIT: a non-negative integer (parameters allowed, variables not).
    fn count_arg(&self, e: &Expr, what: &str) -> Result<usize> {
        match self.eval(e, &NoBindings)? {
            Value::Int(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            Value::Int(n) => Err(Error::semantic(format!(
                "{what} needs a non-negative integer, but got {n}"
            ))
            .at(e.span.line, e.span.column)),
            other => Err(Error::semantic(format!(
                "{what} needs a non-negative integer, but got a {}",
                other.type_name()
            ))
            .at(e.span.line, e.span.column)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn aggregate(
        &mut self,
        table: &Table,
        items: &[&ProjectionItem],
        rewritten: &[Expr],
        is_agg: &[bool],
        aggs: &[AggSpec],
        names: &[String],
        agg_names: &[String],
    ) -> Result<Vec<Out>> {
        struct Group {
            keys: Vec<Value>,
            src: Vec<Value>,
            accs: Vec<Acc>,
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<GroupKey, usize> = HashMap::new();
        for (n, row) in table.rows.iter().enumerate() {
            if n % 1024 == 0 {
                self.control.check()?;
            }
            let b = RowBindings {
                cols: &table.cols,
                vals: row,
                outer: None,
            };
            let mut keys = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if !is_agg[i] {
                    keys.push(self.eval(&item.expr, &b)?);
                }
            }
            // Without grouping keys every row falls into the one group: no key to hash.
            if keys.is_empty() && !groups.is_empty() {
                self.accumulate(&mut groups[0].accs, aggs, &b)?;
                continue;
            }
            let gk = GroupKey::new(&Value::List(keys.clone()));
            let gi = match index.get(&gk) {
                Some(gi) => *gi,
                None => {
                    let accs = self.new_accs(aggs, &b)?;
                    groups.push(Group {
                        keys,
                        src: row.clone(),
                        accs,
                    });
                    index.insert(gk, groups.len() - 1);
                    groups.len() - 1
                }
            };
            self.accumulate(&mut groups[gi].accs, aggs, &b)?;
        }
        // Aggregating with no grouping keys yields one row even from no input.
        if groups.is_empty() && is_agg.iter().all(|a| *a) {
            let empty = Vec::new();
            let b = RowBindings {
                cols: &[],
                vals: &empty,
                outer: None,
            };
            let accs = self.new_accs(aggs, &b)?;
            groups.push(Group {
                keys: Vec::new(),
                src: vec![Value::Null; table.cols.len()],
                accs,
            });
        }
        let mut outs = Vec::with_capacity(groups.len());
        for g in groups {
            let mut agg_vals = Vec::with_capacity(g.accs.len());
            for a in g.accs {
                agg_vals.push(match a {
                    Acc::Star(c) => Value::Int(c),
                    Acc::Func(mut f) => f.finish()?,
                });
            }
            let mut vals = Vec::with_capacity(items.len());
            let mut keys = g.keys.into_iter();
            for (i, e) in rewritten.iter().enumerate() {
                if !is_agg[i] {
                    vals.push(keys.next().unwrap_or(Value::Null));
                    continue;
                }
                let key_names: Vec<String> = names
                    .iter()
                    .zip(is_agg)
                    .filter(|(_, a)| !**a)
                    .map(|(n, _)| n.clone())
                    .collect();
                let key_vals: Vec<Value> = vals
                    .iter()
                    .zip(is_agg)
                    .filter(|(_, a)| !**a)
                    .map(|(v, _)| v.clone())
                    .collect();
                let aggb = Named {
                    names: agg_names,
                    vals: &agg_vals,
                };
                let keyb = Named {
                    names: &key_names,
                    vals: &key_vals,
                };
                let src = RowBindings {
                    cols: &table.cols,
                    vals: &g.src,
                    outer: None,
                };
                let inner = Overlay {
                    first: &keyb,
                    second: &src,
                };
                let b = Overlay {
                    first: &aggb,
                    second: &inner,
                };
                vals.push(self.eval(e, &b)?);
            }
            outs.push(Out {
                vals,
                src: g.src,
                aggs: agg_vals,
            });
        }
        Ok(outs)
    }

    /// Feeds one input row to a group's accumulators.
    fn accumulate(
        &self,
        accs: &mut [Acc],
        aggs: &[AggSpec],
        b: &dyn crate::cypher::eval::Bindings,
    ) -> Result<()> {
        for (a, spec) in accs.iter_mut().zip(aggs) {
            match a {
                Acc::Star(c) => *c += 1,
                Acc::Func(f) => {
                    let v = match spec.args.first() {
                        Some(arg) => self.eval(arg, b)?,
                        None => Value::Null,
                    };
                    f.update(v)?;
                }
            }
        }
        Ok(())
    }

    fn new_accs(
        &self,
        aggs: &[AggSpec],
        b: &dyn crate::cypher::eval::Bindings,
    ) -> Result<Vec<Acc>> {
        let mut accs = Vec::with_capacity(aggs.len());
        for spec in aggs {
            accs.push(match &spec.name {
                None => Acc::Star(0),
                Some(name) => {
                    // Arguments after the first (percentile) are fixed per query.
                    let mut extra = Vec::new();
                    for arg in spec.args.iter().skip(1) {
                        extra.push(self.eval(arg, b)?);
                    }
                    Acc::Func(new_accumulator(name, spec.distinct, extra)?)
                }
            });
        }
        Ok(accs)
    }
}
