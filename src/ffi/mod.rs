//! STUB (ffi owner): the C ABI.
