//! STUB (executor owner)
