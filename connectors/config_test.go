package connectors_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
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
	if gov.Type != "governance" || gov.Datum != canon.BD09 || time.Duration(gov.Interval) != 15*time.Second {
		t.Fatalf("governance = %+v", gov)
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
  - name: gov
    type: ftp
    datum: MARS
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
			if s := c.Sources[0]; s.Paging != tc.paging || s.Datum != canon.GCJ02 {
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
		{"on another type", live + "    backfills: citymgmt\n" + archive, "backfills applies to csvdrop sources only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := connectors.ParseConfig([]byte(tc.raw), os.Getenv)
			if tc.err == "" {
				if err != nil || c.Sources[1].Backfills != "citymgmt" {
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
