// Package dashboard serves the reference dashboard (考核指标驾驶舱): a page
// built from npm (ui/dashboard: Apache ECharts, write-excel-file) into
// dist/ and embedded here, so it loads nothing from outside the hub. It
// reads the hub only through the public GraphQL API with the viewer's key.
// Rebuild dist/ with `npm --prefix ui ci && npm --prefix ui run build`.
package dashboard

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/ywtg/hub/web/bundle"
)

//go:embed all:dist
var dist embed.FS

// Prefix is the path the page is served at; its assets lie beneath it.
const Prefix = "/dashboard/"

// New loads the embedded bundle: the page at Prefix (Prefix without its
// slash redirects there) and its content-hashed assets beneath it.
func New() (*bundle.Handler, error) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("dashboard bundle: %w", err)
	}
	return bundle.New(bundle.Options{
		Name: "dashboard bundle", Files: root, Mount: Prefix, Immutable: Prefix + "assets/",
		// Its own scripts and styles (ECharts styles elements inline), the
		// hub's API, and blob: for the Excel download.
		CSP: "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
	})
}
