package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// maxFormBytes bounds a posted form (a document with its child rows).
const maxFormBytes = 4 << 20

// formView is a document form: a new document or a stored one.
type formView struct {
	DT          *meta.DocType
	Name        string
	IsNew       bool
	Title       string
	Action      string
	Sections    []*sectionView
	CanSave     bool
	CanDelete   bool
	CanSubmit   bool
	CanCancel   bool
	Modified    string
	Prompt      bool // the DocType is named by prompt: ask for the name
	NewName     string
	Error       *formError
	Status      string
	StatusClass string
	Owner       string
	Creation    string
	ModifiedBy  string
	ModifiedAt  string
	Keys        *keysView
	Peer        *peerView
	SyncLog     *syncLogView
	Diff        *diffView
	HasInputs   bool
}

type formError struct {
	Title   string
	Message string
	// Invalid names the inputs the message is about: "fieldname" for a
	// field, "table.N.fieldname" for a cell of row N (1-based).
	Invalid map[string]bool
}

// keysView is the User form's "API Access" box.
type keysView struct {
	User        string
	Action      string
	APIKey      string
	Secret      string // shown once, right after Generate Keys
	HasSecret   bool
	CanGenerate bool
	Error       string
}

// form builds the view of d. A nil error message means a clean form.
func (h *Handler) form(ctx context.Context, u perm.User, dt *meta.DocType, d doc.Doc, isNew bool, fe *formError) (*formView, error) {
	v := &formView{DT: dt, IsNew: isNew, Error: fe}
	err := h.app.View(ctx, func(t *app.Tx) error {
		owner := d.Str("owner")
		fc := &formCtx{u: u, isNew: isNew, docstatus: d.Int("docstatus"), metaOf: t.Meta, now: h.now()}
		if isNew {
			fc.canEdit = perm.Can(dt, u, perm.Create, "")
			v.Action = listURL(dt.Name) + "/new"
			v.Title = "New " + dt.Name
			v.Status, v.StatusClass = "Not Saved", "orange"
			v.Prompt = strings.EqualFold(dt.Autoname, "prompt")
			v.NewName = d.Str("__newname")
		} else {
			fc.canEdit = perm.Can(dt, u, perm.Write, owner)
			v.Name = d.Name()
			v.Action = docURL(dt.Name, v.Name)
			v.Title = v.Name
			if tf := dt.TitleOrName(); tf != "name" && d.Str(tf) != "" {
				v.Title = d.Str(tf)
			}
			v.Modified, v.Owner, v.Creation, v.ModifiedBy = d.Str("modified"), owner, shortTime(d.Str("creation")), d.Str("modified_by")
			v.ModifiedAt = shortTime(v.Modified)
			ds := d.Int("docstatus")
			v.CanDelete = ds != 1 && perm.Can(dt, u, perm.Delete, owner)
			v.CanSubmit = dt.IsSubmittable && ds == 0 && perm.Can(dt, u, perm.Submit, owner)
			v.CanCancel = dt.IsSubmittable && ds == 1 && perm.Can(dt, u, perm.Cancel, owner)
			v.Status, v.StatusClass = docStatus(dt, d)
		}
		skip := map[string]bool{}
		switch dt.Name {
		case "User":
			skip["api_key"], skip["api_secret"] = true, true
			if !isNew {
				v.Keys = &keysView{User: v.Name, Action: v.Action, APIKey: d.Str("api_key"),
					HasSecret: d.Str("api_secret") != "", CanGenerate: u.HasRole("System Manager")}
			}
		case "Event Update Log", "Event Sync Log":
			if !isNew {
				skip["data"] = true
				v.Diff = newDiffView(d.Str("update_type"), d.Str("data"))
				if ref, name := d.Str("ref_doctype"), d.Str("docname"); ref != "" && name != "" && d.Str("update_type") != "Delete" {
					if rdt, err := t.Meta(ref); err == nil && perm.Can(rdt, u, perm.Read, "") {
						if ok, _ := t.Exists(ctx, rdt, name); ok {
							v.Diff.DocURL, v.Diff.DocLabel = docURL(ref, name), ref+" "+name
						}
					}
				}
			}
			if dt.Name == "Event Sync Log" && !isNew {
				skip["error"] = true
				v.SyncLog = &syncLogView{Status: d.Str("status"), Error: d.Str("error"), Action: v.Action,
					CanResync: h.sv != nil && d.Str("status") == "Failed" && perm.Can(dt, u, perm.Write, owner), Enabled: h.sv != nil}
			}
		case "Event Producer", "Event Consumer":
			if !isNew && h.sv != nil {
				v.Peer = h.peer(ctx, strings.ToLower(strings.TrimPrefix(dt.Name, "Event ")), v.Name)
			}
		}
		v.Sections = fc.sections(dt, d, skip)
		if v.Keys != nil {
			placed := false
			for _, s := range v.Sections {
				if s.ID == "api_access_section" {
					s.Keys, placed = v.Keys, true
				}
			}
			if !placed {
				v.Sections = append(v.Sections, &sectionView{Label: "API Access", ID: "api_access_section", Keys: v.Keys})
			}
		}
		if fe != nil && len(fe.Invalid) > 0 {
			markInvalid(v.Sections, fe.Invalid)
		}
		for _, s := range v.Sections {
			for _, b := range s.Blocks {
				if b.Wide != nil && (!b.Wide.ReadOnly || (b.Wide.Grid != nil && b.Wide.Grid.Editable)) {
					v.HasInputs = true
				}
				for _, c := range b.Columns {
					for _, f := range c {
						if !f.ReadOnly {
							v.HasInputs = true
						}
					}
				}
			}
		}
		v.CanSave = fc.canEdit && (v.HasInputs || v.Prompt)
		return nil
	})
	return v, err
}

// childMeta returns the child DocTypes of dt's tables, by table fieldname.
func (h *Handler) childMeta(r *http.Request, dt *meta.DocType) map[string]*meta.DocType {
	out := map[string]*meta.DocType{}
	for _, tf := range dt.TableFields() {
		if c, err := h.app.Meta(r.Context(), tf.Options); err == nil {
			out[tf.Fieldname] = c
		}
	}
	return out
}

// invalidFields finds the inputs a validation message names, so the form
// can mark them: the labels of "Value missing for DocType: A, Row #2: B" and
// the leading label of "Label: … is not a number".
func invalidFields(dt *meta.DocType, children map[string]*meta.DocType, msg string) map[string]bool {
	out := map[string]bool{}
	byLabel := func(m *meta.DocType, label string) string {
		for _, f := range m.ValueFields() {
			if f.DisplayLabel() == label {
				return f.Fieldname
			}
		}
		for _, f := range m.TableFields() {
			if f.DisplayLabel() == label {
				return f.Fieldname
			}
		}
		return ""
	}
	item := func(s string) {
		s = strings.TrimSpace(s)
		table := ""
		if i := strings.Index(s, "Row #"); i >= 0 {
			tlabel := strings.TrimSpace(s[:i])
			rest := s[i+len("Row #"):]
			num, label, ok := strings.Cut(rest, ": ")
			if !ok {
				return
			}
			for _, tf := range dt.TableFields() {
				if tlabel == "" || tf.DisplayLabel() == tlabel {
					if table != "" && tlabel == "" {
						return // several tables and no table named
					}
					table = tf.Fieldname
				}
			}
			if c := children[table]; c != nil {
				if fn := byLabel(c, strings.TrimSpace(label)); fn != "" {
					out[table+"."+strings.TrimSpace(num)+"."+fn] = true
				}
			}
			return
		}
		if fn := byLabel(dt, s); fn != "" {
			out[fn] = true
		}
	}
	if rest, ok := strings.CutPrefix(msg, "Value missing for "+dt.Name+": "); ok {
		for _, part := range strings.Split(rest, ", ") {
			item(part)
		}
		return out
	}
	if label, _, ok := strings.Cut(msg, ": "); ok {
		item(label)
	}
	return out
}

// markInvalid flags the fields and grid cells named in invalid.
func markInvalid(sections []*sectionView, invalid map[string]bool) {
	mark := func(fv *fieldView) {
		if invalid[fv.Fieldname] {
			fv.Invalid = true
		}
		if g := fv.Grid; g != nil {
			g.Invalid = invalid[fv.Fieldname]
			for i, row := range g.Rows {
				for _, c := range append(append([]*fieldView{}, row.Cells...), row.Detail...) {
					if invalid[g.Fieldname+"."+strconv.Itoa(i+1)+"."+c.Fieldname] {
						c.Invalid = true
					}
				}
			}
		}
	}
	for _, s := range sections {
		for _, b := range s.Blocks {
			if b.Wide != nil {
				mark(b.Wide)
			}
			for _, c := range b.Columns {
				for _, f := range c {
					mark(f)
				}
			}
		}
	}
}

// excType is Frappe's exception class name of err ("Exception" when internal).
func excType(err error) string {
	if e, ok := errs.As(err); ok && e.ExcType != "" {
		return e.ExcType
	}
	return "Exception"
}

// shortTime drops the microseconds of a stored datetime for display.
func shortTime(s string) string {
	if len(s) > 19 && s[19] == '.' {
		return s[:19]
	}
	return s
}

// docStatus is the indicator of a saved document, as Frappe's form shows it.
func docStatus(dt *meta.DocType, d doc.Doc) (string, string) {
	if dt.IsSubmittable {
		switch d.Int("docstatus") {
		case 1:
			return "Submitted", "blue"
		case 2:
			return "Cancelled", "red"
		}
		return "Draft", "red"
	}
	if f := dt.Field("status"); f != nil && d.Str("status") != "" {
		return d.Str("status"), indicatorClass(d.Str("status"))
	}
	if f := dt.Field("enabled"); f != nil && f.Fieldtype == "Check" {
		if doc.Checked(d["enabled"]) {
			return "Enabled", "green"
		}
		return "Disabled", "gray"
	}
	return "", ""
}

func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, u perm.User, code int, v *formView) {
	crumbs := docTypeCrumbs(v.DT)
	label := v.Title
	if v.IsNew {
		label = "New"
	}
	crumbs = append(crumbs, crumb{Label: label, URL: v.Action})
	h.render(w, r, code, "form", &page{Title: v.Title + " · " + v.DT.Name, User: u, Crumbs: crumbs, Body: v})
}

func (h *Handler) serveDoc(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType, name string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(r.Method)
	}
	if dt.IsTable {
		return errs.NotFound("%s is a child table: open its parent document", dt.Name)
	}
	d, err := h.app.Get(r.Context(), u, dt.Name, name)
	if err != nil {
		return err
	}
	v, err := h.form(r.Context(), u, dt, d, false, nil)
	if err != nil {
		return err
	}
	h.renderForm(w, r, u, http.StatusOK, v)
	return nil
}

// checkCreatable refuses the new-document form where the desk cannot create.
func checkCreatable(dt *meta.DocType, u perm.User) error {
	switch {
	case dt.IsTable:
		return errs.NotFound("%s is a child table: add rows to it from its parent document", dt.Name)
	case dt.IsSingle:
		return errs.NotFound("%s is a Single DocType, which this site does not support yet", dt.Name)
	case dt.InCreate:
		return errs.Permission("%s documents are created by the system, not from the desk", dt.Name)
	case !perm.Can(dt, u, perm.Create, ""):
		return errs.Permission("No permission to create %s", dt.Name)
	}
	return nil
}

func (h *Handler) serveNew(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(r.Method)
	}
	if err := checkCreatable(dt, u); err != nil {
		return err
	}
	d := doc.Doc{}
	// Prefill from the query string, as Frappe's route options do.
	for k, vs := range r.URL.Query() {
		if f := dt.Field(k); f != nil && f.Kind() != meta.KindTable && f.Kind() != meta.KindNone {
			d[k] = vs[0]
		}
	}
	doc.Defaults(dt, d, u.Name, h.now())
	v, err := h.form(r.Context(), u, dt, d, true, nil)
	if err != nil {
		return err
	}
	h.renderForm(w, r, u, http.StatusOK, v)
	return nil
}

func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errs.BadRequest("Could not read the form: %v", err)
	}
	return nil
}

func (h *Handler) postNew(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := checkCreatable(dt, u); err != nil {
		return err
	}
	var in doc.Doc
	err := h.app.View(r.Context(), func(t *app.Tx) error {
		fc := &formCtx{u: u, isNew: true, canEdit: true, metaOf: t.Meta, now: h.now()}
		in = fc.decode(dt, r.PostForm, nil)
		return nil
	})
	if err != nil {
		return err
	}
	if strings.EqualFold(dt.Autoname, "prompt") {
		in["__newname"] = strings.TrimSpace(r.PostForm.Get("__newname"))
	}
	res, err := h.app.Insert(r.Context(), u, dt.Name, in.Clone(), app.Opts{})
	if err != nil {
		return h.formFailed(w, r, u, dt, in, true, err)
	}
	msg := "Saved"
	if dt.Name == "Event Producer" {
		msg = "Registered with the producer. Approve the Document Types on the producer's Event Consumer to start streaming."
	}
	redirect(w, r, docURL(dt.Name, res.Name()), &flash{Kind: "ok", Text: msg})
	return nil
}

// formFailed shows the form again with the user's input and the server's
// message, or an error page when the failure is not about the input.
func (h *Handler) formFailed(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType, input doc.Doc, isNew bool, err error) error {
	switch errs.KindOf(err) {
	case errs.KindPermission, errs.KindAuth:
		return err
	case errs.KindNotFound:
		if !isNew {
			return err // the document went away while the form was open
		}
	}
	fe := &formError{Title: "Could not save", Message: h.userMessage(r, err)}
	fe.Invalid = invalidFields(dt, h.childMeta(r, dt), fe.Message)
	switch {
	case dt.Name == "Event Producer" && isNew:
		fe.Title = "Not registered with the producer"
	case errs.KindOf(err) == errs.KindValidation:
		fe.Title = "Please correct the form"
	}
	v, ferr := h.form(r.Context(), u, dt, input, isNew, fe)
	if ferr != nil {
		return ferr
	}
	// The form comes back as a page (200), so the browser does not report a
	// failed load; X-Docstream-Error tells scripts and tests what happened.
	code := http.StatusOK
	if errs.KindOf(err) == errs.KindInternal {
		code = http.StatusInternalServerError
	}
	w.Header().Set("X-Docstream-Error", excType(err))
	h.renderForm(w, r, u, code, v)
	return nil
}

func (h *Handler) postDoc(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType, name string) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	action := r.PostForm.Get("_action")
	switch action {
	case "generate_keys":
		return h.generateKeys(w, r, u, dt, name)
	case "resync":
		return h.resync(w, r, u, dt, name)
	case "delete":
		if err := h.app.Delete(ctx, u, dt.Name, name, app.Opts{}); err != nil {
			return err
		}
		redirect(w, r, listURL(dt.Name), &flash{Kind: "ok", Text: "Deleted " + dt.Name + " " + name})
		return nil
	case "", "save", "submit", "cancel":
	default:
		return errs.BadRequest("Unknown action %q", action)
	}
	old, err := h.app.Get(ctx, u, dt.Name, name)
	if err != nil {
		return err
	}
	var patch doc.Doc
	err = h.app.View(ctx, func(t *app.Tx) error {
		fc := &formCtx{u: u, canEdit: perm.Can(dt, u, perm.Write, old.Str("owner")), docstatus: old.Int("docstatus"), metaOf: t.Meta, now: h.now()}
		if action == "cancel" {
			patch = doc.Doc{}
		} else {
			patch = fc.decode(dt, r.PostForm, old)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if m := r.PostForm.Get("modified"); m != "" {
		patch["modified"] = m
	}
	switch action {
	case "submit":
		patch["docstatus"] = int64(1)
	case "cancel":
		patch["docstatus"] = int64(2)
	}
	if _, err := h.app.Save(ctx, u, dt.Name, name, patch.Clone(), app.Opts{}); err != nil {
		merged := old.Clone()
		for k, v := range patch {
			if k != "docstatus" {
				merged[k] = v
			}
		}
		return h.formFailed(w, r, u, dt, merged, false, err)
	}
	msg := "Saved"
	switch {
	case action == "submit":
		msg = "Submitted"
	case action == "cancel":
		msg = "Cancelled"
	case dt.Name == "Event Producer":
		msg = "Saved and sent to the producer"
	case dt.Name == "Event Consumer":
		msg = "Saved. The consumer has been sent the new approval status."
	}
	redirect(w, r, docURL(dt.Name, name), &flash{Kind: "ok", Text: msg})
	return nil
}

// decode reads the posted form into a document (for Insert) or a patch (for
// Save), taking only the fields this form showed as inputs. A Check input
// that is missing was unticked. Child rows keep the stored values of fields
// the form did not show, so a save never blanks them.
func (fc *formCtx) decode(dt *meta.DocType, form url.Values, old doc.Doc) doc.Doc {
	d := doc.Doc{}
	for _, f := range dt.ValueFields() {
		if !fc.editable(dt, f) {
			continue
		}
		if f.Kind() == meta.KindCheck {
			d[f.Fieldname] = checkValue(form, f.Fieldname)
			continue
		}
		if vs, ok := form[f.Fieldname]; ok {
			d[f.Fieldname] = vs[0]
		}
	}
	for _, tf := range dt.TableFields() {
		if !fc.editable(dt, tf) || !form.Has(tf.Fieldname+".__present") {
			continue
		}
		d[tf.Fieldname] = fc.decodeRows(dt, tf, form, old)
	}
	return d
}

func checkValue(form url.Values, key string) int64 {
	for _, v := range form[key] {
		if doc.Checked(v) {
			return 1
		}
	}
	return 0
}

func (fc *formCtx) decodeRows(dt *meta.DocType, tf *meta.Field, form url.Values, old doc.Doc) []doc.Doc {
	child, err := fc.metaOf(tf.Options)
	if err != nil {
		return nil
	}
	prefix := tf.Fieldname + "."
	raw := map[string]url.Values{}
	for k, vs := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		key, field, ok := strings.Cut(rest, ".")
		if !ok || key == "" || key == "__ROW__" {
			continue
		}
		if raw[key] == nil {
			raw[key] = url.Values{}
		}
		raw[key][field] = vs
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, ea := strconv.Atoi(keys[i])
		b, eb := strconv.Atoi(keys[j])
		if ea == nil && eb == nil {
			return a < b
		}
		if (ea == nil) != (eb == nil) {
			return ea == nil
		}
		return keys[i] < keys[j]
	})
	stored := map[string]doc.Doc{}
	if old != nil {
		for _, r := range old.Rows(tf.Fieldname) {
			stored[r.Name()] = r
		}
	}
	cc := *fc
	cc.canEdit = fc.editable(dt, tf)
	out := make([]doc.Doc, 0, len(keys))
	for _, key := range keys {
		in := raw[key]
		rc := cc
		r := doc.Doc{}
		if o, ok := stored[in.Get("name")]; ok && in.Get("name") != "" {
			r = o.Clone()
			delete(r, "idx")
		} else {
			rc.isNew = true
		}
		for _, f := range child.ValueFields() {
			if !rc.editable(child, f) {
				continue
			}
			if f.Kind() == meta.KindCheck {
				r[f.Fieldname] = checkValue(in, f.Fieldname)
			} else if vs, ok := in[f.Fieldname]; ok {
				r[f.Fieldname] = vs[0]
			}
		}
		r["__key"] = key // only for showing the form again; the service drops it
		out = append(out, r)
	}
	return out
}

// generateKeys is the User form's "Generate Keys": a new API secret, shown
// once. htmx gets the API Access box alone; a plain POST gets the whole form.
func (h *Handler) generateKeys(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType, name string) error {
	if dt.Name != "User" {
		return errs.BadRequest("Generate Keys is an action of User documents")
	}
	ctx := r.Context()
	kv := &keysView{User: name, Action: docURL(dt.Name, name), CanGenerate: u.HasRole("System Manager")}
	sec, gerr := h.app.GenerateKeys(ctx, u, name)
	if gerr != nil && (!isHTMX(r) || errs.KindOf(gerr) == errs.KindInternal) {
		return gerr
	}
	d, err := h.app.Get(ctx, u, dt.Name, name)
	if err != nil {
		return err
	}
	kv.APIKey, kv.HasSecret = d.Str("api_key"), d.Str("api_secret") != ""
	if gerr != nil {
		kv.Error = h.userMessage(r, gerr)
		h.renderPartial(w, r, statusOf(gerr), "keys", kv)
		return nil
	}
	kv.Secret = sec
	if isHTMX(r) {
		h.renderPartial(w, r, http.StatusOK, "keys", kv)
		return nil
	}
	v, err := h.form(ctx, u, dt, d, false, nil)
	if err != nil {
		return err
	}
	v.Keys.Secret = sec
	h.renderForm(w, r, u, http.StatusOK, v)
	return nil
}
