//! The openCypher parser: tokens → [`Statement`].
//!
//! Hand-written recursive descent for statements, clauses and patterns, and a Pratt parser for
//! expressions (`parser/expr.rs`). Where the grammar is ambiguous (a parenthesised expression
//! versus a pattern, a list literal versus a comprehension) the parser decides by looking
//! ahead over the token stream, using the bracket matching the lexer precomputed, so no
//! input is ever parsed twice and parsing stays linear.
//!
//! Nesting is capped at [`MAX_DEPTH`]: every nested expression, subquery and FOREACH enters
//! a level, and left-deep operator chains count their height too, so neither parsing nor the
//! recursive consumers of the AST (evaluation, drop) can overflow the stack.

mod clauses;
mod expr;
mod pattern;
#[cfg(test)]
mod tests;
mod validate;

use super::ast::*;
use super::lexer::{describe, tokenize, Tok, Token};
use crate::error::{Error, Result};

/// The deepest nesting of expressions, patterns and subqueries a query may have.
pub const MAX_DEPTH: usize = 200;

/// How many nesting levels a subquery (`EXISTS {..}`, `COUNT {..}`) or FOREACH body counts
/// for: parsing clauses takes several times the stack of an expression level.
const CLAUSE_NESTING_COST: usize = 8;

pub fn parse(text: &str) -> Result<Statement> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        src: text,
        toks: tokens.toks,
        closer: tokens.closer,
        pos: 0,
        depth: 0,
        stack_base: stack_address(),
    };
    p.statement()
}

pub(super) struct Parser<'a> {
    src: &'a str,
    /// Always ends with a `Tok::Eof` token.
    toks: Vec<Token>,
    closer: Vec<Option<usize>>,
    pos: usize,
    depth: usize,
    /// Stack address when parsing began (see [`STACK_BUDGET`]).
    stack_base: usize,
}

/// Stack the parser may use below `parse`. The depth cap is what normally stops nesting;
/// this is the safety net for builds whose frames are larger than expected (unoptimised
/// debug code), so parsing stays safe on threads with 256 KiB stacks.
const STACK_BUDGET: usize = 216 * 1024;

/// The address of a local: how deep the stack currently is.
#[inline(never)]
fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// The span covering `a` through `b` (positioned at `a`).
fn join(a: Span, b: Span) -> Span {
    Span {
        start: a.start,
        end: b.end.max(a.end),
        line: a.line,
        column: a.column,
    }
}

fn nesting_error() -> Error {
    Error::syntax(format!(
        "query nested too deeply (more than {MAX_DEPTH} levels): simplify the expression or \
         split the query"
    ))
}

impl<'a> Parser<'a> {
    // ---- token access -------------------------------------------------------------------

    fn tok_at(&self, i: usize) -> &Token {
        let last = self.toks.len() - 1;
        &self.toks[i.min(last)]
    }

    fn peek(&self) -> &Tok {
        &self.tok_at(self.pos).tok
    }

    fn peek_n(&self, n: usize) -> &Tok {
        &self.tok_at(self.pos + n).tok
    }

    fn cur_span(&self) -> Span {
        self.tok_at(self.pos).span
    }

    fn advance(&mut self) {
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
    }

    fn at_eof(&self) -> bool {
        *self.peek() == Tok::Eof
    }

    /// Whether token `i` is the unquoted keyword `kw` (case-insensitive).
    fn kw_at(&self, i: usize, kw: &str) -> bool {
        matches!(&self.tok_at(i).tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.kw_at(self.pos, kw)
    }

    fn is_kw_n(&self, n: usize, kw: &str) -> bool {
        self.kw_at(self.pos + n, kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.expected(kw))
        }
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok, what: &str) -> Result<()> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// "Invalid input 'x': expected <what>" at the current token. When a closing bracket is
    /// expected, the message also says where the bracket it would close was opened.
    #[cold]
    fn expected(&self, what: &str) -> Error {
        let t = self.tok_at(self.pos);
        let mut msg = if t.tok == Tok::Eof {
            format!("Unexpected end of input: expected {what}")
        } else {
            format!("Invalid input {}: expected {what}", describe(self.src, t))
        };
        let brackets = [
            ("')'", Tok::LParen, Tok::RParen, '('),
            ("']'", Tok::LBracket, Tok::RBracket, '['),
            ("'}'", Tok::LBrace, Tok::RBrace, '{'),
        ];
        for (quoted, open, close, ch) in brackets {
            if what.contains(quoted) {
                if let Some(o) = self.unclosed_opener(&open, &close) {
                    let at = self.tok_at(o).span;
                    msg.push_str(&format!(
                        " to close the '{ch}' at line {}, column {}",
                        at.line, at.column
                    ));
                }
                break;
            }
        }
        Error::syntax(msg).at(t.span.line, t.span.column)
    }

    /// The error for a closing bracket at the current token that closes nothing.
    fn stray_closer(&self) -> Option<Error> {
        let t = self.tok_at(self.pos);
        let open = match t.tok {
            Tok::RParen => '(',
            Tok::RBracket => '[',
            Tok::RBrace => '{',
            _ => return None,
        };
        Some(self.error_at(
            t.span,
            format!(
                "Invalid input {}: it closes a '{open}' that was never opened",
                describe(self.src, t)
            ),
        ))
    }

    /// The innermost `open` bracket before the current token that is not closed before it.
    fn unclosed_opener(&self, open: &Tok, close: &Tok) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..self.pos.min(self.toks.len())).rev() {
            let t = &self.toks[i].tok;
            if t == close {
                depth += 1;
            } else if t == open {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
        }
        None
    }

    fn error_at(&self, span: Span, msg: impl Into<String>) -> Error {
        Error::syntax(msg).at(span.line, span.column)
    }

    /// The span from token `start` through the last consumed token.
    fn span_from(&self, start: usize) -> Span {
        let first = self.tok_at(start).span;
        if self.pos <= start {
            return Span {
                end: first.start,
                ..first
            };
        }
        join(first, self.tok_at(self.pos - 1).span)
    }

    /// Enters one nesting level; pair with [`Parser::leave`].
    fn enter(&mut self) -> Result<()> {
        self.enter_n(1)
    }

    /// Enters `n` nesting levels at once (a subquery or FOREACH body costs more stack than
    /// an expression level, so it counts as several); pair with [`Parser::leave_n`].
    fn enter_n(&mut self, n: usize) -> Result<()> {
        self.depth += n;
        #[cfg(test)]
        tests::record_stack_depth(self.depth);
        if self.depth > MAX_DEPTH || self.stack_base.abs_diff(stack_address()) > STACK_BUDGET {
            self.depth -= n;
            return Err(self.nesting_error_here());
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn nesting_error_here(&self) -> Error {
        let s = self.cur_span();
        nesting_error().at(s.line, s.column)
    }

    fn leave(&mut self) {
        self.leave_n(1);
    }

    fn leave_n(&mut self, n: usize) {
        self.depth = self.depth.saturating_sub(n);
    }

    /// Runs `f` inside a subquery or FOREACH body, [`CLAUSE_NESTING_COST`] levels deeper.
    fn nested_clauses<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.enter_n(CLAUSE_NESTING_COST)?;
        let r = f(self);
        self.leave_n(CLAUSE_NESTING_COST);
        r
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.enter()?;
        let r = f(self);
        self.leave();
        r
    }

    // ---- names --------------------------------------------------------------------------

    /// Whether token `i` is a name (identifier, keyword or quoted identifier).
    fn is_name_at(&self, i: usize) -> bool {
        matches!(self.tok_at(i).tok, Tok::Ident(_) | Tok::Quoted(_))
    }

    /// A name: label, type, property key, variable, procedure part.
    fn name(&mut self, what: &str) -> Result<Ident> {
        let t = self.tok_at(self.pos);
        let name = match &t.tok {
            Tok::Ident(s) | Tok::Quoted(s) => s.clone(),
            _ => return Err(self.expected(what)),
        };
        let span = t.span;
        self.advance();
        Ok(Ident {
            name,
            span,
            cached: Default::default(),
        })
    }

    /// A variable being introduced (`AS x`, `(x)`, `UNWIND .. AS x`).
    fn variable(&mut self) -> Result<Ident> {
        if let Tok::Ident(s) = self.peek() {
            if is_reserved(s) {
                return Err(self.expected("a variable name"));
            }
        }
        self.name("a variable name")
    }

    // ---- statements ---------------------------------------------------------------------

    fn statement(&mut self) -> Result<Statement> {
        let start = self.pos;
        let kind = if self.eat_kw("EXPLAIN") {
            StatementKind::Explain(self.query()?)
        } else if self.eat_kw("PROFILE") {
            StatementKind::Profile(self.query()?)
        } else if self.is_kw("BEGIN") {
            self.begin()?
        } else if self.eat_kw("COMMIT") {
            StatementKind::Commit
        } else if self.eat_kw("ROLLBACK") {
            StatementKind::Rollback
        } else if self.eat_kw("CHECKPOINT") {
            StatementKind::Checkpoint
        } else if self.eat_kw("CHECK") {
            StatementKind::Check
        } else if self.is_kw("CREATE")
            && (self.is_kw_n(1, "INDEX") || self.is_kw_n(1, "CONSTRAINT"))
        {
            self.create_schema()?
        } else if self.is_kw("DROP") {
            self.drop_schema()?
        } else if self.is_kw("SHOW") {
            self.show()?
        } else {
            StatementKind::Query(self.query()?)
        };
        let span = self.span_from(start);
        self.eat(&Tok::Semicolon);
        if !self.at_eof() {
            if let Some(e) = self.stray_closer() {
                return Err(e);
            }
            return Err(self.expected("end of input (only one statement may be given)"));
        }
        Ok(Statement { kind, span })
    }

    fn begin(&mut self) -> Result<StatementKind> {
        self.expect_kw("BEGIN")?;
        self.eat_kw("TRANSACTION");
        let mut read_only = false;
        if self.eat_kw("READ") {
            if self.eat_kw("ONLY") {
                read_only = true;
            } else if !self.eat_kw("WRITE") {
                return Err(self.expected("ONLY or WRITE"));
            }
        }
        let mut isolation = None;
        if self.eat_kw("ISOLATION") {
            self.expect_kw("LEVEL")?;
            isolation = Some(if self.eat_kw("SERIALIZABLE") {
                IsolationLevel::Serializable
            } else if self.eat_kw("SNAPSHOT") {
                IsolationLevel::Snapshot
            } else {
                return Err(self.expected("SERIALIZABLE or SNAPSHOT"));
            });
        }
        Ok(StatementKind::Begin {
            read_only,
            isolation,
        })
    }

    /// `[name] [IF NOT EXISTS]` after `CREATE INDEX` / `CREATE CONSTRAINT`.
    fn schema_name_and_if_not_exists(&mut self, kw: &str) -> Result<(Option<Ident>, bool)> {
        let mut name = None;
        let starts_clause = (self.is_kw("IF") && self.is_kw_n(1, "NOT"))
            || ((self.is_kw("FOR") || self.is_kw("ON")) && *self.peek_n(1) == Tok::LParen);
        if !starts_clause {
            name = Some(self.name(&format!("a {kw} name, IF NOT EXISTS or FOR"))?);
        }
        let mut if_not_exists = false;
        if self.eat_kw("IF") {
            self.expect_kw("NOT")?;
            self.expect_kw("EXISTS")?;
            if_not_exists = true;
        }
        Ok((name, if_not_exists))
    }

    /// `(v:Label)` of a schema command; returns the variable and the label.
    fn schema_node(&mut self) -> Result<(Ident, Ident)> {
        self.expect(&Tok::LParen, "'('")?;
        let var = self.variable()?;
        self.expect(&Tok::Colon, "':' and a label")?;
        let label = self.name("a label")?;
        self.expect(&Tok::RParen, "')'")?;
        Ok((var, label))
    }

    /// `v.prop` where `v` must be the schema command's variable.
    fn schema_property(&mut self, var: &Ident) -> Result<Ident> {
        let v = self.name("a property such as n.name")?;
        if v.name != var.name {
            return Err(self.error_at(
                v.span,
                format!(
                    "Invalid input '{}': expected the variable '{}' declared in FOR (...)",
                    v.name, var.name
                ),
            ));
        }
        self.expect(&Tok::Dot, "'.' and a property key")?;
        self.name("a property key")
    }

    fn create_schema(&mut self) -> Result<StatementKind> {
        self.expect_kw("CREATE")?;
        if self.eat_kw("INDEX") {
            let (name, if_not_exists) = self.schema_name_and_if_not_exists("index")?;
            self.expect_kw("FOR")?;
            let (var, label) = self.schema_node()?;
            self.expect_kw("ON")?;
            self.expect(&Tok::LParen, "'('")?;
            let mut properties = vec![self.schema_property(&var)?];
            while self.eat(&Tok::Comma) {
                properties.push(self.schema_property(&var)?);
            }
            self.expect(&Tok::RParen, "')'")?;
            return Ok(StatementKind::CreateIndex {
                name,
                if_not_exists,
                label,
                properties,
            });
        }
        self.expect_kw("CONSTRAINT")?;
        let (name, if_not_exists) = self.schema_name_and_if_not_exists("constraint")?;
        if !self.eat_kw("FOR") && !self.eat_kw("ON") {
            return Err(self.expected("FOR"));
        }
        let (var, label) = self.schema_node()?;
        if !self.eat_kw("REQUIRE") && !self.eat_kw("ASSERT") {
            return Err(self.expected("REQUIRE"));
        }
        let mut properties = Vec::new();
        if self.eat(&Tok::LParen) {
            properties.push(self.schema_property(&var)?);
            while self.eat(&Tok::Comma) {
                properties.push(self.schema_property(&var)?);
            }
            self.expect(&Tok::RParen, "')'")?;
        } else {
            properties.push(self.schema_property(&var)?);
        }
        self.expect_kw("IS")?;
        if !self.eat_kw("UNIQUE") {
            return Err(self.expected("UNIQUE (only uniqueness constraints are supported)"));
        }
        Ok(StatementKind::CreateUniqueConstraint {
            name,
            if_not_exists,
            label,
            properties,
        })
    }

    fn drop_schema(&mut self) -> Result<StatementKind> {
        self.expect_kw("DROP")?;
        let is_index = if self.eat_kw("INDEX") {
            true
        } else if self.eat_kw("CONSTRAINT") {
            false
        } else {
            return Err(self.expected("INDEX or CONSTRAINT"));
        };
        let name = self.name(if is_index {
            "an index name"
        } else {
            "a constraint name"
        })?;
        let mut if_exists = false;
        if self.eat_kw("IF") {
            self.expect_kw("EXISTS")?;
            if_exists = true;
        }
        Ok(if is_index {
            StatementKind::DropIndex { name, if_exists }
        } else {
            StatementKind::DropConstraint { name, if_exists }
        })
    }

    fn show(&mut self) -> Result<StatementKind> {
        self.expect_kw("SHOW")?;
        if self.eat_kw("INDEXES") || self.eat_kw("INDEX") {
            Ok(StatementKind::ShowIndexes)
        } else if self.eat_kw("CONSTRAINTS") || self.eat_kw("CONSTRAINT") {
            Ok(StatementKind::ShowConstraints)
        } else if self.eat_kw("TRANSACTIONS") || self.eat_kw("TRANSACTION") {
            Ok(StatementKind::ShowTransactions)
        } else {
            Err(self.expected("INDEXES, CONSTRAINTS or TRANSACTIONS"))
        }
    }
}

/// Words that cannot be used as an unquoted variable: clause starters and words with a
/// meaning inside expressions, where a variable of that name would be ambiguous or would
/// turn a typo into a confusing error. Words that only follow an expression (`ORDER`, `BY`,
/// `SKIP`, `LIMIT`, `ASC`, `DESC`, `YIELD`) stay usable as names.
fn is_reserved(word: &str) -> bool {
    const RESERVED: &[&str] = &[
        "MATCH", "OPTIONAL", "WHERE", "RETURN", "WITH", "UNWIND", "CREATE", "MERGE", "SET",
        "DELETE", "DETACH", "REMOVE", "CALL", "UNION", "AND", "OR", "XOR", "NOT", "IN", "IS", "AS",
        "CASE", "WHEN", "THEN", "ELSE", "END", "DISTINCT", "STARTS", "ENDS", "CONTAINS", "NULL",
        "TRUE", "FALSE", "FOREACH",
    ];
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}
