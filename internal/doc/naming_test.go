package doc

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"docstream/internal/errs"
)

func TestHashName(t *testing.T) {
	valid := regexp.MustCompile(`^[0-9a-z]{10}$`)
	tests := []struct {
		name    string
		rnd     []byte
		want    string
		wantErr bool
	}{
		{name: "maps bytes mod 36", rnd: []byte{0, 1, 2, 9, 10, 35, 36, 71, 251, 100, 0, 0, 0, 0, 0, 0}, want: "0129az0zzs"},
		{name: "rejects bytes >= 252", rnd: append(bytes.Repeat([]byte{255}, 15), append([]byte{1}, bytes.Repeat([]byte{2}, 16)...)...), want: "1222222222"},
		{name: "short source", rnd: []byte{1, 2, 3}, wantErr: true},
		{name: "never-accepted source", rnd: bytes.Repeat([]byte{252}, 16*17), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HashName(bytes.NewReader(tt.rnd))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && (got != tt.want || !valid.MatchString(got)) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("seeded source gives distinct valid names", func(t *testing.T) {
		rnd := rand.NewChaCha8([32]byte{1})
		seen := map[string]bool{}
		for range 1000 {
			n, err := HashName(rnd)
			if err != nil || !valid.MatchString(n) || seen[n] {
				t.Fatalf("HashName = %q, %v (seen before: %v)", n, err, seen[n])
			}
			seen[n] = true
		}
	})
	if _, err := HashName(nil); err == nil {
		t.Error("HashName(nil) gave no error")
	}
}

var namingNow = time.Date(2025, 3, 7, 9, 12, 33, 123456000, time.UTC)

func TestParseSeries(t *testing.T) {
	d := Doc{"company": "ACME", "branch": "", "qty": int64(0), "code": int64(42), "status": "no"}
	tests := []struct {
		name    string
		pattern string
		now     time.Time
		wantKey string
		digits  int
		want7   string // Render(7)
	}{
		{name: "reference example", pattern: "SINV-.YYYY.-.#####", wantKey: "SINV-2025-", digits: 5, want7: "SINV-2025-00007"},
		{name: "no hash appends .#####", pattern: "PRE-", wantKey: "PRE-", digits: 5, want7: "PRE-00007"},
		{name: "date parts", pattern: "X.YY.MM.DD.-.##", wantKey: "X250307-", digits: 2, want7: "X250307-07"},
		{name: "only the first hash group", pattern: "A.###.-.##.B", wantKey: "A", digits: 3, want7: "A007-B"},
		{name: "braced field", pattern: "{company}.-.####", wantKey: "ACME-", digits: 4, want7: "ACME-0007"},
		{name: "braced empty or missing field is dropped", pattern: "X.{branch}.{nosuch}.-.#", wantKey: "X-", digits: 1, want7: "X-7"},
		{name: "bare field with a value", pattern: "company.-.##", wantKey: "ACME-", digits: 2, want7: "ACME-07"},
		{name: "bare part naming a falsy field is literal", pattern: "qty.branch.status.##", wantKey: "qtybranchno", digits: 2, want7: "qtybranchno07"},
		{name: "numeric field", pattern: "{code}.-.##", wantKey: "42-", digits: 2, want7: "42-07"},
		{name: "suffix after counter", pattern: "INV-.####.-.YY", wantKey: "INV-", digits: 4, want7: "INV-0007-25"},
		{name: "counter first", pattern: ".###./X", wantKey: "", digits: 3, want7: "007/X"},
		{name: "week in early January", pattern: "W.WW.-.#", now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), wantKey: "W00-", digits: 1, want7: "W00-7"},
		{name: "week in late December", pattern: "W.WW.-.#", now: time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), wantKey: "W53-", digits: 1, want7: "W53-7"},
		{name: "timestamp", pattern: "T.timestamp.#", wantKey: "T2025-03-07 09:12:33.123456", digits: 1, want7: "T2025-03-07 09:12:33.1234567"},
		{name: "unicode letters and spaces", pattern: " Fäktura 1/.#### ", wantKey: "Fäktura 1/", digits: 4, want7: "Fäktura 1/0007"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = namingNow
			}
			s, err := ParseSeries(tt.pattern, d, now)
			if err != nil {
				t.Fatal(err)
			}
			if s.Key != tt.wantKey || s.Digits != tt.digits || s.Render(7) != tt.want7 {
				t.Errorf("got key %q digits %d render %q; want %q %d %q", s.Key, s.Digits, s.Render(7), tt.wantKey, tt.digits, tt.want7)
			}
		})
	}
}

func TestParseSeriesErrors(t *testing.T) {
	tests := []struct{ name, pattern, wantMsg string }{
		{"empty", "  ", "empty"},
		{"special character", "INV-<.###", "Special characters"},
		{"colon", "INV:.###", "Special characters"},
		{"no dot", "INV-#####", "dot (.) missing"},
		{"mixed hash", "INV.#A", "mixes #"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSeries(tt.pattern, nil, namingNow)
			e := wantErr(t, err, errs.KindValidation, "InvalidNamingSeriesError")
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantMsg)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	d := Doc{"customer": "Globex", "empty": ""}
	tests := []struct {
		name, pattern, wantKey string
		digits                 int
		want7                  string
	}{
		{name: "reference example", pattern: "format:INV-{YYYY}-{customer}-{####}", wantKey: "INV-2025-Globex-", digits: 4, want7: "INV-2025-Globex-0007"},
		{name: "without prefix and with suffix", pattern: "{MM}/{###}/{DD}", wantKey: "03/", digits: 3, want7: "03/007/07"},
		{name: "dots are literal", pattern: "format:A.{##}.B", wantKey: "A.", digits: 2, want7: "A.07.B"},
		{name: "unknown or empty word is literal", pattern: "format:{nosuch}-{empty}-{#}", wantKey: "nosuch-empty-", digits: 1, want7: "nosuch-empty-7"},
		{name: "no counter", pattern: "format:C-{customer}", wantKey: "C-Globex", digits: 0, want7: "C-Globex"},
		{name: "second counter vanishes", pattern: "format:{##}-{###}", wantKey: "", digits: 2, want7: "07-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseFormat(tt.pattern, d, namingNow)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{s.Key, s.Digits, s.Render(7)}
			if diff := cmp.Diff([]any{tt.wantKey, tt.digits, tt.want7}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"format:", "format:A-{YYYY", "format:A}-{#}", "format:{a{b}}", "format:{}", "format:{a-b}", "format:{#a}"} {
		t.Run("error "+bad, func(t *testing.T) {
			_, err := ParseFormat(bad, d, namingNow)
			wantErr(t, err, errs.KindValidation, "InvalidNamingSeriesError")
		})
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name, doctype, in, want string
		kind                    errs.Kind
		exc                     string
	}{
		{name: "trimmed", doctype: "ToDo", in: "  abc ", want: "abc"},
		{name: "empty", doctype: "ToDo", in: " \t", kind: errs.KindValidation, exc: "ValidationError"},
		{name: "angle brackets", doctype: "ToDo", in: "a<b", kind: errs.KindConflict, exc: "NameError"},
		{name: "doctype name", doctype: "ToDo", in: "ToDo", kind: errs.KindConflict, exc: "NameError"},
		{name: "DocType may be named DocType", doctype: "DocType", in: "DocType", want: "DocType"},
		{name: "New doctype prefix", doctype: "ToDo", in: "New ToDo 1", kind: errs.KindConflict, exc: "NameError"},
		{name: "other New prefix is fine", doctype: "ToDo", in: "New Note", want: "New Note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateName(tt.doctype, tt.in)
			if tt.exc != "" {
				wantErr(t, err, tt.kind, tt.exc)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzParseSeries(f *testing.F) {
	for _, s := range []string{"SINV-.YYYY.-.#####", "PRE-", "{company}.-.##", "A.###.-.##.B", "format:INV-{YYYY}-{customer}-{####}", "{", "}", "...", "#"} {
		f.Add(s)
	}
	d := Doc{"company": "ACME", "customer": int64(3)}
	f.Fuzz(func(t *testing.T, pattern string) {
		for _, parse := range []func(string, Doc, time.Time) (Series, error){ParseSeries, ParseFormat} {
			s, err := parse(pattern, d, namingNow)
			if err != nil {
				if _, ok := errs.As(err); !ok {
					t.Fatalf("error %v is not an *errs.Error", err)
				}
				continue
			}
			if s.Digits > 0 && !strings.HasPrefix(s.Render(1), s.Key) {
				t.Fatalf("Render(1) = %q does not start with key %q", s.Render(1), s.Key)
			}
		}
	})
}

func TestUpdateLogName(t *testing.T) {
	for _, seq := range []int64{1, 42, 9_999_999_999, 10_000_000_000, math.MaxInt64} {
		name := UpdateLogName(seq)
		if got, ok := UpdateLogSeq(name); !ok || got != seq {
			t.Errorf("UpdateLogSeq(%q) = %d, %v, want %d", name, got, ok, seq)
		}
	}
	if got := UpdateLogName(42); got != "EUL-0000000042" {
		t.Errorf("UpdateLogName(42) = %q", got)
	}
	// Written by hand for speed; the format it stands for is this one.
	for _, seq := range []int64{0, 1, 9, 10, 123456789, 1234567890, 12345678901, -1, -42, math.MaxInt64, math.MinInt64} {
		if got, want := UpdateLogName(seq), fmt.Sprintf("EUL-%010d", seq); got != want {
			t.Errorf("UpdateLogName(%d) = %q, want %q", seq, got, want)
		}
	}
	// Anything UpdateLogName does not return stands for no seq: the store
	// would otherwise look a row up by a seq it does not have.
	for _, name := range []string{"", "EUL-", "EUL-42", "EUL-00000000042", "EUL-0000000000", "EUL-+000000042",
		"EUL--000000042", "EUL-000000004a", "eul-0000000042", "0000000042", "a1b2c3d4e5", "EUL-99999999999999999999"} {
		if seq, ok := UpdateLogSeq(name); ok {
			t.Errorf("UpdateLogSeq(%q) = %d, want none", name, seq)
		}
	}
}

func FuzzUpdateLogSeq(f *testing.F) {
	f.Add("EUL-0000000042")
	f.Add("a1b2c3d4e5")
	f.Fuzz(func(t *testing.T, name string) {
		if seq, ok := UpdateLogSeq(name); ok && UpdateLogName(seq) != name {
			t.Fatalf("UpdateLogSeq(%q) = %d, whose name is %q", name, seq, UpdateLogName(seq))
		}
	})
}

// SortableName sorts as its (ms, n) pairs do, over the whole range.
func TestSortableNameOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxMS := int64(2821109907455) // 36^8 - 1
		a := [2]int64{rapid.Int64Range(0, maxMS).Draw(t, "ms1"), int64(rapid.IntRange(0, 1295).Draw(t, "n1"))}
		b := [2]int64{rapid.Int64Range(0, maxMS).Draw(t, "ms2"), int64(rapid.IntRange(0, 1295).Draw(t, "n2"))}
		na, nb := SortableName(a[0], int(a[1])), SortableName(b[0], int(b[1]))
		if len(na) != 10 || strings.Trim(na, hashAlphabet) != "" {
			t.Fatalf("SortableName(%d, %d) = %q, not 10 characters of [0-9a-z]", a[0], a[1], na)
		}
		less := a[0] < b[0] || a[0] == b[0] && a[1] < b[1]
		if (na < nb) != less || (na == nb) != (a == b) {
			t.Fatalf("(%v) %q and (%v) %q sort apart from their pairs", a, na, b, nb)
		}
	})
}
