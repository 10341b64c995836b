package doc

import (
	"docstream/internal/errs"
	"docstream/internal/meta"
)

// Save actions, as Frappe's Document._action (reference §4.3).
const (
	ActionSave              = "save"
	ActionSubmit            = "submit"
	ActionUpdateAfterSubmit = "update_after_submit"
	ActionCancel            = "cancel"
)

// readDocstatus reads docstatus strictly: missing is 0 (Frappe
// set_docstatus), anything but 0, 1 or 2 is "Invalid docstatus".
func readDocstatus(d Doc) (int64, error) {
	if d["docstatus"] == nil {
		return 0, nil
	}
	n, ok := toInt64(d["docstatus"])
	if !ok || n < 0 || n > 2 {
		return 0, errs.Validation("Invalid docstatus %s", short(d["docstatus"]))
	}
	return n, nil
}

// CheckInsertDocstatus decides the action of inserting d: docstatus 0 is
// "save", 1 is "submit" (only for a submittable DocType), 2 is a
// DocstatusTransitionError (Frappe check_docstatus_transition(0) on insert).
//
// Frappe refuses a non-submittable submit through the missing submit
// permission (403); we say what is wrong instead (417).
func CheckInsertDocstatus(dt *meta.DocType, d Doc) (string, error) {
	ds, err := readDocstatus(d)
	if err != nil {
		return "", err
	}
	return transition(dt, 0, ds)
}

// CheckUpdate validates saving new over the stored old and returns the
// action: "save" (0→0), "submit" (0→1), "update_after_submit" (1→1) or
// "cancel" (1→2). Other transitions are DocstatusTransitionError; any save of
// a cancelled document is ValidationError "Cannot edit cancelled document".
// Except on cancel (Frappe skips _validate then), set_only_once fields may not
// change (CannotChangeConstantError), and on 1→1 only allow_on_submit fields
// and rows of allow_on_submit tables may differ (UpdateAfterSubmitError).
// Values are compared canonically (see Diff), not with Python's !=.
func CheckUpdate(dt *meta.DocType, metaOf MetaFunc, old, new Doc) (string, error) {
	from, err := readDocstatus(old)
	if err != nil {
		return "", err
	}
	if from == 2 {
		return "", errs.Validation("Cannot edit cancelled document")
	}
	to, err := readDocstatus(new)
	if err != nil {
		return "", err
	}
	action, err := transition(dt, from, to)
	if err != nil || action == ActionCancel {
		return action, err
	}
	oldTables, err := tablesOf(dt, metaOf, old)
	if err != nil {
		return "", err
	}
	newTables, err := tablesOf(dt, metaOf, new)
	if err != nil {
		return "", err
	}
	if err := checkSetOnlyOnce(dt, old, new, oldTables, newTables); err != nil {
		return "", err
	}
	if action == ActionUpdateAfterSubmit {
		if err := checkAfterSubmit(dt, old, new, oldTables, newTables); err != nil {
			return "", err
		}
	}
	return action, nil
}

func transition(dt *meta.DocType, from, to int64) (string, error) {
	switch {
	case from == 0 && to == 0:
		return ActionSave, nil
	case from == 0 && to == 1:
		if !dt.IsSubmittable {
			return "", errs.Invalid("DocstatusTransitionError", "Cannot submit %s: it is not submittable", dt.Name)
		}
		return ActionSubmit, nil
	case from == 0 && to == 2:
		return "", errs.Invalid("DocstatusTransitionError", "Cannot change docstatus from 0 (Draft) to 2 (Cancelled)")
	case from == 1 && to == 0:
		return "", errs.Invalid("DocstatusTransitionError", "Cannot change docstatus from 1 (Submitted) to 0 (Draft)")
	case from == 1 && to == 1:
		return ActionUpdateAfterSubmit, nil
	case from == 1 && to == 2:
		return ActionCancel, nil
	}
	return "", errs.Validation("Cannot edit cancelled document")
}

// checkSetOnlyOnce follows Frappe validate_set_only_once: once the document
// exists, such a field may not change, even from empty; a table compares
// whole (row names, order and values).
func checkSetOnlyOnce(dt *meta.DocType, old, new Doc, oldTables, newTables []table) error {
	for i := range dt.Fields {
		f := &dt.Fields[i]
		if !f.SetOnlyOnce {
			continue
		}
		changed := false
		switch {
		case f.Kind() == meta.KindTable:
			ot, nt := findTable(oldTables, f.Fieldname), findTable(newTables, f.Fieldname)
			changed = tableChanged(ot.child, ot.rows, nt.rows)
		case hasValue(f):
			changed = !sameValue(f, old[f.Fieldname], new[f.Fieldname])
		}
		if changed {
			return errs.Invalid("CannotChangeConstantError", "Value cannot be changed for %s", f.DisplayLabel())
		}
	}
	return nil
}

func findTable(ts []table, fieldname string) table {
	for _, t := range ts {
		if t.field.Fieldname == fieldname {
			return t
		}
	}
	return table{}
}

func tableChanged(child *meta.DocType, old, new []Doc) bool {
	if len(old) != len(new) {
		return true
	}
	for i := range old {
		if old[i].Name() != new[i].Name() || len(diffRow(child, old[i], new[i])) > 0 {
			return true
		}
	}
	return false
}

// checkAfterSubmit follows Frappe validate_update_after_submit: fields
// without allow_on_submit may not change; a table without allow_on_submit
// may not gain or lose rows; kept rows are checked field by field against
// the child DocType (even in an allow_on_submit table, as in Frappe). Row
// order is not checked, as Frappe does not (idx is no DocField).
func checkAfterSubmit(dt *meta.DocType, old, new Doc, oldTables, newTables []table) error {
	for _, f := range dt.ValueFields() {
		if !f.AllowOnSubmit && !sameValue(f, old[f.Fieldname], new[f.Fieldname]) {
			return afterSubmitError("", f, old[f.Fieldname], new[f.Fieldname])
		}
	}
	for _, nt := range newTables {
		ot := findTable(oldTables, nt.field.Fieldname)
		oldBy := map[string]Doc{}
		for _, r := range ot.rows {
			oldBy[r.Name()] = r
		}
		newNames := map[string]bool{}
		for _, r := range nt.rows {
			newNames[r.Name()] = true
		}
		for i, r := range nt.rows {
			o, kept := oldBy[r.Name()]
			if !kept {
				if nt.field.AllowOnSubmit {
					continue
				}
				return errs.Invalid("UpdateAfterSubmitError", "Row #%d: Not allowed to add rows to %s after submission", rowNumber(r, i), nt.field.DisplayLabel())
			}
			for _, cf := range nt.child.ValueFields() {
				if !cf.AllowOnSubmit && !sameValue(cf, o[cf.Fieldname], r[cf.Fieldname]) {
					return afterSubmitError(fmtRow(rowNumber(r, i)), cf, o[cf.Fieldname], r[cf.Fieldname])
				}
			}
		}
		if nt.field.AllowOnSubmit {
			continue
		}
		for _, r := range ot.rows {
			if !newNames[r.Name()] {
				return errs.Invalid("UpdateAfterSubmitError", "Not allowed to remove rows from %s after submission (row %s)", nt.field.DisplayLabel(), r.Name())
			}
		}
	}
	return nil
}

func fmtRow(n int64) string { return "Row #" + itoa(n) + ": " }

func afterSubmitError(prefix string, f *meta.Field, from, to any) error {
	return errs.Invalid("UpdateAfterSubmitError", "%sNot allowed to change %s after submission from %s to %s",
		prefix, f.DisplayLabel(), display(from), display(to))
}

// display renders a value in a message: text as is, nil as empty quotes.
func display(v any) string {
	if s, ok := v.(string); ok {
		return `"` + s + `"`
	}
	if v == nil {
		return `""`
	}
	return short(v)
}
