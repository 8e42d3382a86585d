//! Batch-at-a-time execution of scan / expand / filter / aggregate queries.
//!
//! `MATCH (a:L)-[:T]->(b)... WHERE ... RETURN keys, aggregates` (the class is in `shape`)
//! runs here instead of the row engine: the start nodes are scanned once, then taken
//! [`BATCH`] at a time; each batch is expanded hop by hop into columns of node and
//! relationship ids (a row is one match), the WHERE is evaluated over the whole batch one
//! operator at a time (`eval`), and the passing rows feed the aggregation (`agg`). Each
//! batch reads the graph under one latch acquisition ([`Transaction::read_view`]) and checks
//! the interrupt flag and the deadline once. Large scans run their batches on worker
//! threads and fold the results in batch order, with the same answers and errors (`par`).
//!
//! When the scan covers a large share of the node slots, the node properties the query reads
//! are gathered first into dense per-node columns, and the labels of the other node positions
//! into bitsets (`columns`), all at the transaction's snapshot; otherwise each batch reads
//! them from the store.
//!
//! Semantics are the row engine's: matches are the same (same expansion primitive, same
//! relationship uniqueness, labels checked on every position, visibility per snapshot
//! including the transaction's own writes), comparisons are `semantics::comparison`,
//! aggregates use the row engine's accumulators. What the batch engine cannot do the same
//! way it declines at run time, and the row engine runs the statement: a transaction that
//! records its reads (serializable read-write), a missing parameter (the row engine reports
//! it), a label or type not in the catalog, or a usable index on a label and key the WHERE
//! reads (the row engine may seek instead of scanning).

mod agg;
mod columns;
mod eval;
mod par;
mod shape;

use std::cell::Cell;

pub use columns::batch_image_columns;
pub use par::set_batch_threads;
pub(crate) use shape::{compile, compile_clauses, BatchPlan};

use self::columns::{label_bits, Bits, Columns};
use self::eval::{Env, TRUE};
use self::shape::{Read, Var};
use crate::cypher::{ExecControl, ParamMap, QueryOutput, QueryStats};
use crate::error::Result;
use crate::storage::{Catalog, Direction, LabelId, NodeId, RelId, TypeId};
use crate::txn::{ReadView, Transaction};

/// Rows per batch.
pub const BATCH: usize = 1024;

/// Which engine runs the statements of the batch class (per thread; for tests and
/// measurements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMode {
    /// The batch engine, with dense columns when the scan covers a large share of the nodes.
    Auto,
    /// The row engine only.
    Off,
    /// The batch engine, always with dense columns.
    Dense,
    /// The batch engine, never with dense columns.
    Direct,
    /// `Auto`, with every hop expanded with its relationship ids even where nothing reads
    /// them (to compare with the neighbours-only expansion).
    RelIds,
}

thread_local! {
    static MODE: Cell<Option<BatchMode>> = const { Cell::new(None) };
    static RUNS: Cell<u64> = const { Cell::new(0) };
    static PAR_RUNS: Cell<u64> = const { Cell::new(0) };
}

/// `GRAPHDB_BATCH=off|dense|direct` sets the default mode of every thread.
static ENV_MODE: once_cell::sync::Lazy<BatchMode> =
    once_cell::sync::Lazy::new(|| match std::env::var("GRAPHDB_BATCH").as_deref() {
        Ok("off") => BatchMode::Off,
        Ok("dense") => BatchMode::Dense,
        Ok("direct") => BatchMode::Direct,
        _ => BatchMode::Auto,
    });

/// Sets the engine for statements run on this thread (hidden: tests and measurements).
#[doc(hidden)]
pub fn set_batch_mode(mode: BatchMode) {
    MODE.with(|m| m.set(Some(mode)));
}

fn mode() -> BatchMode {
    MODE.with(|m| m.get()).unwrap_or(*ENV_MODE)
}

/// How many statements the batch engine has run on this thread (hidden: tests).
#[doc(hidden)]
pub fn batch_runs() -> u64 {
    RUNS.with(|r| r.get())
}

/// How many statements the batch engine has run on this thread with several worker threads
/// (hidden: tests).
#[doc(hidden)]
pub fn batch_parallel_runs() -> u64 {
    PAR_RUNS.with(|r| r.get())
}

/// Columns of ids, one row per (partial) match: `nodes[p]` for node position `p`,
/// `rels[h]` for hop `h`; all `len` long.
pub(crate) struct Rows {
    pub nodes: Vec<Vec<NodeId>>,
    pub rels: Vec<Vec<RelId>>,
    pub len: usize,
}

impl Rows {
    fn new(nodes: usize, rels: usize) -> Rows {
        Rows {
            nodes: (0..nodes).map(|_| Vec::new()).collect(),
            rels: (0..rels).map(|_| Vec::new()).collect(),
            len: 0,
        }
    }

    fn clear(&mut self) {
        self.nodes.iter_mut().for_each(Vec::clear);
        self.rels.iter_mut().for_each(Vec::clear);
        self.len = 0;
    }
}

/// A plan with its names resolved for one run.
struct Bound {
    labels: Vec<Vec<LabelId>>,
    hops: Vec<(Direction, Vec<TypeId>)>,
    /// Per node position after the first: its labels as a bitset (dense runs only).
    bits: Vec<Option<Bits>>,
    /// Per node position: the position whose bitset it uses (the first with its labels).
    alias: Vec<usize>,
    /// Per hop: whether its relationship ids are needed (else only the other ends are read).
    rel_ids: Vec<bool>,
}

/// Whether the batch engine would run `plan` in `tx` now (EXPLAIN).
pub(crate) fn would_run(plan: &BatchPlan, tx: &Transaction, params: &ParamMap) -> bool {
    mode() != BatchMode::Off && bind(plan, tx, params).is_some()
}

/// Resolves names and checks the run-time conditions (module comment); `None`: decline.
fn bind(plan: &BatchPlan, tx: &Transaction, params: &ParamMap) -> Option<Bound> {
    tx.read_view()?;
    let uid = tx.catalog_uid();
    let labels: Vec<Vec<LabelId>> = plan
        .nodes
        .iter()
        .map(|ls| {
            ls.iter()
                .map(|l| l.cached.get_or(uid, || tx.label_id(&l.name)))
                .collect::<Option<Vec<_>>>()
        })
        .collect::<Option<_>>()?;
    let hops = plan
        .hops
        .iter()
        .map(|h| {
            let types = h
                .types
                .iter()
                .map(|t| t.cached.get_or(uid, || tx.rel_type_id(&t.name)))
                .collect::<Option<Vec<_>>>()?;
            Some((h.dir, types))
        })
        .collect::<Option<_>>()?;
    let mut ok = true;
    plan.visit(&mut |read| match read {
        Read::Param(p) => ok &= params.contains_key(p),
        Read::Prop(Var::Node(pos), key) => {
            if let Some(k) = key.cached.get_or(uid, || tx.key_id(&key.name)) {
                ok &= !labels[pos].iter().any(|&l| tx.has_index(l, k));
            }
        }
        Read::Prop(Var::Rel(_), _) => {}
    });
    ok.then(|| Bound {
        alias: (0..labels.len()).collect(),
        rel_ids: (0..plan.hops.len())
            .map(|k| plan.needs_rel_ids(k) || mode() == BatchMode::RelIds)
            .collect(),
        labels,
        hops,
        bits: Vec::new(),
    })
}

/// Runs `plan` in `tx`; `Ok(None)` when the batch engine declines (the row engine runs it).
pub(crate) fn run(
    plan: &BatchPlan,
    tx: &Transaction,
    params: &ParamMap,
    control: &ExecControl,
) -> Result<Option<QueryOutput>> {
    let mode = mode();
    if mode == BatchMode::Off {
        return Ok(None);
    }
    let Some(mut b) = bind(plan, tx, params) else {
        return Ok(None);
    };
    control.check()?;
    let scan = match b.labels[0].first() {
        Some(&l) => tx.scan_nodes_by_label(l),
        None => tx.scan_nodes(),
    };
    let slots = tx.read_view().map_or(0, |v| v.node_slots());
    let dense = match mode {
        BatchMode::Dense => true,
        BatchMode::Direct => false,
        _ => (scan.len() as u64).saturating_mul(4) >= slots,
    };
    let threads = par::threads(control);
    let parallel = threads > 1 && scan.len() >= par::MIN_START_NODES;
    let gather_threads = if parallel { threads } else { 1 };
    // Held for the run: the columns read the image in place.
    let base = tx.read_view().map(|v| std::sync::Arc::clone(v.base()));
    let mut columns = Columns::default();
    if dense {
        let mut keys = Vec::new();
        plan.visit(&mut |read| {
            if let Read::Prop(Var::Node(_), key) = read {
                if let Some(k) = key.cached.get_or(tx.catalog_uid(), || tx.key_id(&key.name)) {
                    keys.push(k);
                }
            }
        });
        for k in keys {
            columns.gather(tx, base.as_deref(), k, control, gather_threads)?;
        }
        b.bits = (0..b.labels.len()).map(|_| None).collect();
        for p in 1..b.labels.len() {
            if b.labels[p].is_empty() {
                continue;
            }
            if let Some(q) = (1..p).find(|&q| b.labels[q] == b.labels[p]) {
                b.alias[p] = q;
            } else if b.labels[p] == b.labels[0] && b.labels[0].len() == 1 {
                // The scan already holds exactly these nodes.
                let mut bits = Bits::with_len(slots);
                scan.iter().for_each(|&id| bits.set(id));
                b.bits[p] = Some(bits);
            } else {
                b.bits[p] = label_bits(tx, &b.labels[p], control)?;
            }
        }
    }
    let Some(src) = tx.view_source() else {
        return Ok(None);
    };
    let catalog = src.catalog();
    let runner = |out| Runner {
        plan,
        bound: &b,
        catalog,
        params,
        control,
        columns: &columns,
        levels: (0..=plan.hops.len()).map(|k| Rows::new(k + 1, k)).collect(),
        adj: Vec::new(),
        nbrs: Vec::new(),
        truth: Vec::new(),
        sel: Vec::new(),
        out,
    };
    let mut agg = agg::Aggregation::new(&plan.items);
    if parallel {
        par::run(&scan, threads, &src, control, &mut agg, || {
            runner(Out::Partial(agg::Partial::new(&plan.items)))
        })?;
        PAR_RUNS.with(|r| r.set(r.get() + 1));
    } else {
        let mut run = runner(Out::Agg(agg));
        for chunk in scan.chunks(BATCH) {
            control.check()?;
            run.chunk(&src.view(), chunk)?;
        }
        let Out::Agg(a) = run.out else {
            return Err(crate::error::Error::internal(
                "the batch engine lost its aggregation",
            ));
        };
        agg = a;
    }
    let rows = agg.finish()?;
    RUNS.with(|r| r.set(r.get() + 1));
    Ok(Some(QueryOutput {
        columns: plan.columns.clone(),
        rows,
        stats: QueryStats::default(),
    }))
}

/// Where a runner puts the rows that pass the WHERE.
enum Out<'p> {
    /// Straight into the aggregation (one thread).
    Agg(agg::Aggregation<'p>),
    /// Kept for the folding thread (a worker of a parallel run).
    Partial(agg::Partial),
}

/// Matches, filters and aggregates chunks of start nodes; one per thread, its buffers reused
/// from chunk to chunk.
struct Runner<'a> {
    plan: &'a BatchPlan,
    bound: &'a Bound,
    catalog: &'a Catalog,
    params: &'a ParamMap,
    control: &'a ExecControl,
    columns: &'a Columns<'a>,
    /// `levels[k]`: rows matched up to node position `k`.
    levels: Vec<Rows>,
    adj: Vec<(RelId, NodeId)>,
    /// Other ends, for a hop whose relationship ids nothing needs.
    nbrs: Vec<NodeId>,
    truth: Vec<u8>,
    sel: Vec<u32>,
    out: Out<'a>,
}

impl Runner<'_> {
    /// Runs the start nodes `chunk` (at most a batch) under `view`.
    fn chunk(&mut self, view: &ReadView<'_>, chunk: &[NodeId]) -> Result<()> {
        let extra_labels = self.bound.labels[0].get(1..).unwrap_or(&[]);
        let start = &mut self.levels[0];
        start.clear();
        for &id in chunk {
            if extra_labels.is_empty()
                || view
                    .node(id)
                    .is_some_and(|n| extra_labels.iter().all(|&l| n.has_label(l)))
            {
                start.nodes[0].push(id);
            }
        }
        start.len = start.nodes[0].len();
        self.level(view, 0)
    }

    /// Whether node `id` may stand at position `p` (visible, with its labels).
    fn node_ok(&self, view: &ReadView<'_>, p: usize, id: NodeId) -> bool {
        let q = self.bound.alias.get(p).copied().unwrap_or(p);
        if let Some(bits) = self.bound.bits.get(q).and_then(Option::as_ref) {
            return bits.get(id);
        }
        let labels = &self.bound.labels[p];
        view.node(id)
            .is_some_and(|n| labels.iter().all(|&l| n.has_label(l)))
    }

    /// Extends the rows of `levels[k]` by hop `k` (or, past the last hop, filters and
    /// aggregates them).
    fn level(&mut self, view: &ReadView<'_>, k: usize) -> Result<()> {
        if k == self.bound.hops.len() {
            return self.sink(view, k);
        }
        self.levels[k + 1].clear();
        let (dir, types) = &self.bound.hops[k];
        let rows = self.levels[k].len;
        if !self.bound.rel_ids[k] {
            return self.level_nbrs(view, k);
        }
        for row in 0..rows {
            let src = self.levels[k].nodes[k][row];
            let mut adj = std::mem::take(&mut self.adj);
            adj.clear();
            view.expand_into(src, *dir, types, &mut adj);
            for &(r, other) in &adj {
                // Relationship uniqueness within the pattern.
                if self.levels[k].rels.iter().any(|col| col[row] == r) {
                    continue;
                }
                if !self.node_ok(view, k + 1, other) {
                    continue;
                }
                self.extend_row(view, k, row, r, other)?;
            }
            self.adj = adj;
        }
        self.finish_level(view, k)
    }

    /// Appends row `row` of `levels[k]`, extended by relationship `r` (or a placeholder) to
    /// `other`, to `levels[k + 1]`, which runs the next hop as soon as it is full: even one
    /// node of huge degree holds no more than a batch per level.
    #[inline]
    fn extend_row(
        &mut self,
        view: &ReadView<'_>,
        k: usize,
        row: usize,
        r: RelId,
        other: NodeId,
    ) -> Result<()> {
        let (cur, next) = self.levels.split_at_mut(k + 1);
        let cur = &cur[k];
        let out = &mut next[0];
        for (o, c) in out.nodes.iter_mut().zip(&cur.nodes) {
            o.push(c[row]);
        }
        for (o, c) in out.rels.iter_mut().zip(&cur.rels) {
            o.push(c[row]);
        }
        out.rels[k].push(r);
        out.nodes[k + 1].push(other);
        out.len += 1;
        if out.len >= BATCH {
            self.control.check()?;
            self.level(view, k + 1)?;
            self.levels[k + 1].clear();
        }
        Ok(())
    }

    /// Runs the next hop on what `levels[k + 1]` holds once hop `k` is done.
    fn finish_level(&mut self, view: &ReadView<'_>, k: usize) -> Result<()> {
        if self.levels[k + 1].len > 0 {
            self.level(view, k + 1)?;
            self.levels[k + 1].clear();
        }
        Ok(())
    }

    /// `level` for a hop whose relationship ids nothing reads (`BatchPlan::needs_rel_ids`):
    /// the same matches in the same order from the other ends alone, which a format-3
    /// image gives without reading its relationship lists. The hop's id column holds a
    /// placeholder.
    fn level_nbrs(&mut self, view: &ReadView<'_>, k: usize) -> Result<()> {
        let (dir, types) = &self.bound.hops[k];
        let rows = self.levels[k].len;
        for row in 0..rows {
            let src = self.levels[k].nodes[k][row];
            let mut nbrs = std::mem::take(&mut self.nbrs);
            nbrs.clear();
            view.expand_nbrs_into(src, *dir, types, &mut nbrs, &mut self.adj);
            for &other in &nbrs {
                if !self.node_ok(view, k + 1, other) {
                    continue;
                }
                self.extend_row(view, k, row, RelId::MAX, other)?;
            }
            self.nbrs = nbrs;
        }
        self.finish_level(view, k)
    }

    /// Filters the complete matches in `levels[k]` and feeds the passing ones to the
    /// aggregation.
    fn sink(&mut self, view: &ReadView<'_>, k: usize) -> Result<()> {
        let rows = &self.levels[k];
        let env = Env {
            catalog: self.catalog,
            view,
            params: self.params,
            columns: self.columns,
        };
        self.sel.clear();
        match &self.plan.filter {
            Some(p) => {
                env.eval(p, rows, &mut self.truth)?;
                self.sel.extend(
                    self.truth
                        .iter()
                        .enumerate()
                        .filter(|(_, &t)| t == TRUE)
                        .map(|(i, _)| i as u32),
                );
            }
            None => self.sel.extend(0..rows.len as u32),
        }
        match &mut self.out {
            Out::Agg(agg) => agg.add(&env, rows, &self.sel),
            Out::Partial(p) => p.collect(&self.plan.items, &env, rows, &self.sel),
        }
    }
}
