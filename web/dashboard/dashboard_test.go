package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ywtg/hub/web/dashboard"
)

// The embedded page and every asset it names are served, and nothing of it
// points outside the hub.
func TestPageAndAssets(t *testing.T) {
	h, err := dashboard.New()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(p string) (*http.Response, string) {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, page := get("/dashboard/")
	if res.StatusCode != 200 || !strings.Contains(page, "考核指标驾驶舱") || res.Header.Get("Cache-Control") != "no-cache" ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("page: %d %v", res.StatusCode, res.Header)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/dashboard/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(assets) < 2 {
		t.Fatalf("page names %d assets", len(assets))
	}
	for _, a := range assets {
		res, body := get(a[1])
		if res.StatusCode != 200 || len(body) == 0 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, %d bytes, %q", a[1], res.StatusCode, len(body), res.Header.Get("Cache-Control"))
		}
		if m := regexp.MustCompile(`https?://[a-z0-9.-]+\.(?:com|net|org|cn|io)/[^"' ]*\.(?:js|css|json)`).FindString(body); m != "" {
			t.Errorf("%s loads %s from outside the hub", a[1], m)
		}
	}
	if res, _ := get("/dashboard/assets/LICENSES.md"); res.StatusCode != 200 {
		t.Errorf("licences: %d", res.StatusCode)
	}
	res, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(srv.URL + "/dashboard?region=420606")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/dashboard/?region=420606" {
		t.Errorf("redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get("/dashboard/nope.js"); res.StatusCode != 404 {
		t.Errorf("unknown asset: %d", res.StatusCode)
	}
}
