package connectors_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/citymgmt/csvdrop"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/party"
)

func TestExampleConfigIsValid(t *testing.T) {
	env := map[string]string{"PARTY_DSN": "postgres://x", "GOVERNANCE_SECRET": "s"}
	c, err := connectors.LoadConfig("../sources.example.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 4 {
		t.Fatalf("%d sources", len(c.Sources))
	}
	gov := c.Sources[1]
	gs, ok := gov.Settings.(*governance.Settings)
	if gov.Type != "governance" || !ok || gs.Datum != canon.BD09 || time.Duration(gov.Interval) != 15*time.Second ||
		gs.ClientSecret != "s" || gs.RateLimit != 20 {
		t.Fatalf("governance = %+v %+v", gov, gs)
	}
	if ps := c.Sources[0].Settings.(*party.Settings); ps.DSN != "postgres://x" {
		t.Fatalf("party DSN %q, want the value of PARTY_DSN", ps.DSN)
	}
	if gov.Optional || !c.Sources[3].Optional {
		t.Fatalf("optional: governance %v, archive %v; want required and optional", gov.Optional, c.Sources[3].Optional)
	}
}

func TestConfigErrorsAreAllReported(t *testing.T) {
	raw := `
sources:
  - name: Party
    type: party
    dsn_env: MISSING_DSN
  - name: gov
    type: governance
    interval: soon
`
	_, err := connectors.ParseConfig([]byte(raw), func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "soon") {
		t.Fatalf("err = %v", err)
	}
	raw = `
sources:
  - name: Party
    type: party
    dsn_env: MISSING_DSN
  - name: gov
    type: governance
    datum: MARS
  - name: gov
    type: ftp
`
	_, err = connectors.ParseConfig([]byte(raw), func(string) string { return "" })
	for _, want := range []string{"name must be", "MISSING_DSN, which is not set", "endpoint and client_id", "name used twice", `type "ftp"`, `datum "MARS"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error should mention %q: %v", want, err)
		}
	}
	_, err = connectors.ParseConfig([]byte("sources:\n  - name: a\n    type: party\n    password: inline\n"), os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("unknown (inline secret) field accepted: %v", err)
	}
}

func TestOpen311PagingAndFormat(t *testing.T) {
	tests := []struct {
		name, extra string
		paging      string
		err         string
	}{
		{name: "defaults", paging: "auto"},
		{name: "window with overlap", extra: "    paging: window\n    overlap: 2h\n", paging: "window"},
		{name: "extension, format auto", extra: "    paging: extension\n    format: auto\n", paging: "extension"},
		{name: "unknown paging", extra: "    paging: cursor\n", err: "paging must be auto, extension or window"},
		{name: "unknown format", extra: "    format: csv\n", err: "format must be json, xml or auto"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "sources:\n  - name: citymgmt\n    type: open311\n    endpoint: http://x/open311/v2\n" + tc.extra
			c, err := connectors.ParseConfig([]byte(raw), os.Getenv)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := c.Sources[0].Settings.(*citymgmt.Settings); s.Paging != tc.paging || s.Datum != canon.GCJ02 {
				t.Fatalf("paging %q datum %q, want %q GCJ02", s.Paging, s.Datum, tc.paging)
			}
		})
	}
}

func TestBackfills(t *testing.T) {
	const live = "sources:\n  - name: citymgmt\n    type: open311\n    endpoint: http://x/open311/v2\n"
	const archive = "  - name: archive\n    type: csvdrop\n    dir: /tmp/x\n"
	for _, tc := range []struct{ name, raw, err string }{
		{"the export backfills the Open311 source", live + archive + "    backfills: citymgmt\n", ""},
		{"an unknown source", live + archive + "    backfills: citymgm\n", `backfills names "citymgm", which is not an open311 source`},
		{"not an Open311 source", live + archive + "    backfills: archive\n", `backfills names "archive", which is not an open311 source`},
		{"on another type", live + "    backfills: citymgmt\n" + archive, "source 1 (citymgmt): line 5: field backfills is not a setting of open311 sources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := connectors.ParseConfig([]byte(tc.raw), os.Getenv)
			if tc.err == "" {
				if err != nil || c.Sources[1].Settings.(*csvdrop.Settings).Backfills != "citymgmt" {
					t.Fatalf("err %v, config %+v", err, c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestUnknownFieldsAreRefusedPerType: each connector type accepts its own
// fields only; a field of another type is refused with the source, the
// line and the fields the type has.
func TestUnknownFieldsAreRefusedPerType(t *testing.T) {
	raw := "sources:\n  - name: party\n    type: party\n    dsn_env: X\n    endpoint: http://x\n" +
		"  - name: archive\n    type: csvdrop\n    dir: /tmp\n    rate_limit: 5\n"
	_, err := connectors.ParseConfig([]byte(raw), func(string) string { return "postgres://x" })
	for _, want := range []string{
		"source 1 (party): line 5: field endpoint is not a setting of party sources (their fields: name, type, description, interval, optional, dsn_env, datum)",
		"source 2 (archive): line 9: field rate_limit is not a setting of csvdrop sources",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error should contain %q: %v", want, err)
		}
	}
}

// fakeSettings are the settings of a connector type registered by the
// test, as a connector package outside this tree would.
type fakeSettings struct {
	URL    string `yaml:"url"`
	Tenant string `yaml:"tenant"`
}

func (s *fakeSettings) Check(func(string) string) error {
	if s.URL == "" {
		return errors.New("url is required")
	}
	if s.Tenant == "" {
		s.Tenant = "default"
	}
	return nil
}

// The test's type registers itself as a connector package does.
func init() {
	connectors.Register("fake", func(_ context.Context, src connectors.Source, s *fakeSettings, _ connectors.Deps) (connectors.Connector, error) {
		return fakeConnector{name: src.Name, url: s.URL, tenant: s.Tenant}, nil
	})
}

type fakeConnector struct {
	connectors.Connector
	name, url, tenant string
}

// TestRegisteredTypeIsConfiguredAndBuilt: a type registered with
// connectors.Register is accepted by the sources file with its own fields
// (checked and defaulted by its settings) and built by its constructor;
// nothing else names it.
func TestRegisteredTypeIsConfiguredAndBuilt(t *testing.T) {
	if !slices.Contains(connectors.Types(), "fake") {
		t.Fatalf("types %v", connectors.Types())
	}
	c, err := connectors.ParseConfig([]byte("sources:\n  - name: f\n    type: fake\n    url: http://f\n"), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	x, err := connectors.New(context.Background(), c.Sources[0], connectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if f := x.(fakeConnector); f.name != "f" || f.url != "http://f" || f.tenant != "default" {
		t.Fatalf("built %+v", f)
	}
	_, err = connectors.ParseConfig([]byte("sources:\n  - name: f\n    type: fake\n    endpoint: http://f\n"), os.Getenv)
	if err == nil || !strings.Contains(err.Error(), "field endpoint is not a setting of fake sources (their fields: name, type, description, interval, optional, url, tenant)") ||
		!strings.Contains(err.Error(), "url is required") {
		t.Fatalf("err = %v", err)
	}
}
