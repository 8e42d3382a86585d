//! What to import: the node and relationship files, and how to read them.
//!
//! A spec is built in Rust or parsed from JSON (the C API and the CLI):
//!
//! ```json
//! {"nodes": [{"file": "users.csv", "labels": ["User"]}],
//!  "relationships": [{"file": "follows.csv", "type": "FOLLOWS"}],
//!  "id_type": "int", "delimiter": ",", "id_property": "id"}
//! ```
//!
//! A file entry may carry `"columns": ["id:ID", "name", "age:int"]` when the file has no
//! header row (the columns are then these, and every line is data).

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::error::{Error, Result};

/// How the values of `:ID`, `:START_ID` and `:END_ID` columns are compared (and stored, for a
/// named `:ID` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdType {
    #[default]
    String,
    Int,
}

/// One node file: every row becomes a node with `labels`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeFile {
    pub path: PathBuf,
    pub labels: Vec<String>,
    /// The header, when the file has none (otherwise its first record is the header).
    pub columns: Option<Vec<String>>,
}

/// One relationship file: every row becomes a relationship of type `rel_type`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelFile {
    pub path: PathBuf,
    pub rel_type: String,
    pub columns: Option<Vec<String>>,
}

/// A whole import: node files first, then relationship files, all at one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSpec {
    pub nodes: Vec<NodeFile>,
    pub relationships: Vec<RelFile>,
    pub id_type: IdType,
    pub delimiter: u8,
    /// The property that identifies nodes already in the database, for relationship ids that
    /// no node file of this import defines: such an id `x` in id space `G` names the node
    /// with label `G` whose `id_property` equals `x`.
    pub id_property: String,
}

impl Default for ImportSpec {
    fn default() -> ImportSpec {
        ImportSpec {
            nodes: Vec::new(),
            relationships: Vec::new(),
            id_type: IdType::String,
            delimiter: b',',
            id_property: "id".to_owned(),
        }
    }
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("invalid import spec: {what}"))
}

fn string_list(v: &Json, what: &str) -> Result<Vec<String>> {
    let items = v
        .as_array()
        .ok_or_else(|| bad(format!("\"{what}\" must be an array of strings")))?;
    items
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("\"{what}\" must be an array of strings")))
        })
        .collect()
}

fn str_field<'a>(o: &'a serde_json::Map<String, Json>, key: &str, what: &str) -> Result<&'a str> {
    o.get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| bad(format!("each {what} entry needs a string \"{key}\"")))
}

fn check_keys(o: &serde_json::Map<String, Json>, allowed: &[&str], what: &str) -> Result<()> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(format!(
            "unknown key \"{k}\" in {what} (known: {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

impl ImportSpec {
    /// Parses the JSON form (see the module docs). Unknown keys are refused, so a typo does
    /// not silently import something else.
    pub fn from_json(text: &str) -> Result<ImportSpec> {
        let v: Json = serde_json::from_str(text).map_err(|e| bad(format!("not JSON ({e})")))?;
        let o = v
            .as_object()
            .ok_or_else(|| bad("it must be a JSON object"))?;
        check_keys(
            o,
            &[
                "nodes",
                "relationships",
                "id_type",
                "delimiter",
                "id_property",
            ],
            "the spec",
        )?;
        let mut spec = ImportSpec::default();
        let entries = |key: &str| -> Result<Vec<&serde_json::Map<String, Json>>> {
            match o.get(key) {
                None => Ok(Vec::new()),
                Some(Json::Array(a)) => a
                    .iter()
                    .map(|e| {
                        e.as_object()
                            .ok_or_else(|| bad(format!("\"{key}\" must be an array of objects")))
                    })
                    .collect(),
                Some(_) => Err(bad(format!("\"{key}\" must be an array of objects"))),
            }
        };
        for e in entries("nodes")? {
            check_keys(e, &["file", "labels", "label", "columns"], "a node file")?;
            let mut labels = match e.get("labels") {
                Some(l) => string_list(l, "labels")?,
                None => Vec::new(),
            };
            if let Some(l) = e.get("label") {
                labels.push(
                    l.as_str()
                        .ok_or_else(|| bad("\"label\" must be a string"))?
                        .to_owned(),
                );
            }
            spec.nodes.push(NodeFile {
                path: PathBuf::from(str_field(e, "file", "node file")?),
                labels,
                columns: e
                    .get("columns")
                    .map(|c| string_list(c, "columns"))
                    .transpose()?,
            });
        }
        for e in entries("relationships")? {
            check_keys(e, &["file", "type", "columns"], "a relationship file")?;
            spec.relationships.push(RelFile {
                path: PathBuf::from(str_field(e, "file", "relationship file")?),
                rel_type: str_field(e, "type", "relationship file")?.to_owned(),
                columns: e
                    .get("columns")
                    .map(|c| string_list(c, "columns"))
                    .transpose()?,
            });
        }
        if let Some(t) = o.get("id_type") {
            spec.id_type = match t.as_str() {
                Some(s) if s.eq_ignore_ascii_case("string") => IdType::String,
                Some(s) if s.eq_ignore_ascii_case("int") || s.eq_ignore_ascii_case("integer") => {
                    IdType::Int
                }
                _ => return Err(bad("\"id_type\" must be \"string\" or \"int\"")),
            };
        }
        if let Some(d) = o.get("delimiter") {
            spec.delimiter = match d.as_str().map(str::as_bytes) {
                Some([b]) if b.is_ascii() => *b,
                _ => return Err(bad("\"delimiter\" must be one ASCII character")),
            };
        }
        if let Some(p) = o.get("id_property") {
            spec.id_property = p
                .as_str()
                .ok_or_else(|| bad("\"id_property\" must be a string"))?
                .to_owned();
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_json_form_and_refuses_typos() {
        let s = ImportSpec::from_json(
            r#"{"nodes": [{"file": "u.csv", "labels": ["User"], "columns": ["id:ID"]}],
                "relationships": [{"file": "f.csv", "type": "FOLLOWS"}], "id_type": "int"}"#,
        )
        .unwrap();
        assert_eq!(s.nodes[0].labels, vec!["User"]);
        assert_eq!(
            s.nodes[0].columns.as_deref(),
            Some(&["id:ID".to_owned()][..])
        );
        assert_eq!(s.relationships[0].rel_type, "FOLLOWS");
        assert_eq!(s.id_type, IdType::Int);
        for bad in [
            "[]",
            "{",
            r#"{"node": []}"#,
            r#"{"nodes": [{"labels": ["A"]}]}"#,
            r#"{"relationships": [{"file": "x"}]}"#,
            r#"{"id_type": "uuid"}"#,
            r#"{"delimiter": ";;"}"#,
        ] {
            let e = ImportSpec::from_json(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
