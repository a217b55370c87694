package csvdrop

import (
	"context"
	"errors"
	"fmt"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
)

// Type is the `type:` of a directory of GBK CSV exports.
const Type = "csvdrop"

func init() { connectors.Register(Type, build) }

// Settings are a csvdrop source's own fields.
type Settings struct {
	// Dir is the drop directory.
	Dir string `yaml:"dir"`
	// Datum of 经度/纬度 (default GCJ02).
	Datum canon.Datum `yaml:"datum"`
	// Backfills names the open311 source of the same system: the export's
	// cases fill in that source's history and never overwrite what it
	// delivered. Unset: the export is a source of its own.
	Backfills string `yaml:"backfills"`
}

// Check implements connectors.Settings.
func (s *Settings) Check(func(string) string) error {
	var errs []error
	if s.Dir == "" {
		errs = append(errs, errors.New("dir is required"))
	}
	errs = append(errs, connectors.CheckDatum(&s.Datum, canon.GCJ02))
	return errors.Join(errs...)
}

// CheckAgainst implements connectors.CrossChecker: Backfills names an
// open311 source of the configuration.
func (s *Settings) CheckAgainst(sources []connectors.Source) error {
	if s.Backfills == "" {
		return nil
	}
	for _, o := range sources {
		if o.Name == s.Backfills && o.Type == citymgmt.Type {
			return nil
		}
	}
	return fmt.Errorf("backfills names %q, which is not an open311 source of this configuration", s.Backfills)
}

func build(_ context.Context, src connectors.Source, s *Settings, d connectors.Deps) (connectors.Connector, error) {
	return New(Config{Name: src.Name, Description: src.Description, Dir: s.Dir, Datum: s.Datum, Layer: d.Layer, Addresses: d.Addresses,
		Backfills: s.Backfills, Times: d.Times, Now: d.Now, Log: d.Log}), nil
}
