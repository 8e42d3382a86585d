//! STUB (expressions owner)
