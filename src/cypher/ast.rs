//! The openCypher abstract syntax tree.
//!
//! Produced by `parser`, consumed by the planner/executor. Every node that can be the subject
//! of an error carries a [`Span`] so that semantic and runtime errors can point at the source.
//! Sugar is removed by the parser where that loses nothing a user would see in an error:
//! chained comparisons `a < b < c` become `a < b AND b < c`; `count(*)` is `CountStar`.

/// A region of the query text: byte offsets `[start, end)` plus the 1-based line and column
/// of `start` (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

/// A name as written (labels, types, keys, variables), unescaped (`` `a b` `` is `a b`).
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
    /// The catalog id this name resolved to, once it did (see [`IdCache`]).
    pub cached: IdCache,
}

/// A catalog id resolved once for a name in the syntax tree, tagged with the catalog's uid.
/// A name never changes id in a catalog, so the first successful lookup serves every later
/// run of a prepared statement (and every row of one run) without taking the interner's
/// lock; the uid keeps a statement run against another database from using it. A name not
/// yet in the catalog is not cached: it is looked up (and recorded as an absent-name read)
/// each time. Ignored by equality: two trees that differ only in what they cached are equal.
/// Packed in one word (`uid << 32 | id`; 0 = nothing cached, as uids start at 1).
#[derive(Default)]
pub struct IdCache(std::sync::atomic::AtomicU64);

impl IdCache {
    /// The cached id for catalog `uid`, or `lookup`'s answer (cached when found). Uid 0
    /// (a catalog that could not get one) never caches.
    pub fn get_or(&self, uid: u32, lookup: impl FnOnce() -> Option<u32>) -> Option<u32> {
        use std::sync::atomic::Ordering::Relaxed;
        let packed = self.0.load(Relaxed);
        if uid != 0 && (packed >> 32) as u32 == uid {
            return Some(packed as u32);
        }
        let id = lookup()?;
        if uid != 0 {
            // A racing thread stores the same answer, or one for another catalog: either
            // way every reader checks the uid before using it.
            self.0.store(u64::from(uid) << 32 | u64::from(id), Relaxed);
        }
        Some(id)
    }
}

impl Clone for IdCache {
    fn clone(&self) -> IdCache {
        IdCache(std::sync::atomic::AtomicU64::new(
            self.0.load(std::sync::atomic::Ordering::Relaxed),
        ))
    }
}

impl PartialEq for IdCache {
    fn eq(&self, _: &IdCache) -> bool {
        true
    }
}

impl std::fmt::Debug for IdCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdCache")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationLevel {
    Serializable,
    Snapshot,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    Query(Query),
    /// `EXPLAIN <query>`
    Explain(Query),
    /// `PROFILE <query>`
    Profile(Query),
    /// `BEGIN [READ ONLY | READ WRITE] [ISOLATION LEVEL SERIALIZABLE | SNAPSHOT]`
    Begin {
        read_only: bool,
        isolation: Option<IsolationLevel>,
    },
    Commit,
    Rollback,
    /// `CHECKPOINT`
    Checkpoint,
    /// `CHECK`: the full check of the base image (checksums and structure).
    Check,
    /// `CREATE INDEX [name] [IF NOT EXISTS] FOR (v:Label) ON (v.p1, v.p2, ...)`
    CreateIndex {
        name: Option<Ident>,
        if_not_exists: bool,
        label: Ident,
        properties: Vec<Ident>,
    },
    /// `DROP INDEX name [IF EXISTS]`
    DropIndex {
        name: Ident,
        if_exists: bool,
    },
    /// `CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (v:Label) REQUIRE v.p IS UNIQUE`
    CreateUniqueConstraint {
        name: Option<Ident>,
        if_not_exists: bool,
        label: Ident,
        properties: Vec<Ident>,
    },
    /// `DROP CONSTRAINT name [IF EXISTS]`
    DropConstraint {
        name: Ident,
        if_exists: bool,
    },
    ShowIndexes,
    ShowConstraints,
    ShowTransactions,
}

/// `part (UNION [ALL] part)*`
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub parts: Vec<SingleQuery>,
    /// `union_all[i]` joins `parts[i]` and `parts[i + 1]`: true for `UNION ALL`.
    pub union_all: Vec<bool>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SingleQuery {
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Match(Match),
    Unwind(Unwind),
    With(With),
    Return(Return),
    Create(Create),
    Merge(Merge),
    Set(SetClause),
    Remove(Remove),
    Delete(Delete),
    Call(Call),
    LoadCsv(LoadCsv),
    Foreach(Foreach),
}

impl Clause {
    /// The clause's keyword as written in error messages (`OPTIONAL MATCH`, `DETACH DELETE`).
    pub fn keyword(&self) -> &'static str {
        match self {
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

    /// An updating clause in the openCypher grammar's sense (CALL is neither reading nor
    /// updating there).
    pub fn is_updating(&self) -> bool {
        matches!(
            self,
            Clause::Create(_)
                | Clause::Merge(_)
                | Clause::Set(_)
                | Clause::Remove(_)
                | Clause::Delete(_)
                | Clause::Foreach(_)
        )
    }

    pub fn span(&self) -> Span {
        match self {
            Clause::Match(c) => c.span,
            Clause::Unwind(c) => c.span,
            Clause::With(c) => c.span,
            Clause::Return(c) => c.span,
            Clause::Create(c) => c.span,
            Clause::Merge(c) => c.span,
            Clause::Set(c) => c.span,
            Clause::Remove(c) => c.span,
            Clause::Delete(c) => c.span,
            Clause::Call(c) => c.span,
            Clause::LoadCsv(c) => c.span,
            Clause::Foreach(c) => c.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub optional: bool,
    pub pattern: Pattern,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unwind {
    pub expr: Expr,
    pub alias: Ident,
    pub span: Span,
}

/// The shared body of WITH and RETURN.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub distinct: bool,
    /// `RETURN *` / `WITH *` (possibly followed by more items).
    pub star: bool,
    pub items: Vec<ProjectionItem>,
    pub order_by: Vec<SortItem>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
}

impl Projection {
    /// Items only: no `*`, DISTINCT, ORDER BY, SKIP or LIMIT (the shape the compiled and
    /// batch plans handle; anything else goes through the general projection).
    pub fn is_plain(&self) -> bool {
        !self.star
            && !self.distinct
            && self.order_by.is_empty()
            && self.skip.is_none()
            && self.limit.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionItem {
    pub expr: Expr,
    pub alias: Option<Ident>,
    /// The expression's source text exactly as written (no surrounding whitespace): the
    /// column name when there is no alias (`RETURN n.name` gives column `n.name`).
    pub text: String,
}

impl ProjectionItem {
    /// The column / variable name this item produces.
    pub fn name(&self) -> &str {
        match &self.alias {
            Some(a) => &a.name,
            None => &self.text,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortItem {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct With {
    pub projection: Projection,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    pub projection: Projection,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub pattern: Pattern,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    pub part: PatternPart,
    pub on_create: Vec<SetItem>,
    pub on_match: Vec<SetItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetClause {
    pub items: Vec<SetItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// `target.key = value`; `target` is any expression evaluating to a node or relationship
    /// (usually a variable, but `(n).key` and `n.a.b` forms parse too).
    Property {
        target: Expr,
        key: Ident,
        value: Expr,
        span: Span,
    },
    /// `v = map` (replace all properties).
    Replace {
        variable: Ident,
        value: Expr,
        span: Span,
    },
    /// `v += map` (merge properties).
    MergeMap {
        variable: Ident,
        value: Expr,
        span: Span,
    },
    /// `v:Label1:Label2`
    Labels {
        variable: Ident,
        labels: Vec<Ident>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Remove {
    pub items: Vec<RemoveItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RemoveItem {
    /// `target.key`
    Property {
        target: Expr,
        key: Ident,
        span: Span,
    },
    /// `v:Label1:Label2`
    Labels {
        variable: Ident,
        labels: Vec<Ident>,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub detach: bool,
    pub exprs: Vec<Expr>,
    pub span: Span,
}

/// `CALL ns.name(args) [YIELD a [AS b], ... [WHERE ...]]`; standalone or in a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Dotted name parts, e.g. `["db", "labels"]`.
    pub procedure: Vec<String>,
    /// `None` when called without parentheses (implicit arguments from parameters).
    pub args: Option<Vec<Expr>>,
    /// `None` when there is no YIELD; `Some(vec![])` never occurs (`YIELD *` sets `yield_star`).
    pub yield_items: Option<Vec<YieldItem>>,
    pub yield_star: bool,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YieldItem {
    pub field: Ident,
    pub alias: Option<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoadCsv {
    pub with_headers: bool,
    pub url: Expr,
    pub alias: Ident,
    pub field_terminator: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Foreach {
    pub variable: Ident,
    pub list: Expr,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// Comma-separated pattern parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub parts: Vec<PatternPart>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathSelector {
    /// A plain pattern.
    All,
    /// `shortestPath(...)`
    Shortest,
    /// `allShortestPaths(...)`
    AllShortest,
}

/// `[p =] [shortestPath(] (a)-[r]->(b)... [)]`
#[derive(Debug, Clone, PartialEq)]
pub struct PatternPart {
    pub variable: Option<Ident>,
    pub selector: PathSelector,
    pub element: PatternElement,
    pub span: Span,
}

/// A node followed by zero or more (relationship, node) steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<(RelPattern, NodePattern)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePattern {
    pub variable: Option<Ident>,
    /// `(n:A:B)` requires all of A and B.
    pub labels: Vec<Ident>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelDirection {
    /// `(a)-[]->(b)`
    Right,
    /// `(a)<-[]-(b)`
    Left,
    /// `(a)-[]-(b)` (or `<-[]->`): either direction.
    Both,
}

/// `*`, `*2`, `*1..3`, `*..3`, `*2..`: `min`/`max` are `None` when omitted. A plain `*` is
/// `{min: None, max: None}`; `*2` is `{min: Some(2), max: Some(2)}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarLength {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelPattern {
    pub variable: Option<Ident>,
    /// `[:A|B]` matches either type; empty matches any type.
    pub types: Vec<Ident>,
    pub direction: RelDirection,
    pub length: Option<VarLength>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    In,
    StartsWith,
    EndsWith,
    Contains,
    /// `=~`
    RegexMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    All,
    Any,
    None,
    Single,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapProjectionItem {
    /// `.key`
    Property(Ident),
    /// `.*`
    AllProperties,
    /// `key: expr`
    Literal(Ident, Expr),
    /// `var` (adds `var: <value of var>`)
    Variable(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `$name` or `$0`
    Parameter(String),
    Variable(String),
    List(Vec<Expr>),
    /// Keys in source order; duplicates are a semantic error the parser reports.
    Map(Vec<(Ident, Expr)>),
    /// `expr.key`
    Property(Box<Expr>, Ident),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `expr[from..to]`, either bound optional.
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `expr IS NULL` (`negated`: `IS NOT NULL`)
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `expr:Label1:Label2` used as a predicate.
    HasLabels(Box<Expr>, Vec<Ident>),
    /// `name(args)`; `name` keeps its namespace and original case (`toUpper`, `db.labels`);
    /// function lookup is case-insensitive.
    FunctionCall {
        name: String,
        distinct: bool,
        args: Vec<Expr>,
    },
    /// `count(*)`
    CountStar,
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    /// `[x IN list WHERE pred | map]`
    ListComprehension {
        variable: Ident,
        list: Box<Expr>,
        filter: Option<Box<Expr>>,
        map: Option<Box<Expr>>,
    },
    /// `[p = (a)-->(b) WHERE pred | map]`
    PatternComprehension {
        path_variable: Option<Ident>,
        pattern: Box<PatternElement>,
        filter: Option<Box<Expr>>,
        map: Box<Expr>,
    },
    /// `all(x IN list WHERE pred)` and friends.
    Quantified {
        quantifier: Quantifier,
        variable: Ident,
        list: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    /// `reduce(acc = init, x IN list | expr)`
    Reduce {
        accumulator: Ident,
        init: Box<Expr>,
        variable: Ident,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    /// A relationship pattern used as a boolean: `WHERE (a)-[:KNOWS]->(b)`.
    PatternPredicate(Box<PatternElement>),
    /// `EXISTS { MATCH ... [WHERE ...] }` or `EXISTS { (a)-->(b) [WHERE ...] }`;
    /// the short form is parsed into a single MATCH clause.
    ExistsSubquery(Box<SingleQuery>),
    /// `COUNT { ... }`, same body forms as EXISTS.
    CountSubquery(Box<SingleQuery>),
    /// `v { .a, .*, k: expr, w }`
    MapProjection {
        variable: Ident,
        items: Vec<MapProjectionItem>,
    },
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}
