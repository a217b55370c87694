package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// sealedPeople is a store of the seeded people plus 王五, a resident whose
// ID number and phone are sealed with keys, so they can be unmasked.
func sealedPeople(t *testing.T) (*pii.Keys, *store.Store) {
	t.Helper()
	keys, err := pii.NewKeys([]byte("test master key, 32 bytes long!!"))
	if err != nil {
		t.Fatal(err)
	}
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	wang := storetest.Person("420606197001011111", "王五", "13700003333")
	wang.IDSealed, wang.PhoneSealed = keys.Seal("420606197001011111"), keys.Seal("13700003333")
	storetest.Upsert(t, st, &canon.Resident{Provenance: storetest.Prov("governance", "R9", "r9"), Person: wang,
		GridCode: "420606001001001", Residence: canon.Registered})
	return keys, st
}

func TestUnmaskingIsAuthorisedAndAudited(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	keys, st := sealedPeople(t)
	srv := graphtest.NewWith(t, graph.Config{Store: st, PII: keys, RequestID: func(context.Context) string { return "req-1" }})
	q := `{ people(filter: {namePrefix: "王"}) { edges { node { name(unmask: true) idNumber(unmask: true) phone(unmask: true) } } } }`

	srv.As(&auth.Principal{ID: "key:2", Role: auth.Analyst})
	if r := srv.Do(t, q, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("without pii:read: %+v", r.Errors)
	}
	srv.As(&auth.Principal{ID: "key:3", Role: auth.Admin, Scopes: []string{"pii:read"}})
	r := srv.Do(t, q, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "X-Purpose") {
		t.Fatalf("without X-Purpose: %+v", r.Errors)
	}
	r = srv.DoWithHeaders(t, q, nil, map[string]string{"X-Purpose": "矛盾纠纷调解回访"})
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	var d struct {
		People struct {
			Edges []struct {
				Node struct{ Name, IdNumber, Phone string }
			}
		}
	}
	json.Unmarshal(r.Data, &d)
	if n := d.People.Edges[0].Node; n.Name != "王五" || n.IdNumber != "420606197001011111" || n.Phone != "13700003333" {
		t.Fatalf("unmasked = %+v", n)
	}
	// Masked reads are not audited; the unmasked one is, once per request.
	srv.Do(t, `{ people { edges { node { name idNumber } } } }`, nil)
	var a struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					Principal, Action, Purpose, RequestID string
					Subjects, Fields                      []string
				}
			}
		}
	}
	srv.MustData(t, `{ auditLog { edges { node { principal action purpose requestId subjects fields } } } }`, nil, &a)
	if len(a.AuditLog.Edges) != 1 {
		t.Fatalf("audit entries = %+v", a.AuditLog.Edges)
	}
	e := a.AuditLog.Edges[0].Node
	if e.Principal != "key:3" || e.Action != "unmask" || e.Purpose != "矛盾纠纷调解回访" || e.RequestID != "req-1" ||
		len(e.Subjects) != 1 || strings.Join(e.Fields, ",") != "idNumber,name,phone" {
		t.Fatalf("audit entry = %+v", e)
	}
	// The audit log is for administrators.
	srv.As(&auth.Principal{ID: "key:2", Role: auth.Analyst})
	if r := srv.Do(t, `{ auditLog { edges { cursor } } }`, nil); len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
		t.Fatalf("analyst reads audit log: %+v", r.Errors)
	}

	// The chain holds, and a tampered entry is found.
	if brk, n, err := st.VerifyAudit(ctx); err != nil || brk != nil || n != 1 {
		t.Fatalf("verify = %+v, %d, %v", brk, n, err)
	}
	srv.As(&auth.Principal{ID: "key:3", Role: auth.Admin, Scopes: []string{"pii:read"}})
	srv.DoWithHeaders(t, q, nil, map[string]string{"X-Purpose": "复核"})
	pool := st.Pool()
	if _, err := pool.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE audit_log SET purpose = '无' WHERE id = (SELECT min(id) FROM audit_log)"); err != nil {
		t.Fatal(err)
	}
	brk, _, err := st.VerifyAudit(ctx)
	if err != nil || brk == nil || !strings.Contains(brk.Reason, "altered") {
		t.Fatalf("tampering not detected: %+v, %v", brk, err)
	}
	// The log refuses updates while its trigger is on.
	pool.Exec(ctx, "ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
	if _, err := pool.Exec(ctx, "DELETE FROM audit_log"); err == nil {
		t.Fatal("audit log accepted a delete")
	}
}
