package cond

import (
	"math"
	"strings"
)

// arith applies a binary arithmetic operator with Python semantics: bools
// are ints, int op float is float, / is always true division, // and %
// floor towards negative infinity.
func (s *state) arith(op string, a, b any) (any, error) {
	x, aNum := toNum(a)
	y, bNum := toNum(b)
	if aNum && bNum {
		if !x.isFloat && !y.isFloat {
			return intOp(op, x.i, y.i)
		}
		return floatOp(op, x.float(), y.float())
	}
	switch {
	case op == "+":
		return s.concat(a, b)
	case op == "*" && aNum && !x.isFloat && isSequence(b):
		return s.repeat(b, x.i)
	case op == "*" && bNum && !y.isFloat && isSequence(a):
		return s.repeat(a, y.i)
	case op == "%":
		if _, ok := a.(string); ok {
			return nil, errorf("TypeError: string formatting with %% is not supported")
		}
	}
	return nil, errorf("TypeError: unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(a), typeName(b))
}

func intOp(op string, a, b int64) (any, error) {
	switch op {
	case "+":
		c := a + b
		if (c > a) != (b > 0) {
			return nil, overflow()
		}
		return c, nil
	case "-":
		c := a - b
		if (c < a) != (b > 0) {
			return nil, overflow()
		}
		return c, nil
	case "*":
		c, ok := mulInt(a, b)
		if !ok {
			return nil, overflow()
		}
		return c, nil
	case "/":
		if b == 0 {
			return nil, errorf("ZeroDivisionError: division by zero")
		}
		return float64(a) / float64(b), nil
	case "//", "%":
		if b == 0 {
			return nil, errorf("ZeroDivisionError: integer division or modulo by zero")
		}
		if a == minInt && b == -1 {
			if op == "%" {
				return int64(0), nil
			}
			return nil, overflow()
		}
		q, r := a/b, a%b
		if r != 0 && (r < 0) != (b < 0) {
			q, r = q-1, r+b
		}
		if op == "//" {
			return q, nil
		}
		return r, nil
	case "**":
		return intPow(a, b)
	}
	return nil, errorf("TypeError: unsupported operator %s", op)
}

func overflow() error { return errorf("OverflowError: integer result does not fit in 64 bits") }

// mulInt multiplies with overflow detection.
func mulInt(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if (a == -1 && b == minInt) || (b == -1 && a == minInt) {
		return 0, false
	}
	c := a * b
	return c, c/b == a
}

func intPow(a, b int64) (any, error) {
	if b < 0 {
		if a == 0 {
			return nil, errorf("ZeroDivisionError: 0 cannot be raised to a negative power")
		}
		return math.Pow(float64(a), float64(b)), nil
	}
	switch a {
	case 0, 1:
		if b == 0 {
			return int64(1), nil
		}
		return a, nil
	case -1:
		if b%2 == 0 {
			return int64(1), nil
		}
		return int64(-1), nil
	}
	result, base := int64(1), a
	for ok := true; b > 0; b >>= 1 {
		if b&1 == 1 {
			if result, ok = mulInt(result, base); !ok {
				return nil, overflow()
			}
		}
		if b > 1 {
			if base, ok = mulInt(base, base); !ok {
				return nil, overflow()
			}
		}
	}
	return result, nil
}

func floatOp(op string, a, b float64) (any, error) {
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		if b == 0 {
			return nil, errorf("ZeroDivisionError: float division by zero")
		}
		return a / b, nil
	case "//":
		if b == 0 {
			return nil, errorf("ZeroDivisionError: float floor division by zero")
		}
		return math.Floor(a / b), nil
	case "%":
		if b == 0 {
			return nil, errorf("ZeroDivisionError: float modulo")
		}
		r := math.Mod(a, b)
		if r != 0 && (r < 0) != (b < 0) {
			r += b
		}
		return r, nil
	case "**":
		switch {
		case a == 0 && b < 0:
			return nil, errorf("ZeroDivisionError: 0.0 cannot be raised to a negative power")
		case a < 0 && b != math.Trunc(b) && !math.IsInf(b, 0):
			return nil, errorf("ValueError: negative number cannot be raised to a fractional power")
		}
		r := math.Pow(a, b)
		if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
			return nil, errorf("OverflowError: numerical result out of range")
		}
		return r, nil
	}
	return nil, errorf("TypeError: unsupported operator %s", op)
}

func sign(neg bool, v any) (any, error) {
	n, ok := toNum(v)
	switch {
	case !ok:
		op := "+"
		if neg {
			op = "-"
		}
		return nil, errorf("TypeError: bad operand type for unary %s: '%s'", op, typeName(v))
	case n.isFloat && neg:
		return -n.f, nil
	case n.isFloat:
		return n.f, nil
	case neg && n.i == minInt:
		return nil, overflow()
	case neg:
		return -n.i, nil
	}
	return n.i, nil
}

func isSequence(v any) bool {
	if _, ok := v.(string); ok {
		return true
	}
	_, ok := asSeq(v)
	return ok
}

// concat is + on strings and lists. The result size is checked before it is
// built.
func (s *state) concat(a, b any) (any, error) {
	if x, ok := a.(string); ok {
		y, ok := b.(string)
		if !ok {
			return nil, errorf("TypeError: can only concatenate str (not \"%s\") to str", typeName(b))
		}
		if err := s.alloc(len(x) + len(y)); err != nil {
			return nil, err
		}
		return x + y, nil
	}
	qa, ok1 := asSeq(a)
	qb, ok2 := asSeq(b)
	if !ok1 || !ok2 {
		if ok1 {
			return nil, errorf("TypeError: can only concatenate list (not \"%s\") to list", typeName(b))
		}
		return nil, errorf("TypeError: unsupported operand type(s) for +: '%s' and '%s'", typeName(a), typeName(b))
	}
	if err := s.alloc(8 * (qa.n + qb.n)); err != nil {
		return nil, err
	}
	out := make([]any, 0, qa.n+qb.n)
	for i := 0; i < qa.n; i++ {
		out = append(out, qa.at(i))
	}
	for i := 0; i < qb.n; i++ {
		out = append(out, qb.at(i))
	}
	return out, nil
}

// repeat is sequence * int. The size is checked before anything is built,
// which is what makes "a" * 100000000 a cheap error.
func (s *state) repeat(v any, n int64) (any, error) {
	if x, ok := v.(string); ok {
		if n <= 0 || x == "" {
			return "", nil
		}
		if n > int64(MaxValueSize/len(x)) {
			return nil, tooLarge("string", sizeProduct(len(x), n))
		}
		if err := s.alloc(len(x) * int(n)); err != nil {
			return nil, err
		}
		return strings.Repeat(x, int(n)), nil
	}
	q, _ := asSeq(v)
	if n <= 0 || q.n == 0 {
		return []any{}, nil
	}
	if n > int64(MaxValueSize/(8*q.n)) {
		return nil, tooLarge("list", sizeProduct(8*q.n, n))
	}
	if err := s.alloc(8 * q.n * int(n)); err != nil {
		return nil, err
	}
	out := make([]any, 0, q.n*int(n))
	for range n {
		for i := 0; i < q.n; i++ {
			out = append(out, q.at(i))
		}
	}
	return out, nil
}

// sizeProduct is a*b for an error message, saturated instead of overflowing.
func sizeProduct(a int, b int64) int {
	if b > int64(math.MaxInt/max(a, 1)) {
		return math.MaxInt
	}
	return a * int(b)
}
