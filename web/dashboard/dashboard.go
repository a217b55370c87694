// Package dashboard serves the reference dashboard (考核指标驾驶舱): a page
// built from npm (ui/dashboard: Apache ECharts, write-excel-file) into
// dist/ and embedded here, so it loads nothing from outside the hub. It
// reads the hub only through the public GraphQL API with the viewer's key.
// Rebuild dist/ with `npm --prefix ui ci && npm --prefix ui run build`.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Prefix is the path the page is served at; its assets lie beneath it.
const Prefix = "/dashboard/"

// Handler serves the page (no-cache, revalidated by ETag) and its
// content-hashed assets (cached for a year).
type Handler struct {
	files map[string]*file // by URL path
}

type file struct {
	body              []byte
	contentType, etag string
	cache             string
}

// New loads the embedded bundle.
func New() (*Handler, error) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("dashboard bundle: %w", err)
	}
	h := &Handler{files: map[string]*file{}}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &file{body: body, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: "no-cache"}
		urlPath := Prefix + p
		if p == "index.html" {
			urlPath = Prefix
		} else if strings.HasPrefix(p, "assets/") && path.Ext(p) != ".md" {
			f.cache = "public, max-age=31536000, immutable"
		}
		h.files[urlPath] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard bundle: %w", err)
	}
	if h.files[Prefix] == nil {
		return nil, fmt.Errorf("dashboard bundle: dist/index.html missing (build ui/)")
	}
	return h, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	default: // LICENSES.md
		return "text/plain; charset=utf-8"
	}
}

// ServeHTTP answers GET and HEAD for the page and its assets; /dashboard
// redirects to the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		target := Prefix
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	}
	f := h.files[r.URL.Path]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", f.cache)
	hd.Set("ETag", f.etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	if f.contentType == "text/html; charset=utf-8" {
		// Its own scripts and styles (ECharts styles elements inline), the
		// hub's API, and blob: for the Excel download.
		hd.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
