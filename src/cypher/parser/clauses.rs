//! Queries and clauses.

use super::*;

/// What ends a clause list: the end of the statement, a subquery's `}`, FOREACH's `)`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    Statement,
    Brace,
    Paren,
}

const CLAUSE_EXPECTED: &str = "a clause such as MATCH, CREATE or RETURN";

impl<'a> Parser<'a> {
    pub(super) fn query(&mut self) -> Result<Query> {
        let start = self.pos;
        let mut parts = vec![self.single_query(Until::Statement)?];
        let mut union_all: Vec<bool> = Vec::new();
        while self.is_kw("UNION") {
            let at = self.cur_span();
            self.advance();
            let all = self.eat_kw("ALL");
            if union_all.first().is_some_and(|&first| first != all) {
                return Err(self.error_at(
                    at,
                    "Invalid combination of UNION and UNION ALL: use one of them throughout                      the query",
                ));
            }
            union_all.push(all);
            parts.push(self.single_query(Until::Statement)?);
        }
        let q = Query {
            parts,
            union_all,
            span: self.span_from(start),
        };
        super::validate::union_columns(self, &q)?;
        Ok(q)
    }

    fn at_clause_end(&self, until: Until) -> bool {
        match self.peek() {
            Tok::Eof | Tok::Semicolon => true,
            Tok::RBrace => until == Until::Brace,
            Tok::RParen => until == Until::Paren,
            _ => until == Until::Statement && self.is_kw("UNION"),
        }
    }

    pub(super) fn single_query(&mut self, until: Until) -> Result<SingleQuery> {
        let start = self.pos;
        let mut clauses = Vec::new();
        loop {
            if !clauses.is_empty() && self.at_clause_end(until) {
                break;
            }
            clauses.push(self.clause()?);
        }
        let sq = SingleQuery {
            clauses,
            span: self.span_from(start),
        };
        super::validate::clause_order(self, &sq, until)?;
        super::validate::single_query_rules(self, &sq, until)?;
        if until != Until::Paren {
            super::validate::pattern_predicates(self, &sq)?;
        }
        Ok(sq)
    }

    pub(super) fn is_clause_start(&self) -> bool {
        const STARTS: &[&str] = &[
            "MATCH", "OPTIONAL", "UNWIND", "WITH", "RETURN", "CREATE", "MERGE", "SET", "REMOVE",
            "DELETE", "DETACH", "CALL", "LOAD", "FOREACH",
        ];
        STARTS.iter().any(|k| self.is_kw(k))
    }

    fn clause(&mut self) -> Result<Clause> {
        let start = self.pos;
        let Tok::Ident(word) = self.peek() else {
            return Err(self
                .stray_closer()
                .unwrap_or_else(|| self.expected(CLAUSE_EXPECTED)));
        };
        let word = word.to_ascii_uppercase();
        match word.as_str() {
            "OPTIONAL" | "MATCH" => {
                let optional = self.eat_kw("OPTIONAL");
                self.expect_kw("MATCH")?;
                let pattern = self.pattern()?;
                let where_ = self.opt_where()?;
                Ok(Clause::Match(Match {
                    optional,
                    pattern,
                    where_,
                    span: self.span_from(start),
                }))
            }
            "UNWIND" => {
                self.advance();
                let expr = self.expr()?;
                self.expect_kw("AS")?;
                let alias = self.variable()?;
                Ok(Clause::Unwind(Unwind {
                    expr,
                    alias,
                    span: self.span_from(start),
                }))
            }
            "WITH" => {
                self.advance();
                let projection = self.projection()?;
                let where_ = self.opt_where()?;
                Ok(Clause::With(With {
                    projection,
                    where_,
                    span: self.span_from(start),
                }))
            }
            "RETURN" => {
                self.advance();
                let projection = self.projection()?;
                Ok(Clause::Return(Return {
                    projection,
                    span: self.span_from(start),
                }))
            }
            "CREATE" => {
                self.advance();
                let pattern = self.pattern()?;
                Ok(Clause::Create(Create {
                    pattern,
                    span: self.span_from(start),
                }))
            }
            "MERGE" => self.merge(),
            "SET" => {
                self.advance();
                let items = self.set_items()?;
                Ok(Clause::Set(SetClause {
                    items,
                    span: self.span_from(start),
                }))
            }
            "REMOVE" => {
                self.advance();
                let mut items = vec![self.remove_item()?];
                while self.eat(&Tok::Comma) {
                    items.push(self.remove_item()?);
                }
                Ok(Clause::Remove(Remove {
                    items,
                    span: self.span_from(start),
                }))
            }
            "DETACH" | "DELETE" => {
                let detach = self.eat_kw("DETACH");
                self.expect_kw("DELETE")?;
                let mut exprs = vec![self.expr()?];
                while self.eat(&Tok::Comma) {
                    exprs.push(self.expr()?);
                }
                Ok(Clause::Delete(Delete {
                    detach,
                    exprs,
                    span: self.span_from(start),
                }))
            }
            "CALL" => self.call(),
            "LOAD" => self.load_csv(),
            "FOREACH" => self.foreach(),
            _ => Err(self.expected(CLAUSE_EXPECTED)),
        }
    }

    fn opt_where(&mut self) -> Result<Option<Expr>> {
        if self.eat_kw("WHERE") {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    #[inline(never)]
    fn projection(&mut self) -> Result<Projection> {
        let distinct = self.eat_kw("DISTINCT");
        let mut star = false;
        let mut items = Vec::new();
        if self.eat(&Tok::Star) {
            star = true;
            while self.eat(&Tok::Comma) {
                items.push(self.projection_item()?);
            }
        } else {
            items.push(self.projection_item()?);
            while self.eat(&Tok::Comma) {
                items.push(self.projection_item()?);
            }
        }
        let mut order_by = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let expr = self.expr()?;
                let descending = if self.eat_kw("DESC") || self.eat_kw("DESCENDING") {
                    true
                } else {
                    let _ = self.eat_kw("ASC") || self.eat_kw("ASCENDING");
                    false
                };
                order_by.push(SortItem { expr, descending });
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        let skip = if self.eat_kw("SKIP") {
            Some(self.expr()?)
        } else {
            None
        };
        let limit = if self.eat_kw("LIMIT") {
            Some(self.expr()?)
        } else {
            None
        };
        Ok(Projection {
            distinct,
            star,
            items,
            order_by,
            skip,
            limit,
        })
    }

    #[inline(never)]
    fn projection_item(&mut self) -> Result<ProjectionItem> {
        let start = self.pos;
        let expr = self.expr()?;
        let span = self.span_from(start);
        let text = self
            .src
            .get(span.start..span.end)
            .unwrap_or("")
            .trim()
            .to_string();
        let alias = if self.eat_kw("AS") {
            Some(self.variable()?)
        } else {
            None
        };
        Ok(ProjectionItem { expr, alias, text })
    }

    #[inline(never)]
    fn merge(&mut self) -> Result<Clause> {
        let start = self.pos;
        self.expect_kw("MERGE")?;
        let part = self.pattern_part()?;
        let mut on_create = Vec::new();
        let mut on_match = Vec::new();
        while self.eat_kw("ON") {
            let create = if self.eat_kw("CREATE") {
                true
            } else if self.eat_kw("MATCH") {
                false
            } else {
                return Err(self.expected("CREATE or MATCH after ON"));
            };
            self.expect_kw("SET")?;
            let items = self.set_items()?;
            if create {
                on_create.extend(items);
            } else {
                on_match.extend(items);
            }
        }
        Ok(Clause::Merge(Merge {
            part,
            on_create,
            on_match,
            span: self.span_from(start),
        }))
    }

    fn set_items(&mut self) -> Result<Vec<SetItem>> {
        let mut items = vec![self.set_item()?];
        while self.eat(&Tok::Comma) {
            items.push(self.set_item()?);
        }
        Ok(items)
    }

    #[inline(never)]
    fn set_item(&mut self) -> Result<SetItem> {
        let start = self.pos;
        if self.is_name_at(self.pos) {
            match self.peek_n(1) {
                Tok::Eq | Tok::PlusEq => {
                    let variable = self.variable()?;
                    let merge = *self.peek() == Tok::PlusEq;
                    self.advance();
                    let value = self.expr()?;
                    let span = self.span_from(start);
                    return Ok(if merge {
                        SetItem::MergeMap {
                            variable,
                            value,
                            span,
                        }
                    } else {
                        SetItem::Replace {
                            variable,
                            value,
                            span,
                        }
                    });
                }
                Tok::Colon => {
                    let variable = self.variable()?;
                    let labels = self.label_list()?;
                    return Ok(SetItem::Labels {
                        variable,
                        labels,
                        span: self.span_from(start),
                    });
                }
                _ => {}
            }
        }
        let (target, key) =
            self.property_target("a property such as n.name, a variable or n:Label")?;
        self.expect(&Tok::Eq, "'='")?;
        let value = self.expr()?;
        Ok(SetItem::Property {
            target,
            key,
            value,
            span: self.span_from(start),
        })
    }

    #[inline(never)]
    fn remove_item(&mut self) -> Result<RemoveItem> {
        let start = self.pos;
        if self.is_name_at(self.pos) && *self.peek_n(1) == Tok::Colon {
            let variable = self.variable()?;
            let labels = self.label_list()?;
            return Ok(RemoveItem::Labels {
                variable,
                labels,
                span: self.span_from(start),
            });
        }
        let (target, key) = self.property_target("a property such as n.name or n:Label")?;
        Ok(RemoveItem::Property {
            target,
            key,
            span: self.span_from(start),
        })
    }

    /// `:A:B` (at least one label).
    pub(super) fn label_list(&mut self) -> Result<Vec<Ident>> {
        let mut labels = Vec::new();
        while self.eat(&Tok::Colon) {
            labels.push(self.name("a label name")?);
        }
        if labels.is_empty() {
            return Err(self.expected("':' and a label"));
        }
        Ok(labels)
    }

    /// A property access `expr.key` (target of SET / REMOVE).
    fn property_target(&mut self, what: &str) -> Result<(Expr, Ident)> {
        let at = self.cur_span();
        let e = self.postfix_expr()?;
        match e.kind {
            ExprKind::Property(target, key) => Ok((*target, key)),
            _ => Err(self.error_at(
                at,
                format!(
                    "Invalid input '{}': expected {what}",
                    self.src.get(e.span.start..e.span.end).unwrap_or("")
                ),
            )),
        }
    }

    #[inline(never)]
    fn call(&mut self) -> Result<Clause> {
        let start = self.pos;
        self.expect_kw("CALL")?;
        if *self.peek() == Tok::LBrace {
            return Err(
                self.expected("a procedure name (CALL { ... } subqueries are not supported)")
            );
        }
        let mut procedure = vec![self.name("a procedure name")?.name];
        while self.eat(&Tok::Dot) {
            procedure.push(self.name("a procedure name part")?.name);
        }
        let args = if self.eat(&Tok::LParen) {
            let mut args = Vec::new();
            if !self.eat(&Tok::RParen) {
                loop {
                    args.push(self.expr()?);
                    if self.eat(&Tok::RParen) {
                        break;
                    }
                    self.expect(&Tok::Comma, "',' or ')'")?;
                }
            }
            Some(args)
        } else {
            None
        };
        let mut yield_items = None;
        let mut yield_star = false;
        let mut where_ = None;
        if self.eat_kw("YIELD") {
            if self.eat(&Tok::Star) {
                yield_star = true;
            } else {
                let mut items = Vec::new();
                loop {
                    let field = self.name("a procedure output name")?;
                    let alias = if self.eat_kw("AS") {
                        Some(self.variable()?)
                    } else {
                        None
                    };
                    items.push(YieldItem { field, alias });
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                yield_items = Some(items);
                where_ = self.opt_where()?;
            }
        }
        Ok(Clause::Call(Call {
            procedure,
            args,
            yield_items,
            yield_star,
            where_,
            span: self.span_from(start),
        }))
    }

    #[inline(never)]
    fn load_csv(&mut self) -> Result<Clause> {
        let start = self.pos;
        self.expect_kw("LOAD")?;
        self.expect_kw("CSV")?;
        let with_headers = if self.eat_kw("WITH") {
            self.expect_kw("HEADERS")?;
            true
        } else {
            false
        };
        self.expect_kw("FROM")?;
        let url = self.expr()?;
        self.expect_kw("AS")?;
        let alias = self.variable()?;
        let field_terminator = if self.eat_kw("FIELDTERMINATOR") {
            match self.peek().clone() {
                Tok::Str(s) => {
                    self.advance();
                    Some(s)
                }
                _ => return Err(self.expected("a string literal")),
            }
        } else {
            None
        };
        Ok(Clause::LoadCsv(LoadCsv {
            with_headers,
            url,
            alias,
            field_terminator,
            span: self.span_from(start),
        }))
    }

    #[inline(never)]
    fn foreach(&mut self) -> Result<Clause> {
        let start = self.pos;
        self.expect_kw("FOREACH")?;
        self.expect(&Tok::LParen, "'('")?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = self.expr()?;
        self.expect(&Tok::Pipe, "'|'")?;
        let body = self.nested_clauses(|p| p.single_query(Until::Paren))?;
        self.expect(&Tok::RParen, "')'")?;
        Ok(Clause::Foreach(Foreach {
            variable,
            list,
            clauses: body.clauses,
            span: self.span_from(start),
        }))
    }
}
