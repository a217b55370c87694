package graph

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
)

// Global IDs are opaque to clients: base64url of "Type:id".
const (
	typeRegion      = "Region"
	typeCase        = "Case"
	typePerson      = "Person"
	typeHousehold   = "Household"
	typeGridWorker  = "GridWorker"
	typePartyOrg    = "PartyOrg"
	typePartyMember = "PartyMember"
	typeStation     = "ServiceStation"
	typeIncident    = "Incident"
	// typePersonRecord names a person's source record (person_link) in
	// match decisions; it is no Node.
	typePersonRecord = "PersonRecord"
)

func globalID(typ string, id int64) string { return model.GlobalID(typ, id) }

// parseGlobalID decodes a global ID into its type and row id.
func parseGlobalID(s string) (string, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if typ, num, ok := strings.Cut(string(raw), ":"); ok {
			if id, err := strconv.ParseInt(num, 10, 64); err == nil && id > 0 {
				return typ, id, nil
			}
		}
	}
	return "", 0, canon.Errorf(canon.BadUserInput, "invalid ID %q", s)
}

// idOf decodes a global ID that must be of the given type.
func idOf(s, typ string) (int64, error) {
	t, id, err := parseGlobalID(s)
	if err != nil {
		return 0, err
	}
	if t != typ {
		return 0, canon.Errorf(canon.BadUserInput, "ID %q is a %s, not a %s", s, t, typ)
	}
	return id, nil
}

// countList runs the count a connection carries (store.Page.Count); it is
// called only when totalCount is selected.
func countList(ctx context.Context, count func(context.Context) (int, error)) (int, error) {
	if count == nil {
		return 0, canon.Errorf(canon.Internal, "this list cannot be counted")
	}
	return count(ctx)
}

// regionArg reads a region given either by global ID or by code (exactly
// one of them, or neither).
func regionArg(id, code *string) (*int64, *string, error) {
	switch {
	case id != nil && code != nil:
		return nil, nil, canon.Errorf(canon.BadUserInput, "give either region (an ID) or regionCode, not both")
	case id != nil:
		rid, err := idOf(*id, typeRegion)
		if err != nil {
			return nil, nil, err
		}
		return &rid, nil, nil
	case code != nil:
		c := strings.TrimSpace(*code)
		if !validRegionCode(c) {
			return nil, nil, canon.Errorf(canon.BadUserInput, "regionCode %q: want the digits of a region or grid code, e.g. 420606", *code)
		}
		return nil, &c, nil
	}
	return nil, nil, nil
}

// validRegionCode reports whether s has the shape of a region code: 2 to
// 15 ASCII digits.
func validRegionCode(s string) bool {
	if len(s) < 2 || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
