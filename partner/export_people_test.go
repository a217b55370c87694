package partner_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/partner"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// seedMembers stores, over SeedPeople, n residents spread over the first
// grids of both communities, every third of them a party member of the
// branch of their community.
func seedMembers(t *testing.T, st *store.Store, n int) {
	t.Helper()
	recs := []any{&canon.PartyOrg{Provenance: storetest.Prov("party", "ZB2", "zb2"), Name: "新华第一网格党支部", Kind: canon.OrgBranch,
		ParentSourceID: "DW1", GridCode: "420606001002001"}}
	for i := range n {
		grid, org := "420606001001001", "ZB1"
		if i%2 == 1 {
			grid, org = "420606001002001", "ZB2"
		}
		p := storetest.Person(fmt.Sprintf("42060619850101%03d%d", i, i%10), fmt.Sprintf("王%c", '甲'+rune(i)), fmt.Sprintf("1370000%04d", i))
		recs = append(recs, &canon.Resident{Provenance: storetest.Prov("governance", fmt.Sprintf("RX%d", i), fmt.Sprint("rx", i)), Person: p,
			GridCode: grid, Residence: canon.Registered, Relation: "户主"})
		if i%3 == 0 {
			recs = append(recs, &canon.PartyMember{Provenance: storetest.Prov("party", fmt.Sprintf("DX%d", i), fmt.Sprint("dx", i)), Person: p,
				OrgSourceID: org, GridCode: grid})
		}
	}
	storetest.Upsert(t, st, recs...)
}

// get fetches an export: its status, position header and rows (NDJSON
// lines decoded into maps, or CSV records after the header).
func get(t *testing.T, url string) (int, string, []map[string]any, [][]string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, "", nil, nil
	}
	pos := resp.Header.Get(partner.PositionHeader)
	if strings.HasSuffix(strings.SplitN(url, "?", 2)[0], ".csv") {
		if !bytes.HasPrefix(body, []byte("\ufeffid,")) {
			t.Fatalf("%s starts %q", url, body[:min(40, len(body))])
		}
		recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, pos, nil, recs[1:]
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, m)
	}
	return resp.StatusCode, pos, rows, nil
}

// The people and party-member exports hold what the GraphQL API shows the
// same key — as many rows as its totalCount, the same global IDs, the
// same masked name, citizen ID and phone — in the key's jurisdiction; a
// partner key without the scope is refused; CSV has the same rows; the
// position splits the log (a person created after an export is in the
// next one and its change lies between the two positions).
func TestExportPeopleAndPartyMembers(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedPeople(t, st)
	seedMembers(t, st, 30)
	gql := graphtest.New(t, st)
	var who atomic.Pointer[auth.Principal]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		partner.Handler(st, nil).ServeHTTP(w, r.WithContext(auth.With(r.Context(), who.Load())))
	}))
	defer srv.Close()

	var all int
	for _, p := range []*auth.Principal{
		{ID: "a", Role: auth.Admin},
		{ID: "s", Role: auth.Staff, RegionCode: "420606001001"},
		{ID: "k", Role: auth.Partner, RegionCode: "420606001002", Scopes: []string{"people:read", "party:read"}},
	} {
		who.Store(p)
		gql.As(p)

		var people struct {
			People struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						ID, Name, IDNumber string
						Phone              *string
					}
				}
			}
		}
		gql.MustData(t, `{ people(first: 500) { totalCount edges { node { id name idNumber phone } } } }`, nil, &people)
		_, _, rows, _ := get(t, srv.URL+"/export/people.ndjson")
		if len(rows) != people.People.TotalCount || len(rows) == 0 {
			t.Fatalf("%s: people export of %d rows, the API counts %d", p.ID, len(rows), people.People.TotalCount)
		}
		api := map[string]string{}
		for _, e := range people.People.Edges {
			n := e.Node
			api[n.ID] = fmt.Sprint(n.Name, "|", n.IDNumber, "|", n.Phone != nil, "|", deref(n.Phone))
		}
		for _, r := range rows {
			id, _ := r["id"].(string)
			phone, hasPhone := r["phone"].(string)
			got := fmt.Sprint(r["name"], "|", r["idNumber"], "|", hasPhone, "|", phone)
			if api[id] != got {
				t.Fatalf("%s: person %s exported as %s, the API shows %s", p.ID, id, got, api[id])
			}
			if !strings.Contains(r["name"].(string), "*") || !strings.Contains(r["idNumber"].(string), "*") ||
				(hasPhone && !strings.Contains(phone, "*")) {
				t.Fatalf("%s: unmasked person in the export: %v", p.ID, r)
			}
		}
		_, _, _, recs := get(t, srv.URL+"/export/people.csv")
		if len(recs) != len(rows) {
			t.Fatalf("%s: people csv has %d rows, ndjson %d", p.ID, len(recs), len(rows))
		}

		var orgs struct {
			PartyOrgs struct {
				Edges []struct {
					Node struct {
						Members struct {
							TotalCount int
							Edges      []struct{ Node struct{ ID string } }
						}
					}
				}
			}
		}
		gql.MustData(t, `{ partyOrgs(first: 20) { edges { node { members(first: 100) { totalCount edges { node { id } } } } } } }`, nil, &orgs)
		members := map[string]bool{}
		count := 0
		for _, e := range orgs.PartyOrgs.Edges {
			count += e.Node.Members.TotalCount
			for _, m := range e.Node.Members.Edges {
				members[m.Node.ID] = true
			}
		}
		_, _, rows, _ = get(t, srv.URL+"/export/partyMembers.ndjson")
		if len(rows) != count || len(rows) == 0 {
			t.Fatalf("%s: party member export of %d rows, the API counts %d", p.ID, len(rows), count)
		}
		for _, r := range rows {
			if id, _ := r["id"].(string); !members[id] {
				t.Fatalf("%s: exported member %v is not among the API's", p.ID, r)
			}
			if name, _ := r["name"].(string); !strings.Contains(name, "*") {
				t.Fatalf("%s: unmasked member name in the export: %v", p.ID, r)
			}
		}
		_, _, _, recs = get(t, srv.URL+"/export/partyMembers.csv")
		if len(recs) != len(rows) {
			t.Fatalf("%s: party member csv has %d rows, ndjson %d", p.ID, len(recs), len(rows))
		}
		if p.Role == auth.Admin {
			all = len(rows)
		} else if len(rows) >= all {
			t.Fatalf("%s: %d party members exported, the whole city has %d", p.ID, len(rows), all)
		}
	}

	// A partner key with party:read alone exports members without their
	// names: the API shows a member's name only through its person.
	who.Store(&auth.Principal{ID: "m", Role: auth.Partner, Scopes: []string{"party:read"}})
	if _, _, rows, _ := get(t, srv.URL+"/export/partyMembers.ndjson"); len(rows) == 0 {
		t.Fatal("no party members exported to a party:read key")
	} else {
		for _, r := range rows {
			if name, present := r["name"]; !present || name != nil {
				t.Fatalf("a party:read key exported a member's name: %v", r)
			}
		}
	}

	// A partner key needs the scope of what it exports.
	for _, c := range []struct{ path, scope, has string }{
		{"/export/people.ndjson", "people:read", "party:read"},
		{"/export/partyMembers.csv", "party:read", "people:read"},
	} {
		who.Store(&auth.Principal{ID: "c", Role: auth.Partner, Scopes: []string{"cases:read", c.has}})
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || err != nil || len(body.Errors) != 1 ||
			body.Errors[0].Extensions.Code != "FORBIDDEN" || !strings.Contains(body.Errors[0].Message, c.scope) {
			t.Fatalf("%s without %s: %d %+v (%v)", c.path, c.scope, resp.StatusCode, body, err)
		}
	}

	// The position splits the log.
	who.Store(&auth.Principal{ID: "a", Role: auth.Admin})
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}
	_, cur1, before, _ := get(t, srv.URL+"/export/people.ndjson")
	storetest.Upsert(t, st, &canon.Resident{Provenance: storetest.Prov("governance", "RNEW", "rnew"),
		Person: storetest.Person("420606197001011236", "赵六", "13600003333"), GridCode: "420606001002001", Residence: canon.Registered, Relation: "户主"})
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}
	_, cur2, after, _ := get(t, srv.URL+"/export/people.ndjson")
	p1, p2 := position(t, cur1), position(t, cur2)
	if len(after) != len(before)+1 {
		t.Fatalf("exports at %d and %d: %d and %d people", p1, p2, len(before), len(after))
	}
	var between, earlier int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE position > $1 AND position <= $2),
			count(*) FILTER (WHERE position <= $1) FROM change_log
		WHERE type = 'PERSON' AND op = 'CREATE' AND record_id = (SELECT id FROM person WHERE name = '赵六')`, p1, p2).Scan(&between, &earlier); err != nil {
		t.Fatal(err)
	}
	if between != 1 || earlier != 0 {
		t.Fatalf("the new person's creation: %d changes between positions %d and %d, %d at or before", between, p1, p2, earlier)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
