package governance

import (
	"context"
	"errors"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
)

// Type is the `type:` of a grid-governance REST API source.
const Type = "governance"

func init() { connectors.Register(Type, build) }

// Settings are a governance source's own fields.
type Settings struct {
	// Endpoint is the API's base URL.
	Endpoint string `yaml:"endpoint"`
	// ClientID and ClientSecretEnv are the token API's credentials; the
	// secret is ClientSecretEnv's value, or set in code.
	ClientID        string `yaml:"client_id"`
	ClientSecretEnv string `yaml:"client_secret_env"`
	ClientSecret    string `yaml:"-"`
	// Datum of the API's coordinates (default BD09).
	Datum canon.Datum `yaml:"datum"`
	// RateLimit caps requests per second (default 10).
	RateLimit float64 `yaml:"rate_limit"`
	// Timeout bounds one request (default 30s).
	Timeout connectors.Duration `yaml:"timeout"`
}

// Check implements connectors.Settings.
func (s *Settings) Check(getenv func(string) string) error {
	var errs []error
	if s.Endpoint == "" || s.ClientID == "" {
		errs = append(errs, errors.New("endpoint and client_id are required"))
	}
	errs = append(errs, connectors.Secret("client_secret_env", s.ClientSecretEnv, &s.ClientSecret, getenv), connectors.CheckDatum(&s.Datum, canon.BD09))
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
	m := &Mapper{Source: src.Name, Keys: d.Keys, Layer: d.Layer, Addresses: d.Addresses, Times: d.Times, Now: d.Now, Datum: s.Datum}
	return New(Config{Name: src.Name, Description: src.Description, Endpoint: s.Endpoint, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		RateLimit: s.RateLimit, Timeout: time.Duration(s.Timeout), Log: d.Log, Mapper: m}), nil
}
