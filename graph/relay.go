package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
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
)

func globalID(typ string, id int64) string { return store.NodeID(typ, id) }

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
