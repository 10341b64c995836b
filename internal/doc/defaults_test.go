package doc

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/meta"
)

func TestDefaults(t *testing.T) {
	dt := &meta.DocType{Name: "Task", Fields: []meta.Field{
		{Fieldname: "owner_user", Fieldtype: "Link", Options: "User", Default: "__user"},
		{Fieldname: "on", Fieldtype: "Date", Default: "Today"},
		{Fieldname: "at", Fieldtype: "Datetime", Default: "now"},
		{Fieldname: "at_day", Fieldtype: "Datetime", Default: "Today"},
		{Fieldname: "clock", Fieldtype: "Time", Default: "Now"},
		{Fieldname: "qty", Fieldtype: "Int", Default: "5"},
		{Fieldname: "rate", Fieldtype: "Float", Default: "2.50"},
		{Fieldname: "done", Fieldtype: "Check", Default: "1"},
		{Fieldname: "bad_int", Fieldtype: "Int", Default: "many"},
		{Fieldname: "status", Fieldtype: "Select", Options: "Open\nClosed"},
		{Fieldname: "blank_first", Fieldtype: "Select", Options: "\nA"},
		{Fieldname: "placeholder", Fieldtype: "Select", Options: "[Select]"},
		{Fieldname: "priority", Fieldtype: "Select", Options: "Low\nHigh", Default: "High"},
		{Fieldname: "from_other", Fieldtype: "Data", Default: ":company"},
		{Fieldname: "kept", Fieldtype: "Data", Default: "x"},
		{Fieldname: "kept_empty", Fieldtype: "Data", Default: "x"},
		{Fieldname: "nodefault", Fieldtype: "Data"},
		{Fieldname: "sb", Fieldtype: "Section Break", Default: "x"},
	}}
	now := time.Date(2025, 3, 7, 9, 5, 3, 120000000, time.UTC)
	d := Doc{"kept": "mine", "kept_empty": "", "qty": nil}
	Defaults(dt, d, "a@b.c", now)
	want := Doc{
		"owner_user": "a@b.c", "on": "2025-03-07", "at": "2025-03-07 09:05:03.120000", "at_day": "2025-03-07 00:00:00.000000",
		"clock": "9:05:03.120000", "qty": int64(5), "rate": 2.5, "done": int64(1), "bad_int": "many",
		"status": "Open", "blank_first": "", "priority": "High", "kept": "mine", "kept_empty": "",
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("Defaults (-want +got):\n%s", diff)
	}
}
