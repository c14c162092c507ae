//! A syntax checker for JSONata expressions (the text between `{%` and `%}`).
//!
//! It follows the reference implementation's tokenizer and top-down operator-precedence parser
//! (JSONata 2.0, which Step Functions uses), so that an expression AWS would reject at creation is
//! reported offline. It builds no syntax tree beyond what the checks need and evaluates nothing.
//! Nesting deeper than [`MAX_DEPTH`] is reported as an error instead of recursing further.

use std::fmt;

/// How deeply expressions may nest before the checker gives up with an error.
pub const MAX_DEPTH: usize = 200;

/// A syntax error: what is wrong and where (a character offset into the expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Character offset of the offending token.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.position)
    }
}

impl std::error::Error for SyntaxError {}

/// Checks that `expr` is a syntactically valid JSONata expression.
pub fn check_syntax(expr: &str) -> Result<(), SyntaxError> {
    let mut p = Parser {
        lexer: Lexer {
            chars: expr.chars().collect(),
            pos: 0,
        },
        tok: Token::end(0),
        depth: 0,
        ancestors: 0,
    };
    p.advance(None, false)?;
    p.expression(0)?;
    if p.tok.kind != Kind::End {
        return Err(p.error(format!(
            "unexpected {}; expected the end of the expression",
            p.tok.describe()
        )));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Variable,
    Operator,
    String,
    Number,
    Value,
    Regex,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    text: String,
    position: usize,
}

impl Token {
    fn end(position: usize) -> Self {
        Token {
            kind: Kind::End,
            text: String::new(),
            position,
        }
    }

    fn is_op(&self, op: &str) -> bool {
        self.kind == Kind::Operator && self.text == op
    }

    /// The left binding power, as in the reference parser's symbol table.
    fn lbp(&self) -> u32 {
        if self.kind != Kind::Operator {
            return 0;
        }
        match self.text.as_str() {
            "[" | "(" | "@" | "#" => 80,
            "." => 75,
            "{" => 70,
            "*" | "/" | "%" => 60,
            "+" | "-" | "&" => 50,
            "=" | "<" | ">" | "^" | "!=" | "<=" | ">=" | "~>" | "in" | "?:" | "??" => 40,
            "and" => 30,
            "or" => 25,
            "?" => 20,
            ":=" => 10,
            _ => 0,
        }
    }

    fn describe(&self) -> String {
        match self.kind {
            Kind::End => "end of expression".to_owned(),
            Kind::Operator => format!("`{}`", self.text),
            Kind::Variable => format!("variable `${}`", self.text),
            Kind::Name => format!("name `{}`", self.text),
            Kind::String => "string literal".to_owned(),
            Kind::Number => format!("number {}", self.text),
            Kind::Value => format!("`{}`", self.text),
            Kind::Regex => "regular expression".to_owned(),
        }
    }
}

/// What the checker remembers of a parsed sub-expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// A path with this many name or wildcard steps, which a parent operator `%` can climb.
    Path(usize),
    Variable,
    /// The name `function` (or `λ`), which starts a lambda when followed by `(`.
    FunctionKeyword,
    Number,
    Value,
    Other,
}

impl Node {
    /// How many ancestors a `%` after this expression can refer to.
    fn steps(self) -> usize {
        match self {
            Node::Path(n) => n,
            _ => 0,
        }
    }
}

/// Single-character operators (and stop characters for names).
const OPERATOR_CHARS: &[char] = &[
    '.', '[', ']', '{', '}', '(', ')', ',', '@', '#', ';', ':', '?', '+', '-', '*', '/', '%', '|',
    '=', '<', '>', '^', '&', '!', '~',
];

/// Operators the parser knows as symbols (any other operator token is an error).
const KNOWN_OPERATORS: &[&str] = &[
    ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%", "|",
    "=", "<", ">", "^", "&", "**", "..", ":=", "!=", "<=", ">=", "~>", "?:", "??", "and", "or",
    "in",
];

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn err(&self, position: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            position,
            message: message.into(),
        }
    }

    /// The next token; `infix` is true when an operator (not an operand) is expected, which is
    /// when `/` means division rather than the start of a regular expression.
    fn next(&mut self, infix: bool) -> Result<Token, SyntaxError> {
        loop {
            while matches!(self.at(self.pos), Some(' ' | '\t' | '\n' | '\r' | '\u{0B}')) {
                self.pos += 1;
            }
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    match self.at(self.pos) {
                        None => return Err(self.err(start, "comment has no closing `*/`")),
                        Some('*') if self.at(self.pos + 1) == Some('/') => {
                            self.pos += 2;
                            break;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
                continue;
            }
            break;
        }
        let start = self.pos;
        let Some(c) = self.at(self.pos) else {
            return Ok(Token::end(start));
        };
        let tok = |kind, text: String| Token {
            kind,
            text,
            position: start,
        };
        if !infix && c == '/' {
            self.pos += 1;
            self.scan_regex(start)?;
            return Ok(tok(Kind::Regex, String::new()));
        }
        let next = self.at(self.pos + 1);
        let double = match (c, next) {
            ('.', Some('.')) => Some(".."),
            (':', Some('=')) => Some(":="),
            ('!', Some('=')) => Some("!="),
            ('>', Some('=')) => Some(">="),
            ('<', Some('=')) => Some("<="),
            ('*', Some('*')) => Some("**"),
            ('~', Some('>')) => Some("~>"),
            ('?', Some(':')) => Some("?:"),
            ('?', Some('?')) => Some("??"),
            _ => None,
        };
        if let Some(op) = double {
            self.pos += 2;
            return Ok(tok(Kind::Operator, op.to_owned()));
        }
        if OPERATOR_CHARS.contains(&c) {
            self.pos += 1;
            return Ok(tok(Kind::Operator, c.to_string()));
        }
        if c == '"' || c == '\'' {
            self.pos += 1;
            while let Some(ch) = self.at(self.pos) {
                if ch == '\\' {
                    self.pos += 1;
                    match self.at(self.pos) {
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => {}
                        Some('u') => {
                            let hex: String =
                                (1..=4).filter_map(|k| self.at(self.pos + k)).collect();
                            if hex.len() != 4 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                                return Err(self.err(
                                    self.pos,
                                    "`\\u` must be followed by four hexadecimal digits",
                                ));
                            }
                            self.pos += 4;
                        }
                        Some(other) => {
                            return Err(self.err(
                                self.pos,
                                format!(
                                    "unsupported escape sequence `\\{other}` in a string literal"
                                ),
                            ));
                        }
                        None => break,
                    }
                } else if ch == c {
                    self.pos += 1;
                    return Ok(tok(Kind::String, String::new()));
                }
                self.pos += 1;
            }
            return Err(self.err(start, "string literal has no closing quote"));
        }
        if c.is_ascii_digit() {
            let mut i = self.pos;
            if c == '0' {
                i += 1;
            } else {
                while self.at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
            }
            if self.at(i) == Some('.') && self.at(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
                while self.at(i).is_some_and(|d| d.is_ascii_digit()) {
                    i += 1;
                }
            }
            if matches!(self.at(i), Some('e' | 'E')) {
                let mut k = i + 1;
                if matches!(self.at(k), Some('+' | '-')) {
                    k += 1;
                }
                if self.at(k).is_some_and(|d| d.is_ascii_digit()) {
                    while self.at(k).is_some_and(|d| d.is_ascii_digit()) {
                        k += 1;
                    }
                    i = k;
                }
            }
            let text: String = self.chars[self.pos..i].iter().collect();
            if !text.parse::<f64>().is_ok_and(f64::is_finite) {
                return Err(self.err(start, format!("the number {text} is out of range")));
            }
            self.pos = i;
            return Ok(tok(Kind::Number, text));
        }
        if c == '`' {
            let from = self.pos + 1;
            return match (from..self.chars.len()).find(|&k| self.chars[k] == '`') {
                Some(end) => {
                    let name: String = self.chars[from..end].iter().collect();
                    self.pos = end + 1;
                    Ok(tok(Kind::Name, name))
                }
                None => {
                    self.pos = self.chars.len();
                    Err(self.err(start, "quoted name has no closing backtick"))
                }
            };
        }
        let mut i = self.pos;
        while let Some(ch) = self.at(i) {
            if matches!(ch, ' ' | '\t' | '\n' | '\r' | '\u{0B}') || OPERATOR_CHARS.contains(&ch) {
                break;
            }
            i += 1;
        }
        let name: String = self.chars[self.pos..i].iter().collect();
        self.pos = i;
        if let Some(var) = name.strip_prefix('$') {
            return Ok(tok(Kind::Variable, var.to_owned()));
        }
        Ok(match name.as_str() {
            "and" | "or" | "in" => tok(Kind::Operator, name),
            "true" | "false" | "null" => tok(Kind::Value, name),
            _ => tok(Kind::Name, name),
        })
    }

    /// Scans a regular expression after its opening `/`, up to the closing `/` and flags.
    fn scan_regex(&mut self, start: usize) -> Result<(), SyntaxError> {
        let pattern_start = self.pos;
        let mut depth: i64 = 0;
        while let Some(c) = self.at(self.pos) {
            let escaped = self.pos > 0 && self.at(self.pos - 1) == Some('\\');
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.pos > backslashes && self.at(self.pos - backslashes - 1) == Some('\\') {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    if self.pos == pattern_start {
                        return Err(self.err(start, "empty regular expression"));
                    }
                    self.pos += 1;
                    while matches!(self.at(self.pos), Some('i' | 'm')) {
                        self.pos += 1;
                    }
                    return Ok(());
                }
            }
            if matches!(c, '(' | '[' | '{') && !escaped {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && !escaped {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(self.err(start, "regular expression has no closing `/`"))
    }
}

struct Parser {
    lexer: Lexer,
    tok: Token,
    depth: usize,
    /// How many path steps enclose the expression being parsed (what `%` can refer to).
    ancestors: usize,
}

type Parsed = Result<Node, SyntaxError>;

impl Parser {
    fn error(&self, message: String) -> SyntaxError {
        SyntaxError {
            position: self.tok.position,
            message,
        }
    }

    /// Moves to the next token, first checking that the current one is `expect` (when given).
    fn advance(&mut self, expect: Option<&str>, infix: bool) -> Result<(), SyntaxError> {
        if let Some(id) = expect {
            if !self.tok.is_op(id) {
                let what = if self.tok.kind == Kind::End {
                    "the expression ended".to_owned()
                } else {
                    format!("found {}", self.tok.describe())
                };
                return Err(self.error(format!("expected `{id}` but {what}")));
            }
        }
        let t = self.lexer.next(infix)?;
        if t.kind == Kind::Operator && !KNOWN_OPERATORS.contains(&t.text.as_str()) {
            return Err(SyntaxError {
                position: t.position,
                message: format!("unknown operator `{}`", t.text),
            });
        }
        self.tok = t;
        Ok(())
    }

    fn expression(&mut self, rbp: u32) -> Parsed {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "the expression is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        let t = self.tok.clone();
        self.advance(None, true)?;
        let mut left = self.nud(&t)?;
        while rbp < self.tok.lbp() {
            let t = self.tok.clone();
            self.advance(None, false)?;
            left = self.led(&t, left)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn nud(&mut self, t: &Token) -> Parsed {
        match t.kind {
            Kind::Variable => Ok(Node::Variable),
            Kind::Number => Ok(Node::Number),
            Kind::Value => Ok(Node::Value),
            Kind::Name if t.text == "function" || t.text == "\u{3BB}" => Ok(Node::FunctionKeyword),
            Kind::Name => Ok(Node::Path(self.ancestors + 1)),
            Kind::String | Kind::Regex => Ok(Node::Other),
            Kind::End => Err(SyntaxError {
                position: t.position,
                message: "unexpected end of expression".to_owned(),
            }),
            Kind::Operator => match t.text.as_str() {
                "and" | "or" | "in" | "*" | "**" => Ok(Node::Path(self.ancestors + 1)),
                "%" => match self.ancestors.checked_sub(1) {
                    Some(n) => Ok(Node::Path(n)),
                    None => Err(SyntaxError {
                        position: t.position,
                        message: "the parent operator `%` has no parent step to refer to here"
                            .to_owned(),
                    }),
                },
                "-" => {
                    self.expression(70)?;
                    Ok(Node::Other)
                }
                "(" => {
                    let mut last = Node::Other;
                    while !self.tok.is_op(")") {
                        last = self.expression(0)?;
                        if !self.tok.is_op(";") {
                            break;
                        }
                        self.advance(Some(";"), false)?;
                    }
                    self.advance(Some(")"), true)?;
                    Ok(last)
                }
                "[" => {
                    if !self.tok.is_op("]") {
                        loop {
                            self.expression(0)?;
                            if self.tok.is_op("..") {
                                self.advance(Some(".."), false)?;
                                self.expression(0)?;
                            }
                            if !self.tok.is_op(",") {
                                break;
                            }
                            self.advance(Some(","), false)?;
                        }
                    }
                    self.advance(Some("]"), true)?;
                    Ok(Node::Other)
                }
                "{" => {
                    self.object()?;
                    Ok(Node::Other)
                }
                "|" => {
                    self.expression(0)?;
                    self.advance(Some("|"), false)?;
                    self.expression(0)?;
                    if self.tok.is_op(",") {
                        self.advance(Some(","), false)?;
                        self.expression(0)?;
                    }
                    self.advance(Some("|"), false)?;
                    Ok(Node::Other)
                }
                op => Err(SyntaxError {
                    position: t.position,
                    message: format!("`{op}` cannot start an expression here"),
                }),
            },
        }
    }

    fn led(&mut self, t: &Token, left: Node) -> Parsed {
        let op = t.text.as_str();
        match op {
            "(" => {
                let mut args = Vec::new();
                if !self.tok.is_op(")") {
                    loop {
                        if self.tok.is_op("?") {
                            args.push(Node::Other);
                            self.advance(Some("?"), false)?;
                        } else {
                            args.push(self.expression(0)?);
                        }
                        if !self.tok.is_op(",") {
                            break;
                        }
                        self.advance(Some(","), false)?;
                    }
                }
                self.advance(Some(")"), true)?;
                // `function($a, $b) { … }` defines a lambda.
                if left == Node::FunctionKeyword {
                    if let Some(i) = args.iter().position(|a| *a != Node::Variable) {
                        return Err(SyntaxError {
                            position: t.position,
                            message: format!("parameter {} of a function definition must be a variable such as `$x`", i + 1),
                        });
                    }
                    if self.tok.is_op("<") {
                        let mut depth = 1;
                        while depth > 0 && !self.tok.is_op("{") && self.tok.kind != Kind::End {
                            self.advance(None, false)?;
                            if self.tok.is_op(">") {
                                depth -= 1;
                            } else if self.tok.is_op("<") {
                                depth += 1;
                            }
                        }
                        self.advance(Some(">"), false)?;
                    }
                    self.advance(Some("{"), false)?;
                    self.expression(0)?;
                    self.advance(Some("}"), false)?;
                }
                Ok(Node::Other)
            }
            "[" => {
                if self.tok.is_op("]") {
                    self.advance(Some("]"), false)?;
                    return Ok(left);
                }
                let saved = std::mem::replace(&mut self.ancestors, left.steps());
                self.expression(0)?;
                self.ancestors = saved;
                self.advance(Some("]"), true)?;
                Ok(left)
            }
            "^" => {
                self.advance(Some("("), false)?;
                loop {
                    if self.tok.is_op("<") {
                        self.advance(Some("<"), false)?;
                    } else if self.tok.is_op(">") {
                        self.advance(Some(">"), false)?;
                    }
                    self.expression(0)?;
                    if !self.tok.is_op(",") {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), false)?;
                Ok(Node::Other)
            }
            "{" => {
                let saved = std::mem::replace(&mut self.ancestors, left.steps());
                self.object()?;
                self.ancestors = saved;
                Ok(Node::Other)
            }
            ":=" => {
                if left != Node::Variable {
                    return Err(SyntaxError {
                        position: t.position,
                        message: "the left side of `:=` must be a variable such as `$x`".to_owned(),
                    });
                }
                self.expression(9)?;
                Ok(Node::Other)
            }
            "@" | "#" => {
                if self.expression(80)? != Node::Variable {
                    return Err(SyntaxError {
                        position: t.position,
                        message: format!("`{op}` must be followed by a variable such as `$x`"),
                    });
                }
                Ok(Node::Other)
            }
            "?" => {
                self.expression(0)?;
                if self.tok.is_op(":") {
                    self.advance(Some(":"), false)?;
                    self.expression(0)?;
                }
                Ok(Node::Other)
            }
            "." => {
                let saved = std::mem::replace(&mut self.ancestors, left.steps());
                let rhs = self.expression(75)?;
                self.ancestors = saved;
                if matches!(rhs, Node::Number | Node::Value) {
                    return Err(SyntaxError {
                        position: t.position,
                        message:
                            "a literal value cannot be used as a step within a path expression"
                                .to_owned(),
                    });
                }
                Ok(match rhs {
                    Node::Path(n) => Node::Path(n),
                    _ => Node::Path(left.steps()),
                })
            }
            "+" | "-" | "*" | "/" | "%" | "=" | "<" | ">" | "!=" | "<=" | ">=" | "&" | "and"
            | "or" | "in" | "~>" | "?:" | "??" => {
                self.expression(t.lbp())?;
                Ok(Node::Other)
            }
            _ => Err(SyntaxError {
                position: t.position,
                message: format!("unexpected `{op}`"),
            }),
        }
    }

    fn object(&mut self) -> Result<(), SyntaxError> {
        if !self.tok.is_op("}") {
            loop {
                self.expression(0)?;
                self.advance(Some(":"), false)?;
                self.expression(0)?;
                if !self.tok.is_op(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions() {
        for e in [
            "10",
            " 1+2 ",
            "\n10         ",
            "$states.input.data.items",
            "$sum($states.input.numbers)",
            "$exists($states.input.moreData) ? $states.input.moreData : {}",
            "$match($states.input.email, /^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$/) and true",
            "$not(null in $each($states.input.data.address, function($v) { $length($trim($v)) > 0 ? $v : null }))",
            "$variable := 1",
            "[1, $number('2'), 3]",
            "[1..5]",
            "Account.Order.Product[$contains(`Product Name`, \"Hat\")].(Price * Quantity)",
            "$x ~> $uppercase()",
            "($f := function($a, $b)<nn:n> { $a + $b }; $f(1, 2))",
            "items^(>price, name)",
            "items{category: $sum(price)}",
            "$states.input.a /* comment */ + 1",
            "| $ | {'x': 1} |",
            "$contains(\"hello$world\", /^hello\\$/)",
            "loans@$l.books#$i[$l.id = $i]",
            "-5",
            "$partial := $substring(?, 0, 5)",
            "789.0123456789012",
            "a.\"b c\"",
            "()",
            "a.%",
            "a.b.%.%",
            "a.{'x': %.id}",
            "a[%.x = 1]",
            "(a.b).%",
            "a.f(%)",
            "a.b.[%]",
        ] {
            assert!(check_syntax(e).is_ok(), "{e}: {:?}", check_syntax(e));
        }
    }

    #[test]
    fn invalid_expressions() {
        for (e, fragment) in [
            ("420.", "unexpected end"),
            ("10 + * 2", "expected the end"),
            ("$.store.book[?(@.price < 10)].title", "cannot start"),
            ("$sum($states.input.items.numbers ", "expected `)`"),
            ("", "unexpected end"),
            ("   ", "unexpected end"),
            ("'abc", "closing quote"),
            ("1 = = 2", "cannot start"),
            ("a.5", "literal value"),
            ("1 := 2", "left side of `:=`"),
            ("function($a, 1) { $a }", "must be a variable"),
            ("a ! b", "unknown operator"),
            ("/* open", "comment"),
            ("\"\\q\"", "escape"),
            ("1e999", "out of range"),
            ("%", "parent"),
            ("%.a", "parent"),
            ("a.%.%", "parent"),
            ("$x.%", "parent"),
            ("f(%)", "parent"),
        ] {
            let err = check_syntax(e).expect_err(e);
            assert!(err.message.contains(fragment), "{e}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "(".repeat(100_000) + &")".repeat(100_000);
        let err = check_syntax(&deep).expect_err("too deep");
        assert!(err.message.contains("nested"), "{err}");
        let deep = "[".repeat(10_000);
        assert!(check_syntax(&deep).is_err());
    }
}
