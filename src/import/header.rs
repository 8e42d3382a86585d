//! The header convention (that of `neo4j-admin database import`):
//!
//! - node files: one `:ID` column, optionally named (`id:ID`, stored as property `id`) and
//!   optionally in an id space (`id:ID(User)`; by default the file's first label);
//! - relationship files: one `:START_ID` and one `:END_ID` column, each optionally with an
//!   id space (`:START_ID(User)`);
//! - every other column is a property `name` or `name:type`, type one of `string` (the
//!   default), `int` (`long`, `short`, `byte`), `float` (`double`), `boolean` (`bool`),
//!   case-insensitive; a column `:IGNORE` (or named `x:IGNORE`) is skipped.

use crate::error::{Error, Result};

/// A property column's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    String,
    Int,
    Float,
    Bool,
}

/// What one column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The node id; `name` is the property it is also stored as (if named).
    Id {
        name: Option<String>,
        space: Option<String>,
    },
    StartId {
        space: Option<String>,
    },
    EndId {
        space: Option<String>,
    },
    Prop {
        name: String,
        ty: PropType,
    },
    Ignore,
}

/// Splits `name:TYPE(space)` into its parts.
fn split(col: &str) -> (&str, Option<&str>, Option<&str>) {
    let Some(colon) = col.rfind(':') else {
        return (col, None, None);
    };
    let (name, rest) = (&col[..colon], &col[colon + 1..]);
    match rest.find('(') {
        Some(open) if rest.ends_with(')') => (
            name,
            Some(&rest[..open]),
            Some(&rest[open + 1..rest.len() - 1]),
        ),
        _ => (name, Some(rest), None),
    }
}

/// Parses one header field; `file` is for messages.
pub fn column(field: &str, file: &str) -> Result<Column> {
    let field = field.trim();
    let (name, ty, space) = split(field);
    let bad = |what: String| {
        Error::invalid_argument(format!("{file}: header column \"{field}\": {what}"))
    };
    let space = space
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let Some(ty) = ty else {
        if name.is_empty() {
            return Err(bad(
                "an empty column name (name every column, or use :IGNORE)".into(),
            ));
        }
        return Ok(Column::Prop {
            name: name.to_owned(),
            ty: PropType::String,
        });
    };
    let kind = ty.trim().to_ascii_lowercase();
    if space.is_some() && !matches!(kind.as_str(), "id" | "start_id" | "end_id") {
        return Err(bad(
            "only :ID, :START_ID and :END_ID take an id space".into()
        ));
    }
    match kind.as_str() {
        "id" => Ok(Column::Id {
            name: (!name.is_empty()).then(|| name.to_owned()),
            space,
        }),
        "start_id" => Ok(Column::StartId { space }),
        "end_id" => Ok(Column::EndId { space }),
        "ignore" => Ok(Column::Ignore),
        "label" | "type" => Err(bad(format!(
            ":{} columns are not supported; give the {} in the import spec",
            ty.trim(),
            if kind == "label" {
                "labels"
            } else {
                "relationship type"
            }
        ))),
        _ => {
            if name.is_empty() {
                return Err(bad("a property column needs a name".into()));
            }
            let ty = match kind.as_str() {
                "string" | "str" => PropType::String,
                "int" | "long" | "short" | "byte" | "integer" => PropType::Int,
                "float" | "double" => PropType::Float,
                "boolean" | "bool" => PropType::Bool,
                other => {
                    return Err(bad(format!(
                        "unknown type \"{other}\" (use string, int, float or boolean; arrays \
                         are not supported)"
                    )))
                }
            };
            Ok(Column::Prop {
                name: name.to_owned(),
                ty,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_neo4j_admin_convention() {
        let c = |s: &str| column(s, "f.csv").unwrap();
        assert_eq!(
            c("id:ID"),
            Column::Id {
                name: Some("id".into()),
                space: None
            }
        );
        assert_eq!(
            c(":ID(User)"),
            Column::Id {
                name: None,
                space: Some("User".into())
            }
        );
        assert_eq!(
            c(":START_ID(User)"),
            Column::StartId {
                space: Some("User".into())
            }
        );
        assert_eq!(c(":END_ID"), Column::EndId { space: None });
        assert_eq!(
            c("age:INT"),
            Column::Prop {
                name: "age".into(),
                ty: PropType::Int
            }
        );
        assert_eq!(
            c("name"),
            Column::Prop {
                name: "name".into(),
                ty: PropType::String
            }
        );
        assert_eq!(
            c("w:double"),
            Column::Prop {
                name: "w".into(),
                ty: PropType::Float
            }
        );
        assert_eq!(c(":IGNORE"), Column::Ignore);
        for bad in ["", ":LABEL", "x:int[]", "x:uuid", "x:int(User)", ":TYPE"] {
            assert!(column(bad, "f.csv").is_err(), "{bad}");
        }
    }
}
