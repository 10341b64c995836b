package cond

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tNewline
	tName
	tNumber
	tString
	tOp
)

type token struct {
	kind tokKind
	pos  int    // byte offset in the source
	text string // the name, the operator, or the literal as written
	val  any    // int64, float64 or string for literals
}

// keywords are Python's reserved words. The parser accepts only the
// expression ones in their place; the rest get a "not allowed" message.
var keywords = map[string]bool{
	"False": true, "None": true, "True": true, "and": true, "as": true,
	"assert": true, "async": true, "await": true, "break": true,
	"class": true, "continue": true, "def": true, "del": true, "elif": true,
	"else": true, "except": true, "finally": true, "for": true, "from": true,
	"global": true, "if": true, "import": true, "in": true, "is": true,
	"lambda": true, "nonlocal": true, "not": true, "or": true, "pass": true,
	"raise": true, "return": true, "try": true, "while": true, "with": true,
	"yield": true,
}

// Operators, longest first within each length. Operators the language does
// not support are still tokens, so the parser can say why they are refused.
var (
	ops3 = []string{"**=", "//=", ">>=", "<<="}
	ops2 = []string{"**", "//", "==", "!=", "<=", ">=", ":=", "<<", ">>", "->",
		"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@="}
)

const ops1 = "()[]{},:.+-*/%<>=;&|^~@"

type lexer struct {
	src   string
	i     int
	depth int // bracket nesting: newlines inside brackets are ignored, as in Python
}

// lex splits src into tokens, ending with tEOF. It bails on malformed input.
func lex(src string) []token {
	lx := &lexer{src: src}
	var toks []token
	for {
		t := lx.next()
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks
		}
	}
}

func (lx *lexer) next() token {
	for lx.i < len(lx.src) {
		c := lx.src[lx.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			lx.i++
		case c == '#':
			for lx.i < len(lx.src) && lx.src[lx.i] != '\n' {
				lx.i++
			}
		case c == '\\':
			j := lx.i + 1
			if j < len(lx.src) && lx.src[j] == '\r' {
				j++
			}
			if j >= len(lx.src) || lx.src[j] != '\n' {
				bail(lx.i, `unexpected character '\'`)
			}
			lx.i = j + 1
		case c == '\n':
			if lx.depth > 0 {
				lx.i++
				continue
			}
			lx.i++
			return token{kind: tNewline, pos: lx.i - 1, text: "\n"}
		default:
			return lx.token()
		}
	}
	return token{kind: tEOF, pos: len(lx.src)}
}

func (lx *lexer) token() token {
	start := lx.i
	c := lx.src[start]
	switch {
	case isLetter(c):
		for lx.i < len(lx.src) && (isLetter(lx.src[lx.i]) || isDigit(lx.src[lx.i])) {
			lx.i++
		}
		word := lx.src[start:lx.i]
		if lx.i < len(lx.src) && (lx.src[lx.i] == '\'' || lx.src[lx.i] == '"') {
			switch strings.ToLower(word) {
			case "r":
				return lx.str(start, true)
			case "u":
				return lx.str(start, false)
			case "b", "br", "rb":
				bail(start, "bytes literals are not supported")
			case "f", "rf", "fr":
				bail(start, "f-strings are not supported")
			}
		}
		return token{kind: tName, pos: start, text: word}
	case isDigit(c) || c == '.' && start+1 < len(lx.src) && isDigit(lx.src[start+1]):
		return lx.number()
	case c == '\'' || c == '"':
		return lx.str(start, false)
	case c >= utf8.RuneSelf:
		r, _ := utf8.DecodeRuneInString(lx.src[start:])
		bail(start, "unexpected character %q", r)
	}
	return lx.operator()
}

func (lx *lexer) operator() token {
	start, rest := lx.i, lx.src[lx.i:]
	for _, group := range [][]string{ops3, ops2} {
		for _, op := range group {
			if strings.HasPrefix(rest, op) {
				lx.i += len(op)
				return token{kind: tOp, pos: start, text: op}
			}
		}
	}
	c := rest[0]
	if strings.IndexByte(ops1, c) < 0 {
		bail(start, "unexpected character %q", rune(c))
	}
	switch c {
	case '(', '[', '{':
		lx.depth++
	case ')', ']', '}':
		lx.depth = max(lx.depth-1, 0)
	}
	lx.i++
	return token{kind: tOp, pos: start, text: rest[:1]}
}

func (lx *lexer) number() token {
	s, start := lx.src, lx.i
	if s[start] == '0' && start+1 < len(s) && strings.IndexByte("xXoObB", s[start+1]) >= 0 {
		lx.i += 2
		for lx.i < len(s) && (isHex(s[lx.i]) || s[lx.i] == '_') {
			lx.i++
		}
		text := s[start:lx.i]
		lx.numberEnd(start)
		n, err := strconv.ParseInt(text, 0, 64) // base 0 validates prefix and underscores
		if err != nil {
			lx.badInt(start, text, err)
		}
		return token{kind: tNumber, pos: start, text: text, val: n}
	}
	digits := func() {
		for lx.i < len(s) && (isDigit(s[lx.i]) || s[lx.i] == '_') {
			lx.i++
		}
	}
	digits()
	isFloat := false
	if lx.i < len(s) && s[lx.i] == '.' {
		isFloat = true
		lx.i++
		digits()
	}
	if lx.i < len(s) && (s[lx.i] == 'e' || s[lx.i] == 'E') {
		j := lx.i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			isFloat = true
			lx.i = j
			digits()
		}
	}
	text := s[start:lx.i]
	if lx.i < len(s) && (s[lx.i] == 'j' || s[lx.i] == 'J') {
		bail(start, "complex numbers are not supported")
	}
	lx.numberEnd(start)
	for i := 0; i < len(text); i++ {
		if text[i] == '_' && (i == 0 || !isDigit(text[i-1]) || i+1 == len(text) || !isDigit(text[i+1])) {
			bail(start, "invalid number %q", text)
		}
	}
	clean := strings.ReplaceAll(text, "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // 1e999 is inf, as in Python
			bail(start, "invalid number %q", text)
		}
		return token{kind: tNumber, pos: start, text: text, val: f}
	}
	if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		bail(start, "leading zeros in decimal integer literals are not permitted (%s)", text)
	}
	n, err := strconv.ParseInt(clean, 10, 64)
	if err != nil {
		lx.badInt(start, text, err)
	}
	return token{kind: tNumber, pos: start, text: text, val: n}
}

// numberEnd refuses a number glued to a name, like 1abc or 0x1g.
func (lx *lexer) numberEnd(start int) {
	if lx.i < len(lx.src) && (isLetter(lx.src[lx.i]) || isDigit(lx.src[lx.i]) || lx.src[lx.i] == '.') {
		bail(start, "invalid number %q", lx.src[start:lx.i+1])
	}
}

func (lx *lexer) badInt(start int, text string, err error) {
	if errors.Is(err, strconv.ErrRange) {
		bail(start, "integer %s does not fit in 64 bits", text)
	}
	bail(start, "invalid number %q", text)
}

// str scans a string literal whose quote is at lx.i; start is where its
// prefix (if any) began.
func (lx *lexer) str(start int, raw bool) token {
	s := lx.src
	for lx.i < len(s) && s[lx.i] != '\'' && s[lx.i] != '"' {
		lx.i++ // skip the prefix letters
	}
	q := s[lx.i]
	quote := string(q)
	if strings.HasPrefix(s[lx.i:], strings.Repeat(quote, 3)) {
		quote = strings.Repeat(quote, 3)
	}
	lx.i += len(quote)
	var b strings.Builder
	for {
		if lx.i >= len(s) {
			bail(start, "unterminated string literal")
		}
		c := s[lx.i]
		switch {
		case c == q && strings.HasPrefix(s[lx.i:], quote):
			lx.i += len(quote)
			return token{kind: tString, pos: start, text: s[start:lx.i], val: b.String()}
		case c == '\n' && len(quote) == 1:
			bail(start, "unterminated string literal")
		case c == '\\' && raw:
			if lx.i+1 >= len(s) {
				bail(start, "unterminated string literal")
			}
			b.WriteString(s[lx.i : lx.i+2]) // raw strings keep the backslash
			lx.i += 2
		case c == '\\':
			lx.escape(&b)
		default:
			b.WriteByte(c)
			lx.i++
		}
	}
}

var (
	simpleEscapes = map[byte]byte{'\\': '\\', '\'': '\'', '"': '"', 'a': 7, 'b': 8,
		'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11}
	escapeWidths = map[byte]int{'x': 2, 'u': 4, 'U': 8}
)

// escape decodes one backslash escape at lx.i into b, with Python's rules:
// unknown escapes keep their backslash.
func (lx *lexer) escape(b *strings.Builder) {
	s, at := lx.src, lx.i
	if at+1 >= len(s) {
		bail(at, "unterminated string literal")
	}
	c := s[at+1]
	lx.i += 2
	if r, ok := simpleEscapes[c]; ok {
		b.WriteByte(r)
		return
	}
	switch {
	case c == '\n':
		// line continuation inside a string
	case c == '\r' && lx.i < len(s) && s[lx.i] == '\n':
		lx.i++
	case c >= '0' && c <= '7':
		end := at + 2
		for end < len(s) && end < at+4 && s[end] >= '0' && s[end] <= '7' {
			end++
		}
		n, _ := strconv.ParseUint(s[at+1:end], 8, 32)
		b.WriteRune(rune(n))
		lx.i = end
	case c == 'x' || c == 'u' || c == 'U':
		width := escapeWidths[c]
		if lx.i+width > len(s) {
			bail(at, `truncated \%c escape`, c)
		}
		n, err := strconv.ParseUint(s[lx.i:lx.i+width], 16, 32)
		if err != nil || n > utf8.MaxRune {
			bail(at, `invalid \%c escape`, c)
		}
		b.WriteRune(rune(n))
		lx.i += width
	case c == 'N':
		bail(at, `\N{...} escapes are not supported`)
	default:
		b.WriteByte('\\')
		lx.i-- // the next character is ordinary text
	}
}

func isLetter(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
