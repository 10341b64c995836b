package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"docstream/internal/app"
	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// workspace is a desk page that groups links, as Frappe's workspaces do.
type workspace struct {
	Name   string
	Slug   string
	Parent string // slug of the parent workspace ("" under Home)
	Cards  []card
	// Dashboard shows the streaming dashboard below the cards.
	Dashboard bool
}

type card struct {
	Title    string
	Pages    []string // workspace slugs linked from this card
	DocTypes []string
}

// workspaces is the desk's fixed navigation. "Home > Automation > Event
// Streaming" is the path the Event Streaming guides give.
var workspaces = []*workspace{
	{Name: "Automation", Slug: "automation", Cards: []card{
		{Title: "Event Streaming", Pages: []string{"event-streaming"},
			DocTypes: []string{"Event Producer", "Event Consumer", "Event Update Log", "Event Sync Log", "Document Type Mapping"}},
	}},
	{Name: "Event Streaming", Slug: "event-streaming", Parent: "automation", Dashboard: true, Cards: []card{
		{Title: "Set up", DocTypes: []string{"Event Producer", "Event Consumer", "Document Type Mapping"}},
		{Title: "Logs", DocTypes: []string{"Event Update Log", "Event Sync Log", "Event Producer Last Update"}},
	}},
	{Name: "Users", Slug: "users", Cards: []card{
		{Title: "Users and roles", DocTypes: []string{"User", "Role"}},
	}},
	{Name: "Build", Slug: "build", Cards: []card{
		{Title: "Models", DocTypes: []string{"DocType", "Custom Field"}},
	}},
}

func workspaceBySlug(s string) *workspace {
	for _, w := range workspaces {
		if w.Slug == s {
			return w
		}
	}
	return nil
}

// workspaceOf is the workspace a DocType's pages sit under in breadcrumbs.
func workspaceOf(dt *meta.DocType) *workspace {
	for _, w := range workspaces {
		if w.Parent == "" && w.Slug == "automation" {
			continue // Automation only points at Event Streaming
		}
		for _, c := range w.Cards {
			for _, n := range c.DocTypes {
				if n == dt.Name {
					return w
				}
			}
		}
	}
	switch dt.Module {
	case "Event Streaming":
		return workspaceBySlug("event-streaming")
	case "Core":
		return workspaceBySlug("build")
	}
	return nil
}

// workspaceCrumbs are the breadcrumbs down to and including ws.
func workspaceCrumbs(ws *workspace) []crumb {
	out := []crumb{{Label: "Home", URL: "/app"}}
	if ws == nil {
		return out
	}
	if ws.Parent != "" {
		if p := workspaceBySlug(ws.Parent); p != nil {
			out = append(out, crumb{Label: p.Name, URL: "/app/" + p.Slug})
		}
	}
	return append(out, crumb{Label: ws.Name, URL: "/app/" + ws.Slug})
}

func docTypeCrumbs(dt *meta.DocType) []crumb {
	return append(workspaceCrumbs(workspaceOf(dt)), crumb{Label: dt.Name, URL: listURL(dt.Name)})
}

// docTypeBySlug finds the DocType a URL segment names.
func (h *Handler) docTypeBySlug(ctx context.Context, seg string) (*meta.DocType, error) {
	if s, err := url.PathUnescape(seg); err == nil {
		seg = slug(s)
	}
	var found *meta.DocType
	err := h.app.View(ctx, func(t *app.Tx) error {
		for _, n := range t.DocTypes() {
			if slug(n) == seg {
				found, _ = t.Meta(n)
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, errs.NotFound("Page /app/%s not found: there is no DocType with that name", seg)
	}
	return found, nil
}

// readable lists the DocTypes u may open in the desk (not child tables),
// sorted by name.
func (h *Handler) readable(ctx context.Context, u perm.User) (map[string]*meta.DocType, error) {
	out := map[string]*meta.DocType{}
	err := h.app.View(ctx, func(t *app.Tx) error {
		for _, n := range t.DocTypes() {
			dt, err := t.Meta(n)
			if err != nil || dt.IsTable {
				continue
			}
			if perm.Can(dt, u, perm.Read, "") || perm.Can(dt, u, perm.Select, "") {
				out[n] = dt
			}
		}
		return nil
	})
	return out, err
}

type navItem struct {
	Label, URL string
	Active     bool
	Child      bool
}

// nav is the sidebar: Home and the workspaces that have something for u.
func (h *Handler) nav(r *http.Request, u perm.User) []navItem {
	dts, _ := h.readable(r.Context(), u)
	p := r.URL.EscapedPath()
	items := []navItem{{Label: "Home", URL: "/app", Active: p == "/app" || p == "/app/"}}
	active := ""
	if strings.HasPrefix(p, "/app/") {
		seg, _, _ := strings.Cut(strings.TrimPrefix(p, "/app/"), "/")
		if ws := workspaceBySlug(seg); ws != nil {
			active = ws.Slug
		} else {
			for n, dt := range dts {
				if slug(n) == seg {
					if ws := workspaceOf(dt); ws != nil {
						active = ws.Slug
					}
				}
			}
		}
	}
	for _, ws := range workspaces {
		if !visibleWS(ws, dts, u) {
			continue
		}
		items = append(items, navItem{Label: ws.Name, URL: "/app/" + ws.Slug, Active: active == ws.Slug, Child: ws.Parent != ""})
	}
	return items
}

type cardView struct {
	Title string
	Links []linkView
}

type linkView struct {
	Label, URL, Note string
}

// visibleWS reports whether ws has anything for u: a DocType u may open
// (directly or through a linked workspace), or the dashboard.
func visibleWS(ws *workspace, dts map[string]*meta.DocType, u perm.User) bool {
	if ws.Dashboard && canSeeStreaming(u) {
		return true
	}
	for _, c := range ws.Cards {
		for _, n := range c.DocTypes {
			if _, ok := dts[n]; ok {
				return true
			}
		}
		for _, p := range c.Pages {
			if w := workspaceBySlug(p); w != nil && w != ws && visibleWS(w, dts, u) {
				return true
			}
		}
	}
	return false
}

// cardsFor keeps the links of ws that exist on this site and that u may open.
func (h *Handler) cardsFor(ws *workspace, dts map[string]*meta.DocType, u perm.User) []cardView {
	var out []cardView
	for _, c := range ws.Cards {
		cv := cardView{Title: c.Title}
		for _, p := range c.Pages {
			if w := workspaceBySlug(p); w != nil && visibleWS(w, dts, u) {
				cv.Links = append(cv.Links, linkView{Label: w.Name, URL: "/app/" + w.Slug, Note: "Workspace"})
			}
		}
		for _, n := range c.DocTypes {
			if _, ok := dts[n]; ok {
				cv.Links = append(cv.Links, linkView{Label: n, URL: listURL(n)})
			}
		}
		if len(cv.Links) > 0 {
			out = append(out, cv)
		}
	}
	return out
}

type homeView struct {
	Workspaces []wsCard
	Modules    []cardView // DocTypes outside the workspaces, per module
}

type wsCard struct {
	Name, URL string
	Links     []linkView
}

func (h *Handler) serveHome(w http.ResponseWriter, r *http.Request, u perm.User) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(r.Method)
	}
	if r.URL.EscapedPath() == "/desk" {
		http.Redirect(w, r, "/app", http.StatusMovedPermanently)
		return nil
	}
	dts, err := h.readable(r.Context(), u)
	if err != nil {
		return err
	}
	v := &homeView{}
	listed := map[string]bool{}
	for _, ws := range workspaces {
		if ws.Parent != "" {
			continue
		}
		wc := wsCard{Name: ws.Name, URL: "/app/" + ws.Slug}
		for _, c := range h.cardsFor(ws, dts, u) {
			wc.Links = append(wc.Links, c.Links...)
		}
		for _, c := range ws.Cards {
			for _, n := range c.DocTypes {
				listed[n] = true
			}
		}
		if len(wc.Links) > 0 {
			v.Workspaces = append(v.Workspaces, wc)
		}
	}
	for _, ws := range workspaces {
		for _, c := range ws.Cards {
			for _, n := range c.DocTypes {
				listed[n] = true
			}
		}
	}
	byModule := map[string][]linkView{}
	for n, dt := range dts {
		if listed[n] || dt.Name == "DocField" || dt.Name == "DocPerm" {
			continue
		}
		mod := dt.Module
		if mod == "" {
			mod = "Custom"
		}
		byModule[mod] = append(byModule[mod], linkView{Label: n, URL: listURL(n)})
	}
	for mod, links := range byModule {
		sort.Slice(links, func(i, j int) bool { return links[i].Label < links[j].Label })
		v.Modules = append(v.Modules, cardView{Title: mod, Links: links})
	}
	sort.Slice(v.Modules, func(i, j int) bool { return v.Modules[i].Title < v.Modules[j].Title })
	h.render(w, r, http.StatusOK, "home", &page{Title: "Home", User: u, Crumbs: []crumb{{Label: "Home", URL: "/app"}}, Body: v})
	return nil
}

type workspaceView struct {
	WS        *workspace
	Cards     []cardView
	Dashboard *dashboardView // nil unless ws.Dashboard
}

func (h *Handler) serveWorkspace(w http.ResponseWriter, r *http.Request, u perm.User, ws *workspace) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return methodNotAllowed(r.Method)
	}
	dts, err := h.readable(r.Context(), u)
	if err != nil {
		return err
	}
	v := &workspaceView{WS: ws, Cards: h.cardsFor(ws, dts, u)}
	if ws.Dashboard {
		v.Dashboard = h.dashboard(r, u)
	}
	h.render(w, r, http.StatusOK, "workspace", &page{Title: ws.Name, User: u, Crumbs: workspaceCrumbs(ws), Body: v})
	return nil
}
