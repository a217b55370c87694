// Package playground serves the hub's GraphiQL page: a build of GraphiQL
// and its plugins from npm (ui/, built into dist/ and embedded here), so the
// page loads nothing from outside the hub and works on networks with no
// internet. Rebuild dist/ with `npm --prefix ui ci && npm --prefix ui run build`.
package playground

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/ywtg/hub/web/bundle"
)

//go:embed all:dist
var dist embed.FS

// AssetPrefix is the path under which the bundle's files are served; the
// page itself is served at "/".
const AssetPrefix = "/playground/"

// New loads the embedded bundle: the page at "/" and its content-hashed
// assets beneath AssetPrefix.
func New() (*bundle.Handler, error) {
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("playground bundle: %w", err)
	}
	return bundle.New(bundle.Options{
		Name: "playground bundle", Files: root, Mount: "/", Immutable: AssetPrefix,
		// The page loads only its own scripts and styles and talks only to
		// this hub (HTTP and websocket).
		CSP: "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
	})
}
