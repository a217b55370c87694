package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

func TestTrustedDocumentsAndIntrospection(t *testing.T) {
	dir := t.TempDir()
	doc := "{ sources { name } }"
	os.WriteFile(filepath.Join(dir, "sources.graphql"), []byte(doc), 0o644)
	docs, err := graph.LoadTrustedDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	srv := graphtest.NewWith(t, graph.Config{Store: st, Trusted: docs, IntrospectionRoles: []auth.Role{auth.Admin}})
	srv.As(&auth.Principal{ID: "key:5", Role: auth.Partner, Scopes: []string{"regions:read"}})

	if r := srv.Do(t, doc, nil); len(r.Errors) > 0 {
		t.Fatalf("registered text refused: %+v", r.Errors)
	}
	if r := srv.Do(t, "{ regions { totalCount } }", nil); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("unregistered operation: %+v", r.Errors)
	}
	sum := sha256.Sum256([]byte(doc))
	r := send(t, "POST", srv.URL, "application/json", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+hex.EncodeToString(sum[:])+`"}}}`)
	if r.status != 200 || r.body["data"] == nil {
		t.Fatalf("registered hash: %d %v", r.status, r.body)
	}
	// Administrators are not bound to the registry, and may introspect.
	srv.As(&auth.Principal{ID: "key:1", Role: auth.Admin})
	if r := srv.Do(t, "{ __schema { queryType { name } } }", nil); len(r.Errors) > 0 {
		t.Fatalf("admin introspection: %+v", r.Errors)
	}
	srv2 := graphtest.NewWith(t, graph.Config{Store: st, IntrospectionRoles: []auth.Role{auth.Admin}})
	srv2.As(&auth.Principal{ID: "key:5", Role: auth.Viewer})
	if r := srv2.Do(t, "{ __schema { queryType { name } } }", nil); len(r.Errors) == 0 {
		t.Fatal("viewer introspected")
	}
}
