//! Reading C inputs and writing C outputs: the only places raw pointers are dereferenced
//! outside the handle modules.

use std::ffi::{c_char, CStr, CString};

use super::status::null_argument;
use crate::error::{Error, Result};

/// A NUL-terminated copy of a UTF-8 string, handed out as a borrowed `const char *` plus
/// length. The bytes live on the heap, so the pointer stays valid while the `CBuf` is alive,
/// even if the `CBuf` itself moves. Interior NULs are kept (the length tells the truth; a C
/// caller that stops at the first NUL sees a prefix).
pub(crate) struct CBuf(Box<[u8]>);

impl CBuf {
    pub(crate) fn new(s: &str) -> CBuf {
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
        CBuf(bytes.into_boxed_slice())
    }

    pub(crate) fn ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }

    /// Length in bytes, without the terminating NUL.
    pub(crate) fn len(&self) -> usize {
        self.0.len() - 1
    }

    pub(crate) fn as_str(&self) -> &str {
        // The bytes were copied from a &str in `new`, so they are valid UTF-8.
        std::str::from_utf8(&self.0[..self.len()]).unwrap_or_default()
    }
}

/// An owned C string for the caller (freed with `graphdb_string_free`). Interior NULs,
/// which C cannot represent, become U+FFFD.
pub(crate) fn owned_c_string(s: &str) -> *mut c_char {
    let cleaned = if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s.to_string()
    };
    CString::new(cleaned).unwrap_or_default().into_raw()
}

/// Reads a NUL-terminated UTF-8 input string.
///
/// # Safety
/// `p` is NULL or points at a NUL-terminated string that stays valid during the call.
pub(crate) unsafe fn in_str<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(null_argument(what));
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    utf8(bytes, what)
}

/// Reads a pointer + length UTF-8 input string; `(NULL, 0)` is the empty string.
///
/// # Safety
/// `p` is NULL or points at `len` readable bytes that stay valid during the call.
pub(crate) unsafe fn in_str_n<'a>(p: *const c_char, len: usize, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return if len == 0 {
            Ok("")
        } else {
            Err(null_argument(what))
        };
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid_argument(format!(
            "{what} has an impossible length {len}"
        )));
    }
    // SAFETY: `p` is non-NULL with `len` readable bytes per this function's contract, and
    // `len` fits in isize as from_raw_parts requires.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    utf8(bytes, what)
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid_argument(format!(
            "{what} is not valid UTF-8 (bad byte at offset {}); pass UTF-8 text",
            e.valid_up_to()
        ))
    })
}

/// Clears an out-parameter (so it reads NULL/0 whatever happens next) and returns it, or
/// `None` when the caller passed NULL.
///
/// # Safety
/// `p` is NULL or valid for writes of a `T` during the call.
pub(crate) unsafe fn out<'a, T>(p: *mut T, empty: T) -> Option<&'a mut T> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL and writable per this function's contract; `write` does not read or
    // drop the (possibly uninitialized) old value.
    unsafe {
        p.write(empty);
        Some(&mut *p)
    }
}

/// The out-parameter `name`, or `InvalidArgument` when the caller passed NULL.
pub(crate) fn need<'a, T>(o: Option<&'a mut T>, name: &str) -> Result<&'a mut T> {
    o.ok_or_else(|| null_argument(name))
}

/// Borrows a handle, or `InvalidArgument` for NULL.
///
/// # Safety
/// `p` is NULL or a live handle of type `T` returned by this library and not yet freed.
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: per this function's contract a non-NULL `p` is a live handle.
    unsafe { p.as_ref() }.ok_or_else(|| null_argument(name))
}
