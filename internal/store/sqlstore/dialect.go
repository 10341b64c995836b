package sqlstore

import (
	"strconv"
	"strings"

	"docstream/internal/meta"
)

// dialect holds what differs between SQLite and PostgreSQL. Queries are
// written once with `?` placeholders and rebound for PostgreSQL.
type dialect struct {
	name      string
	intType   string
	floatType string
	forUpdate string
	greatest  string // the larger of two values: scalar max() on SQLite
}

var (
	sqliteDialect   = dialect{name: "sqlite", intType: "INTEGER", floatType: "REAL", greatest: "max"}
	postgresDialect = dialect{name: "postgres", intType: "BIGINT", floatType: "DOUBLE PRECISION", forUpdate: " FOR UPDATE", greatest: "GREATEST"}
)

// rebind turns `?` into `$n` for PostgreSQL. Queries never contain a literal
// `?` inside strings: every value is bound.
func (d dialect) rebind(q string) string {
	if d.name != "postgres" || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '"' {
			inQuote = !inQuote
		}
		if c == '?' && !inQuote {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// quote quotes an identifier. Identifiers come from validated metadata only.
func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func (d dialect) columnType(k meta.Kind) string {
	switch k {
	case meta.KindInt, meta.KindCheck:
		return d.intType
	case meta.KindFloat:
		return d.floatType
	}
	return "TEXT"
}
