//! STUB (engine owner)
