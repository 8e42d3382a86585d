//! Patterns: `p = (a:L {k: v})-[r:T*1..2]->(b), shortestPath((x)-[*]-(y))`.

use super::*;

impl<'a> Parser<'a> {
    pub(super) fn pattern(&mut self) -> Result<Pattern> {
        let start = self.pos;
        let mut parts = vec![self.pattern_part()?];
        while self.eat(&Tok::Comma) {
            parts.push(self.pattern_part()?);
        }
        Ok(Pattern {
            parts,
            span: self.span_from(start),
        })
    }

    pub(super) fn pattern_part(&mut self) -> Result<PatternPart> {
        let start = self.pos;
        let mut variable = None;
        if self.is_name_at(self.pos) && *self.peek_n(1) == Tok::Eq {
            variable = Some(self.variable()?);
            self.advance();
        }
        let selector = if self.is_kw("shortestPath") && *self.peek_n(1) == Tok::LParen {
            PathSelector::Shortest
        } else if self.is_kw("allShortestPaths") && *self.peek_n(1) == Tok::LParen {
            PathSelector::AllShortest
        } else {
            PathSelector::All
        };
        let element = if selector == PathSelector::All {
            self.pattern_element()?
        } else {
            self.advance();
            self.advance();
            let e = self.pattern_element()?;
            self.expect(&Tok::RParen, "')'")?;
            e
        };
        Ok(PatternPart {
            variable,
            selector,
            element,
            span: self.span_from(start),
        })
    }

    /// A node followed by any number of relationship/node steps.
    pub(super) fn pattern_element(&mut self) -> Result<PatternElement> {
        if *self.peek() == Tok::LParen && *self.peek_n(1) == Tok::LParen {
            // `((a)-->(b))`: a parenthesised pattern element.
            self.advance();
            let inner = self.nested(|p| p.pattern_element())?;
            self.expect(&Tok::RParen, "')'")?;
            return Ok(inner);
        }
        let start = self.pos;
        let first = self.node_pattern()?;
        let mut chain = Vec::new();
        while self.at_rel_start(self.pos) {
            let rel = self.rel_pattern()?;
            let node = self.node_pattern()?;
            chain.push((rel, node));
        }
        Ok(PatternElement {
            start: first,
            chain,
            span: self.span_from(start),
        })
    }

    /// Whether a relationship pattern starts at token `i`: `-[`, `--`, `<-`.
    pub(super) fn at_rel_start(&self, i: usize) -> bool {
        match self.tok_at(i).tok {
            Tok::Minus => matches!(self.tok_at(i + 1).tok, Tok::Minus | Tok::LBracket),
            Tok::Lt => self.tok_at(i + 1).tok == Tok::Minus,
            _ => false,
        }
    }

    /// Whether token `i` opens something shaped like a node pattern, `(v:L {..})` or
    /// `(v $p)`, that is followed by a relationship: then it is a pattern, not a
    /// parenthesised expression. Constant time apart from the label list.
    pub(super) fn looks_like_pattern(&self, i: usize) -> bool {
        if self.tok_at(i).tok != Tok::LParen {
            return false;
        }
        let Some(close) = self.closer.get(i).copied().flatten() else {
            return false;
        };
        let mut k = i + 1;
        if self.is_name_at(k) {
            k += 1;
        }
        while self.tok_at(k).tok == Tok::Colon && self.is_name_at(k + 1) {
            k += 2;
        }
        match self.tok_at(k).tok {
            Tok::LBrace => match self.closer.get(k).copied().flatten() {
                Some(c) => k = c + 1,
                None => return false,
            },
            Tok::Param(_) => k += 1,
            _ => {}
        }
        k == close && self.at_rel_start(close + 1)
    }

    fn node_pattern(&mut self) -> Result<NodePattern> {
        let start = self.pos;
        self.expect(&Tok::LParen, "'(' to start a node pattern")?;
        let variable = if self.is_name_at(self.pos) {
            Some(self.variable()?)
        } else {
            None
        };
        let mut labels = Vec::new();
        while self.eat(&Tok::Colon) {
            labels.push(self.name("a label name")?);
        }
        let properties = self.pattern_properties()?;
        if *self.peek() != Tok::RParen {
            return Err(self.expected(if properties.is_some() {
                "')'"
            } else if labels.is_empty() && variable.is_none() {
                "a variable, ':' and a label, a property map or ')'"
            } else {
                "':' and a label, a property map or ')'"
            }));
        }
        self.advance();
        Ok(NodePattern {
            variable,
            labels,
            properties,
            span: self.span_from(start),
        })
    }

    /// `{k: v}` or `$param` inside a node or relationship pattern.
    fn pattern_properties(&mut self) -> Result<Option<Expr>> {
        match self.peek() {
            Tok::LBrace => Ok(Some(self.nested(|p| p.map_literal())?)),
            Tok::Param(name) => {
                let e = Expr::new(ExprKind::Parameter(name.clone()), self.cur_span());
                self.advance();
                Ok(Some(e))
            }
            _ => Ok(None),
        }
    }

    fn rel_pattern(&mut self) -> Result<RelPattern> {
        let start = self.pos;
        let left = self.eat(&Tok::Lt);
        self.expect(&Tok::Minus, "'-'")?;
        let mut variable = None;
        let mut types = Vec::new();
        let mut length = None;
        let mut properties = None;
        if self.eat(&Tok::LBracket) {
            if self.is_name_at(self.pos) {
                variable = Some(self.variable()?);
            }
            if self.eat(&Tok::Colon) {
                types.push(self.name("a relationship type")?);
                while self.eat(&Tok::Pipe) {
                    self.eat(&Tok::Colon);
                    types.push(self.name("a relationship type")?);
                }
            }
            if self.eat(&Tok::Star) {
                length = Some(self.var_length()?);
            }
            properties = self.pattern_properties()?;
            if *self.peek() != Tok::RBracket {
                return Err(
                    self.expected("']' (a relationship pattern is [var:TYPE*min..max {props}])")
                );
            }
            self.advance();
        }
        self.expect(&Tok::Minus, "'-'")?;
        let right = self.eat(&Tok::Gt);
        let direction = match (left, right) {
            (true, false) => RelDirection::Left,
            (false, true) => RelDirection::Right,
            _ => RelDirection::Both,
        };
        Ok(RelPattern {
            variable,
            types,
            direction,
            length,
            properties,
            span: self.span_from(start),
        })
    }

    /// After `*`: `[min][..[max]]`.
    fn var_length(&mut self) -> Result<VarLength> {
        let min = self.opt_length_bound()?;
        if self.eat(&Tok::DotDot) {
            let max = self.opt_length_bound()?;
            return Ok(VarLength { min, max });
        }
        Ok(VarLength { min, max: min })
    }

    fn opt_length_bound(&mut self) -> Result<Option<u64>> {
        match self.peek() {
            Tok::Int(Some(v)) => {
                let v = *v;
                self.advance();
                Ok(Some(v))
            }
            Tok::Int(None) => Err(self.expected("a smaller path length")),
            _ => Ok(None),
        }
    }
}
