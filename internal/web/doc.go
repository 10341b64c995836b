// Package web is the desk: the browser UI of a docstream site, with the URLs
// and names a Frappe user already knows (/login, /app, /app/<doctype-slug>,
// /app/<doctype-slug>/<name>, Home > Automation > Event Streaming).
//
// Pages are rendered on the server with html/template (parsed once, at start)
// and made lively with htmx; the streaming dashboard draws frappe-charts.
// Static files, including the vendored htmx and frappe-charts, are embedded in
// the binary. Every page requires a session (the same `sid` cookie as the
// API); every read and write goes through app.Service, which checks
// permissions; state-changing requests are guarded by
// http.CrossOriginProtection.
//
// Handlers stay thin: they decode a request, call app.Service or StreamView,
// and render. web imports app, meta, doc, perm and errs; it must not import
// the store, SQL or job code.
package web
