//! LOAD CSV: reads a local file as rows, streaming.
//!
//! The executor is table-at-a-time, so a plain LOAD CSV would hold the whole file. Instead the
//! clauses after LOAD CSV run on batches of [`BATCH_ROWS`] rows, up to the first clause that
//! needs all rows at once (see [`stream_end`]); only what that clause (or the final RETURN)
//! needs is kept, so `LOAD CSV ... CREATE ...` runs in memory bounded by one batch. Each batch
//! sees the effects of the batches before it, as with batched imports elsewhere; a reading
//! clause after an updating clause ends the batched part, so within a query a clause still
//! sees every change of the clauses before it.
//!
//! Values are strings (an empty field is null); `WITH HEADERS` gives maps keyed by the first
//! line's names, without it rows are lists.

use std::fs::File;
use std::io::BufReader;

use super::{Exec, RowBindings, Table};
use crate::cypher::ast::{Clause, LoadCsv, Projection};
use crate::cypher::plan::{contains_aggregate, reads_graph, visit_clause_exprs};
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// Rows read from the file before the following clauses run on them.
pub(crate) const BATCH_ROWS: usize = 1000;

/// How many clauses after a LOAD CSV can run batch by batch: they stop before the first
/// clause that needs all rows (aggregation, DISTINCT, ORDER BY, SKIP, LIMIT) and before a
/// clause that reads the graph (a reading clause, or an expression matching patterns) after
/// an updating one.
pub(crate) fn stream_end(rest: &[Clause]) -> usize {
    let needs_all = |p: &Projection| {
        p.distinct
            || !p.order_by.is_empty()
            || p.skip.is_some()
            || p.limit.is_some()
            || p.items.iter().any(|i| contains_aggregate(&i.expr))
    };
    let mut wrote = false;
    for (i, c) in rest.iter().enumerate() {
        let stop = match c {
            Clause::With(w) => needs_all(&w.projection),
            Clause::Return(r) => needs_all(&r.projection),
            Clause::Match(_) | Clause::Merge(_) | Clause::Call(_) | Clause::LoadCsv(_) => wrote,
            _ => false,
        } || (wrote && clause_reads_graph(c));
        if stop {
            return i;
        }
        wrote |= c.is_updating();
    }
    rest.len()
}

fn clause_reads_graph(c: &Clause) -> bool {
    let mut found = false;
    visit_clause_exprs(c, &mut |e| found |= reads_graph(e));
    found
}

/// An open CSV file being read row by row.
pub(crate) struct CsvSource {
    reader: csv::Reader<BufReader<File>>,
    headers: Option<Vec<String>>,
    path: String,
    record: csv::StringRecord,
}

fn csv_error(path: &str, e: &csv::Error) -> Error {
    let line = e.position().map(|p| p.line());
    let what = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not valid UTF-8", err.field() + 1)
        }
        csv::ErrorKind::Io(io) => return Error::io(format!("reading {path}"), io),
        _ => e.to_string(),
    };
    match line {
        Some(l) => Error::new(
            ErrorKind::Error,
            format!("LOAD CSV: line {l} of {path} is malformed: {what}; fix that line"),
        ),
        None => Error::new(
            ErrorKind::Error,
            format!("LOAD CSV: {path} is malformed: {what}"),
        ),
    }
}

/// The local path of a `file:` URL (`file:///data/x.csv`, also `file:/data/x.csv`), with
/// `%XX` escapes decoded.
fn local_path(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("file://")
        .or_else(|| url.strip_prefix("file:"))
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "LOAD CSV reads local files only, given as file:///absolute/path, not `{url}`"
            ))
        })?;
    // `file://host/path` names another machine; only the empty host (or localhost) is local.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err(Error::invalid_argument(format!(
            "LOAD CSV needs an absolute local path like file:///data/people.csv, not `{url}`"
        )));
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| {
        Error::invalid_argument(format!(
            "LOAD CSV: the path in `{url}` is not valid UTF-8 after decoding %-escapes"
        ))
    })
}

fn terminator(t: Option<&str>) -> Result<u8> {
    let Some(t) = t else { return Ok(b',') };
    let t = match t {
        "\\t" => "\t",
        other => other,
    };
    match t.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(Error::invalid_argument(format!(
            "FIELDTERMINATOR must be a single ASCII character, not `{t}`"
        ))),
    }
}

impl CsvSource {
    pub(crate) fn open(url: &Value, l: &LoadCsv) -> Result<CsvSource> {
        let Value::String(url) = url else {
            return Err(Error::type_error(format!(
                "LOAD CSV FROM needs a string URL like 'file:///data/x.csv', but got a {}",
                url.type_name()
            )));
        };
        let path = local_path(url)?;
        // A file that cannot be opened is the query's mistake (a wrong path), not a failing
        // disk: ERROR, not IO_ERROR.
        let file = File::open(&path).map_err(|e| {
            Error::new(
                ErrorKind::Error,
                format!(
                    "LOAD CSV cannot open {path}: {e}; check that the file exists and is readable"
                ),
            )
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(terminator(l.field_terminator.as_deref())?)
            .from_reader(BufReader::new(file));
        let mut record = csv::StringRecord::new();
        let headers = if l.with_headers {
            if !reader
                .read_record(&mut record)
                .map_err(|e| csv_error(&path, &e))?
            {
                return Err(Error::new(
                    ErrorKind::Error,
                    format!("LOAD CSV WITH HEADERS: {path} is empty, so it has no header line"),
                ));
            }
            Some(record.iter().map(str::to_owned).collect())
        } else {
            None
        };
        Ok(CsvSource {
            reader,
            headers,
            path,
            record,
        })
    }

    /// The next row as a list of strings or (with headers) a map; None at the end.
    pub(crate) fn next_row(&mut self) -> Result<Option<Value>> {
        if !self
            .reader
            .read_record(&mut self.record)
            .map_err(|e| csv_error(&self.path, &e))?
        {
            return Ok(None);
        }
        let field = |s: &str| {
            if s.is_empty() {
                Value::Null
            } else {
                Value::String(s.to_owned())
            }
        };
        let Some(headers) = &self.headers else {
            return Ok(Some(Value::List(self.record.iter().map(field).collect())));
        };
        if self.record.len() > headers.len() {
            let line = self.record.position().map_or(0, |p| p.line());
            return Err(Error::new(
                ErrorKind::Error,
                format!(
                    "LOAD CSV: line {line} of {} is malformed: it has {} fields but the header line names {}; fix that line",
                    self.path,
                    self.record.len(),
                    headers.len()
                ),
            ));
        }
        let map = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), self.record.get(i).map_or(Value::Null, field)))
            .collect();
        Ok(Some(Value::Map(map)))
    }
}

impl Exec<'_> {
    /// Runs LOAD CSV and the `rest` clauses after it batch by batch. `keep`: whether the rows
    /// coming out of `rest` are needed (by a later clause or as the result). Returns the
    /// table after `rest`, whether it is the query's result, and how many rows were read.
    pub(crate) fn run_load_csv(
        &mut self,
        table: Table,
        l: &LoadCsv,
        rest: &[Clause],
        keep: bool,
    ) -> Result<(Table, bool, u64)> {
        let mut cols = table.cols.clone();
        let mut read: u64 = 0;
        let slot = match cols.iter().position(|c| *c == l.alias.name) {
            Some(i) => i,
            None => {
                cols.push(l.alias.name.clone());
                cols.len() - 1
            }
        };
        let mut out: Option<Table> = None;
        let mut returns = false;
        let at = |e: Error| {
            if e.position().is_some() {
                e
            } else {
                e.at(l.span.line, l.span.column)
            }
        };
        for row in &table.rows {
            let b = RowBindings {
                cols: &table.cols,
                vals: row,
                outer: None,
            };
            let url = self.eval(&l.url, &b)?;
            let mut src = CsvSource::open(&url, l).map_err(at)?;
            loop {
                self.control.check()?;
                let mut batch = Vec::with_capacity(BATCH_ROWS);
                while batch.len() < BATCH_ROWS {
                    let Some(v) = src.next_row().map_err(at)? else {
                        break;
                    };
                    let mut r = row.clone();
                    if slot < r.len() {
                        r[slot] = v;
                    } else {
                        r.push(v);
                    }
                    batch.push(r);
                }
                if batch.is_empty() {
                    break;
                }
                read += batch.len() as u64;
                let (t, r) = self.run_clauses(
                    rest,
                    Table {
                        cols: cols.clone(),
                        rows: batch,
                    },
                    false,
                )?;
                returns = r;
                let acc = out.get_or_insert_with(|| Table {
                    cols: t.cols.clone(),
                    rows: Vec::new(),
                });
                if keep {
                    acc.rows.extend(t.rows);
                    self.note_rows(acc.rows.len());
                }
            }
        }
        match out {
            Some(t) => Ok((t, returns, read)),
            // No rows at all: run the rest once on nothing to get its columns.
            None => {
                let empty = Table {
                    cols,
                    rows: Vec::new(),
                };
                let (t, r) = self.run_clauses(rest, empty, false)?;
                Ok((t, r, 0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_to_local_paths() {
        assert_eq!(local_path("file:///tmp/a.csv").unwrap(), "/tmp/a.csv");
        assert_eq!(local_path("file:/tmp/a%20b.csv").unwrap(), "/tmp/a b.csv");
        assert_eq!(local_path("file://localhost/x").unwrap(), "/x");
        for bad in [
            "http://example.com/a.csv",
            "/tmp/a.csv",
            "file://host/x",
            "file:rel",
        ] {
            assert!(local_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn terminators_are_single_ascii_characters() {
        assert_eq!(terminator(None).unwrap(), b',');
        assert_eq!(terminator(Some(";")).unwrap(), b';');
        assert_eq!(terminator(Some("\\t")).unwrap(), b'\t');
        assert!(terminator(Some(";;")).is_err());
        assert!(terminator(Some("é")).is_err());
    }
}
