package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// assets serves the embedded static files under /assets/. URLs made with
// url carry a content hash (?v=…); such requests may be cached for a year.
type assets struct {
	files map[string][]byte // path under static/ → content
	hash  map[string]string
}

func mustAssets() *assets {
	a := &assets{files: map[string][]byte{}, hash: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		a.files[rel] = b
		a.hash[rel] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		panic("web: embedded static files: " + err.Error())
	}
	return a
}

// url is the cache-busting address of a static file.
func (a *assets) url(name string) string {
	h, ok := a.hash[name]
	if !ok {
		panic("web: unknown asset " + name)
	}
	return "/assets/" + name + "?v=" + h
}

var startTime = time.Now()

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := path.Clean(strings.TrimPrefix(r.URL.Path, "/assets/"))
	b, ok := a.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch {
	case strings.HasSuffix(name, ".map"):
		ct = "application/json"
	case strings.HasSuffix(name, "LICENSE"):
		ct = "text/plain; charset=utf-8"
	case ct == "":
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if v := r.URL.Query().Get("v"); v != "" && v == a.hash[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+a.hash[name]+`"`)
	http.ServeContent(w, r, name, startTime, bytes.NewReader(b))
}
