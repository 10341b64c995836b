package cond

// node is one syntax tree node. The tree has no loops or function
// definitions, so evaluation visits each node at most once: the cost of an
// evaluation is the size of the tree plus what its operations do, and the
// operations meter themselves (state.charge, state.alloc).
type node interface {
	eval(s *state) (any, error)
	pos() int     // byte offset, for error positions
	kids() []node // children, for the depth check in Compile
}

type base struct{ p int }

func (b base) pos() int { return b.p }

type (
	constNode struct {
		base
		v any
	}
	nameNode struct {
		base
		name string
	}
	attrNode struct {
		base
		x    node
		name string
	}
	indexNode struct {
		base
		x, idx node
	}
	sliceNode struct {
		base
		x, lo, hi node // lo and hi may be nil
	}
	listNode struct {
		base
		elems []node
	}
	dictNode struct {
		base
		keys, vals []node
	}
	notNode struct {
		base
		x node
	}
	signNode struct {
		base
		neg bool
		x   node
	}
	binNode struct {
		base
		op   string
		l, r node
	}
	boolNode struct {
		base
		and bool
		xs  []node
	}
	cmpNode struct {
		base
		first node
		ops   []string
		rest  []node
		poss  []int // operator positions
	}
	condNode struct {
		base
		cond, then, els node
	}
	callNode struct {
		base
		fn   *builtin
		args []node
	}
	methodNode struct {
		base
		x    node
		name string
		args []node
	}
)

func (n *constNode) kids() []node  { return nil }
func (n *nameNode) kids() []node   { return nil }
func (n *attrNode) kids() []node   { return []node{n.x} }
func (n *indexNode) kids() []node  { return []node{n.x, n.idx} }
func (n *sliceNode) kids() []node  { return []node{n.x, n.lo, n.hi} }
func (n *listNode) kids() []node   { return n.elems }
func (n *dictNode) kids() []node   { return append(append([]node{}, n.keys...), n.vals...) }
func (n *notNode) kids() []node    { return []node{n.x} }
func (n *signNode) kids() []node   { return []node{n.x} }
func (n *binNode) kids() []node    { return []node{n.l, n.r} }
func (n *boolNode) kids() []node   { return n.xs }
func (n *cmpNode) kids() []node    { return append([]node{n.first}, n.rest...) }
func (n *condNode) kids() []node   { return []node{n.cond, n.then, n.els} }
func (n *callNode) kids() []node   { return n.args }
func (n *methodNode) kids() []node { return append([]node{n.x}, n.args...) }

// tooDeep reports whether the tree is deeper than budget. Its own recursion
// stops at budget, so it is safe on any tree.
func tooDeep(n node, budget int) bool {
	if n == nil {
		return false
	}
	if budget == 0 {
		return true
	}
	for _, k := range n.kids() {
		if tooDeep(k, budget-1) {
			return true
		}
	}
	return false
}

func (n *constNode) eval(*state) (any, error) { return n.v, nil }

func (n *nameNode) eval(s *state) (any, error) {
	v, ok := s.env[n.name]
	if !ok {
		return nil, s.at(n.p, errorf("NameError: name '%s' is not defined", n.name))
	}
	return norm(v), nil
}

func (n *attrNode) eval(s *state) (any, error) {
	x, err := n.x.eval(s)
	if err != nil {
		return nil, err
	}
	d, ok := asMap(x)
	if !ok {
		return nil, s.at(n.p, errorf("AttributeError: '%s' object has no attribute '%s'", typeName(x), n.name))
	}
	v, _ := d.get(n.name)
	return v, nil
}

func (n *indexNode) eval(s *state) (any, error) {
	x, err := n.x.eval(s)
	if err != nil {
		return nil, err
	}
	k, err := n.idx.eval(s)
	if err != nil {
		return nil, err
	}
	v, err := s.index(x, k)
	return v, s.at(n.p, err)
}

func (n *sliceNode) eval(s *state) (any, error) {
	vals, err := s.evalAll([]node{n.x, n.lo, n.hi})
	if err != nil {
		return nil, err
	}
	v, err := s.slice(vals[0], vals[1], vals[2])
	return v, s.at(n.p, err)
}

func (n *listNode) eval(s *state) (any, error) {
	if err := s.alloc(8 * len(n.elems)); err != nil {
		return nil, s.at(n.p, err)
	}
	return s.evalAll(n.elems)
}

func (n *dictNode) eval(s *state) (any, error) {
	if err := s.alloc(48 * len(n.keys)); err != nil {
		return nil, s.at(n.p, err)
	}
	m := make(map[string]any, len(n.keys))
	for i, kn := range n.keys {
		k, err := kn.eval(s)
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, s.at(kn.pos(), errorf("TypeError: dict keys must be strings here, not '%s'", typeName(k)))
		}
		if m[key], err = n.vals[i].eval(s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (n *notNode) eval(s *state) (any, error) {
	x, err := n.x.eval(s)
	if err != nil {
		return nil, err
	}
	return !Truthy(x), nil
}

func (n *signNode) eval(s *state) (any, error) {
	x, err := n.x.eval(s)
	if err != nil {
		return nil, err
	}
	v, err := sign(n.neg, x)
	return v, s.at(n.p, err)
}

func (n *binNode) eval(s *state) (any, error) {
	l, err := n.l.eval(s)
	if err != nil {
		return nil, err
	}
	r, err := n.r.eval(s)
	if err != nil {
		return nil, err
	}
	v, err := s.arith(n.op, l, r)
	return v, s.at(n.p, err)
}

// eval returns the deciding operand, not a bool, as Python does:
// doc.a or "default" is doc.a when that is truthy.
func (n *boolNode) eval(s *state) (any, error) {
	var v any
	for _, x := range n.xs {
		var err error
		if v, err = x.eval(s); err != nil {
			return nil, err
		}
		if Truthy(v) != n.and {
			return v, nil
		}
	}
	return v, nil
}

// eval evaluates a chain a < b < c as a < b and b < c, each operand once.
func (n *cmpNode) eval(s *state) (any, error) {
	left, err := n.first.eval(s)
	if err != nil {
		return nil, err
	}
	for i, op := range n.ops {
		right, err := n.rest[i].eval(s)
		if err != nil {
			return nil, err
		}
		ok, err := s.compare(op, left, right)
		if err != nil {
			return nil, s.at(n.poss[i], err)
		}
		if !ok {
			return false, nil
		}
		left = right
	}
	return true, nil
}

func (n *condNode) eval(s *state) (any, error) {
	c, err := n.cond.eval(s)
	if err != nil {
		return nil, err
	}
	if Truthy(c) {
		return n.then.eval(s)
	}
	return n.els.eval(s)
}

func (n *callNode) eval(s *state) (any, error) {
	args, err := s.evalArgs(n.p, n.args)
	if err != nil {
		return nil, err
	}
	v, err := n.fn.fn(s, args)
	return v, s.at(n.p, err)
}

func (n *methodNode) eval(s *state) (any, error) {
	x, err := n.x.eval(s)
	if err != nil {
		return nil, err
	}
	args, err := s.evalArgs(n.p, n.args)
	if err != nil {
		return nil, err
	}
	v, err := s.callMethod(x, n.name, args)
	return v, s.at(n.p, err)
}

// evalAll evaluates nodes left to right; a nil node yields None.
func (s *state) evalAll(ns []node) ([]any, error) {
	vals := make([]any, len(ns))
	for i, n := range ns {
		if n == nil {
			continue
		}
		v, err := n.eval(s)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// evalArgs evaluates call arguments and charges for string arguments:
// helpers parse, trim or copy them, and a document string can be large.
func (s *state) evalArgs(pos int, ns []node) ([]any, error) {
	args, err := s.evalAll(ns)
	if err != nil {
		return nil, err
	}
	for _, a := range args {
		if str, ok := a.(string); ok {
			if err := s.charge(len(str) >> 6); err != nil {
				return nil, s.at(pos, err)
			}
		}
	}
	return args, nil
}
