//! The C ABI of libgraphdb: opaque handles, status codes, per-connection error details and a
//! panic guard around the Rust API in `crate::api`. No database logic lives here.
//!
//! `include/graphdb.h` is generated from this module by cbindgen (tests/header.rs); the
//! contract is API.md. Conventions every function follows:
//! - handles are opaque pointers; NULL handles, NULL out-parameters, invalid UTF-8, bad enum
//!   values and out-of-range indexes are `GRAPHDB_INVALID_ARGUMENT`, never a crash;
//! - out-parameters are cleared (NULL/0) first, so they read NULL/0 after any failure;
//! - every export runs under `catch_unwind`: a panic becomes `GRAPHDB_INTERNAL`;
//! - every `_free`/`_close`/`_disconnect` accepts NULL.
//!
//! # Safety (every exported function)
//! Pointer arguments must be NULL or valid for the access the function documents: handles
//! live (returned by this library and not yet freed), strings NUL-terminated (or `len` bytes
//! for `_n` variants), out-parameters writable. That is the whole contract; everything else
//! is checked.
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

mod connection;
mod database;
mod import;
mod params;
mod result;
mod shared;
mod status;
mod transaction;
mod util;
mod value;

use std::ffi::c_char;

pub use connection::*;
pub use database::*;
pub use import::*;
pub use params::*;
pub use result::*;
pub use status::graphdb_status;
pub use transaction::*;
pub use value::*;

/// The ABI version of this header and library; bumped on any incompatible change to a name
/// or meaning in the C API.
pub const GRAPHDB_ABI_VERSION: u32 = 1;

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("the package version contains a NUL byte"),
};

/// The library version, "MAJOR.MINOR.PATCH" (static; do not free).
#[no_mangle]
pub extern "C" fn graphdb_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The ABI version the library was built with; compare with GRAPHDB_ABI_VERSION.
#[no_mangle]
pub extern "C" fn graphdb_abi_version() -> u32 {
    GRAPHDB_ABI_VERSION
}

/// Frees a string this library returned as "owned"; NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn graphdb_string_free(s: *mut c_char) {
    status::guard_value((), || {
        if !s.is_null() {
            // SAFETY: owned strings come from CString::into_raw in this library and are freed
            // once.
            drop(unsafe { std::ffi::CString::from_raw(s) });
        }
    })
}

// The handles cross threads in C (a database is shared; a connection moves between threads
// one at a time), so what they wrap must be Send (and Sync where shared).
#[allow(dead_code)]
fn _handles_are_thread_safe() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<crate::api::Database>();
    send_sync::<crate::api::InterruptHandle>();
    fn send<T: Send>() {}
    send::<crate::api::Connection>();
    send::<crate::api::PreparedStatement>();
    send::<crate::api::QueryResult>();
}

#[cfg(test)]
mod tests;
