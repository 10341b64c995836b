// Package erp is a small ERP sample module: Company, Item Group, Item,
// Customer, Supplier, Address (linked to its parties through a "Dynamic Link"
// child table) and Sales Invoice (submittable, with a "Sales Invoice Item"
// child table). The definitions are Frappe DocType JSON files shipped in
// doctypes/, shaped after ERPNext's but cut down to the fields a demo needs.
// `docstream demo` installs them on both of its sites.
package erp

import (
	"context"
	"embed"
	"fmt"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
)

//go:embed doctypes/*.json
var doctypesFS embed.FS

// module is the install order: child tables before the DocTypes that hold
// them, and Link targets before the DocTypes that link to them.
var module = []struct{ name, file string }{
	{"Company", "company.json"},
	{"Item Group", "item_group.json"},
	{"Item", "item.json"},
	{"Customer", "customer.json"},
	{"Supplier", "supplier.json"},
	{"Dynamic Link", "dynamic_link.json"},
	{"Address", "address.json"},
	{"Sales Invoice Item", "sales_invoice_item.json"},
	{"Sales Invoice", "sales_invoice.json"},
}

// DocTypes lists the module's DocTypes in install order, child tables included.
func DocTypes() []string {
	out := make([]string, len(module))
	for i, m := range module {
		out[i] = m.name
	}
	return out
}

// Definition returns the DocType JSON of one of the module's DocTypes.
func Definition(name string) ([]byte, error) {
	for _, m := range module {
		if m.name == name {
			return doctypesFS.ReadFile("doctypes/" + m.file)
		}
	}
	return nil, fmt.Errorf("erp: no DocType %q in the sample module", name)
}

// Install creates the module's DocTypes that the site does not have yet, in
// dependency order, as DocType documents inserted by the Administrator: the
// same path a POST /api/resource/DocType takes. DocTypes that exist already
// are left as they are, so Install is safe to run on every start.
func Install(ctx context.Context, a *app.Service) error {
	for _, m := range module {
		if _, err := a.Meta(ctx, m.name); err == nil {
			continue
		} else if e, ok := errs.As(err); !ok || e.Kind != errs.KindNotFound {
			return fmt.Errorf("erp: look up DocType %s: %w", m.name, err)
		}
		b, err := doctypesFS.ReadFile("doctypes/" + m.file)
		if err != nil {
			return fmt.Errorf("erp: %w", err)
		}
		d, err := doc.FromJSON(b)
		if err != nil {
			return fmt.Errorf("erp: %s: %w", m.file, err)
		}
		if _, err := a.Insert(ctx, app.Admin(), "DocType", d, app.Opts{}); err != nil {
			return fmt.Errorf("erp: install DocType %s: %w", m.name, err)
		}
	}
	return nil
}
