//! Query parameters, set by name (without the `$`).

use std::ffi::{c_char, CString};

use super::status::{graphdb_status, guard, guard_value, null_argument};
use super::util::{handle, in_str, in_str_n, need, out};
use crate::api::{json, Params, Value};
use crate::error::{Error, Result};

/// A set of named parameters for `graphdb_query` / `graphdb_execute`. Setting a name again
/// replaces its value. Free with `graphdb_params_free`.
pub struct graphdb_params {
    params: Params,
    /// Why the last setter failed (params have no connection to hold error details).
    last_error: Option<CString>,
}

static NO_PARAMS: std::sync::OnceLock<Params> = std::sync::OnceLock::new();

/// The parameters behind a possibly-NULL handle (NULL: none).
///
/// # Safety
/// `p` is NULL or a live params handle.
pub(crate) unsafe fn params_of<'a>(p: *const graphdb_params) -> Result<&'a Params> {
    if p.is_null() {
        return Ok(NO_PARAMS.get_or_init(Params::new));
    }
    // SAFETY: non-NULL and live per this function's contract.
    Ok(&unsafe { handle(p, "params") }?.params)
}

/// Creates an empty parameter set.
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_new(
    out_params: *mut *mut graphdb_params,
) -> graphdb_status {
    guard("graphdb_params_new", || {
        // SAFETY: the caller passes NULL or a writable pointer.
        let o = need(unsafe { out(out_params, std::ptr::null_mut()) }, "out")?;
        *o = Box::into_raw(Box::new(graphdb_params {
            params: Params::new(),
            last_error: None,
        }));
        Ok(())
    })
}

/// Validates the handle and the name, then stores the value `make` builds.
///
/// # Safety
/// `p` is NULL or a live params handle used by one thread; `name` is NULL or NUL-terminated.
unsafe fn set(
    function: &str,
    p: *mut graphdb_params,
    name: *const c_char,
    make: impl FnOnce() -> Result<Value>,
) -> graphdb_status {
    guard(function, || {
        // SAFETY: NULL or a live handle, per this function's contract.
        let p = unsafe { p.as_mut() }.ok_or_else(|| null_argument("params"))?;
        let outcome = (|| {
            // SAFETY: NULL or NUL-terminated, per this function's contract.
            let name = unsafe { in_str(name, "parameter name") }?;
            if name.is_empty() {
                return Err(Error::invalid_argument(
                    "the parameter name is empty; pass the name used in the query, without the $",
                ));
            }
            let value = make()?;
            p.params.insert(name.to_string(), value);
            Ok(())
        })();
        p.last_error = outcome
            .as_ref()
            .err()
            .map(|e| CString::new(e.to_string().replace('\0', "\u{FFFD}")).unwrap_or_default());
        outcome
    })
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_null(
    p: *mut graphdb_params,
    name: *const c_char,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract.
    unsafe { set("graphdb_params_set_null", p, name, || Ok(Value::Null)) }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_bool(
    p: *mut graphdb_params,
    name: *const c_char,
    v: bool,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract.
    unsafe { set("graphdb_params_set_bool", p, name, || Ok(Value::Bool(v))) }
}

#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_int64(
    p: *mut graphdb_params,
    name: *const c_char,
    v: i64,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract.
    unsafe { set("graphdb_params_set_int64", p, name, || Ok(Value::Int(v))) }
}

/// Any double, NaN and infinities included.
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_double(
    p: *mut graphdb_params,
    name: *const c_char,
    v: f64,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract.
    unsafe { set("graphdb_params_set_double", p, name, || Ok(Value::Float(v))) }
}

/// A NUL-terminated UTF-8 string.
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_string(
    p: *mut graphdb_params,
    name: *const c_char,
    utf8: *const c_char,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract; `utf8` is NULL or NUL-terminated.
    unsafe {
        set("graphdb_params_set_string", p, name, || {
            Ok(Value::String(in_str(utf8, "string value")?.to_string()))
        })
    }
}

/// `len` bytes of UTF-8 at `utf8` (NUL bytes allowed; NULL with len 0 is "").
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_string_n(
    p: *mut graphdb_params,
    name: *const c_char,
    utf8: *const c_char,
    len: usize,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract; `utf8` has `len` readable bytes.
    unsafe {
        set("graphdb_params_set_string_n", p, name, || {
            Ok(Value::String(
                in_str_n(utf8, len, "string value")?.to_string(),
            ))
        })
    }
}

/// Any value, lists and maps included, in the JSON form of API.md (nodes, relationships and
/// paths cannot be parameters; integers must fit in 64 signed bits).
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_set_json(
    p: *mut graphdb_params,
    name: *const c_char,
    json_text: *const c_char,
) -> graphdb_status {
    // SAFETY: arguments forwarded under the same contract; `json_text` is NUL-terminated.
    unsafe {
        set("graphdb_params_set_json", p, name, || {
            json::from_json(in_str(json_text, "JSON value")?)
        })
    }
}

/// Why the last `graphdb_params_set_*` call on `p` failed, or NULL if it succeeded (or `p` is
/// NULL). Borrowed: valid until the next call on `p`.
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_error_message(p: *const graphdb_params) -> *const c_char {
    guard_value(std::ptr::null(), || {
        // SAFETY: NULL or a live handle.
        match unsafe { p.as_ref() } {
            Some(p) => p
                .last_error
                .as_ref()
                .map_or(std::ptr::null(), |m| m.as_ptr()),
            None => std::ptr::null(),
        }
    })
}

/// Removes every parameter, so the set can be reused.
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_clear(p: *mut graphdb_params) -> graphdb_status {
    guard("graphdb_params_clear", || {
        // SAFETY: NULL or a live handle used by one thread.
        let p = unsafe { p.as_mut() }.ok_or_else(|| null_argument("params"))?;
        p.params.clear();
        Ok(())
    })
}

/// Frees a parameter set; NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn graphdb_params_free(p: *mut graphdb_params) {
    guard_value((), || {
        if !p.is_null() {
            // SAFETY: non-NULL handles come from graphdb_params_new and are freed once.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}
