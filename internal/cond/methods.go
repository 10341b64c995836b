package cond

import (
	"strings"
	"unicode"
)

// methods are the only methods an expression can call, with their arity.
// The receiver type is checked at run time, as in Python.
var methods = map[string]struct{ min, max int }{
	"get":        {1, 2},
	"startswith": {1, 1},
	"endswith":   {1, 1},
	"lower":      {0, 0},
	"upper":      {0, 0},
	"strip":      {0, 1},
	"lstrip":     {0, 1},
	"rstrip":     {0, 1},
}

func (s *state) callMethod(recv any, name string, args []any) (any, error) {
	if name == "get" {
		d, ok := asMap(recv)
		if !ok {
			return nil, errorf("AttributeError: '%s' object has no attribute 'get'", typeName(recv))
		}
		var def any
		if len(args) > 1 {
			def = args[1]
		}
		if k, ok := args[0].(string); ok {
			if v, found := d.get(k); found {
				return v, nil
			}
		}
		return def, nil
	}
	str, ok := recv.(string)
	if !ok {
		return nil, errorf("AttributeError: '%s' object has no attribute '%s'", typeName(recv), name)
	}
	if err := s.charge(len(str) >> 6); err != nil {
		return nil, err
	}
	switch name {
	case "startswith", "endswith":
		return s.affix(name, str, args[0])
	case "lower", "upper":
		if err := s.alloc(len(str)); err != nil {
			return nil, err
		}
		if name == "lower" {
			return strings.ToLower(str), nil
		}
		return strings.ToUpper(str), nil
	}
	return strip(name, str, args)
}

// affix implements startswith and endswith, which accept a string or a
// tuple of strings.
func (s *state) affix(name, str string, arg any) (any, error) {
	test := strings.HasPrefix
	if name == "endswith" {
		test = strings.HasSuffix
	}
	if x, ok := arg.(string); ok {
		return test(str, x), nil
	}
	q, ok := asSeq(arg)
	if !ok {
		return nil, errorf("TypeError: %s first arg must be str or a tuple of str, not %s", name, typeName(arg))
	}
	for i := 0; i < q.n; i++ {
		if err := s.charge(1); err != nil {
			return nil, err
		}
		x, ok := q.at(i).(string)
		if !ok {
			return nil, errorf("TypeError: tuple for %s must only contain str, not %s", name, typeName(q.at(i)))
		}
		if test(str, x) {
			return true, nil
		}
	}
	return false, nil
}

func strip(name, str string, args []any) (any, error) {
	if len(args) == 0 || args[0] == nil {
		switch name {
		case "lstrip":
			return strings.TrimLeftFunc(str, unicode.IsSpace), nil
		case "rstrip":
			return strings.TrimRightFunc(str, unicode.IsSpace), nil
		}
		return strings.TrimFunc(str, unicode.IsSpace), nil
	}
	chars, ok := args[0].(string)
	if !ok {
		return nil, errorf("TypeError: %s arg must be None or str", name)
	}
	switch name {
	case "lstrip":
		return strings.TrimLeft(str, chars), nil
	case "rstrip":
		return strings.TrimRight(str, chars), nil
	}
	return strings.Trim(str, chars), nil
}
