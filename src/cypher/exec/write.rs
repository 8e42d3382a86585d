//! The updating clauses: CREATE, MERGE, SET, REMOVE, DELETE.
//!
//! Values are evaluated first (shared borrow of the transaction), then written (exclusive
//! borrow); a row never holds anything a write invalidates because entities are ids.

use super::pattern::{rel_direction, ScanCache};
use super::{Exec, RowBindings, SlotBindings, Table};
use crate::cypher::ast::{
    Create, Delete, Expr, ExprKind, Merge, PatternPart, Remove, RemoveItem, SetClause, SetItem,
    Span,
};
use crate::cypher::eval::Bindings;
use crate::error::{Error, Result};
use crate::storage::{Direction, KeyId, LabelId, NodeId};
use crate::value::{PathIds, Value};

fn err_at(e: Error, span: Span) -> Error {
    e.at(span.line, span.column)
}

/// A node or relationship a SET/REMOVE applies to.
enum Target {
    Node(NodeId),
    Rel(u64),
}

fn target_of(v: Value, span: Span, what: &str) -> Result<Option<Target>> {
    match v {
        Value::Null => Ok(None),
        Value::Node(id) => Ok(Some(Target::Node(id))),
        Value::Relationship(id) => Ok(Some(Target::Rel(id))),
        other => Err(err_at(
            Error::type_error(format!(
                "{what} needs a node or relationship, but got a {}",
                other.type_name()
            )),
            span,
        )),
    }
}

/// Whether `v` can be a property value: openCypher stores null (meaning "remove"),
/// booleans, numbers, strings, temporal values and lists of those (no nulls, maps, nested
/// lists or entities).
fn property_value_ok(v: &Value) -> bool {
    let scalar = |v: &Value| {
        matches!(
            v,
            Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::String(_)
        ) || crate::temporal::compare::is_temporal(v)
    };
    match v {
        Value::Null => true,
        Value::List(items) => items.iter().all(scalar),
        other => scalar(other),
    }
}

fn check_storable(key: &str, v: &Value, span: Span) -> Result<()> {
    if property_value_ok(v) {
        Ok(())
    } else {
        Err(err_at(
            Error::type_error(format!(
                "property `{key}` cannot store a {} value; properties hold booleans, numbers, strings, temporal values and lists of those",
                describe(v)
            )),
            span,
        ))
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::List(items) => match items
            .iter()
            .find(|i| !property_value_ok(i) || i.is_null() || matches!(i, Value::List(_)))
        {
            Some(bad) => format!("List containing a {}", bad.type_name()),
            None => "List".to_owned(),
        },
        other => other.type_name().to_owned(),
    }
}

impl Exec<'_> {
    /// Turns a map value into storable properties, interning keys; nulls are dropped.
    fn props_of(&mut self, v: Value, span: Span) -> Result<Vec<(KeyId, Value)>> {
        let map = match v {
            Value::Map(m) => m,
            Value::Null => return Ok(Vec::new()),
            other => {
                return Err(err_at(
                    Error::type_error(format!(
                        "properties must be given as a map, but got a {}",
                        other.type_name()
                    )),
                    span,
                ))
            }
        };
        let mut props = Vec::with_capacity(map.len());
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            check_storable(&k, &v, span)?;
            let key = self.tx.w()?.intern_key(&k);
            props.push((key, v));
        }
        Ok(props)
    }

    /// Evaluates a CREATE pattern's property map (if any) in the row and turns it into
    /// storable properties.
    fn pattern_props(
        &mut self,
        props: Option<&Expr>,
        cols: &[String],
        slots: &[Option<Value>],
    ) -> Result<Vec<(KeyId, Value)>> {
        let Some(e) = props else {
            return Ok(Vec::new());
        };
        let b = SlotBindings {
            cols,
            slots,
            outer: None,
        };
        if let ExprKind::Map(entries) = &e.kind {
            // A literal map (the usual `{k: v}`): its values directly, without building the
            // map value, and each key's id resolved once per syntax tree (a name keeps its
            // id in a catalog, interned or not by a transaction that rolled back). With a
            // repeated key the map keeps the last value: the general path.
            if !entries
                .iter()
                .enumerate()
                .any(|(i, (k, _))| entries[..i].iter().any(|(j, _)| j.name == k.name))
            {
                let mut vals = Vec::with_capacity(entries.len());
                for (k, x) in entries {
                    vals.push((k, self.eval(x, &b)?));
                }
                // The map's key order, as the general path checks the values in.
                if vals.len() > 1 {
                    vals.sort_by(|x, y| x.0.name.cmp(&y.0.name));
                }
                let tx = self.tx.w()?;
                let uid = tx.catalog_uid();
                let mut props = Vec::with_capacity(vals.len());
                for (k, v) in vals {
                    if v.is_null() {
                        continue;
                    }
                    check_storable(&k.name, &v, e.span)?;
                    let key = k
                        .cached
                        .get_or(uid, || Some(tx.intern_key(&k.name)))
                        .unwrap_or_else(|| tx.intern_key(&k.name));
                    props.push((key, v));
                }
                return Ok(props);
            }
        }
        let v = self.eval(e, &b)?;
        self.props_of(v, e.span)
    }

    /// Creates one pattern part in the row `slots` (over `cols`), reusing bound nodes.
    pub(crate) fn create_part(
        &mut self,
        cols: &[String],
        slots: &mut [Option<Value>],
        part: &PatternPart,
    ) -> Result<()> {
        let slot = |name: &str| cols.iter().position(|c| c == name);
        let el = &part.element;
        let mut nodes: Vec<NodeId> = Vec::with_capacity(el.chain.len() + 1);
        let mut rels = Vec::with_capacity(el.chain.len());
        let node_patterns = std::iter::once(&el.start).chain(el.chain.iter().map(|(_, n)| n));
        for np in node_patterns {
            let s = np.variable.as_ref().and_then(|v| slot(&v.name));
            if let Some(s) = s {
                match &slots[s] {
                    Some(Value::Node(id)) => {
                        nodes.push(*id);
                        continue;
                    }
                    Some(Value::Null) => {
                        return Err(err_at(
                            Error::semantic(format!(
                                "cannot create a relationship to `{}`, which is null",
                                cols[s]
                            )),
                            np.span,
                        ))
                    }
                    Some(other) => {
                        return Err(err_at(
                            Error::type_error(format!(
                                "`{}` is a {}, not a node",
                                cols[s],
                                other.type_name()
                            )),
                            np.span,
                        ))
                    }
                    None => {}
                }
            }
            let props = self.pattern_props(np.properties.as_ref(), cols, slots)?;
            let tx = self.tx.w()?;
            let uid = tx.catalog_uid();
            let labels: Vec<LabelId> = np
                .labels
                .iter()
                .map(|l| {
                    l.cached
                        .get_or(uid, || Some(tx.intern_label(&l.name)))
                        .unwrap_or_else(|| tx.intern_label(&l.name))
                })
                .collect();
            let id = tx
                .create_node(&labels, props)
                .map_err(|e| err_at(e, np.span))?;
            self.stats.nodes_created += 1;
            self.stats.labels_added += labels.len() as i64;
            self.stats.properties_set += count_props(np.properties.is_some(), tx, id);
            if let Some(s) = s {
                slots[s] = Some(Value::Node(id));
            }
            nodes.push(id);
        }
        for (i, (rp, _)) in el.chain.iter().enumerate() {
            let Some(t) = rp.types.first() else {
                return Err(err_at(
                    Error::semantic(
                        "a relationship in CREATE needs exactly one type, like [:KNOWS]",
                    ),
                    rp.span,
                ));
            };
            let props = self.pattern_props(rp.properties.as_ref(), cols, slots)?;
            let nprops = props.len() as i64;
            let (start, end) = match rel_direction(rp.direction) {
                Direction::Incoming => (nodes[i + 1], nodes[i]),
                _ => (nodes[i], nodes[i + 1]),
            };
            let tx = self.tx.w()?;
            let ty = tx.intern_rel_type(&t.name);
            let id = tx
                .create_rel(start, end, ty, props)
                .map_err(|e| err_at(e, rp.span))?;
            self.stats.relationships_created += 1;
            self.stats.properties_set += nprops;
            if let Some(v) = &rp.variable {
                if let Some(s) = slot(&v.name) {
                    slots[s] = Some(Value::Relationship(id));
                }
            }
            rels.push(id);
        }
        if let Some(pv) = &part.variable {
            if let Some(s) = slot(&pv.name) {
                slots[s] = Some(Value::Path(PathIds { nodes, rels }));
            }
        }
        Ok(())
    }

    pub(crate) fn run_create(&mut self, table: Table, c: &Create) -> Result<Table> {
        let mut cols = table.cols.clone();
        for part in &c.pattern.parts {
            add_part_vars(&mut cols, part);
        }
        let extra = cols.len() - table.cols.len();
        let mut rows = Vec::with_capacity(table.rows.len());
        for (n, row) in table.rows.into_iter().enumerate() {
            if n % 256 == 0 {
                self.control.check()?;
            }
            let mut slots: Vec<Option<Value>> = row.into_iter().map(Some).collect();
            slots.extend(std::iter::repeat(None).take(extra));
            for part in &c.pattern.parts {
                self.create_part(&cols, &mut slots, part)?;
            }
            rows.push(
                slots
                    .into_iter()
                    .map(|s| s.unwrap_or(Value::Null))
                    .collect(),
            );
        }
        Ok(Table { cols, rows })
    }

    pub(crate) fn run_merge(&mut self, table: Table, m: &Merge) -> Result<Table> {
        let mut cols = table.cols.clone();
        add_part_vars(&mut cols, &m.part);
        let extra = cols.len() - table.cols.len();
        let mut rows = Vec::new();
        for row in table.rows {
            self.control.check()?;
            let mut slots: Vec<Option<Value>> = row.into_iter().map(Some).collect();
            slots.extend(std::iter::repeat(None).take(extra));
            self.merge_props_not_null(&cols, &slots, &m.part)?;
            // Compiled per row: an earlier row may have interned the labels this one needs.
            let found = {
                let mut c2 = cols.clone();
                let elem = self.compile_part(&m.part, &mut c2);
                self.search(
                    &c2,
                    std::slice::from_ref(&elem),
                    slots.clone(),
                    None,
                    &ScanCache::default(),
                    None,
                )?
            };
            if found.is_empty() {
                self.create_part(&cols, &mut slots, &m.part)?;
                let r: Vec<Value> = slots
                    .into_iter()
                    .map(|s| s.unwrap_or(Value::Null))
                    .collect();
                for item in &m.on_create {
                    self.apply_set(item, &cols, &r)?;
                }
                rows.push(r);
            } else {
                for r in found {
                    for item in &m.on_match {
                        self.apply_set(item, &cols, &r)?;
                    }
                    rows.push(r);
                }
            }
        }
        Ok(Table { cols, rows })
    }

    /// MERGE cannot match on a null property (it would create a node it can never match).
    fn merge_props_not_null(
        &self,
        cols: &[String],
        slots: &[Option<Value>],
        part: &PatternPart,
    ) -> Result<()> {
        let el = &part.element;
        let maps = std::iter::once(el.start.properties.as_ref())
            .chain(
                el.chain
                    .iter()
                    .flat_map(|(r, n)| [r.properties.as_ref(), n.properties.as_ref()]),
            )
            .flatten();
        let b = SlotBindings {
            cols,
            slots,
            outer: None,
        };
        for e in maps {
            if let Value::Map(m) = self.eval(e, &b)? {
                if let Some((k, _)) = m.iter().find(|(_, v)| v.is_null()) {
                    return Err(err_at(
                        Error::semantic(format!(
                            "MERGE cannot use a null value for property `{k}`; filter out nulls first or use MATCH/CREATE"
                        )),
                        e.span,
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn run_set(&mut self, table: Table, s: &SetClause) -> Result<Table> {
        for (n, row) in table.rows.iter().enumerate() {
            if n % 256 == 0 {
                self.control.check()?;
            }
            for item in &s.items {
                self.apply_set(item, &table.cols, row)?;
            }
        }
        Ok(table)
    }

    fn apply_set(&mut self, item: &SetItem, cols: &[String], row: &[Value]) -> Result<()> {
        let b = RowBindings {
            cols,
            vals: row,
            outer: None,
        };
        match item {
            SetItem::Property {
                target,
                key,
                value,
                span,
            } => {
                let t = self.eval(target, &b)?;
                let v = self.eval(value, &b)?;
                let Some(t) = target_of(t, *span, "SET")? else {
                    return Ok(());
                };
                check_storable(&key.name, &v, *span)?;
                let tx = self.tx.w()?;
                let k = tx.intern_key(&key.name);
                match t {
                    Target::Node(id) => tx.set_node_property(id, k, v),
                    Target::Rel(id) => tx.set_rel_property(id, k, v),
                }
                .map_err(|e| err_at(e, *span))?;
                self.stats.properties_set += 1;
            }
            SetItem::Replace {
                variable,
                value,
                span,
            }
            | SetItem::MergeMap {
                variable,
                value,
                span,
            } => {
                let replace = matches!(item, SetItem::Replace { .. });
                let t = b.get(&variable.name).cloned().unwrap_or(Value::Null);
                let v = self.eval(value, &b)?;
                let Some(t) = target_of(t, *span, "SET")? else {
                    return Ok(());
                };
                // `SET n = m` with an entity copies its properties.
                let map = match v {
                    Value::Node(id) => self.entity_map(Target::Node(id)),
                    Value::Relationship(id) => self.entity_map(Target::Rel(id)),
                    other => other,
                };
                let entries: Vec<(String, Value)> = match map {
                    Value::Map(m) => m.into_iter().collect(),
                    Value::Null if !replace => Vec::new(),
                    Value::Null => Vec::new(),
                    other => {
                        return Err(err_at(
                            Error::type_error(format!(
                                "SET needs a map of properties, but got a {}",
                                other.type_name()
                            )),
                            *span,
                        ))
                    }
                };
                for (k, v) in &entries {
                    check_storable(k, v, *span)?;
                }
                let tx = self.tx.w()?;
                let mut props = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    props.push((tx.intern_key(&k), v));
                }
                if replace {
                    let removed = match t {
                        Target::Node(id) => tx.node_properties(id).len(),
                        Target::Rel(id) => tx.rel_properties(id).len(),
                    };
                    let set = props.iter().filter(|(_, v)| !v.is_null()).count();
                    match t {
                        Target::Node(id) => tx.replace_node_properties(id, props),
                        Target::Rel(id) => tx.replace_rel_properties(id, props),
                    }
                    .map_err(|e| err_at(e, *span))?;
                    self.stats.properties_set += (set + removed) as i64;
                } else {
                    let n = props.len() as i64;
                    for (k, v) in props {
                        match t {
                            Target::Node(id) => tx.set_node_property(id, k, v),
                            Target::Rel(id) => tx.set_rel_property(id, k, v),
                        }
                        .map_err(|e| err_at(e, *span))?;
                    }
                    self.stats.properties_set += n;
                }
            }
            SetItem::Labels {
                variable,
                labels,
                span,
            } => {
                let t = b.get(&variable.name).cloned().unwrap_or(Value::Null);
                let id = match t {
                    Value::Null => return Ok(()),
                    Value::Node(id) => id,
                    other => {
                        return Err(err_at(
                            Error::type_error(format!(
                                "only nodes have labels, but `{}` is a {}",
                                variable.name,
                                other.type_name()
                            )),
                            *span,
                        ))
                    }
                };
                let tx = self.tx.w()?;
                for l in labels {
                    let lid = tx.intern_label(&l.name);
                    if tx.add_node_label(id, lid).map_err(|e| err_at(e, *span))? {
                        self.stats.labels_added += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn entity_map(&self, t: Target) -> Value {
        let tx = self.tx.r();
        let props = match t {
            Target::Node(id) => tx.node_properties(id),
            Target::Rel(id) => tx.rel_properties(id),
        };
        Value::Map(
            props
                .into_iter()
                .map(|(k, v)| (tx.key_name(k).to_string(), v))
                .collect(),
        )
    }

    pub(crate) fn run_remove(&mut self, table: Table, r: &Remove) -> Result<Table> {
        for (n, row) in table.rows.iter().enumerate() {
            if n % 256 == 0 {
                self.control.check()?;
            }
            let b = RowBindings {
                cols: &table.cols,
                vals: row,
                outer: None,
            };
            for item in &r.items {
                match item {
                    RemoveItem::Property { target, key, span } => {
                        let t = self.eval(target, &b)?;
                        let Some(t) = target_of(t, *span, "REMOVE")? else {
                            continue;
                        };
                        let tx = self.tx.w()?;
                        let Some(k) = tx.key_id(&key.name) else {
                            continue;
                        };
                        let changed = match t {
                            Target::Node(id) => tx.set_node_property(id, k, Value::Null),
                            Target::Rel(id) => tx.set_rel_property(id, k, Value::Null),
                        }
                        .map_err(|e| err_at(e, *span))?;
                        if changed {
                            self.stats.properties_set += 1;
                        }
                    }
                    RemoveItem::Labels {
                        variable,
                        labels,
                        span,
                    } => {
                        let id = match b.get(&variable.name) {
                            None | Some(Value::Null) => continue,
                            Some(Value::Node(id)) => *id,
                            Some(other) => {
                                return Err(err_at(
                                    Error::type_error(format!(
                                        "only nodes have labels, but `{}` is a {}",
                                        variable.name,
                                        other.type_name()
                                    )),
                                    *span,
                                ))
                            }
                        };
                        let tx = self.tx.w()?;
                        for l in labels {
                            let Some(lid) = tx.label_id(&l.name) else {
                                continue;
                            };
                            if tx
                                .remove_node_label(id, lid)
                                .map_err(|e| err_at(e, *span))?
                            {
                                self.stats.labels_removed += 1;
                            }
                        }
                    }
                }
            }
        }
        Ok(table)
    }

    pub(crate) fn run_delete(&mut self, table: Table, d: &Delete) -> Result<Table> {
        // Relationships first, then nodes, so `MATCH (a)-[r]->() DELETE a, r` works in
        // any written order without DETACH.
        let mut nodes = Vec::new();
        let mut rels = Vec::new();
        for (n, row) in table.rows.iter().enumerate() {
            if n % 256 == 0 {
                self.control.check()?;
            }
            let b = RowBindings {
                cols: &table.cols,
                vals: row,
                outer: None,
            };
            for e in &d.exprs {
                match self.eval(e, &b)? {
                    Value::Null => {}
                    Value::Node(id) => nodes.push((id, e.span)),
                    Value::Relationship(id) => rels.push((id, e.span)),
                    Value::Path(p) => {
                        rels.extend(p.rels.iter().map(|r| (*r, e.span)));
                        nodes.extend(p.nodes.iter().map(|n| (*n, e.span)));
                    }
                    other => {
                        return Err(err_at(
                            Error::type_error(format!(
                                "DELETE needs a node, relationship or path, but got a {}",
                                other.type_name()
                            )),
                            e.span,
                        ))
                    }
                }
            }
        }
        let tx = self.tx.w()?;
        for (id, span) in rels {
            if tx.delete_rel(id).map_err(|e| err_at(e, span))? {
                self.stats.relationships_deleted += 1;
            }
        }
        for (id, span) in nodes {
            let (deleted, rels) = tx.delete_node(id, d.detach).map_err(|e| err_at(e, span))?;
            if deleted {
                self.stats.nodes_deleted += 1;
            }
            self.stats.relationships_deleted += rels as i64;
        }
        Ok(table)
    }
}

/// Properties a new entity got (its stored property count when a map was given).
fn count_props(given: bool, tx: &crate::txn::Transaction, id: NodeId) -> i64 {
    if given {
        tx.node_properties(id).len() as i64
    } else {
        0
    }
}

/// Appends the variables a pattern part introduces to `cols`.
fn add_part_vars(cols: &mut Vec<String>, part: &PatternPart) {
    let mut add = |name: &str| {
        if !cols.iter().any(|c| c == name) {
            cols.push(name.to_owned());
        }
    };
    let el = &part.element;
    if let Some(v) = &el.start.variable {
        add(&v.name);
    }
    for (r, n) in &el.chain {
        if let Some(v) = &r.variable {
            add(&v.name);
        }
        if let Some(v) = &n.variable {
            add(&v.name);
        }
    }
    if let Some(v) = &part.variable {
        add(&v.name);
    }
}
