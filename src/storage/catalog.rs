//! STUB
pub struct Catalog {}
