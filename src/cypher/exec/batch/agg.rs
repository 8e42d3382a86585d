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
        self.add_gathered(&keys, &args, sel)
    }

    /// Adds a chunk's rows collected by a worker ([`Partial::collect`]): the same rows in
    /// the same order as [`Aggregation::add`] would have been given them.
    pub fn add_partial(&mut self, p: Partial) -> Result<()> {
        if p.rows == 0 {
            return Ok(());
        }
        let mut cols = p.cols.into_iter();
        let mut keys: Vec<Gathered<'_>> = Vec::new();
        let mut args: Vec<Option<Gathered<'_>>> = Vec::new();
        for it in self.items {
            match it {
                Item::Key(_) => keys.push(Gathered::Many(cols.next().unwrap_or_default())),
                Item::Agg { .. } => {
                    args.push(Some(Gathered::Many(cols.next().unwrap_or_default())))
                }
                Item::CountStar => args.push(None),
            }
        }
        let n = u32::try_from(p.rows)
            .map_err(|_| crate::error::Error::internal("a batch chunk exceeds 2^32 rows"))?;
        let sel: Vec<u32> = (0..n).collect();
        self.add_gathered(&keys, &args, &sel)
    }

    fn add_gathered(
        &mut self,
        keys: &[Gathered<'_>],
        args: &[Option<Gathered<'_>>],
        sel: &[u32],
    ) -> Result<()> {
        if !self.keyed {
            if self.groups.is_empty() {
                let accs = self.new_accs()?;
                self.groups.push(Group {
                    keys: Vec::new(),
                    accs,
                });
            }
            let g = &mut self.groups[0];
            for (acc, arg) in g.accs.iter_mut().zip(args) {
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
            for (acc, arg) in self.groups[gi].accs.iter_mut().zip(args) {
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

/// What a worker keeps of one chunk's matches for the aggregation: the passing rows, as the
/// values of each grouping key and aggregate argument (in item order; `count(*)` needs only
/// the number of rows). One thread folds these into the [`Aggregation`] in chunk order, so
/// groups, sums (float rounding, integer overflow) and errors come out as on one thread.
#[derive(Default)]
pub(crate) struct Partial {
    rows: usize,
    cols: Vec<Vec<Value>>,
}

impl Partial {
    pub fn new(items: &[Item]) -> Partial {
        let n = items
            .iter()
            .filter(|i| !matches!(i, Item::CountStar))
            .count();
        Partial {
            rows: 0,
            cols: vec![Vec::new(); n],
        }
    }

    /// Appends the rows of `rows` listed in `sel`.
    pub fn collect(
        &mut self,
        items: &[Item],
        env: &Env<'_>,
        rows: &Rows,
        sel: &[u32],
    ) -> Result<()> {
        if sel.is_empty() {
            return Ok(());
        }
        self.rows += sel.len();
        let ops = items.iter().filter_map(|it| match it {
            Item::Key(op) | Item::Agg { arg: op, .. } => Some(op),
            Item::CountStar => None,
        });
        for (op, col) in ops.zip(&mut self.cols) {
            let g = env.gather(op, rows)?;
            col.extend(sel.iter().map(|&i| g.get(i as usize).clone()));
        }
        Ok(())
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
