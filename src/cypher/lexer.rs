//! STUB (parser owner)
