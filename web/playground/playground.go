// Package playground serves the hub's GraphiQL page: a build of GraphiQL
// and its plugins from npm (ui/, built into dist/ and embedded here), so the
// page loads nothing from outside the hub and works on networks with no
// internet. Rebuild dist/ with `npm --prefix ui ci && npm --prefix ui run build`.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// AssetPrefix is the path under which the bundle's files are served; the
// page itself is served at "/".
const AssetPrefix = "/playground/"

// Handler serves the page (no-cache: revalidated by ETag, so a new hub
// version shows at once) and the content-hashed assets beneath AssetPrefix
// (cached for a year). Assets are gzipped once, on first request, for
// clients that accept it.
type Handler struct {
	files map[string]*file // by URL path
}

type file struct {
	body        []byte
	contentType string
	cache       string
	etag        string

	once sync.Once
	gz   []byte // nil when compression does not pay
}

// New loads the embedded bundle.
func New() (*Handler, error) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("playground bundle: %w", err)
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
		f := &file{body: body, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		urlPath := "/" + p
		switch {
		case p == "index.html":
			urlPath = "/"
			f.cache = "no-cache"
		case strings.HasPrefix(urlPath, AssetPrefix) && path.Ext(p) != ".md":
			f.cache = "public, max-age=31536000, immutable"
		default:
			f.cache = "no-cache"
		}
		h.files[urlPath] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("playground bundle: %w", err)
	}
	if h.files["/"] == nil {
		return nil, fmt.Errorf("playground bundle: dist/index.html missing (build ui/)")
	}
	return h, nil
}

// Paths lists the URL paths served, the page's first.
func (h *Handler) Paths() []string {
	out := []string{"/"}
	for p := range h.files {
		if p != "/" {
			out = append(out, p)
		}
	}
	sort.Strings(out[1:])
	return out
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
	case ".woff2":
		return "font/woff2"
	case ".json":
		return "application/json"
	default: // LICENSES.md and other text
		return "text/plain; charset=utf-8"
	}
}

// ServeHTTP answers GET and HEAD for the page and its assets.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	hd.Add("Vary", "Accept-Encoding")
	if f.contentType == "text/html; charset=utf-8" {
		// The page loads only its own scripts and styles and talks only to
		// this hub (HTTP and websocket).
		hd.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
		hd.Set("Referrer-Policy", "no-referrer")
	}
	body := f.body
	if acceptsGzip(r) {
		if gz := f.gzipped(); gz != nil {
			hd.Set("Content-Encoding", "gzip")
			hd.Set("ETag", f.etag[:len(f.etag)-1]+`-gz"`)
			body = gz
		}
	}
	// ServeContent answers If-None-Match with 304, and Range requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (f *file) gzipped() []byte {
	f.once.Do(func() {
		if len(f.body) < 1024 {
			return
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		if zw.Close() == nil && b.Len() < len(f.body)*9/10 {
			f.gz = b.Bytes()
		}
	})
	return f.gz
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
