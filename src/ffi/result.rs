//! Query results: materialized rows read with a cursor, typed getters, JSON, statistics.
//!
//! Getter rules: before the first `graphdb_result_next` and after it returned no row there is
//! no current row, and getters fail with GRAPHDB_MISUSE. A column index out of range is
//! GRAPHDB_INVALID_ARGUMENT; a getter of the wrong type (including on NULL) is
//! GRAPHDB_TYPE_ERROR. Borrowed strings and value views stay valid until the next
//! `graphdb_result_next` or `graphdb_result_free` on the same result.

use std::ffi::c_char;
use std::sync::{Arc, Mutex};

use super::shared::ConnShared;
use super::status::{graphdb_status, guard, guard_value, misuse};
use super::util::{handle, need, out, owned_c_string, CBuf};
use super::value::{graphdb_value, graphdb_value_type, write_str};
use crate::api::{json, QueryResult, QueryStats, Value};
use crate::error::{Error, Result};

/// Which counter `graphdb_result_stat` returns (passed as uint32_t).
#[repr(C)]
#[allow(non_camel_case_types)]
pub enum graphdb_stat {
    GRAPHDB_STAT_NODES_CREATED = 0,
    GRAPHDB_STAT_NODES_DELETED = 1,
    GRAPHDB_STAT_RELATIONSHIPS_CREATED = 2,
    GRAPHDB_STAT_RELATIONSHIPS_DELETED = 3,
    GRAPHDB_STAT_PROPERTIES_SET = 4,
    GRAPHDB_STAT_LABELS_ADDED = 5,
    GRAPHDB_STAT_LABELS_REMOVED = 6,
}

/// The result of one statement: column names, rows (read with `graphdb_result_next`) and
/// change counters. It holds its connection's state, so it stays readable after
/// `graphdb_disconnect`. Free with `graphdb_result_free`.
pub struct graphdb_result {
    shared: Arc<ConnShared>,
    columns: Vec<CBuf>,
    stats: QueryStats,
    cursor: Mutex<Cursor>,
}

struct Cursor {
    rows: std::vec::IntoIter<Vec<Value>>,
    current: Option<Row>,
}

/// The current row, with its values converted to views (so strings are NUL-terminated).
struct Row {
    values: Vec<Value>,
    views: Vec<graphdb_value>,
}

impl graphdb_result {
    pub(crate) fn new_raw(shared: &Arc<ConnShared>, result: QueryResult) -> *mut graphdb_result {
        Box::into_raw(Box::new(graphdb_result {
            shared: Arc::clone(shared),
            columns: result.columns.iter().map(|c| CBuf::new(c)).collect(),
            stats: result.stats,
            cursor: Mutex::new(Cursor {
                rows: result.rows.into_iter(),
                current: None,
            }),
        }))
    }

    /// Runs `body` on column `col` of the current row, entering the connection (so a second
    /// thread gets Misuse) and recording the outcome on it.
    fn on_cell<T>(
        &self,
        function: &str,
        col: usize,
        body: impl FnOnce(&Value, &graphdb_value) -> Result<T>,
    ) -> Result<T> {
        self.shared.call(function, |_state| {
            let cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
            let row = cursor.current.as_ref().ok_or_else(|| {
                misuse(format!(
                    "{function}: there is no current row; call graphdb_result_next first and \
                     read only while it reports a row"
                ))
            })?;
            let (value, view) = match (row.values.get(col), row.views.get(col)) {
                (Some(value), Some(view)) => (value, view),
                _ => return Err(self.column_out_of_range(col)),
            };
            body(value, view)
        })
    }

    fn column_out_of_range(&self, col: usize) -> Error {
        Error::invalid_argument(format!(
            "column {col} is out of range; the result has {} column(s), numbered from 0",
            self.columns.len()
        ))
    }
}

/// # Safety
/// `r` is NULL or a live result handle.
unsafe fn result_ref<'a>(r: *const graphdb_result) -> Result<&'a graphdb_result> {
    // SAFETY: per this function's contract.
    unsafe { handle(r, "result") }
}

/// The number of columns; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_column_count(r: *const graphdb_result) -> usize {
    // SAFETY: NULL or a live result; columns never change after creation.
    guard_value(0, || unsafe { r.as_ref() }.map_or(0, |r| r.columns.len()))
}

/// The name of column `col` (borrowed, valid until the result is freed); NULL when `r` is
/// NULL or `col` is out of range.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_column_name(
    r: *const graphdb_result,
    col: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: NULL or a live result; columns never change after creation.
        let Some(r) = (unsafe { r.as_ref() }) else {
            return std::ptr::null();
        };
        let found = r.shared.call_free("graphdb_result_column_name", || {
            r.columns.get(col).ok_or_else(|| r.column_out_of_range(col))
        });
        found.map_or(std::ptr::null(), |c| c.ptr())
    })
}

/// Moves to the next row: `*has_row` is true while there is one. After the last row it stays
/// false (and getters fail with GRAPHDB_MISUSE).
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_next(
    r: *mut graphdb_result,
    has_row: *mut bool,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(has_row, false) };
    guard("graphdb_result_next", || {
        // SAFETY: NULL or a live result.
        let r = unsafe { result_ref(r) }?;
        r.shared.call("graphdb_result_next", |_state| {
            let o = need(o, "has_row")?;
            let mut cursor = r.cursor.lock().unwrap_or_else(|p| p.into_inner());
            cursor.current = cursor.rows.next().map(|values| Row {
                views: values.iter().map(graphdb_value::from_value).collect(),
                values,
            });
            *o = cursor.current.is_some();
            Ok(())
        })
    })
}

/// The type of column `col` in the current row; GRAPHDB_TYPE_INVALID on a bad argument or
/// when there is no current row.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_type(
    r: *const graphdb_result,
    col: usize,
) -> graphdb_value_type {
    guard_value(graphdb_value_type::GRAPHDB_TYPE_INVALID, || {
        // SAFETY: NULL or a live result.
        let Ok(r) = (unsafe { result_ref(r) }) else {
            return graphdb_value_type::GRAPHDB_TYPE_INVALID;
        };
        r.on_cell("graphdb_result_type", col, |_, view| Ok(view.value_type()))
            .unwrap_or(graphdb_value_type::GRAPHDB_TYPE_INVALID)
    })
}

/// Shared shape of the scalar getters.
///
/// # Safety
/// `r` is NULL or a live result; `o` is NULL or writable.
unsafe fn get<T: Copy>(
    function: &str,
    r: *const graphdb_result,
    col: usize,
    o: *mut T,
    empty: T,
    read: impl FnOnce(&graphdb_value) -> Result<T>,
) -> graphdb_status {
    // SAFETY: per this function's contract.
    let o = unsafe { out(o, empty) };
    guard(function, || {
        // SAFETY: per this function's contract.
        let r = unsafe { result_ref(r) }?;
        r.on_cell(function, col, |_, view| {
            let o = need(o, "out")?;
            *o = read(view)?;
            Ok(())
        })
    })
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_result_get_bool(
    r: *const graphdb_result,
    col: usize,
    out: *mut bool,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        get("graphdb_result_get_bool", r, col, out, false, |v| {
            v.as_bool()
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_result_get_int64(
    r: *const graphdb_result,
    col: usize,
    out: *mut i64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe { get("graphdb_result_get_int64", r, col, out, 0, |v| v.as_int()) }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_result_get_double(
    r: *const graphdb_result,
    col: usize,
    out: *mut f64,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        get("graphdb_result_get_double", r, col, out, 0.0, |v| {
            v.as_double()
        })
    }
}

/// A borrowed NUL-terminated UTF-8 string and its length in bytes (`len` may be NULL), valid
/// until the next `graphdb_result_next` or `graphdb_result_free`. For a temporal value
/// (`GRAPHDB_TYPE_DATE` .. `GRAPHDB_TYPE_DURATION`) it is the Cypher string form.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_get_string(
    r: *const graphdb_result,
    col: usize,
    utf8: *mut *const c_char,
    len: *mut usize,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or writable pointers.
    let utf8 = unsafe { out(utf8, std::ptr::null()) };
    // SAFETY: as above.
    unsafe { out(len, 0) };
    guard("graphdb_result_get_string", || {
        // SAFETY: NULL or a live result.
        let r = unsafe { result_ref(r) }?;
        r.on_cell("graphdb_result_get_string", col, |_, view| {
            // SAFETY: `len` is NULL or writable.
            unsafe { write_str(view.as_str()?, utf8, len) }
        })
    })
}

/// The value of column `col` in the JSON form of API.md, owned: free it with
/// `graphdb_string_free`. Works for every type.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_get_json(
    r: *const graphdb_result,
    col: usize,
    owned_json: *mut *mut c_char,
) -> graphdb_status {
    // SAFETY: the caller passes NULL or a writable pointer.
    let o = unsafe { out(owned_json, std::ptr::null_mut()) };
    guard("graphdb_result_get_json", || {
        // SAFETY: NULL or a live result.
        let r = unsafe { result_ref(r) }?;
        r.on_cell("graphdb_result_get_json", col, |value, _| {
            let o = need(o, "owned_json")?;
            *o = owned_c_string(&json::to_json(value));
            Ok(())
        })
    })
}

/// A borrowed view of column `col` (see the graphdb_value_* functions), valid until the next
/// `graphdb_result_next` or `graphdb_result_free`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_get_value(
    r: *const graphdb_result,
    col: usize,
    out_value: *mut *const graphdb_value,
) -> graphdb_status {
    // SAFETY: forwarded under the same contract.
    unsafe {
        get(
            "graphdb_result_get_value",
            r,
            col,
            out_value,
            std::ptr::null(),
            |v| Ok(v as *const graphdb_value),
        )
    }
}

/// One change counter of the statement (`which`: a GRAPHDB_STAT_* value); -1 when `r` is NULL
/// or `which` is unknown.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_stat(r: *const graphdb_result, which: u32) -> i64 {
    guard_value(-1, || {
        // SAFETY: NULL or a live result; statistics never change after creation.
        let Some(r) = (unsafe { r.as_ref() }) else {
            return -1;
        };
        let s = &r.stats;
        let counter = r.shared.call_free("graphdb_result_stat", || match which {
            0 => Ok(s.nodes_created),
            1 => Ok(s.nodes_deleted),
            2 => Ok(s.relationships_created),
            3 => Ok(s.relationships_deleted),
            4 => Ok(s.properties_set),
            5 => Ok(s.labels_added),
            6 => Ok(s.labels_removed),
            other => Err(Error::invalid_argument(format!(
                "statistic {other} is unknown; pass a GRAPHDB_STAT_* value"
            ))),
        });
        counter.unwrap_or(-1)
    })
}

/// Frees a result; NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn graphdb_result_free(r: *mut graphdb_result) {
    guard_value((), || {
        if !r.is_null() {
            // SAFETY: non-NULL handles come from graphdb_query/graphdb_execute, freed once.
            drop(unsafe { Box::from_raw(r) });
        }
    })
}
