//! Clause-order rules of the openCypher grammar that are easier to check on the clause list
//! than to encode in the descent: RETURN comes last, a query ends with RETURN or an updating
//! clause, reading clauses may not follow updating ones without WITH in between, and FOREACH
//! bodies hold only updating clauses.

use super::clauses::Until;
use super::*;

fn clause_name(c: &Clause) -> &'static str {
    match c {
        Clause::Match(m) if m.optional => "OPTIONAL MATCH",
        Clause::Match(_) => "MATCH",
        Clause::Unwind(_) => "UNWIND",
        Clause::With(_) => "WITH",
        Clause::Return(_) => "RETURN",
        Clause::Create(_) => "CREATE",
        Clause::Merge(_) => "MERGE",
        Clause::Set(_) => "SET",
        Clause::Remove(_) => "REMOVE",
        Clause::Delete(d) if d.detach => "DETACH DELETE",
        Clause::Delete(_) => "DELETE",
        Clause::Call(_) => "CALL",
        Clause::LoadCsv(_) => "LOAD CSV",
        Clause::Foreach(_) => "FOREACH",
    }
}

fn is_updating(c: &Clause) -> bool {
    matches!(
        c,
        Clause::Create(_)
            | Clause::Merge(_)
            | Clause::Set(_)
            | Clause::Remove(_)
            | Clause::Delete(_)
            | Clause::Foreach(_)
    )
}

fn is_reading(c: &Clause) -> bool {
    matches!(
        c,
        Clause::Match(_) | Clause::Unwind(_) | Clause::Call(_) | Clause::LoadCsv(_)
    )
}

fn err(p: &Parser<'_>, c: &Clause, msg: String) -> Error {
    p.error_at(c.span(), msg)
}

pub(super) fn clause_order(p: &Parser<'_>, q: &SingleQuery, until: Until) -> Result<()> {
    if until == Until::Paren {
        for c in &q.clauses {
            if !is_updating(c) {
                return Err(err(
                    p,
                    c,
                    format!(
                        "Invalid input '{}': FOREACH may only contain updating clauses \
                         (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH)",
                        clause_name(c)
                    ),
                ));
            }
        }
        return Ok(());
    }
    let n = q.clauses.len();
    let mut after_update: Option<&Clause> = None;
    for (i, c) in q.clauses.iter().enumerate() {
        if let Clause::Return(_) = c {
            if i + 1 < n {
                let next = &q.clauses[i + 1];
                return Err(err(
                    p,
                    next,
                    format!(
                        "Invalid input '{}': RETURN must be the last clause of a query \
                         (use WITH to pass results on)",
                        clause_name(next)
                    ),
                ));
            }
        }
        if is_updating(c) {
            after_update = Some(c);
        } else if matches!(c, Clause::With(_)) {
            after_update = None;
        } else if is_reading(c) {
            if let Some(u) = after_update {
                return Err(err(
                    p,
                    c,
                    format!(
                        "Invalid input '{}': WITH is required between {} and {}",
                        clause_name(c),
                        clause_name(u),
                        clause_name(c)
                    ),
                ));
            }
        }
    }
    if until == Until::Statement {
        if let Some(last) = q.clauses.last() {
            let ok = matches!(last, Clause::Return(_) | Clause::Call(_)) || is_updating(last);
            if !ok {
                return Err(err(
                    p,
                    last,
                    format!(
                        "Query cannot conclude with {}: it must end with RETURN or an \
                         updating clause",
                        clause_name(last)
                    ),
                ));
            }
        }
    }
    Ok(())
}
