//! STUB
pub struct Graph {}
