package sqlstore

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"docstream/internal/errs"
)

// classify turns driver errors users can cause into application errors:
// unique violations become DuplicateEntryError (on name) or
// UniqueValidationError (on another column). Other errors pass through.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			if strings.HasSuffix(pg.ConstraintName, "_pkey") {
				return errs.Wrap(errs.Duplicate("Document already exists"), err)
			}
			col := pg.ConstraintName
			if i := strings.LastIndex(col, "__"); i >= 0 {
				col = col[i+2:]
			}
			return errs.Wrap(errs.Invalid("UniqueValidationError", "%s must be unique", col), err)
		case "40001", "40P01":
			return errs.Wrap(errs.New(errs.KindConflict, "QueryDeadlockError", "the database was busy, please retry"), err)
		}
		return err
	}
	msg := err.Error()
	if i := strings.Index(msg, "UNIQUE constraint failed: "); i >= 0 {
		col := msg[i+len("UNIQUE constraint failed: "):]
		if j := strings.LastIndex(col, "."); j >= 0 {
			col = col[j+1:]
		}
		col = strings.TrimRight(strings.Fields(col + " ")[0], ")")
		if col == "name" {
			return errs.Wrap(errs.Duplicate("Document already exists"), err)
		}
		return errs.Wrap(errs.Invalid("UniqueValidationError", "%s must be unique", col), err)
	}
	return err
}
