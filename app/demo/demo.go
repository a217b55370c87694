// Package demo is the hub's demo source set: the connectors configured for
// the simulated source systems (package sim) as a demo hub syncs them — the
// party database, the governance API, the Open311 endpoint and the CSV
// export that backfills it. The hub, bench/sync and the tests that sync the
// simulated city take the set from here, so that they sync what a demo hub
// syncs.
package demo

import (
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/citymgmt/csvdrop"
	"github.com/ywtg/hub/connectors/governance"
	"github.com/ywtg/hub/connectors/party"
	"github.com/ywtg/hub/sim"
)

// Sources configures the four demo sources for the running systems sys,
// each synced every interval, and checks the configuration as a sources
// file is checked (defaults applied).
func Sources(sys *sim.Systems, every time.Duration) (*connectors.Config, error) {
	iv, timeout := connectors.Duration(every), connectors.Duration(30*time.Second)
	c := &connectors.Config{Sources: []connectors.Source{{
		Name: "party", Type: party.Type, Description: "党建信息系统（演示）", Interval: iv,
		Settings: &party.Settings{DSN: sys.PartyDSN, Datum: canon.BD09},
	}, {
		Name: "governance", Type: governance.Type, Description: "综治网格化服务管理平台（演示）", Interval: iv,
		Settings: &governance.Settings{Endpoint: sys.GovURL, ClientID: sys.ClientID, ClientSecret: sys.ClientSecret, Datum: canon.BD09,
			RateLimit: 50, Timeout: timeout},
	}, {
		Name: "citymgmt", Type: citymgmt.Type, Description: "数字化城市管理信息系统（演示）", Interval: iv,
		Settings: &citymgmt.Settings{Endpoint: sys.Open311URL + "/open311/v2", Format: "json", Paging: citymgmt.PagingAuto, Datum: canon.GCJ02,
			RateLimit: 50, Timeout: timeout},
	}, {
		// The export fills in the Open311 source's history: a case both
		// channels describe is stored once, as Open311 has it
		// (docs/sources.md).
		Name: "citymgmt-archive", Type: csvdrop.Type, Description: "数字城管历史案件导出（演示）", Interval: iv,
		Settings: &csvdrop.Settings{Dir: sys.CSVDir, Datum: canon.GCJ02, Backfills: "citymgmt"},
	}}}
	if err := c.Check(nil); err != nil {
		return nil, err
	}
	return c, nil
}
