//! STUB (parser owner)
use super::ast::Statement;
use crate::error::Result;

pub fn parse(_text: &str) -> Result<Statement> {
    todo!()
}
