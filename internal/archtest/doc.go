// Package archtest checks the layering rules of DESIGN.md §1 mechanically:
// the domain packages (meta, doc, filter, perm, errs, cond) import no SQL,
// HTTP, storage or job code. It has no code of its own, only tests.
package archtest
