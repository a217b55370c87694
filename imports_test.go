package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"path"
	"strings"
	"testing"
)

const module = "github.com/ywtg/hub"

// importRules are the layering rules of docs/design.md §2: for each package
// (or package tree, written with a trailing /...), the hub packages it may
// import. Dependencies point inward to the canonical model; only package
// main, the wiring (app) and the benchmarks, which put the parts
// together, import anything.
// A package the table does not name fails the test, so a new package
// states its place.
var importRules = map[string][]string{
	"canon":          nil,
	"datum":          {"canon"},
	"pii":            {"canon"},
	"embedpg":        nil,
	"address":        {"canon", "datum"},
	"connectors":     {"canon", "pii", "address"},
	"connectors/...": {"canon", "datum", "pii", "address", "connectors", "connectors/..."},
	"store":          {"canon"},
	"syncer":         {"canon", "connectors", "store"},
	"resolve":        {"canon", "store", "address", "pii"},
	"partner":        {"canon", "store", "auth"},
	"auth":           {"canon"},
	"graph":          {"canon", "store", "auth", "pii", "address", "datum", "resolve"},
	"graph/...":      {"canon", "store", "graph/model"},
	"web":            nil,
	"web/...":        {"web/bundle"},
	"sim":            {"sim/..."},
	"sim/...":        {"canon", "datum", "pii", "sim/..."},
	"bench/...":      {"..."},
	"app":            {"..."}, // the wiring: builds the hub from its configuration
	"app/demo":       {"canon", "connectors", "connectors/...", "sim", "sim/..."},
	"":               {"..."}, // package main

	// Test support follows the package it supports and may start the
	// simulators and databases the tests run against.
	"dbtest":                   {"embedpg", "store"},
	"store/storetest":          {"canon", "pii", "store"},
	"graph/graphtest":          {"canon", "store", "auth", "graph", "graph/..."},
	"connectors/connectortest": {"canon", "connectors", "connectors/...", "sim", "sim/..."},
}

// TestImportRules lists every package's imports with go list and fails on
// an import the rules above do not allow.
func TestImportRules(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := rel(fields[0])
		allowed, ok := rulesFor(pkg)
		if !ok {
			t.Errorf("package %q has no import rule: add it to importRules and docs/design.md §2", pkg)
			continue
		}
		n++
		for _, imp := range fields[1:] {
			if imp != module && !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if dep := rel(imp); !allows(allowed, pkg, dep) {
				t.Errorf("%s imports %s, which its layer may not (allowed: %v)", show(pkg), show(dep), allowed)
			}
		}
	}
	if n < 20 {
		t.Fatalf("checked %d packages; go list printed:\n%s", n, out)
	}
}

// TestImportRulesCatchViolations makes sure the matcher refuses what the
// layering forbids, so that TestImportRules cannot pass by accepting all.
func TestImportRulesCatchViolations(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pkg, dep string
		ok       bool
	}{
		{"store", "canon", true},
		{"store", "address", false},
		{"graph", "connectors/citymgmt", false},
		{"connectors/citymgmt", "store", false},
		{"connectors/citymgmt", "connectors/normalize", true},
		{"sim/city", "connectors/places", false},
		{"sim/open311", "sim/city", true},
		{"web", "graph", false},
		{"graph/model", "store", true},
		{"graph/model", "graph", false},
		{"", "connectors/party", true},
		{"app", "graph", true},
		{"app/demo", "connectors/party", true},
		{"app/demo", "store", false},
		{"connectors", "connectors/places", true},
		{"connectors", "store", false},
		{"bench/api", "graph", true},
		{"canon", "pii", false},
	} {
		allowed, ok := rulesFor(c.pkg)
		if !ok {
			t.Fatalf("no rule for %q", c.pkg)
		}
		if got := allows(allowed, c.pkg, c.dep); got != c.ok {
			t.Errorf("%s → %s allowed = %v, want %v", show(c.pkg), show(c.dep), got, c.ok)
		}
	}
}

// rel is a package path relative to the module ("" for the module root).
func rel(p string) string {
	return strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
}

func show(p string) string {
	if p == "" {
		return "package main"
	}
	return p
}

// rulesFor finds the rule of pkg: its own entry, else the nearest enclosing
// tree's (connectors/citymgmt/csvdrop follows "connectors/...").
func rulesFor(pkg string) ([]string, bool) {
	if r, ok := importRules[pkg]; ok {
		return r, true
	}
	for d := path.Dir(pkg); d != "." && d != "/"; d = path.Dir(d) {
		if r, ok := importRules[d+"/..."]; ok {
			return r, true
		}
	}
	return nil, false
}

// allows reports whether a package with the given rule may import dep.
// Every package may import packages beneath itself (its own internals).
func allows(allowed []string, pkg, dep string) bool {
	if pkg != "" && strings.HasPrefix(dep, pkg+"/") {
		return true
	}
	for _, a := range allowed {
		switch {
		case a == "...":
			return true
		case strings.HasSuffix(a, "/..."):
			if strings.HasPrefix(dep, strings.TrimSuffix(a, "...")) {
				return true
			}
		case a == dep:
			return true
		}
	}
	return false
}
