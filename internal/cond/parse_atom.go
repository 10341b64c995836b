package cond

import (
	"fmt"
	"strings"
)

func (p *parser) parseAtom() node {
	t := p.tok()
	switch t.kind {
	case tNumber:
		p.advance()
		return &constNode{base{t.pos}, t.val}
	case tString:
		p.advance()
		v := t.val.(string)
		if p.tok().kind == tString { // "a" "b" is "ab", as in Python
			var b strings.Builder
			b.WriteString(v)
			for p.tok().kind == tString {
				b.WriteString(p.advance().val.(string))
			}
			v = b.String()
		}
		return &constNode{base{t.pos}, v}
	case tName:
		if !keywords[t.text] || t.text == "True" || t.text == "False" || t.text == "None" {
			return p.parseName()
		}
	case tOp:
		switch t.text {
		case "(":
			return p.parseParen()
		case "[":
			open := p.advance()
			return &listNode{base{open.pos}, p.parseItems("]")}
		case "{":
			return p.parseBrace()
		case "*", "**":
			bail(t.pos, "unpacking is not supported")
		}
	}
	p.fail("an expression")
	return nil
}

func (p *parser) parseName() node {
	t := p.advance()
	switch t.text {
	case "True":
		return &constNode{base{t.pos}, true}
	case "False":
		return &constNode{base{t.pos}, false}
	case "None":
		return &constNode{base{t.pos}, nil}
	case "frappe":
		return p.parseFrappe(t)
	}
	checkName(t)
	b := builtins[t.text]
	switch {
	case p.isOp("(") && b == nil:
		bail(t.pos, "unknown function %q", t.text)
	case p.isOp("("):
		return p.parseCall(t.pos, t.text, b)
	case b != nil:
		bail(t.pos, "function %q must be called", t.text)
	case forbiddenNames[t.text]:
		bail(t.pos, "name %q is not allowed", t.text)
	}
	return &nameNode{base{t.pos}, t.text}
}

// parseFrappe accepts frappe.utils.HELPER(...) for the helpers Frappe
// conditions commonly spell that way, and refuses the rest of the frappe
// namespace (frappe.db, frappe.session, …) by name.
func (p *parser) parseFrappe(t token) node {
	path := "frappe"
	for p.isOp(".") && p.peek(1).kind == tName {
		p.advance()
		name := p.advance()
		checkName(name)
		path += "." + name.text
	}
	name, ok := strings.CutPrefix(path, "frappe.utils.")
	if b := builtins[name]; ok && b != nil && b.frappe && p.isOp("(") {
		return p.parseCall(t.pos, path, b)
	}
	bail(t.pos, "%q is not supported (only frappe.utils.cint, cstr, flt, getdate, nowdate and today)", path)
	return nil
}

func (p *parser) parseCall(pos int, name string, b *builtin) node {
	args := p.parseArgs()
	checkArity(pos, name, len(args), b.min, b.max)
	return &callNode{base{pos}, b, args}
}

func (p *parser) parseMethod(recv node, name token) node {
	m, ok := methods[name.text]
	if !ok {
		bail(name.pos, "unknown method %q", name.text)
	}
	args := p.parseArgs()
	checkArity(name.pos, name.text, len(args), m.min, m.max)
	return &methodNode{base{name.pos}, recv, name.text, args}
}

func (p *parser) parseArgs() []node {
	p.expectOp("(")
	var args []node
	for !p.isOp(")") {
		t := p.tok()
		if t.kind == tOp && (t.text == "*" || t.text == "**") {
			bail(t.pos, "argument unpacking is not supported")
		}
		if t.kind == tName && p.peek(1).kind == tOp && p.peek(1).text == "=" {
			bail(t.pos, "keyword arguments are not supported")
		}
		args = append(args, p.parseExpr())
		if p.isKw("for") {
			p.fail("")
		}
		if !p.isOp(",") {
			break
		}
		p.advance()
	}
	p.expectOp(")")
	return args
}

func checkArity(pos int, name string, n, lo, hi int) {
	if n >= lo && n <= hi {
		return
	}
	want := fmt.Sprintf("%d to %d arguments", lo, hi)
	switch {
	case lo == hi && lo == 1:
		want = "exactly 1 argument"
	case lo == hi:
		want = fmt.Sprintf("exactly %d arguments", lo)
	}
	bail(pos, "%s() takes %s (%d given)", name, want, n)
}

// parseItems parses "a, b, c]" after the opening bracket of a list or set.
func (p *parser) parseItems(closer string) []node {
	var xs []node
	for !p.isOp(closer) {
		xs = append(xs, p.parseExpr())
		if p.isKw("for") {
			p.fail("")
		}
		if !p.isOp(",") {
			break
		}
		p.advance()
	}
	if !p.isOp(closer) {
		p.fail(fmt.Sprintf("',' or '%s'", closer))
	}
	p.advance()
	return xs
}

// parseParen handles grouping, (), (a,) and (a, b): tuples become lists.
func (p *parser) parseParen() node {
	open := p.advance()
	if p.isOp(")") {
		p.advance()
		return &listNode{base{open.pos}, nil}
	}
	first := p.parseExpr()
	if p.isKw("for") {
		p.fail("")
	}
	if p.isOp(")") {
		p.advance()
		return first
	}
	if !p.isOp(",") {
		p.fail("',' or ')'")
	}
	p.advance()
	return &listNode{base{open.pos}, append([]node{first}, p.parseItems(")")...)}
}

// parseBrace handles dict literals, and set literals as lists so that the
// common idiom x in {"a", "b"} works.
func (p *parser) parseBrace() node {
	open := p.advance()
	d := &dictNode{base: base{open.pos}}
	if p.isOp("}") {
		p.advance()
		return d
	}
	k := p.parseExpr()
	if p.isKw("for") {
		p.fail("")
	}
	if !p.isOp(":") {
		elems := []node{k}
		if p.isOp(",") {
			p.advance()
			elems = append(elems, p.parseItems("}")...)
		} else {
			p.expectOp("}")
		}
		return &listNode{base{open.pos}, elems}
	}
	for {
		p.expectOp(":")
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, p.parseExpr())
		if p.isKw("for") {
			p.fail("")
		}
		if !p.isOp(",") {
			break
		}
		p.advance()
		if p.isOp("}") {
			break
		}
		k = p.parseExpr()
	}
	p.expectOp("}")
	return d
}
