package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/app"
	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/store"
)

// apikeyCmd manages API keys: create, list, revoke. It works beside a
// running hub on the same data directory (it joins its embedded
// PostgreSQL) or on DATABASE_URL.
func apikeyCmd(ctx context.Context, e *env, args []string) error {
	const summary = "manage API keys: apikey create --role ROLE [--region CODE] [--scopes a,b] [--name NAME] [--expires DURATION] | apikey list | apikey revoke ID"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if _, err := e.flags("apikey", summary, args, nil); err != nil {
			return err
		}
		return fmt.Errorf("apikey needs a subcommand: create, list or revoke")
	}
	sub, args := args[0], args[1:]
	var role, region, scopes, name string
	var expires time.Duration
	fs, err := e.flags("apikey "+sub, summary, args, func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.StringVar(&role, "role", "", "role: admin, analyst, staff, partner or viewer (required)")
			fs.StringVar(&region, "region", "", "region code of the key's jurisdiction (required for staff)")
			fs.StringVar(&scopes, "scopes", "", "comma-separated scopes, e.g. cases:read,regions:read,pii:read")
			fs.StringVar(&name, "name", "", "who or what the key is for")
			fs.DurationVar(&expires, "expires", 0, "lifetime, e.g. 720h; 0 for no expiry")
		}
	})
	if err != nil {
		return err
	}
	st, _, closeDB, err := app.OpenStore(ctx, e.cfg, e.log)
	if err != nil {
		return err
	}
	defer closeDB()
	switch sub {
	case "create":
		r, err := auth.ParseRole(role)
		if err != nil || r == auth.None {
			return fmt.Errorf("--role: %v", err)
		}
		if r == auth.Staff && region == "" {
			return fmt.Errorf("--region is required for the staff role")
		}
		k := store.APIKey{Name: name, Role: string(r), Scopes: splitList(scopes)}
		// The key must pass what every request's principal passes.
		if err := auth.Validate(&auth.Principal{ID: "key:new", Role: r, RegionCode: region, Scopes: k.Scopes}); err != nil {
			return fmt.Errorf("apikey create: %w", err)
		}
		if region != "" {
			if _, err := st.RegionByCode(store.Unscoped(ctx), region); err != nil {
				return fmt.Errorf("--region %s: no such region in the loaded layer", region)
			}
			k.RegionCode = &region
		}
		if expires > 0 {
			t := time.Now().Add(expires)
			k.ExpiresAt = &t
		}
		key, hash, err := auth.NewKey()
		if err != nil {
			return err
		}
		k.Prefix = key[:len(auth.KeyPrefix)+6]
		id, err := st.CreateAPIKey(ctx, k, hash)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created API key %d (%s, role %s); it is shown only once:\n%s\n", id, k.Prefix, r, key)
		return nil
	case "list":
		keys, err := st.APIKeys(ctx)
		if err != nil {
			return err
		}
		rows := [][]string{{"ID", "PREFIX", "ROLE", "REGION", "SCOPES", "NAME", "CREATED", "EXPIRES", "STATE"}}
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked"
			} else if k.ExpiresAt != nil && k.ExpiresAt.Before(time.Now()) {
				state = "expired"
			}
			rows = append(rows, []string{strconv.FormatInt(k.ID, 10), k.Prefix + "…", k.Role, deref(k.RegionCode, "-"),
				strings.Join(k.Scopes, ","), k.Name, k.CreatedAt.Format(time.DateTime), timeOr(k.ExpiresAt, "never"), state})
		}
		return printTable(e.stdout, rows)
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("apikey revoke takes one key ID")
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return fmt.Errorf("key ID %q is not a number", fs.Arg(0))
		}
		ok, err := st.RevokeAPIKey(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no active key %d", id)
		}
		fmt.Fprintf(e.stdout, "revoked API key %d\n", id)
		return nil
	}
	return fmt.Errorf("unknown apikey subcommand %q: use create, list or revoke", sub)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func timeOr(t *time.Time, def string) string {
	if t == nil {
		return def
	}
	return t.Format(time.DateTime)
}
