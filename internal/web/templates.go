package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strings"
)

//go:embed templates
var templateFS embed.FS

// templates holds one template set per page (the layout, the shared
// partials and the page), parsed once at start-up, as Miniflux does.
type templates struct {
	base  *template.Template
	pages map[string]*template.Template
}

func mustTemplates(a *assets) *templates {
	funcs := template.FuncMap{
		"asset":     a.url,
		"docURL":    docURL,
		"listURL":   listURL,
		"slug":      slug,
		"indicator": indicatorClass,
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"add": func(a, b int) int { return a + b },
		"pct": func(done, total int64) int64 {
			if total <= 0 {
				return 0
			}
			p := done * 100 / total
			return min(max(p, 0), 100)
		},
		"num":     formatNumber,
		"seconds": formatSeconds,
		"initial": func(s string) string {
			for _, r := range s {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
	}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	t := &templates{base: base, pages: map[string]*template.Template{}}
	entries, err := fs.ReadDir(templateFS, "templates/pages")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), path.Ext(e.Name()))
		t.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/pages/"+e.Name()))
	}
	return t
}

func (t *templates) page(w io.Writer, name string, p *page) error {
	set, ok := t.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	return set.ExecuteTemplate(w, "layout", p)
}

func (t *templates) partial(w io.Writer, name string, data any) error {
	return t.base.ExecuteTemplate(w, name, data)
}

// slug is a DocType's URL segment, as Frappe's desk makes it: lower case,
// spaces to hyphens ("Event Sync Log" → "event-sync-log").
func slug(doctype string) string {
	return strings.ReplaceAll(strings.ToLower(doctype), " ", "-")
}

// listURL is the list page of a DocType.
func listURL(doctype string) string { return "/app/" + slug(doctype) }

// docURL is the form of a document. The name is path-escaped as one segment,
// so names with `/` or `://` (Event Consumer URLs) survive the trip.
func docURL(doctype, name string) string {
	return "/app/" + slug(doctype) + "/" + url.PathEscape(name)
}

// indicatorClass picks the colour of a status pill from the status text, as
// Frappe's list indicators do.
func indicatorClass(status string) string {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "synced", "approved", "connected", "enabled", "completed", "closed", "active", "yes", "create", "success":
		return "green"
	case "failed", "rejected", "failing", "cancelled", "disabled", "error", "delete":
		return "red"
	case "pending", "queued", "lagging", "draft", "not saved", "open", "update", "running":
		return "orange"
	case "submitted":
		return "blue"
	case "":
		return "gray"
	}
	return "blue"
}

func formatNumber(v any) string {
	switch n := v.(type) {
	case int64:
		return groupDigits(fmt.Sprint(n))
	case int:
		return groupDigits(fmt.Sprint(n))
	case float64:
		if n == float64(int64(n)) {
			return groupDigits(fmt.Sprint(int64(n)))
		}
		return fmt.Sprintf("%.1f", n)
	}
	return fmt.Sprint(v)
}

// formatMoney shows a currency amount with two decimals and grouping.
func formatMoney(x float64) string {
	s := fmt.Sprintf("%.2f", x)
	i := strings.IndexByte(s, '.')
	return groupDigits(s[:i]) + s[i:]
}

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatSeconds renders a lag: "0 s", "42 s", "3 min 5 s", "2 h 10 min".
func formatSeconds(s float64) string {
	switch {
	case s < 1:
		if s <= 0 {
			return "0 s"
		}
		return fmt.Sprintf("%.1f s", s)
	case s < 10:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", s), ".0") + " s"
	case s < 60:
		return fmt.Sprintf("%d s", int64(s))
	case s < 3600:
		return fmt.Sprintf("%d min %d s", int64(s)/60, int64(s)%60)
	}
	return fmt.Sprintf("%d h %d min", int64(s)/3600, int64(s)%3600/60)
}
