//! STUB (ffi owner): the JSON form of values (API.md "JSON form of values").
#![allow(unused_variables)]
use super::Value;
use crate::error::Result;

/// Renders a value in the JSON form of API.md.
pub fn to_json(value: &Value) -> String {
    todo!()
}

/// Parses the JSON form of API.md; `$node`/`$relationship`/`$path` are refused as parameters.
pub fn from_json(text: &str) -> Result<Value> {
    todo!()
}
