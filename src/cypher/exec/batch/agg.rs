//! The RETURN of a batch plan: grouping keys and aggregates, fed a batch at a time through
//! the same accumulators the row engine uses (so sums, averages, overflow and type errors
//! are the row engine's).

use std::collections::HashMap;

use super::eval::{Env, Gathered};
use super::shape::Item;
use super::Rows;
use crate::cypher::aggregate::{new_accumulator, Accumulator};
use crate::cypher::semantics::GroupKey;
use crate::error::Result;
use crate::value::Value;

enum Acc {
    Star(i64),
    Func(Box<dyn Accumulator>),
}

struct Group {
    keys: Vec<Value>,
    accs: Vec<Acc>,
}

/// Groups in the order their first row arrived.
pub(crate) struct Aggregation<'p> {
    items: &'p [Item],
    groups: Vec<Group>,
    index: HashMap<GroupKey, usize>,
    keyed: bool,
}

impl<'p> Aggregation<'p> {
    pub fn new(items: &'p [Item]) -> Aggregation<'p> {
        Aggregation {
            items,
            groups: Vec::new(),
            index: HashMap::new(),
            keyed: items.iter().any(|i| matches!(i, Item::Key(_))),
        }
    }

    fn new_accs(&self) -> Result<Vec<Acc>> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Key(_) => None,
                Item::CountStar => Some(Ok(Acc::Star(0))),
                Item::Agg { name, distinct, .. } => {
                    Some(new_accumulator(name, *distinct, Vec::new()).map(Acc::Func))
                }
            })
            .collect()
    }

    /// Adds the rows of `rows` listed in `sel`.
    pub fn add(&mut self, env: &Env<'_>, rows: &Rows, sel: &[u32]) -> Result<()> {
        if sel.is_empty() {
            return Ok(());
        }
        let mut keys: Vec<Gathered<'_>> = Vec::new();
        let mut args: Vec<Option<Gathered<'_>>> = Vec::new();
        for it in self.items {
            match it {
                Item::Key(op) => keys.push(env.gather(op, rows)?),
                Item::Agg { arg, .. } => args.push(Some(env.gather(arg, rows)?)),
                Item::CountStar => args.push(None),
            }
        }
        if !self.keyed {
            if self.groups.is_empty() {
                let accs = self.new_accs()?;
                self.groups.push(Group {
                    keys: Vec::new(),
                    accs,
                });
            }
            let g = &mut self.groups[0];
            for (acc, arg) in g.accs.iter_mut().zip(&args) {
                feed(acc, arg.as_ref(), sel)?;
            }
            return Ok(());
        }
        for &i in sel {
            let i = i as usize;
            let kv: Vec<Value> = keys.iter().map(|k| k.get(i).clone()).collect();
            let gk = GroupKey::new(&Value::List(kv.clone()));
            let gi = match self.index.get(&gk) {
                Some(&gi) => gi,
                None => {
                    let accs = self.new_accs()?;
                    self.groups.push(Group { keys: kv, accs });
                    self.index.insert(gk, self.groups.len() - 1);
                    self.groups.len() - 1
                }
            };
            for (acc, arg) in self.groups[gi].accs.iter_mut().zip(&args) {
                feed(acc, arg.as_ref(), &[i as u32])?;
            }
        }
        Ok(())
    }

    /// The result rows, one per group; without grouping keys one row even from no input.
    pub fn finish(mut self) -> Result<Vec<Vec<Value>>> {
        if self.groups.is_empty() && !self.keyed {
            let accs = self.new_accs()?;
            self.groups.push(Group {
                keys: Vec::new(),
                accs,
            });
        }
        let mut out = Vec::with_capacity(self.groups.len());
        for g in self.groups {
            let mut keys = g.keys.into_iter();
            let mut accs = g.accs.into_iter();
            let mut row = Vec::with_capacity(self.items.len());
            for it in self.items {
                row.push(match it {
                    Item::Key(_) => keys.next().unwrap_or(Value::Null),
                    _ => match accs.next() {
                        Some(Acc::Star(n)) => Value::Int(n),
                        Some(Acc::Func(mut f)) => f.finish()?,
                        None => Value::Null,
                    },
                });
            }
            out.push(row);
        }
        Ok(out)
    }
}

fn feed(acc: &mut Acc, arg: Option<&Gathered<'_>>, sel: &[u32]) -> Result<()> {
    match (acc, arg) {
        (Acc::Star(n), _) => *n += sel.len() as i64,
        (Acc::Func(f), Some(vals)) => {
            for &i in sel {
                f.update(vals.get(i as usize).clone())?;
            }
        }
        (Acc::Func(_), None) => {}
    }
    Ok(())
}
