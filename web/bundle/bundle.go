// Package bundle serves a web page built from npm at development time and
// embedded in the binary (the GraphiQL playground, the dashboard): the
// page itself, revalidated by ETag so a new hub version shows at once, and
// its content-hashed assets, cached for a year. Nothing is loaded from
// outside the hub, so the pages work on networks with no internet.
//
// bundle imports nothing of the hub.
package bundle

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
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

// Options describe a bundle.
type Options struct {
	Name string // for errors: "playground bundle: …"
	// Files is the build output: index.html and what it loads.
	Files fs.FS
	// Mount is the URL path of the page, ending in "/"; every file is
	// served beneath it at its path in Files.
	Mount string
	// Immutable is the URL path prefix of the content-hashed assets, which
	// are cached for a year (licence texts excepted).
	Immutable string
	// CSP is the page's Content-Security-Policy.
	CSP string
}

// Handler serves a bundle. Files over 1 KiB are gzipped once, on first
// request, for clients that accept it.
type Handler struct {
	mount string
	csp   string
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

// New loads a bundle; it fails when the build output has no index.html.
func New(o Options) (*Handler, error) {
	if !strings.HasSuffix(o.Mount, "/") {
		return nil, fmt.Errorf("%s: mount %q must end in /", o.Name, o.Mount)
	}
	h := &Handler{mount: o.Mount, csp: o.CSP, files: map[string]*file{}}
	err := fs.WalkDir(o.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(o.Files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &file{body: body, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: "no-cache"}
		urlPath := o.Mount + p
		switch {
		case p == "index.html":
			urlPath = o.Mount
		case strings.HasPrefix(urlPath, o.Immutable) && path.Ext(p) != ".md":
			f.cache = "public, max-age=31536000, immutable"
		}
		h.files[urlPath] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Name, err)
	}
	if h.files[o.Mount] == nil {
		return nil, fmt.Errorf("%s: index.html missing (build ui/)", o.Name)
	}
	return h, nil
}

// Paths lists the URL paths served, the page's first.
func (h *Handler) Paths() []string {
	out := []string{h.mount}
	for p := range h.files {
		if p != h.mount {
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

// ServeHTTP answers GET and HEAD for the page and its files; the mount
// without its slash redirects to the page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.mount != "/" && r.URL.Path == strings.TrimSuffix(h.mount, "/") {
		target := h.mount
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
	hd.Add("Vary", "Accept-Encoding")
	if f.contentType == "text/html; charset=utf-8" {
		hd.Set("Content-Security-Policy", h.csp)
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
