//! Expressions: a Pratt parser over openCypher's precedence levels (low to high):
//! OR, XOR, AND, NOT, comparison, string/list/null predicates, `+ -`, `* / %`, `^`,
//! unary `+ -`, postfix (`.k`, `[i]`, `[a..b]`, `:L`), atoms.

use super::clauses::Until;
use super::*;

const BP_OR: u8 = 1;
const BP_XOR: u8 = 2;
const BP_AND: u8 = 3;
const BP_NOT: u8 = 4;
const BP_CMP: u8 = 5;
const BP_PRED: u8 = 6;
const BP_ADD: u8 = 7;
const BP_MUL: u8 = 8;
const BP_POW: u8 = 9;
const BP_UNARY: u8 = 10;
const BP_POSTFIX: u8 = 11;

/// The operator at the current token, as seen by the Pratt loop.
enum Op {
    Binary(BinaryOp, u8),
    Compare(BinaryOp),
    /// `STARTS WITH`, `ENDS WITH`: two tokens.
    TwoWord(BinaryOp),
    IsNull,
    Property,
    Subscript,
    Labels,
}

/// Height of an expression tree. Only called on trees the parser built under the nesting
/// cap, so the recursion is bounded.
pub(super) fn height(e: &Expr) -> usize {
    fn max_of<'e>(it: impl Iterator<Item = &'e Expr>) -> usize {
        it.map(height).max().unwrap_or(0)
    }
    fn opt(e: &Option<Box<Expr>>) -> usize {
        e.as_deref().map(height).unwrap_or(0)
    }
    let inner = match &e.kind {
        ExprKind::Literal(_)
        | ExprKind::Parameter(_)
        | ExprKind::Variable(_)
        | ExprKind::CountStar
        | ExprKind::ExistsSubquery(_)
        | ExprKind::CountSubquery(_) => 0,
        ExprKind::List(v) => max_of(v.iter()),
        ExprKind::Map(kv) => max_of(kv.iter().map(|(_, v)| v)),
        ExprKind::Property(a, _) | ExprKind::Unary(_, a) | ExprKind::HasLabels(a, _) => height(a),
        ExprKind::IsNull { expr, .. } => height(expr),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => height(a).max(height(b)),
        ExprKind::Slice(a, b, c) => height(a).max(opt(b)).max(opt(c)),
        ExprKind::FunctionCall { args, .. } => max_of(args.iter()),
        ExprKind::Case {
            operand,
            whens,
            else_,
        } => opt(operand)
            .max(opt(else_))
            .max(max_of(whens.iter().flat_map(|(a, b)| [a, b]))),
        ExprKind::ListComprehension {
            list, filter, map, ..
        } => height(list).max(opt(filter)).max(opt(map)),
        ExprKind::PatternComprehension {
            pattern,
            filter,
            map,
            ..
        } => element_height(pattern).max(opt(filter)).max(height(map)),
        ExprKind::Quantified { list, filter, .. } => height(list).max(opt(filter)),
        ExprKind::Reduce {
            init, list, expr, ..
        } => height(init).max(height(list)).max(height(expr)),
        ExprKind::PatternPredicate(p) => element_height(p),
        ExprKind::MapProjection { items, .. } => max_of(items.iter().filter_map(|i| match i {
            MapProjectionItem::Literal(_, e) => Some(e),
            _ => None,
        })),
    };
    inner + 1
}

fn element_height(p: &PatternElement) -> usize {
    let nodes = std::iter::once(&p.start).chain(p.chain.iter().map(|(_, n)| n));
    let n = nodes
        .filter_map(|n| n.properties.as_ref())
        .map(height)
        .max()
        .unwrap_or(0);
    let r = p
        .chain
        .iter()
        .filter_map(|(r, _)| r.properties.as_ref())
        .map(height)
        .max()
        .unwrap_or(0);
    n.max(r) + 1
}

/// Joins `operands` (non-empty, in order) with `op` into a tree of logarithmic height.
/// The recursion depth is the logarithm of the operand count.
fn balanced(op: BinaryOp, mut operands: Vec<(Expr, usize)>) -> (Expr, usize) {
    if operands.len() <= 1 {
        return operands.pop().unwrap_or((
            Expr::new(ExprKind::Literal(Literal::Null), Span::default()),
            1,
        ));
    }
    let right = operands.split_off(operands.len() / 2);
    let (l, lh) = balanced(op, operands);
    let (r, rh) = balanced(op, right);
    (bin(op, l, r), lh.max(rh) + 1)
}

fn bin(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    let span = join(a.span, b.span);
    Expr::new(ExprKind::Binary(op, Box::new(a), Box::new(b)), span)
}

impl<'a> Parser<'a> {
    /// A full expression.
    #[inline(always)]
    pub(super) fn expr(&mut self) -> Result<Expr> {
        self.expr_bp(0)
    }

    /// An atom with postfix operators only (SET / REMOVE targets).
    pub(super) fn postfix_expr(&mut self) -> Result<Expr> {
        self.expr_bp(BP_POSTFIX)
    }

    /// An expression whose operators all bind at least as tightly as `min`.
    ///
    /// Every nesting level passes through here, so it is written to keep a single
    /// expression in its frame.
    fn expr_bp(&mut self, min: u8) -> Result<Expr> {
        self.enter()?;
        let mut r = self.prefix();
        if let Ok(lhs) = &mut r {
            if let Err(e) = self.expr_loop(lhs, min) {
                r = Err(e);
            }
        }
        self.leave();
        r
    }

    /// The descent path of every nesting level runs through here, so it stays small: the
    /// operator and atom forms live in their own (never inlined) functions.
    fn prefix(&mut self) -> Result<Expr> {
        if self.is_kw("NOT") || matches!(self.peek(), Tok::Minus | Tok::Plus) {
            return self.unary();
        }
        self.atom()
    }

    #[inline(never)]
    fn unary(&mut self) -> Result<Expr> {
        let start = self.pos;
        if self.is_kw("NOT") {
            self.advance();
            let operand = self.expr_bp(BP_NOT)?;
            let span = self.span_from(start);
            return Ok(Expr::new(
                ExprKind::Unary(UnaryOp::Not, Box::new(operand)),
                span,
            ));
        }
        let op = match self.peek() {
            Tok::Minus => UnaryOp::Neg,
            Tok::Plus => UnaryOp::Pos,
            _ => return self.atom(),
        };
        self.advance();
        if op == UnaryOp::Neg {
            // `-9223372036854775808` is the one literal whose magnitude exceeds i64::MAX.
            if let Tok::Int(Some(v)) = self.peek() {
                if *v == 1u64 << 63 {
                    self.advance();
                    return Ok(Expr::new(
                        ExprKind::Literal(Literal::Int(i64::MIN)),
                        self.span_from(start),
                    ));
                }
            }
        }
        let operand = self.expr_bp(BP_UNARY)?;
        let span = self.span_from(start);
        let is_number_token = self.pos == start + 2;
        if op == UnaryOp::Neg && is_number_token {
            match operand.kind {
                ExprKind::Literal(Literal::Int(v)) => {
                    return Ok(Expr::new(ExprKind::Literal(Literal::Int(-v)), span))
                }
                ExprKind::Literal(Literal::Float(v)) => {
                    return Ok(Expr::new(ExprKind::Literal(Literal::Float(-v)), span))
                }
                _ => {}
            }
        }
        Ok(Expr::new(ExprKind::Unary(op, Box::new(operand)), span))
    }

    fn peek_op(&self) -> Option<Op> {
        let op = match self.peek() {
            Tok::Ident(w) => {
                let w = w.to_ascii_uppercase();
                match w.as_str() {
                    "OR" => Op::Binary(BinaryOp::Or, BP_OR),
                    "XOR" => Op::Binary(BinaryOp::Xor, BP_XOR),
                    "AND" => Op::Binary(BinaryOp::And, BP_AND),
                    "IN" => Op::Binary(BinaryOp::In, BP_PRED),
                    "CONTAINS" => Op::Binary(BinaryOp::Contains, BP_PRED),
                    "STARTS" if self.is_kw_n(1, "WITH") => Op::TwoWord(BinaryOp::StartsWith),
                    "ENDS" if self.is_kw_n(1, "WITH") => Op::TwoWord(BinaryOp::EndsWith),
                    "IS" => Op::IsNull,
                    _ => return None,
                }
            }
            Tok::Eq => Op::Compare(BinaryOp::Eq),
            Tok::Ne => Op::Compare(BinaryOp::Ne),
            Tok::Lt => Op::Compare(BinaryOp::Lt),
            Tok::Le => Op::Compare(BinaryOp::Le),
            Tok::Gt => Op::Compare(BinaryOp::Gt),
            Tok::Ge => Op::Compare(BinaryOp::Ge),
            Tok::RegexEq => Op::Compare(BinaryOp::RegexMatch),
            Tok::Plus => Op::Binary(BinaryOp::Add, BP_ADD),
            Tok::Minus => Op::Binary(BinaryOp::Sub, BP_ADD),
            Tok::Star => Op::Binary(BinaryOp::Mul, BP_MUL),
            Tok::Slash => Op::Binary(BinaryOp::Div, BP_MUL),
            Tok::Percent => Op::Binary(BinaryOp::Mod, BP_MUL),
            Tok::Caret => Op::Binary(BinaryOp::Pow, BP_POW),
            Tok::Dot => Op::Property,
            Tok::LBracket => Op::Subscript,
            Tok::Colon if self.is_name_at(self.pos + 1) => Op::Labels,
            _ => return None,
        };
        Some(op)
    }

    /// Folds operators binding at least `min` onto `lhs`. Tracks the tree height so that
    /// long left-deep chains (`a+a+a+...`, `n.a.b.c...`) are capped like nesting is.
    #[inline(never)]
    pub(super) fn expr_loop(&mut self, lhs: &mut Expr, min: u8) -> Result<()> {
        let mut lhs_h: Option<usize> = None;
        while let Some(op) = self.peek_op() {
            let bp = match op {
                Op::Binary(_, bp) => bp,
                Op::Compare(_) => BP_CMP,
                Op::TwoWord(_) | Op::IsNull => BP_PRED,
                Op::Property | Op::Subscript | Op::Labels => BP_POSTFIX,
            };
            if bp < min {
                break;
            }
            let h = match lhs_h {
                Some(h) => h,
                None => height(lhs),
            };
            // Folded in place so the caller's frame holds a single expression.
            let lhs_val = std::mem::replace(lhs, Expr::new(ExprKind::CountStar, Span::default()));
            let (next, next_h) = match op {
                Op::Binary(op @ (BinaryOp::And | BinaryOp::Or | BinaryOp::Xor), bp) => {
                    self.logical_chain(op, bp, lhs_val, h)?
                }
                Op::Binary(op, bp) => {
                    self.advance();
                    let rhs = self.expr_bp(bp + 1)?;
                    let rh = height(&rhs);
                    (bin(op, lhs_val, rhs), h.max(rh) + 1)
                }
                Op::TwoWord(op) => {
                    self.advance();
                    self.advance();
                    let rhs = self.expr_bp(BP_PRED + 1)?;
                    let rh = height(&rhs);
                    (bin(op, lhs_val, rhs), h.max(rh) + 1)
                }
                Op::Compare(_) => self.comparison_chain(lhs_val, h)?,
                Op::IsNull => {
                    self.advance();
                    let negated = self.eat_kw("NOT");
                    self.expect_kw("NULL")?;
                    let span = join(lhs_val.span, self.tok_at(self.pos - 1).span);
                    let e = ExprKind::IsNull {
                        expr: Box::new(lhs_val),
                        negated,
                    };
                    (Expr::new(e, span), h + 1)
                }
                Op::Property => {
                    self.advance();
                    let key = self.name("a property key")?;
                    let span = join(lhs_val.span, key.span);
                    (
                        Expr::new(ExprKind::Property(Box::new(lhs_val), key), span),
                        h + 1,
                    )
                }
                Op::Subscript => self.subscript(lhs_val, h)?,
                Op::Labels => {
                    let labels = self.label_list()?;
                    let span = join(lhs_val.span, self.tok_at(self.pos - 1).span);
                    (
                        Expr::new(ExprKind::HasLabels(Box::new(lhs_val), labels), span),
                        h + 1,
                    )
                }
            };
            if self.depth + next_h > MAX_DEPTH + 1 {
                let s = next.span;
                return Err(nesting_error().at(s.line, s.column));
            }
            *lhs = next;
            lhs_h = Some(next_h);
        }
        Ok(())
    }

    /// `a AND b AND c ...` (likewise OR, XOR): these operators are associative, so a long
    /// chain is built as a balanced tree (operands stay in source order). Generated
    /// queries with hundreds of conditions then stay far below the nesting cap.
    #[inline(never)]
    fn logical_chain(
        &mut self,
        op: BinaryOp,
        bp: u8,
        first: Expr,
        first_h: usize,
    ) -> Result<(Expr, usize)> {
        let mut operands = vec![(first, first_h)];
        while let Some(Op::Binary(next, _)) = self.peek_op() {
            if next != op {
                break;
            }
            self.advance();
            let rhs = self.expr_bp(bp + 1)?;
            let h = height(&rhs);
            operands.push((rhs, h));
        }
        Ok(balanced(op, operands))
    }

    /// `a < b <= c ...` → `a < b AND b <= c ...` (each middle operand cloned once).
    #[inline(never)]
    fn comparison_chain(&mut self, first: Expr, first_h: usize) -> Result<(Expr, usize)> {
        let mut acc: Option<(Expr, usize)> = None;
        let mut left = first;
        let mut left_h = first_h;
        while let Some(Op::Compare(op)) = self.peek_op() {
            self.advance();
            let right = self.expr_bp(BP_CMP + 1)?;
            let right_h = height(&right);
            let cmp_h = left_h.max(right_h) + 1;
            let chained = matches!(self.peek_op(), Some(Op::Compare(_)));
            // The middle operand is shared by two comparisons: clone it only then.
            let (cmp, next_left) = if chained {
                let copy = right.clone();
                (bin(op, left, right), Some(copy))
            } else {
                (bin(op, left, right), None)
            };
            acc = Some(match acc {
                None => (cmp, cmp_h),
                Some((a, ah)) => (bin(BinaryOp::And, a, cmp), ah.max(cmp_h) + 1),
            });
            if let Some((_, h)) = &acc {
                if self.depth + h > MAX_DEPTH + 1 {
                    let s = self.cur_span();
                    return Err(nesting_error().at(s.line, s.column));
                }
            }
            match next_left {
                Some(l) => left = l,
                None => break,
            }
            left_h = right_h;
        }
        match acc {
            Some(r) => Ok(r),
            None => Err(self.expected("a comparison operator")),
        }
    }

    /// `lhs[i]`, `lhs[a..b]`, `lhs[..b]`, `lhs[a..]`.
    #[inline(never)]
    fn subscript(&mut self, lhs: Expr, h: usize) -> Result<(Expr, usize)> {
        self.expect(&Tok::LBracket, "'['")?;
        let from = if *self.peek() == Tok::DotDot {
            None
        } else {
            Some(self.expr()?)
        };
        if self.eat(&Tok::DotDot) {
            let to = if *self.peek() == Tok::RBracket {
                None
            } else {
                Some(self.expr()?)
            };
            self.expect(&Tok::RBracket, "']'")?;
            let span = join(lhs.span, self.tok_at(self.pos - 1).span);
            let sub_h = from.iter().chain(to.iter()).map(height).max().unwrap_or(0);
            let e = ExprKind::Slice(Box::new(lhs), from.map(Box::new), to.map(Box::new));
            return Ok((Expr::new(e, span), h.max(sub_h) + 1));
        }
        let Some(index) = from else {
            return Err(self.expected("an index expression"));
        };
        self.expect(&Tok::RBracket, "']'")?;
        let span = join(lhs.span, self.tok_at(self.pos - 1).span);
        let ih = height(&index);
        Ok((
            Expr::new(ExprKind::Index(Box::new(lhs), Box::new(index)), span),
            h.max(ih) + 1,
        ))
    }

    // ---- atoms --------------------------------------------------------------------------

    #[inline(never)]
    fn atom(&mut self) -> Result<Expr> {
        let span = self.cur_span();
        let kind = match self.peek() {
            Tok::Int(Some(v)) if *v <= i64::MAX as u64 => {
                ExprKind::Literal(Literal::Int(*v as i64))
            }
            Tok::Int(_) => {
                return Err(self.error_at(
                    span,
                    format!(
                        "Invalid input '{}': integer literal too large (the range is \
                         -9223372036854775808 to 9223372036854775807)",
                        self.src.get(span.start..span.end).unwrap_or("")
                    ),
                ))
            }
            Tok::Float(f) => ExprKind::Literal(Literal::Float(*f)),
            Tok::Str(_) => {
                // Tokens are read once, so the literal's text can be moved out of its token.
                let text = match &mut self.toks[self.pos].tok {
                    Tok::Str(s) => std::mem::take(s),
                    _ => String::new(),
                };
                ExprKind::Literal(Literal::String(text))
            }
            Tok::Param(p) => ExprKind::Parameter(p.clone()),
            Tok::LParen => return self.paren_or_pattern(),
            Tok::LBracket => return self.bracket(),
            Tok::LBrace => return self.map_literal(),
            Tok::Ident(_) | Tok::Quoted(_) => return self.name_atom(),
            _ => return Err(self.expected("an expression")),
        };
        self.advance();
        Ok(Expr::new(kind, span))
    }

    #[inline(never)]
    fn paren_or_pattern(&mut self) -> Result<Expr> {
        if self.looks_like_pattern(self.pos) {
            return self.pattern_predicate();
        }
        let start = self.pos;
        self.advance();
        let mut r = self.expr();
        if let Ok(e) = &mut r {
            if !self.eat(&Tok::RParen) {
                return Err(self.expected("')'"));
            }
            // The span covers the parentheses, so enclosing spans slice balanced text.
            e.span = self.span_from(start);
        }
        r
    }

    #[inline(never)]
    fn pattern_predicate(&mut self) -> Result<Expr> {
        let start = self.pos;
        let el = self.pattern_element()?;
        Ok(Expr::new(
            ExprKind::PatternPredicate(Box::new(el)),
            self.span_from(start),
        ))
    }

    /// `[` starts a list literal, a list comprehension or a pattern comprehension.
    fn bracket(&mut self) -> Result<Expr> {
        let p = self.pos;
        let comprehension = self.is_name_at(p + 1)
            && (self.kw_at(p + 2, "IN") || self.tok_at(p + 2).tok == Tok::Eq);
        if comprehension || self.looks_like_pattern(p + 1) {
            return self.bracket_special();
        }
        self.list_literal()
    }

    #[inline(never)]
    fn list_literal(&mut self) -> Result<Expr> {
        let start = self.pos;
        self.advance();
        if self.eat(&Tok::RBracket) {
            return Ok(Expr::new(ExprKind::List(Vec::new()), self.span_from(start)));
        }
        let mut items = Vec::new();
        loop {
            match self.expr() {
                Ok(e) => items.push(e),
                Err(e) => return Err(e),
            }
            if self.eat(&Tok::RBracket) {
                break;
            }
            if !self.eat(&Tok::Comma) {
                return Err(self.expected("',' or ']'"));
            }
        }
        Ok(Expr::new(ExprKind::List(items), self.span_from(start)))
    }

    fn bracket_special(&mut self) -> Result<Expr> {
        let p = self.pos;
        if self.is_name_at(p + 1) && self.kw_at(p + 2, "IN") {
            return self.list_comprehension();
        }
        self.pattern_comprehension()
    }

    #[inline(never)]
    fn pattern_comprehension(&mut self) -> Result<Expr> {
        let start = self.pos;
        let p = self.pos;
        let named_path = self.is_name_at(p + 1)
            && self.tok_at(p + 2).tok == Tok::Eq
            && self.looks_like_pattern(p + 3);
        if named_path || self.looks_like_pattern(p + 1) {
            self.advance();
            let path_variable = if named_path {
                let v = self.variable()?;
                self.advance();
                Some(v)
            } else {
                None
            };
            let el_start = self.pos;
            let el = self.nested(|p| p.pattern_element())?;
            if named_path || self.is_kw("WHERE") || *self.peek() == Tok::Pipe {
                let filter = if self.eat_kw("WHERE") {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                self.expect(&Tok::Pipe, "'|' and the value of each pattern match")?;
                let map = Box::new(self.expr()?);
                self.expect(&Tok::RBracket, "']'")?;
                return Ok(Expr::new(
                    ExprKind::PatternComprehension {
                        path_variable,
                        pattern: Box::new(el),
                        filter,
                        map,
                    },
                    self.span_from(start),
                ));
            }
            // A list literal whose first element starts with a pattern predicate.
            let first = Expr::new(
                ExprKind::PatternPredicate(Box::new(el)),
                self.span_from(el_start),
            );
            let mut first = first;
            self.nested(|p| p.expr_loop(&mut first, 0))?;
            return self.list_rest(start, vec![first]);
        }
        // `[x = 1]`: a list holding a comparison.
        self.list_literal()
    }

    /// The rest of a list literal after its first element.
    fn list_rest(&mut self, start: usize, mut items: Vec<Expr>) -> Result<Expr> {
        loop {
            if self.eat(&Tok::RBracket) {
                break;
            }
            self.expect(&Tok::Comma, "',' or ']'")?;
            items.push(self.expr()?);
        }
        Ok(Expr::new(ExprKind::List(items), self.span_from(start)))
    }

    #[inline(never)]
    fn list_comprehension(&mut self) -> Result<Expr> {
        let start = self.pos;
        self.expect(&Tok::LBracket, "'['")?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        let filter = if self.eat_kw("WHERE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        let map = if self.eat(&Tok::Pipe) {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect(&Tok::RBracket, "']'")?;
        Ok(Expr::new(
            ExprKind::ListComprehension {
                variable,
                list,
                filter,
                map,
            },
            self.span_from(start),
        ))
    }

    /// `{k: v, ...}`; duplicate keys are rejected.
    #[inline(never)]
    pub(super) fn map_literal(&mut self) -> Result<Expr> {
        let start = self.pos;
        self.expect(&Tok::LBrace, "'{'")?;
        let mut entries: Vec<(Ident, Expr)> = Vec::new();
        if !self.eat(&Tok::RBrace) {
            loop {
                let key = self.name("a map key")?;
                if entries.iter().any(|(k, _)| k.name == key.name) {
                    return Err(Error::semantic(format!(
                        "duplicate key '{}' in map literal: each key may appear only once",
                        key.name
                    ))
                    .at(key.span.line, key.span.column));
                }
                self.expect(&Tok::Colon, "':'")?;
                let value = self.expr()?;
                entries.push((key, value));
                if self.eat(&Tok::RBrace) {
                    break;
                }
                self.expect(&Tok::Comma, "',' or '}'")?;
            }
        }
        Ok(Expr::new(ExprKind::Map(entries), self.span_from(start)))
    }

    /// An atom starting with a name: keyword literals and forms, function calls,
    /// variables and map projections.
    #[inline(never)]
    fn name_atom(&mut self) -> Result<Expr> {
        if let Some(e) = self.keyword_atom() {
            return e;
        }
        // Function call: name(.name)* '('
        let mut k = self.pos + 1;
        while self.tok_at(k).tok == Tok::Dot && self.is_name_at(k + 1) {
            k += 2;
        }
        if self.tok_at(k).tok == Tok::LParen {
            return self.function_call();
        }
        if let Tok::Ident(w) = self.peek() {
            if is_reserved(w) {
                return Err(self.expected("an expression"));
            }
        }
        let var = self.name("a variable")?;
        if *self.peek() == Tok::LBrace {
            return self.map_projection(var);
        }
        Ok(Expr::new(ExprKind::Variable(var.name), var.span))
    }

    /// Keyword literals and keyword-introduced forms (`CASE`, `count(*)`, `EXISTS {`,
    /// quantifiers, `reduce`), or `None` when the name is not one of them.
    #[inline(never)]
    fn keyword_atom(&mut self) -> Option<Result<Expr>> {
        let start = self.pos;
        let span = self.cur_span();
        let Tok::Ident(w) = self.peek() else {
            return None;
        };
        let upper = w.to_ascii_uppercase();
        // Only the bracket kind matters; avoid cloning a (possibly huge) string token.
        let next = match self.peek_n(1) {
            Tok::LParen => Tok::LParen,
            Tok::LBrace => Tok::LBrace,
            _ => Tok::Eof,
        };
        let lit = match upper.as_str() {
            "NULL" => Some(Literal::Null),
            "TRUE" => Some(Literal::Bool(true)),
            "FALSE" => Some(Literal::Bool(false)),
            _ => None,
        };
        if let Some(l) = lit {
            self.advance();
            return Some(Ok(Expr::new(ExprKind::Literal(l), span)));
        }
        let r = match (upper.as_str(), &next) {
            ("CASE", _) => self.case_expr(),
            ("COUNT", Tok::LParen)
                if self.tok_at(self.pos + 2).tok == Tok::Star
                    && self.tok_at(self.pos + 3).tok == Tok::RParen =>
            {
                self.pos += 4;
                Ok(Expr::new(ExprKind::CountStar, self.span_from(start)))
            }
            ("COUNT", Tok::LBrace) | ("EXISTS", Tok::LBrace) => {
                self.subquery_expr(upper == "COUNT")
            }
            ("ALL" | "ANY" | "NONE" | "SINGLE", Tok::LParen)
                if self.is_name_at(self.pos + 2) && self.kw_at(self.pos + 3, "IN") =>
            {
                self.quantified(&upper)
            }
            ("REDUCE", Tok::LParen)
                if self.is_name_at(self.pos + 2) && self.tok_at(self.pos + 3).tok == Tok::Eq =>
            {
                self.reduce()
            }
            _ => return None,
        };
        Some(r)
    }

    #[inline(never)]
    fn function_call(&mut self) -> Result<Expr> {
        let start = self.pos;
        let mut name = self.name("a function name")?.name;
        while self.eat(&Tok::Dot) {
            name.push('.');
            name.push_str(&self.name("a function name")?.name);
        }
        self.expect(&Tok::LParen, "'('")?;
        let distinct = self.eat_kw("DISTINCT");
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
        Ok(Expr::new(
            ExprKind::FunctionCall {
                name,
                distinct,
                args,
            },
            self.span_from(start),
        ))
    }

    #[inline(never)]
    fn case_expr(&mut self) -> Result<Expr> {
        let start = self.pos;
        self.expect_kw("CASE")?;
        let operand = if self.is_kw("WHEN") {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let w = self.expr()?;
            self.expect_kw("THEN")?;
            let t = self.expr()?;
            whens.push((w, t));
        }
        if whens.is_empty() {
            return Err(self.expected("WHEN"));
        }
        let else_ = if self.eat_kw("ELSE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        if !self.eat_kw("END") {
            return Err(self.expected(if else_.is_some() {
                "END"
            } else {
                "WHEN, ELSE or END"
            }));
        }
        Ok(Expr::new(
            ExprKind::Case {
                operand,
                whens,
                else_,
            },
            self.span_from(start),
        ))
    }

    #[inline(never)]
    fn quantified(&mut self, word: &str) -> Result<Expr> {
        let start = self.pos;
        let quantifier = match word {
            "ALL" => Quantifier::All,
            "ANY" => Quantifier::Any,
            "NONE" => Quantifier::None,
            _ => Quantifier::Single,
        };
        self.advance();
        self.expect(&Tok::LParen, "'('")?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        let filter = if self.eat_kw("WHERE") {
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        self.expect(&Tok::RParen, "')'")?;
        Ok(Expr::new(
            ExprKind::Quantified {
                quantifier,
                variable,
                list,
                filter,
            },
            self.span_from(start),
        ))
    }

    #[inline(never)]
    fn reduce(&mut self) -> Result<Expr> {
        let start = self.pos;
        self.advance();
        self.expect(&Tok::LParen, "'('")?;
        let accumulator = self.variable()?;
        self.expect(&Tok::Eq, "'='")?;
        let init = Box::new(self.expr()?);
        self.expect(&Tok::Comma, "','")?;
        let variable = self.variable()?;
        self.expect_kw("IN")?;
        let list = Box::new(self.expr()?);
        self.expect(&Tok::Pipe, "'|'")?;
        let expr = Box::new(self.expr()?);
        self.expect(&Tok::RParen, "')'")?;
        Ok(Expr::new(
            ExprKind::Reduce {
                accumulator,
                init,
                variable,
                list,
                expr,
            },
            self.span_from(start),
        ))
    }

    /// `EXISTS { ... }` / `COUNT { ... }`: a full single query, or a pattern with WHERE.
    #[inline(never)]
    fn subquery_expr(&mut self, count: bool) -> Result<Expr> {
        let start = self.pos;
        self.advance();
        self.expect(&Tok::LBrace, "'{'")?;
        let body = self.nested_clauses(|p| {
            if p.is_clause_start() {
                return p.single_query(Until::Brace);
            }
            let q_start = p.pos;
            let pattern = p.pattern()?;
            let where_ = if p.eat_kw("WHERE") {
                Some(p.expr()?)
            } else {
                None
            };
            let span = p.span_from(q_start);
            Ok(SingleQuery {
                clauses: vec![Clause::Match(Match {
                    optional: false,
                    pattern,
                    where_,
                    span,
                })],
                span,
            })
        })?;
        self.expect(&Tok::RBrace, "'}'")?;
        let kind = if count {
            ExprKind::CountSubquery(Box::new(body))
        } else {
            ExprKind::ExistsSubquery(Box::new(body))
        };
        Ok(Expr::new(kind, self.span_from(start)))
    }

    #[inline(never)]
    fn map_projection(&mut self, variable: Ident) -> Result<Expr> {
        let start = self.pos - 1;
        self.expect(&Tok::LBrace, "'{'")?;
        let mut items = Vec::new();
        if !self.eat(&Tok::RBrace) {
            loop {
                if self.eat(&Tok::Dot) {
                    if self.eat(&Tok::Star) {
                        items.push(MapProjectionItem::AllProperties);
                    } else {
                        items.push(MapProjectionItem::Property(
                            self.name("a property key or '*'")?,
                        ));
                    }
                } else if self.is_name_at(self.pos) && self.tok_at(self.pos + 1).tok == Tok::Colon {
                    let key = self.name("a map key")?;
                    self.advance();
                    let value = self.expr()?;
                    items.push(MapProjectionItem::Literal(key, value));
                } else if self.is_name_at(self.pos) {
                    items.push(MapProjectionItem::Variable(self.variable()?));
                } else {
                    return Err(self.expected("'.key', '.*', 'key: value' or a variable"));
                }
                if self.eat(&Tok::RBrace) {
                    break;
                }
                self.expect(&Tok::Comma, "',' or '}'")?;
            }
        }
        Ok(Expr::new(
            ExprKind::MapProjection { variable, items },
            self.span_from(start),
        ))
    }
}
