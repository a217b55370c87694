package citymgmt

import (
	"context"
	"errors"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
)

// Type is the `type:` of an Open311 GeoReport v2 source.
const Type = "open311"

func init() { connectors.Register(Type, build) }

// Settings are an Open311 source's own fields.
type Settings struct {
	// Endpoint is the base URL ending in /open311/v2.
	Endpoint string `yaml:"endpoint"`
	// Format: json (default), xml or auto (asks services.json once and
	// falls back to XML, the spec's mandatory format).
	Format string `yaml:"format"`
	// Paging: extension (updated_after/after_id), window
	// (start_date/end_date, any GeoReport v2 endpoint) or auto (default:
	// probe once whether updated_after is honoured).
	Paging string `yaml:"paging"`
	// Overlap re-read by window paging once caught up (default 24h).
	Overlap connectors.Duration `yaml:"overlap"`
	// Datum of the published coordinates (default GCJ02).
	Datum canon.Datum `yaml:"datum"`
	// RateLimit caps requests per second (default 10).
	RateLimit float64 `yaml:"rate_limit"`
	// Timeout bounds one request (default 30s).
	Timeout connectors.Duration `yaml:"timeout"`
}

// Check implements connectors.Settings.
func (s *Settings) Check(func(string) string) error {
	var errs []error
	if s.Endpoint == "" {
		errs = append(errs, errors.New("endpoint is required"))
	}
	if s.Format == "" {
		s.Format = "json"
	}
	if s.Format != "json" && s.Format != "xml" && s.Format != "auto" {
		errs = append(errs, errors.New("format must be json, xml or auto"))
	}
	if s.Paging == "" {
		s.Paging = PagingAuto
	}
	if s.Paging != PagingAuto && s.Paging != PagingExtension && s.Paging != PagingWindow {
		errs = append(errs, errors.New("paging must be auto, extension or window"))
	}
	if s.Overlap < 0 {
		errs = append(errs, errors.New("overlap must not be negative"))
	}
	errs = append(errs, connectors.CheckDatum(&s.Datum, canon.GCJ02))
	if s.RateLimit == 0 {
		s.RateLimit = 10
	}
	if s.RateLimit < 0 {
		errs = append(errs, errors.New("rate_limit must be positive"))
	}
	if s.Timeout == 0 {
		s.Timeout = connectors.Duration(30 * time.Second)
	}
	return errors.Join(errs...)
}

func build(_ context.Context, src connectors.Source, s *Settings, d connectors.Deps) (connectors.Connector, error) {
	return New(Config{Name: src.Name, Description: src.Description, Keys: d.Keys, Endpoint: s.Endpoint, Format: s.Format, Paging: s.Paging,
		Overlap: time.Duration(s.Overlap), Datum: s.Datum, RateLimit: s.RateLimit, Timeout: time.Duration(s.Timeout),
		Log: d.Log, Layer: d.Layer, Addresses: d.Addresses, Times: d.Times, Now: d.Now}), nil
}
