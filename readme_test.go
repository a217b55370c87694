package main

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
)

// readmeExamples are the GraphQL operations README.md shows: every
// ```graphql block, and the address of its standardizeAddress example.
func readmeExamples(t *testing.T) (ops []string, addr string) {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(raw), -1) {
		ops = append(ops, m[1])
	}
	m := regexp.MustCompile(`standardizeAddress\(raw: "([^"]+)"\)`).FindStringSubmatch(string(raw))
	if len(ops) == 0 || m == nil {
		t.Fatalf("README.md has %d graphql blocks and address example %v", len(ops), m)
	}
	return ops, m[1]
}

// demoCity syncs the small demo city (seed 1) into a fresh store the way
// a deployment does — `hub sync` over a sources file naming the simulated
// systems — and serves it to an administrator.
func demoCity(t *testing.T) (*graphtest.Server, *store.Store) {
	t.Helper()
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	st, _ := syncDemo(t, master)
	keys, err := pii.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	dir := address.NewDirectory(st, time.Hour, slog.New(slog.DiscardHandler))
	srv := graphtest.NewWith(t, graph.Config{Store: st, PII: keys, Addresses: dir})
	srv.As(&auth.Principal{ID: "key:1", Role: auth.Admin, Scopes: []string{"pii:read"}})
	return srv, st
}

// TestReadmeExamplesRun runs every GraphQL example of README.md against
// the demo city: none may fail, none may come back empty, and the address
// example must resolve to the building it names.
func TestReadmeExamplesRun(t *testing.T) {
	t.Parallel()
	ops, addr := readmeExamples(t)
	srv, _ := demoCity(t)
	for i, op := range ops {
		r := srv.Do(t, op, nil)
		if len(r.Errors) > 0 || r.Status != 200 {
			t.Errorf("README example %d answered %d with errors %+v:\n%s", i+1, r.Status, r.Errors, op)
			continue
		}
		var data map[string]any
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		for field, v := range data {
			if conn, ok := v.(map[string]any); ok {
				if n, ok := conn["totalCount"].(float64); ok && n == 0 {
					t.Errorf("README example %d: %s is empty in the demo city:\n%s", i+1, field, op)
				}
			}
		}
	}
	var d struct {
		StandardizeAddress struct {
			Confidence float64
			Components struct{ District, Community, Compound, Building, Unit, Room *string }
			District   *struct{ Name string }
			Community  *struct{ Name string }
			Building   *struct {
				Compound, Number string
			}
		}
	}
	srv.MustData(t, `query($raw: String!) { standardizeAddress(raw: $raw) { confidence
		components { district community compound building unit room }
		district { name } community { name } building { compound number } } }`, map[string]any{"raw": addr}, &d)
	a := d.StandardizeAddress
	if a.Building == nil || a.Components.Compound == nil || a.Components.Building == nil ||
		a.Building.Compound != *a.Components.Compound || a.Building.Number != *a.Components.Building || a.Confidence < 0.9 {
		t.Fatalf("README address %q: matched %+v at confidence %.2f, components %+v", addr, a.Building, a.Confidence, a.Components)
	}
	// The error codes a client meets for a broken document are listed.
	raw, _ := os.ReadFile("README.md")
	for doc, want := range map[string]string{"{ cases { totalCount ": "GRAPHQL_PARSE_FAILED", "{ nope }": "GRAPHQL_VALIDATION_FAILED"} {
		r := srv.Do(t, doc, nil)
		if len(r.Errors) == 0 || r.Errors[0].Code() != want {
			t.Errorf("%q: errors %+v, want %s", doc, r.Errors, want)
		} else if !strings.Contains(string(raw), "`"+want+"`") {
			t.Errorf("README.md does not list the error code %s", want)
		}
	}
	if a.Components.District == nil || a.District == nil || a.District.Name != *a.Components.District ||
		a.Components.Community == nil || a.Community == nil || a.Community.Name != *a.Components.Community {
		t.Fatalf("README address %q: district %+v, community %+v, components %+v", addr, a.District, a.Community, a.Components)
	}
}
