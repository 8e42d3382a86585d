//! The openCypher lexer: query text → tokens with byte spans and 1-based line/column.
//!
//! Keywords are not distinguished from identifiers here (Cypher lets most keywords serve as
//! names); the parser compares unquoted identifier text case-insensitively. Integer literals
//! keep their magnitude as `u64` so the parser can accept `-9223372036854775808`.
//! Brackets are matched once here so the parser can look past a parenthesised group in O(1).

use super::ast::Span;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword, as written.
    Ident(String),
    /// A backtick-quoted identifier, unescaped. Never a keyword.
    Quoted(String),
    /// An integer literal's magnitude; `None` when it does not fit in `u64`.
    Int(Option<u64>),
    Float(f64),
    Str(String),
    /// `$name` / `$0`, without the `$`.
    Param(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    DotDot,
    Colon,
    Semicolon,
    Pipe,
    Plus,
    PlusEq,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eq,
    /// `<>` or `!=`
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    RegexEq,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// The token list plus, for every opening bracket, the index of its matching closer.
#[derive(Debug)]
pub struct Tokens {
    pub toks: Vec<Token>,
    /// `closer[i]` is the index of the bracket closing `toks[i]`, when `toks[i]` opens one
    /// and it is closed by the same kind of bracket.
    pub closer: Vec<Option<usize>>,
}

/// Describes a token for error messages, the way it was written.
pub fn describe(src: &str, t: &Token) -> String {
    if t.tok == Tok::Eof {
        return "end of input".to_string();
    }
    let text = src.get(t.span.start..t.span.end).unwrap_or("");
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    format!("'{short}'")
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    /// Byte offset where the current line starts.
    line_start: usize,
    /// Characters between `line_start` and `col_byte` (cached so columns stay linear).
    col_chars: usize,
    col_byte: usize,
    /// Line and column of the token being lexed (errors about it point at its start).
    tok_lc: (usize, usize),
}

pub fn tokenize(src: &str) -> Result<Tokens> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        col_chars: 0,
        col_byte: 0,
        tok_lc: (1, 1),
    };
    let mut toks = Vec::new();
    loop {
        lx.skip_trivia()?;
        let start = lx.pos;
        let (line, column) = lx.line_col(start);
        lx.tok_lc = (line, column);
        let tok = lx.next_tok()?;
        let span = Span {
            start,
            end: lx.pos,
            line,
            column,
        };
        let eof = tok == Tok::Eof;
        toks.push(Token { tok, span });
        if eof {
            break;
        }
    }
    let closer = match_brackets(&toks);
    Ok(Tokens { toks, closer })
}

fn match_brackets(toks: &[Token]) -> Vec<Option<usize>> {
    let mut closer = vec![None; toks.len()];
    let mut stack: Vec<usize> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => stack.push(i),
            Tok::RParen | Tok::RBracket | Tok::RBrace => {
                let want = match t.tok {
                    Tok::RParen => Tok::LParen,
                    Tok::RBracket => Tok::LBracket,
                    _ => Tok::LBrace,
                };
                if let Some(&open) = stack.last() {
                    if toks[open].tok == want {
                        stack.pop();
                        closer[open] = Some(i);
                    }
                }
            }
            _ => {}
        }
    }
    closer
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl<'a> Lexer<'a> {
    /// 1-based line and column (in chars) of byte offset `at`, which must not be before the
    /// last position asked for on the same line.
    fn line_col(&mut self, at: usize) -> (usize, usize) {
        // Lines are advanced as newlines are consumed (see `bump`), so `at` is on self.line.
        if self.col_byte < self.line_start || self.col_byte > at {
            self.col_byte = self.line_start;
            self.col_chars = 0;
        }
        let seg = self.src.get(self.col_byte..at).unwrap_or("");
        self.col_chars += seg.chars().count();
        self.col_byte = at;
        (self.line, self.col_chars + 1)
    }

    fn err_at(&mut self, at: usize, msg: String) -> Error {
        let (l, c) = self.line_col(at);
        Error::syntax(msg).at(l, c)
    }

    fn err_start(&self, msg: String) -> Error {
        Error::syntax(msg).at(self.tok_lc.0, self.tok_lc.1)
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn peek_byte_at(&self, off: usize) -> Option<u8> {
        self.bytes.get(self.pos + off).copied()
    }

    /// Consumes one char, tracking line starts.
    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.line_start = self.pos;
            self.col_byte = self.pos;
            self.col_chars = 0;
        }
        Some(c)
    }

    fn skip_trivia(&mut self) -> Result<()> {
        loop {
            match self.peek_char() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.peek_byte_at(1) == Some(b'/') => {
                    while let Some(c) = self.peek_char() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                Some('/') if self.peek_byte_at(1) == Some(b'*') => {
                    let start = self.pos;
                    let (l, c) = self.line_col(start);
                    self.pos += 2;
                    loop {
                        match self.peek_char() {
                            None => {
                                return Err(Error::syntax(
                                    "unterminated comment: '/*' has no matching '*/'",
                                )
                                .at(l, c))
                            }
                            Some('*') if self.peek_byte_at(1) == Some(b'/') => {
                                self.pos += 2;
                                break;
                            }
                            Some(_) => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn next_tok(&mut self) -> Result<Tok> {
        let Some(c) = self.peek_char() else {
            return Ok(Tok::Eof);
        };
        let two = |l: &Lexer, b: u8| l.peek_byte_at(1) == Some(b);
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '[' => (Tok::LBracket, 1),
            ']' => (Tok::RBracket, 1),
            '{' => (Tok::LBrace, 1),
            '}' => (Tok::RBrace, 1),
            ',' => (Tok::Comma, 1),
            ':' => (Tok::Colon, 1),
            ';' => (Tok::Semicolon, 1),
            '|' => (Tok::Pipe, 1),
            '+' if two(self, b'=') => (Tok::PlusEq, 2),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '%' => (Tok::Percent, 1),
            '^' => (Tok::Caret, 1),
            '=' if two(self, b'~') => (Tok::RegexEq, 2),
            '=' => (Tok::Eq, 1),
            '!' if two(self, b'=') => (Tok::Ne, 2),
            '<' if two(self, b'>') => (Tok::Ne, 2),
            '<' if two(self, b'=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if two(self, b'=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '.' if two(self, b'.') => (Tok::DotDot, 2),
            '.' if self.peek_byte_at(1).is_some_and(|b| b.is_ascii_digit()) => {
                return self.number();
            }
            '.' => (Tok::Dot, 1),
            '0'..='9' => return self.number(),
            '\'' | '"' => return self.string(c),
            '`' => return self.quoted().map(Tok::Quoted),
            '$' => {
                self.pos += 1;
                let name = match self.peek_char() {
                    Some('`') => self.quoted()?,
                    Some(ch) if is_ident_char(ch) => self.word().to_string(),
                    _ => {
                        return Err(self.err_start(
                            "Invalid input '$': expected a parameter name after '$'".to_string(),
                        ))
                    }
                };
                return Ok(Tok::Param(name));
            }
            c if is_ident_start(c) => return Ok(Tok::Ident(self.word().to_string())),
            c => {
                return Err(self.err_start(format!(
                    "Invalid input '{c}': not a valid character in a query here"
                )))
            }
        };
        self.pos += len;
        Ok(tok)
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            if !is_ident_char(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.src[start..self.pos]
    }

    fn quoted(&mut self) -> Result<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err(self.err_start(
                    "unterminated quoted identifier: '`' has no closing '`'".to_string(),
                ));
            };
            if c == '`' {
                if self.peek_byte_at(1) == Some(b'`') {
                    out.push('`');
                    self.pos += 2;
                    continue;
                }
                self.pos += 1;
                break;
            }
            out.push(c);
            self.bump();
        }
        Ok(out)
    }

    fn digits(&mut self, radix: u32) {
        while let Some(b) = self.peek_byte_at(0) {
            if (b as char).is_digit(radix) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn number(&mut self) -> Result<Tok> {
        let start = self.pos;
        let b1 = self.peek_byte_at(1);
        if self.peek_byte_at(0) == Some(b'0') && matches!(b1, Some(b'x' | b'X' | b'o' | b'O')) {
            let radix = if matches!(b1, Some(b'x' | b'X')) {
                16
            } else {
                8
            };
            self.pos += 2;
            let ds = self.pos;
            self.digits(radix);
            let digits = &self.src[ds..self.pos];
            if digits.is_empty() || self.peek_char().is_some_and(is_ident_char) {
                self.word();
                let text = self.src[start..self.pos].to_string();
                return Err(self.err_start(format!(
                    "Invalid input '{text}': not a valid number literal"
                )));
            }
            return Ok(Tok::Int(u64::from_str_radix(digits, radix).ok()));
        }
        self.digits(10);
        let mut is_float = false;
        if self.peek_byte_at(0) == Some(b'.')
            && self.peek_byte_at(1).is_some_and(|b| b.is_ascii_digit())
        {
            is_float = true;
            self.pos += 1;
            self.digits(10);
        }
        if matches!(self.peek_byte_at(0), Some(b'e' | b'E')) {
            let sign = matches!(self.peek_byte_at(1), Some(b'+' | b'-'));
            let d = if sign { 2 } else { 1 };
            if self.peek_byte_at(d).is_some_and(|b| b.is_ascii_digit()) {
                is_float = true;
                self.pos += d;
                self.digits(10);
            }
        }
        if self.peek_char().is_some_and(is_ident_char) {
            self.word();
            let text = self.src[start..self.pos].to_string();
            return Err(self.err_start(format!(
                "Invalid input '{text}': not a valid number literal"
            )));
        }
        let text = &self.src[start..self.pos];
        if is_float {
            let Ok(v) = text.parse::<f64>() else {
                return Err(
                    self.err_start(format!("Invalid input '{text}': not a valid float literal"))
                );
            };
            if !v.is_finite() {
                return Err(self.err_start(format!("floating point literal '{text}' is too large")));
            }
            return Ok(Tok::Float(v));
        }
        if text.len() > 1 && text.starts_with('0') {
            // Legacy octal form `0777`.
            let digits = &text[1..];
            if digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Ok(Tok::Int(u64::from_str_radix(digits, 8).ok()));
            }
            return Err(self.err_start(format!(
                "Invalid input '{text}': not a valid number literal"
            )));
        }
        Ok(Tok::Int(text.parse::<u64>().ok()))
    }

    fn string(&mut self, quote: char) -> Result<Tok> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go (keeps huge literals linear).
            let rest = &self.src[self.pos..];
            let run = rest.find([quote, '\\', '\n']).unwrap_or(rest.len());
            out.push_str(&rest[..run]);
            self.pos += run;
            let Some(c) = self.peek_char() else {
                return Err(self.err_start(format!(
                    "unterminated string literal: {quote} has no closing {quote}"
                )));
            };
            if c == quote {
                self.pos += 1;
                return Ok(Tok::Str(out));
            }
            if c == '\n' {
                out.push('\n');
                self.bump();
                continue;
            }
            // Backslash escape.
            let esc_at = self.pos;
            self.pos += 1;
            let Some(e) = self.peek_char() else {
                return Err(self.err_start(format!(
                    "unterminated string literal: {quote} has no closing {quote}"
                )));
            };
            self.pos += e.len_utf8();
            let ch = match e {
                '\\' => '\\',
                '\'' => '\'',
                '"' => '"',
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'u' | 'U' => {
                    let n = if e == 'u' { 4 } else { 8 };
                    let hex = self.src.get(self.pos..self.pos + n).unwrap_or("");
                    if hex.len() != n || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(self.err_at(
                            esc_at,
                            format!(
                                "invalid unicode escape in string literal: \\{e} must be \
                                 followed by {n} hex digits"
                            ),
                        ));
                    }
                    self.pos += n;
                    let code = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
                    match char::from_u32(code) {
                        Some(ch) => ch,
                        None => {
                            return Err(self.err_at(
                                esc_at,
                                format!(
                                    "invalid unicode escape in string literal: \\{e}{hex} is \
                                     not a valid character"
                                ),
                            ))
                        }
                    }
                }
                other => {
                    return Err(self.err_at(
                        esc_at,
                        format!(
                            "invalid escape sequence '\\{other}' in string literal: use \\\\, \
                             \\', \\\", \\n, \\t, \\r, \\b, \\f, \\uXXXX or \\UXXXXXXXX"
                        ),
                    ))
                }
            };
            out.push(ch);
        }
    }
}
