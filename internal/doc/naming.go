package doc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"docstream/internal/errs"
)

const hashAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// HashName returns a 10-character lower-case [0-9a-z] name read from rnd.
//
// Frappe v14/v15 builds hash names from a time-based prefix plus 6 random
// characters (naming._get_timestamp_prefix); we use 10 random characters
// (≈51 bits) so that names do not leak creation times and randomness stays
// injectable. Bytes ≥ 252 are rejected so every character is equally likely.
func HashName(rnd io.Reader) (string, error) {
	if rnd == nil {
		return "", errors.New("hash name: no random source")
	}
	out := make([]byte, 0, 10)
	buf := make([]byte, 16)
	for tries := 0; len(out) < 10; tries++ {
		if tries == 16 {
			return "", errors.New("hash name: random source keeps returning rejected bytes")
		}
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return "", fmt.Errorf("hash name: %w", err)
		}
		for _, b := range buf {
			if b < 252 && len(out) < 10 {
				out = append(out, hashAlphabet[b%36])
			}
		}
	}
	return string(out), nil
}

// Series is a parsed naming pattern. Key is the counter key: the rendered
// text before the counter, as Frappe's tabSeries key (so "SINV-.YYYY.-.####"
// counts per year). Digits is the zero-padded width of the counter; it is 0
// only for a format: pattern without a {#} group, whose name needs no counter.
type Series struct {
	Key            string
	Digits         int
	prefix, suffix string
}

// Render formats the final name for counter value n (Frappe pads with
// '%0<digits>d'; a larger n simply gets more digits).
func (s Series) Render(n int64) string {
	if s.Digits == 0 {
		return s.prefix + s.suffix
	}
	return s.prefix + fmt.Sprintf("%0*d", s.Digits, n) + s.suffix
}

// ParseSeries parses a naming-series pattern such as "SINV-.YYYY.-.#####"
// (reference §2.3, Frappe naming.parse_naming_series): parts split on '.',
// date parts YY/YYYY/MM/DD/WW/timestamp from now, "{fieldname}" or a bare
// part naming a non-empty field of d → that value, '#' groups → the counter
// (only the first is used; later ones vanish, as in Frappe), anything else
// literal. A pattern without '#' gets ".#####" appended. Errors are
// InvalidNamingSeriesError (417).
func ParseSeries(pattern string, d Doc, now time.Time) (Series, error) {
	p := strings.TrimSpace(pattern)
	if p == "" {
		return Series{}, errs.Invalid("InvalidNamingSeriesError", "Naming series is empty")
	}
	for _, r := range p {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_- /.#{}", r) {
			return Series{}, errs.Invalid("InvalidNamingSeriesError",
				`Special characters except "-", "#", ".", "/", "{" and "}" not allowed in naming series %q`, pattern)
		}
	}
	if !strings.Contains(p, "#") {
		p += ".#####"
	}
	if !strings.Contains(p, ".") {
		return Series{}, errs.Invalid("InvalidNamingSeriesError", "Invalid naming series %q: dot (.) missing", pattern)
	}
	var b seriesBuilder
	for _, part := range strings.Split(p, ".") {
		switch {
		case part == "":
		case part[0] == '#':
			if strings.Trim(part, "#") != "" {
				return Series{}, errs.Invalid("InvalidNamingSeriesError", "Invalid naming series %q: %q mixes # with other characters", pattern, part)
			}
			b.counter(len(part))
		case part[0] == '{':
			b.text(fieldText(d[strings.NewReplacer("{", "", "}", "").Replace(part)]))
		default:
			b.text(seriesPart(part, d, now))
		}
	}
	return b.series(), nil
}

// ParseFormat parses an autoname "format:INV-{YYYY}-{customer}-{####}":
// text outside braces is literal, and each {word} is evaluated alone as a
// series part (Frappe naming._format_autoname): a date part, a non-empty
// field of d, a '#' group → the counter, otherwise the word itself.
//
// Deliberate difference: Frappe evaluates each braced part on its own, so the
// counter key is "" and every format: pattern of the site shares one counter.
// Key here is the rendered text before the counter, a counter per prefix as
// for naming series (reference §2.2); names stay unique either way. Unclosed
// or stray braces, and braces around anything but letters, digits, _, space,
// | and #, are InvalidNamingSeriesError instead of literal text.
func ParseFormat(pattern string, d Doc, now time.Time) (Series, error) {
	p := strings.TrimPrefix(strings.TrimSpace(pattern), "format:")
	if p == "" {
		return Series{}, errs.Invalid("InvalidNamingSeriesError", "Naming format is empty")
	}
	var b seriesBuilder
	for p != "" {
		open := strings.IndexAny(p, "{}")
		if open < 0 {
			b.text(p)
			break
		}
		if p[open] == '}' {
			return Series{}, errs.Invalid("InvalidNamingSeriesError", "Naming format %q: '}' without '{'", pattern)
		}
		b.text(p[:open])
		end := strings.IndexAny(p[open+1:], "{}")
		if end < 0 || p[open+1+end] != '}' {
			return Series{}, errs.Invalid("InvalidNamingSeriesError", "Naming format %q: '{' is not closed", pattern)
		}
		word := p[open+1 : open+1+end]
		if word == "" || strings.IndexFunc(word, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_ |#", r)
		}) >= 0 {
			return Series{}, errs.Invalid("InvalidNamingSeriesError", "Naming format %q: {%s} is not a field, date part or counter", pattern, word)
		}
		if word[0] == '#' {
			if strings.Trim(word, "#") != "" {
				return Series{}, errs.Invalid("InvalidNamingSeriesError", "Naming format %q: {%s} mixes # with other characters", pattern, word)
			}
			b.counter(len(word))
		} else {
			b.text(seriesPart(word, d, now))
		}
		p = p[open+1+end+1:]
	}
	return b.series(), nil
}

// seriesBuilder collects rendered text before and after the counter.
type seriesBuilder struct {
	prefix, suffix strings.Builder
	digits         int
}

func (b *seriesBuilder) text(s string) {
	if b.digits > 0 {
		b.suffix.WriteString(s)
	} else {
		b.prefix.WriteString(s)
	}
}

// counter records the first '#' group; Frappe drops later ones.
func (b *seriesBuilder) counter(digits int) {
	if b.digits == 0 {
		b.digits = digits
	}
}

func (b *seriesBuilder) series() Series {
	return Series{Key: b.prefix.String(), Digits: b.digits, prefix: b.prefix.String(), suffix: b.suffix.String()}
}

// seriesPart evaluates one bare part: a date part, a field of d with a
// truthy value (Frappe tests doc.get(part)), or literal text.
func seriesPart(part string, d Doc, now time.Time) string {
	switch part {
	case "YY":
		return now.Format("06")
	case "YYYY":
		return now.Format("2006")
	case "MM":
		return now.Format("01")
	case "DD":
		return now.Format("02")
	case "WW":
		return consecutiveWeek(now)
	case "timestamp":
		// Python's str(datetime): microseconds only when non-zero.
		s := now.Format("2006-01-02 15:04:05")
		if us := now.Nanosecond() / 1000; us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
		return s
	}
	if v := d[part]; pyTruthy(v) {
		return fieldText(v)
	}
	return part
}

// pyTruthy is Python truthiness for Doc values: nil, "" and 0 are false.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	}
	return true
}

// consecutiveWeek is Frappe's determine_consecutive_week_number: the ISO
// week, except that early-January days in week 52/53 give "00" and
// late-December days in week 1 give "53", so numbers never go backwards
// within a year.
func consecutiveWeek(t time.Time) string {
	_, w := t.ISOWeek()
	switch {
	case t.Month() == time.January && w >= 52:
		w = 0
	case t.Month() == time.December && w <= 1:
		w = 53
	}
	return fmt.Sprintf("%02d", w)
}

// fieldText renders a field value inside a name. Frappe silently drops
// non-string values (only str parts are concatenated); we render numbers.
func fieldText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	}
	return ""
}

// ValidateName applies Frappe's naming.validate_name to a name about to be
// given to a new document of doctype, and returns the trimmed name. An empty
// name is a ValidationError (417) "Please set the document name"; the other
// failures are NameError, 409 in Frappe. Single DocTypes, whose name is the
// DocType name, must not be passed here.
func ValidateName(doctype, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errs.Validation("Please set the document name")
	}
	if strings.HasPrefix(name, "New "+doctype) {
		return "", errs.New(errs.KindConflict, "NameError", "There were some errors setting the name, please contact the administrator")
	}
	if strings.ContainsRune(name, 0) || len(name) > 1000 {
		return "", errs.New(errs.KindConflict, "NameError", "Name cannot contain a NUL character or be longer than 1000 bytes")
	}
	if strings.ContainsAny(name, "<>") {
		return "", errs.New(errs.KindConflict, "NameError", "Name cannot contain special characters like '<', '>'")
	}
	if name == doctype && doctype != "DocType" {
		return "", errs.New(errs.KindConflict, "NameError", "Name of %s cannot be %s", doctype, name)
	}
	return name, nil
}

// An Event Update Log is named after its seq: "EUL-" and the seq in at least ten digits. The store keeps the log clustered by seq with no index on name
// (each index cost every logged change a b-tree insert and a WAL page), and
// finds a log by such a name through its seq. Hash names (Frappe's, and this
// project's before) never contain '-', so the two cannot be confused.
const updateLogPrefix = "EUL-"

// UpdateLogName is the name of the update log numbered seq.
func UpdateLogName(seq int64) string {
	// Written by hand: it is in the path of every logged write, where
	// fmt.Sprintf cost a microsecond.
	var buf [32]byte
	b := append(buf[:0], updateLogPrefix...)
	if seq < 0 {
		return fmt.Sprintf("%s%010d", updateLogPrefix, seq)
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], seq, 10)
	for range 10 - len(d) {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// UpdateLogSeq is the seq an update log name stands for; ok is false for a
// name UpdateLogName does not return (a hash name, a non-canonical number).
func UpdateLogSeq(name string) (seq int64, ok bool) {
	digits, found := strings.CutPrefix(name, updateLogPrefix)
	if !found || len(digits) < 10 || digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	seq, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || seq <= 0 || UpdateLogName(seq) != name {
		return 0, false
	}
	return seq, true
}

// SortableNameEpoch is when SortableName's clock starts (2020-01-01 UTC, in
// Unix milliseconds); its eight digits last until about 2109.
const SortableNameEpoch = 1577836800000

// SortableName is a 10-character [0-9a-z] name, like HashName's, made of ms
// (milliseconds since SortableNameEpoch, eight base-36 digits) and n (two
// digits, 0 to 1295): names sort as (ms, n) do, so that rows named in the
// order they are written go to the end of the name index instead of all
// over it. The caller keeps them unique.
func SortableName(ms int64, n int) string {
	var b [10]byte
	v := uint64(ms)*36*36 + uint64(n)
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hashAlphabet[v%36]
		v /= 36
	}
	return string(b[:])
}
