package playground_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/ywtg/hub/web/playground"
)

func get(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := playground.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

var (
	assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	// A reference to something outside the hub: src/href attributes and
	// properties (elements made in code, links), CSS url() and @import, and
	// module imports of absolute URLs.
	outside = regexp.MustCompile(`(?i)(?:\b(?:src|href)\s*[=:]\s*["'` + "`" + `]?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)|(?:\bimport\s*\(?\s*["'` + "`" + `](?:https?:)?//)`)
)

// TestPageLoadsOnlyItsOwnAssets proves the page works with no network: every
// script and stylesheet it names is served by the hub with its content type
// and a long cache lifetime, and nothing served points the browser outside.
func TestPageLoadsOnlyItsOwnAssets(t *testing.T) {
	srv := newServer(t)
	resp, page := get(t, srv, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("page Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control = %q", cc)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("page CSP = %q", csp)
	}
	refs := assetRef.FindAllSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("page names %d assets, want a script and a stylesheet:\n%s", len(refs), page)
	}
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	seen := map[string]bool{}
	for _, m := range refs {
		// Relative, so that the page works under a proxy's path prefix.
		if !strings.HasPrefix(string(m[1]), "./") {
			t.Errorf("asset %s is not relative to the page", m[1])
		}
		p := path.Join("/", string(m[1]))
		if !strings.HasPrefix(p, playground.AssetPrefix) {
			t.Errorf("asset %s outside %s", p, playground.AssetPrefix)
			continue
		}
		resp, body := get(t, srv, p)
		ext := p[strings.LastIndex(p, "."):]
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want[ext] {
			t.Errorf("GET %s = %d %q", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s Cache-Control = %q", p, cc)
		}
		if len(body) == 0 {
			t.Errorf("GET %s is empty", p)
		}
		seen[ext] = true
	}
	if !seen[".js"] || !seen[".css"] {
		t.Errorf("page lacks a script or a stylesheet: %v", seen)
	}
	for _, bad := range []string{"<script src=\"https://cdn.example/x.js\">", `{src:"//cdn.example/a.png"}`, "{href:`https://project.example`}", "<link href=\x27http://cdn.example/a.css\x27>", "src:`http://x`", `url( 'https://fonts.example/f.woff2')`, `@import "x.css"`, `import("https://esm.example/m.js")`} {
		if !outside.MatchString(bad) {
			t.Fatalf("the outside-reference check misses %s", bad)
		}
	}
	h, err := playground.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range h.Paths() {
		_, body := get(t, srv, p)
		if loc := outside.FindIndex(body); loc != nil {
			from := max(loc[0]-80, 0)
			t.Errorf("%s points outside the hub: …%s…", p, body[from:min(loc[1]+80, len(body))])
		}
	}
}

// TestLicencesShipWithTheBundle checks the generated licence file is served
// and names the main packages bundled.
func TestLicencesShipWithTheBundle(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv, playground.AssetPrefix+"LICENSES.md")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("LICENSES.md = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, pkg := range []string{"## graphiql ", "## react ", "## react-dom ", "## graphql ", "## codemirror "} {
		if !bytes.Contains(body, []byte(pkg)) {
			t.Errorf("LICENSES.md lacks %q", pkg)
		}
	}
}

func TestGzipAndRevalidation(t *testing.T) {
	srv := newServer(t)
	_, page := get(t, srv, "/")
	js := path.Join("/", string(assetRef.FindSubmatch(page)[1]))
	_, plain := get(t, srv, js)
	resp, zipped := get(t, srv, js, "Accept-Encoding", "br, gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || len(zipped) >= len(plain) {
		t.Fatalf("gzip: encoding %q, %d bytes of %d", resp.Header.Get("Content-Encoding"), len(zipped), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain) {
		t.Fatalf("gunzipped asset differs (err %v)", err)
	}
	if resp, _ := get(t, srv, js, "Accept-Encoding", "gzip;q=0"); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got %q", resp.Header.Get("Content-Encoding"))
	}

	resp, _ = get(t, srv, "/")
	etag := resp.Header.Get("ETag")
	if resp, body := get(t, srv, "/", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("revalidation = %d with %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, srv, playground.AssetPrefix+"nope.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset = %d", resp.StatusCode)
	}
}
