package cond

import (
	"fmt"
	"strings"
)

// The grammar, loosest binding first (Python's, minus what is not allowed):
//
//	expr       = or ["if" or "else" expr]
//	or         = and {"or" and}
//	and        = not {"and" not}
//	not        = "not" not | comparison
//	comparison = arith {cmpop arith}     cmpop: == != < <= > >= in, not in, is, is not
//	arith      = term {("+"|"-") term}
//	term       = unary {("*"|"/"|"//"|"%") unary}
//	unary      = ("-"|"+") unary | power
//	power      = primary ["**" unary]
//	primary    = atom {"." NAME | "." METHOD args | "[" subscript "]"}
//	atom       = NAME | HELPER args | frappe.utils.HELPER args | NUMBER | STRING {STRING}
//	           | "(" [expr {"," expr} [","]] ")" | "[" … "]" | "{" … "}"
type parser struct {
	toks  []token
	i     int
	depth int // recursion depth, bounded by MaxNesting
}

// forbiddenNames are Python builtins people might reach for. Calling them
// already fails as "unknown function"; naming them bare fails too, rather
// than surfacing later as a NameError.
var forbiddenNames = map[string]bool{
	"eval": true, "exec": true, "open": true, "compile": true, "getattr": true,
	"setattr": true, "delattr": true, "globals": true, "locals": true,
	"vars": true, "input": true, "breakpoint": true, "exit": true, "quit": true,
	"help": true, "dir": true, "type": true, "print": true,
}

func parse(toks []token) node {
	p := &parser{toks: toks}
	p.skipNewlines()
	if p.tok().kind == tEOF {
		bail(p.tok().pos, "empty expression")
	}
	n := p.parseExpr()
	if p.isOp(",") {
		bail(p.tok().pos, "unexpected ','; a condition is one expression (put tuples in parentheses)")
	}
	if t := p.tok(); t.kind == tNewline {
		p.skipNewlines()
		if p.tok().kind != tEOF {
			bail(t.pos, "unexpected newline; a condition must be a single expression")
		}
	}
	if p.tok().kind != tEOF {
		p.fail("")
	}
	return n
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(k int) token { return p.toks[min(p.i+k, len(p.toks)-1)] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(s string) bool { t := p.tok(); return t.kind == tOp && t.text == s }
func (p *parser) isKw(s string) bool { t := p.tok(); return t.kind == tName && t.text == s }

func (p *parser) skipNewlines() {
	for p.tok().kind == tNewline {
		p.advance()
	}
}

func (p *parser) expectOp(s string) token {
	if !p.isOp(s) {
		p.fail("'" + s + "'")
	}
	return p.advance()
}

func (p *parser) enter() {
	p.depth++
	if p.depth > MaxNesting {
		bail(p.tok().pos, "expression is nested too deeply (limit %d)", MaxNesting)
	}
}

// fail reports the current token as unexpected, with a specific reason when
// it starts a construct the language refuses on purpose.
func (p *parser) fail(expected string) {
	t := p.tok()
	if msg := refusal(t); msg != "" {
		bail(t.pos, "%s", msg)
	}
	if expected == "" {
		bail(t.pos, "unexpected %s", describe(t))
	}
	bail(t.pos, "unexpected %s, expected %s", describe(t), expected)
}

func refusal(t token) string {
	switch t.kind {
	case tOp:
		switch t.text {
		case "=":
			return "assignment is not allowed (use == to compare)"
		case ":=":
			return "assignment expressions (:=) are not allowed"
		case ";":
			return "multiple statements are not allowed"
		case "&", "|", "^", "~", "<<", ">>", "@":
			return fmt.Sprintf("operator '%s' is not supported", t.text)
		}
		if strings.HasSuffix(t.text, "=") && !strings.Contains("== != <= >=", t.text) {
			return "assignment is not allowed"
		}
	case tName:
		switch t.text {
		case "lambda":
			return "lambda is not allowed"
		case "for", "async":
			return "comprehensions are not allowed"
		case "import", "from":
			return "import is not allowed"
		case "assert", "break", "class", "continue", "def", "del", "except", "finally",
			"global", "nonlocal", "pass", "raise", "return", "try", "while", "with",
			"yield", "await", "elif":
			return fmt.Sprintf("'%s' is not allowed: a condition is a single expression", t.text)
		}
	}
	return ""
}

func describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tNewline:
		return "newline"
	case tName:
		if keywords[t.text] {
			return fmt.Sprintf("keyword '%s'", t.text)
		}
		return fmt.Sprintf("name '%s'", t.text)
	case tNumber:
		return "number " + t.text
	case tString:
		if len(t.text) > 20 {
			return "string " + t.text[:17] + "..."
		}
		return "string " + t.text
	}
	return fmt.Sprintf("'%s'", t.text)
}

func (p *parser) parseExpr() node {
	p.enter()
	n := p.parseOr()
	if p.isKw("if") {
		t := p.advance()
		c := p.parseOr()
		if !p.isKw("else") {
			p.fail("'else'")
		}
		p.advance()
		n = &condNode{base{t.pos}, c, n, p.parseExpr()}
	}
	p.depth--
	return n
}

func (p *parser) parseOr() node  { return p.parseBool("or", p.parseAnd) }
func (p *parser) parseAnd() node { return p.parseBool("and", p.parseNot) }

func (p *parser) parseBool(kw string, operand func() node) node {
	x := operand()
	if !p.isKw(kw) {
		return x
	}
	n := &boolNode{base: base{x.pos()}, and: kw == "and", xs: []node{x}}
	for p.isKw(kw) {
		p.advance()
		n.xs = append(n.xs, operand())
	}
	return n
}

func (p *parser) parseNot() node {
	if !p.isKw("not") {
		return p.parseComparison()
	}
	t := p.advance()
	p.enter()
	x := p.parseNot()
	p.depth--
	return &notNode{base{t.pos}, x}
}

func (p *parser) parseComparison() node {
	x := p.parseArith()
	var n *cmpNode
	for {
		t, op := p.tok(), p.cmpOp()
		if op == "" {
			break
		}
		p.advance()
		if op == "not in" || op == "is not" {
			p.advance()
		}
		y := p.parseArith()
		if n == nil {
			n = &cmpNode{base: base{x.pos()}, first: x}
		}
		left := n.first
		if len(n.rest) > 0 {
			left = n.rest[len(n.rest)-1]
		}
		if (op == "is" || op == "is not") && !isIdentityConst(left) && !isIdentityConst(y) {
			bail(t.pos, "'%s' is only supported with None, True or False; use == to compare values", op)
		}
		if op == "in" || op == "not in" {
			y = foldList(y)
		}
		n.ops = append(n.ops, op)
		n.rest = append(n.rest, y)
		n.poss = append(n.poss, t.pos)
	}
	if n == nil {
		return x
	}
	return n
}

func (p *parser) cmpOp() string {
	t := p.tok()
	switch {
	case t.kind == tOp:
		switch t.text {
		case "==", "!=", "<", "<=", ">", ">=":
			return t.text
		}
	case t.kind != tName:
	case t.text == "in":
		return "in"
	case t.text == "not" && p.peek(1).kind == tName && p.peek(1).text == "in":
		return "not in"
	case t.text == "is" && p.peek(1).kind == tName && p.peek(1).text == "not":
		return "is not"
	case t.text == "is":
		return "is"
	}
	return ""
}

func isIdentityConst(n node) bool {
	c, ok := n.(*constNode)
	if !ok {
		return false
	}
	_, isBool := c.v.(bool)
	return c.v == nil || isBool
}

// foldList turns a list literal of constants on the right of "in" into a
// constant, so doc.status in ("Open", "Replied") allocates nothing per
// evaluation. Only there: the list cannot escape a comparison, so callers
// can never mutate the shared value.
func foldList(n node) node {
	l, ok := n.(*listNode)
	if !ok {
		return n
	}
	vals := make([]any, len(l.elems))
	for i, e := range l.elems {
		c, ok := e.(*constNode)
		if !ok {
			return n
		}
		vals[i] = c.v
	}
	return &constNode{l.base, vals}
}

func (p *parser) parseArith() node {
	x := p.parseTerm()
	for p.isOp("+") || p.isOp("-") {
		t := p.advance()
		x = &binNode{base{t.pos}, t.text, x, p.parseTerm()}
	}
	return x
}

func (p *parser) parseTerm() node {
	x := p.parseUnary()
	for p.isOp("*") || p.isOp("/") || p.isOp("//") || p.isOp("%") {
		t := p.advance()
		x = &binNode{base{t.pos}, t.text, x, p.parseUnary()}
	}
	return x
}

func (p *parser) parseUnary() node {
	if !p.isOp("-") && !p.isOp("+") {
		return p.parsePower()
	}
	t := p.advance()
	p.enter()
	x := p.parseUnary()
	p.depth--
	if c, ok := x.(*constNode); ok {
		if v, ok := foldSign(t.text, c.v); ok {
			return &constNode{base{t.pos}, v}
		}
	}
	return &signNode{base{t.pos}, t.text == "-", x}
}

// foldSign applies a unary sign to a numeric literal at compile time, so that
// -1 is a constant like 1.
func foldSign(op string, v any) (any, bool) {
	n, ok := toNum(v)
	switch {
	case !ok || !n.isFloat && n.i == minInt:
		return nil, false
	case op == "+" && n.isFloat:
		return n.f, true
	case op == "+":
		return n.i, true
	case n.isFloat:
		return -n.f, true
	}
	return -n.i, true
}

func (p *parser) parsePower() node {
	x := p.parsePrimary()
	if !p.isOp("**") {
		return x
	}
	t := p.advance()
	p.enter()
	y := p.parseUnary()
	p.depth--
	return &binNode{base{t.pos}, "**", x, y}
}

func (p *parser) parsePrimary() node {
	x := p.parseAtom()
	for {
		switch {
		case p.isOp("."):
			p.advance()
			name := p.tok()
			if name.kind != tName || keywords[name.text] {
				p.fail("an attribute name")
			}
			p.advance()
			checkName(name)
			if p.isOp("(") {
				x = p.parseMethod(x, name)
			} else {
				x = &attrNode{base{name.pos}, x, name.text}
			}
		case p.isOp("["):
			x = p.parseSubscript(x)
		case p.isOp("("):
			bail(p.tok().pos, "only helper functions and string or dict methods can be called")
		default:
			return x
		}
	}
}

func (p *parser) parseSubscript(x node) node {
	t := p.advance() // [
	var lo, hi node
	if !p.isOp(":") {
		lo = p.parseExpr()
	}
	if !p.isOp(":") {
		if p.isOp(",") {
			bail(p.tok().pos, "multiple subscripts are not supported")
		}
		p.expectOp("]")
		return &indexNode{base{t.pos}, x, lo}
	}
	p.advance()
	if !p.isOp("]") && !p.isOp(":") {
		hi = p.parseExpr()
	}
	if p.isOp(":") {
		bail(p.tok().pos, "slice steps are not supported")
	}
	p.expectOp("]")
	return &sliceNode{base{t.pos}, x, lo, hi}
}

// checkName refuses double-underscore names anywhere, as Frappe's
// safe_eval does: they are the doorway to Python internals.
func checkName(t token) {
	if strings.Contains(t.text, "__") {
		bail(t.pos, "name %q is not allowed (names containing \"__\" are refused)", t.text)
	}
}
