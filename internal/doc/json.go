package doc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// FromJSON decodes a JSON object into a Doc, keeping numbers exact until
// coercion (json.Number) and turning arrays of objects into []Doc. A JSON
// null is an empty Doc.
//
// It reads tokens with jsontext and builds the result in one pass: the
// encoding/json decoder plus the conversion to Doc took a quarter of a
// replicated insert (bodies of the REST API, payloads of pulled events).
// The result is exactly what encoding/json with UseNumber and FromAny give
// (TestFromJSONMatchesEncodingJSON): duplicate keys keep the last value,
// invalid UTF-8 becomes U+FFFD, data after the object is ignored.
func FromJSON(b []byte) (Doc, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, jsonError(err)
	}
	switch tok.Kind() {
	case 'n':
		return Doc{}, nil
	case '{':
		m, err := readObject(dec)
		if err != nil {
			return nil, jsonError(err)
		}
		return ownDoc(m), nil
	}
	return nil, fmt.Errorf("json: cannot unmarshal %s into a document", kindName(tok.Kind()))
}

// ownDoc converts freshly decoded JSON to a Doc in place, as FromAny does by
// copying.
func ownDoc(m map[string]any) Doc {
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			m[k] = ownDoc(x)
		case []any:
			m[k] = ownList(x)
		}
	}
	return Doc(m)
}

// ownList turns a list of objects into rows; other lists stay as decoded.
func ownList(x []any) any {
	if len(x) == 0 {
		return x
	}
	for _, e := range x {
		if _, ok := e.(map[string]any); !ok {
			return x
		}
	}
	rows := make([]Doc, len(x))
	for i, e := range x {
		rows[i] = ownDoc(e.(map[string]any))
	}
	return rows
}

// readObject reads the members of an object whose '{' was read, as
// encoding/json would decode them into any.
func readObject(dec *jsontext.Decoder) (map[string]any, error) {
	m := map[string]any{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		k := tok.String() // before the next read voids tok
		v, err := readValue(dec)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	_, err := dec.ReadToken()
	return m, err
}

func readValue(dec *jsontext.Decoder) (any, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return nil, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case '{':
		return readObject(dec)
	case '[':
		list := []any{}
		for dec.PeekKind() != ']' {
			v, err := readValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.ReadToken()
		return list, err
	}
	return nil, fmt.Errorf("unexpected %v", tok.Kind())
}

// jsonError words a syntax error for an API user.
func jsonError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON input")
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %v", se.ByteOffset, se.Err)
	}
	return err
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case '[':
		return "an array"
	}
	return "a value"
}
