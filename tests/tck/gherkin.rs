//! A small parser for the subset of Gherkin the openCypher TCK uses: Feature, Background,
//! Scenario, Scenario Outline with Examples tables, steps with docstrings or tables.
//! Scenario Outlines are expanded here, so every returned [`Case`] is one runnable case.

/// One step: its text after the keyword (with a trailing `:` removed) and its argument.
#[derive(Debug, Clone)]
pub struct Step {
    pub text: String,
    pub docstring: Option<String>,
    pub table: Vec<Vec<String>>,
    pub line: usize,
}

/// One runnable case: a Scenario, or one Examples row of a Scenario Outline.
#[derive(Debug, Clone)]
pub struct Case {
    pub scenario: String,
    /// 1-based index of the Examples row (across all Examples blocks); None for a Scenario.
    pub example: Option<usize>,
    pub line: usize,
    /// Background steps first, then the scenario's own.
    pub steps: Vec<Step>,
}

#[derive(Default)]
struct RawScenario {
    name: String,
    line: usize,
    outline: bool,
    steps: Vec<Step>,
    /// Each Examples block: header row then value rows.
    examples: Vec<Vec<Vec<String>>>,
}

enum Section {
    None,
    Background,
    Scenario,
    Examples,
}

/// Splits a Gherkin table row into cells, undoing `\|`, `\\` and `\n` escapes.
pub fn table_cells(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cur.push('|'),
                Some('n') => cur.push('\n'),
                Some('\\') => cur.push('\\'),
                Some(o) => {
                    cur.push('\\');
                    cur.push(o);
                }
                None => cur.push('\\'),
            },
            '|' => {
                cells.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    cells
}

const KEYWORDS: [&str; 5] = ["Given ", "When ", "Then ", "And ", "But "];

/// Parses one feature file into its cases (outlines expanded).
pub fn parse_feature(text: &str) -> Result<Vec<Case>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut background: Vec<Step> = Vec::new();
    let mut scenarios: Vec<RawScenario> = Vec::new();
    let mut section = Section::None;
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let line = raw.trim();
        let lineno = i + 1;
        i += 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        if line.starts_with("Feature:") {
            continue;
        }
        if line.starts_with("Background:") {
            section = Section::Background;
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("Scenario Outline:")
            .map(|r| (r, true))
            .or_else(|| line.strip_prefix("Scenario:").map(|r| (r, false)))
        {
            scenarios.push(RawScenario {
                name: rest.0.trim().to_string(),
                line: lineno,
                outline: rest.1,
                ..RawScenario::default()
            });
            section = Section::Scenario;
            continue;
        }
        if line.starts_with("Examples:") {
            let sc = scenarios
                .last_mut()
                .ok_or_else(|| format!("line {lineno}: Examples outside a scenario"))?;
            sc.examples.push(Vec::new());
            section = Section::Examples;
            continue;
        }
        if line.starts_with('|') {
            let cells = table_cells(line);
            match section {
                Section::Examples => {
                    if let Some(ex) = scenarios.last_mut().and_then(|s| s.examples.last_mut()) {
                        ex.push(cells);
                    }
                }
                Section::Background => {
                    if let Some(st) = background.last_mut() {
                        st.table.push(cells);
                    }
                }
                Section::Scenario => {
                    if let Some(st) = scenarios.last_mut().and_then(|s| s.steps.last_mut()) {
                        st.table.push(cells);
                    }
                }
                Section::None => return Err(format!("line {lineno}: table outside a step")),
            }
            continue;
        }
        if line.starts_with("\"\"\"") {
            // The docstring's lines lose the indentation of its opening delimiter.
            let indent = raw.len() - raw.trim_start().len();
            let mut body = Vec::new();
            loop {
                let Some(l) = lines.get(i) else {
                    return Err(format!("line {lineno}: unterminated docstring"));
                };
                i += 1;
                if l.trim() == "\"\"\"" {
                    break;
                }
                let strip = l.len() - l.trim_start().len();
                body.push(&l[strip.min(indent)..]);
            }
            let doc = body.join("\n");
            let step = match section {
                Section::Background => background.last_mut(),
                _ => scenarios.last_mut().and_then(|s| s.steps.last_mut()),
            };
            match step {
                Some(st) => st.docstring = Some(doc),
                None => return Err(format!("line {lineno}: docstring outside a step")),
            }
            continue;
        }
        if let Some(kw) = KEYWORDS.iter().find(|k| line.starts_with(*k)) {
            let text = line[kw.len()..].trim();
            let text = text.strip_suffix(':').unwrap_or(text).to_string();
            let step = Step {
                text,
                docstring: None,
                table: Vec::new(),
                line: lineno,
            };
            match section {
                Section::Background => background.push(step),
                Section::Scenario => {
                    if let Some(s) = scenarios.last_mut() {
                        s.steps.push(step);
                    }
                }
                _ => return Err(format!("line {lineno}: step outside a scenario")),
            }
            continue;
        }
        // Free text (feature descriptions) is ignored.
    }
    let mut cases = Vec::new();
    for sc in scenarios {
        let mut steps = background.clone();
        steps.extend(sc.steps.iter().cloned());
        if !sc.outline {
            cases.push(Case {
                scenario: sc.name,
                example: None,
                line: sc.line,
                steps,
            });
            continue;
        }
        let mut index = 0;
        for block in &sc.examples {
            let Some((header, rows)) = block.split_first() else {
                continue;
            };
            for row in rows {
                index += 1;
                let subst = |s: &str| {
                    let mut out = s.to_string();
                    for (k, v) in header.iter().zip(row) {
                        out = out.replace(&format!("<{k}>"), v);
                    }
                    out
                };
                let steps = steps
                    .iter()
                    .map(|st| Step {
                        text: subst(&st.text),
                        docstring: st.docstring.as_deref().map(subst),
                        table: st
                            .table
                            .iter()
                            .map(|r| r.iter().map(|c| subst(c)).collect())
                            .collect(),
                        line: st.line,
                    })
                    .collect();
                cases.push(Case {
                    scenario: subst(&sc.name),
                    example: Some(index),
                    line: sc.line,
                    steps,
                });
            }
        }
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_expand_with_background_docstrings_and_tables() {
        let text = "Feature: F\n  Background:\n    Given an empty graph\n\n  Scenario Outline: [1] x <n>\n    When executing query:\n      \"\"\"\n      RETURN <n> AS v\n        // kept indent\n      \"\"\"\n    Then the result should be, in any order:\n      | v   |\n      | <n> |\n\n    Examples:\n      | n |\n      | 1 |\n      | 'a\\|b' |\n";
        let cases = parse_feature(text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[1].scenario, "[1] x 'a|b'");
        assert_eq!(cases[1].example, Some(2));
        assert_eq!(cases[0].steps[0].text, "an empty graph");
        assert_eq!(
            cases[0].steps[1].docstring.as_deref(),
            Some("RETURN 1 AS v\n  // kept indent")
        );
        assert_eq!(cases[1].steps[2].table[1], vec!["'a|b'".to_string()]);
    }
}
