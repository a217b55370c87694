package govapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/sim/govapi"
)

type fixture struct {
	c     *city.City
	s     *govapi.Server
	srv   *httptest.Server
	clock *city.ManualClock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, err := city.Generate(city.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	clock := city.NewManualClock(c.Reference())
	s := govapi.New(c, govapi.Options{Clock: clock})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &fixture{c, s, srv, clock}
}

type envelope struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

type page struct {
	Total    int               `json:"total"`
	PageNum  int               `json:"pageNum"`
	PageSize int               `json:"pageSize"`
	Records  []json.RawMessage `json:"records"`
}

func (f *fixture) token(t *testing.T) string {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/api/auth/token", "application/json",
		strings.NewReader(fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, govapi.DefaultClientID, govapi.DefaultClientSecret)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Code != 0 {
		t.Fatalf("token: %v %+v", err, env)
	}
	var data struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	json.Unmarshal(env.Data, &data)
	if data.AccessToken == "" || data.ExpiresIn != 600 {
		t.Fatalf("token data %s", env.Data)
	}
	return data.AccessToken
}

func (f *fixture) get(t *testing.T, tok, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (f *fixture) page(t *testing.T, tok, path string) (envelope, page) {
	t.Helper()
	resp, b := f.get(t, tok, path)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var p page
	if env.Code == 0 {
		if err := json.Unmarshal(env.Data, &p); err != nil {
			t.Fatal(err)
		}
	}
	return env, p
}

func TestAuth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		body string
		code int
	}{
		{"good", fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, govapi.DefaultClientID, govapi.DefaultClientSecret), 0},
		{"bad secret", fmt.Sprintf(`{"clientId":%q,"clientSecret":"x"}`, govapi.DefaultClientID), 401},
		{"not json", `clientId=x`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(f.srv.URL+"/api/auth/token", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var env envelope
			json.NewDecoder(resp.Body).Decode(&env)
			if resp.StatusCode != 200 || env.Code != tt.code {
				t.Errorf("HTTP %d code %d, want 200 code %d", resp.StatusCode, env.Code, tt.code)
			}
		})
	}
	tok := f.token(t)
	for _, tt := range []struct {
		name, tok string
		code      int
	}{{"no token", "", 401}, {"unknown token", "abc", 401}, {"token", tok, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := f.page(t, tt.tok, "/api/v1/grids")
			if env.Code != tt.code {
				t.Errorf("code %d, want %d (%s)", env.Code, tt.code, env.Msg)
			}
		})
	}
	t.Run("expiry on the clock", func(t *testing.T) {
		f.clock.Advance(599 * time.Second)
		if env, _ := f.page(t, tok, "/api/v1/grids"); env.Code != 0 {
			t.Fatalf("code %d before expiry", env.Code)
		}
		f.clock.Advance(2 * time.Second)
		if env, _ := f.page(t, tok, "/api/v1/grids"); env.Code != 401 || env.Msg != "token expired" {
			t.Fatalf("after expiry: %+v", env)
		}
	})
	t.Run("forced expiry", func(t *testing.T) {
		tok := f.token(t)
		f.s.ExpireTokens()
		if env, _ := f.page(t, tok, "/api/v1/grids"); env.Code != 401 {
			t.Fatalf("after ExpireTokens: %+v", env)
		}
	})
}

// walk pages through a resource and returns the ids in order.
func walk(t *testing.T, f *fixture, tok, resource, query string, size int) (ids []int64, total int) {
	t.Helper()
	for n := 1; ; n++ {
		env, p := f.page(t, tok, fmt.Sprintf("/api/v1/%s?pageSize=%d&pageNum=%d%s", resource, size, n, query))
		if env.Code != 0 {
			t.Fatalf("%s page %d: %+v", resource, n, env)
		}
		if p.PageNum != n || p.PageSize != min(size, govapi.MaxPageSize) {
			t.Fatalf("page %d/%d echoed as %d/%d", n, size, p.PageNum, p.PageSize)
		}
		total = p.Total
		for _, r := range p.Records {
			var rec struct {
				ID int64 `json:"id"`
			}
			json.Unmarshal(r, &rec)
			ids = append(ids, rec.ID)
		}
		if len(p.Records) < p.PageSize {
			return ids, total
		}
	}
}

func TestPagingWalk(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	counts := f.c.Counts()
	tests := []struct {
		resource string
		entity   city.Entity
		size     int
	}{
		{"grids", city.GovGrids, 7},
		{"gridWorkers", city.GovWorkers, 10},
		{"houses", city.GovHouses, 500},
		{"residents", city.GovResidents, 1000}, // capped to 500
		{"events", city.GovEvents, 333},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			ids, total := walk(t, f, tok, tt.resource, "", tt.size)
			n := counts[tt.entity]
			if len(ids) != total || total != n.Records+n.Duplicates {
				t.Fatalf("walked %d, total %d, want %d records + %d duplicates", len(ids), total, n.Records, n.Duplicates)
			}
			seen := map[int64]int{}
			for _, id := range ids {
				seen[id]++
			}
			if len(seen) != n.Records {
				t.Errorf("%d distinct ids, want %d", len(seen), n.Records)
			}
			dups := 0
			for _, k := range seen {
				if k > 2 {
					t.Fatalf("id listed %d times", k)
				}
				dups += k - 1
			}
			if dups != n.Duplicates {
				t.Errorf("%d duplicate deliveries, want %d (the injected duplicates)", dups, n.Duplicates)
			}
		})
	}
}

func TestUpdatedAfter(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	_, all := f.page(t, tok, "/api/v1/events?pageSize=500")
	var recs []struct {
		ID         int64  `json:"id"`
		UpdateTime string `json:"updateTime"`
	}
	for _, r := range all.Records {
		var x struct {
			ID         int64  `json:"id"`
			UpdateTime string `json:"updateTime"`
		}
		json.Unmarshal(r, &x)
		recs = append(recs, x)
	}
	cut := recs[100].UpdateTime
	ts, _ := time.ParseInLocation(time.DateTime, cut, city.CST)
	tests := []struct {
		name, query string
	}{
		{"local time", "&updatedAfter=" + strings.ReplaceAll(cut, " ", "%20")},
		{"epoch ms", fmt.Sprintf("&updatedAfter=%d", ts.UnixMilli())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p := f.page(t, tok, "/api/v1/events?pageSize=500"+tt.query)
			var first struct {
				UpdateTime string `json:"updateTime"`
			}
			json.Unmarshal(p.Records[0], &first)
			if first.UpdateTime <= cut {
				t.Errorf("updatedAfter %s returned a record updated at %s", cut, first.UpdateTime)
			}
			want := 0
			for _, r := range recs {
				if r.UpdateTime > cut {
					want++
				}
			}
			if p.Total != all.Total-(len(recs)-want) {
				t.Errorf("total %d, want %d", p.Total, all.Total-(len(recs)-want))
			}
		})
	}
	t.Run("keyset afterId", func(t *testing.T) {
		r := recs[100]
		_, p := f.page(t, tok, fmt.Sprintf("/api/v1/events?pageSize=500&updatedAfter=%s&afterId=%d", strings.ReplaceAll(r.UpdateTime, " ", "%20"), r.ID))
		var first struct {
			ID int64 `json:"id"`
		}
		json.Unmarshal(p.Records[0], &first)
		if first.ID != recs[101].ID && recs[101].ID != r.ID {
			t.Errorf("after (%s, %d) came %d, want %d", r.UpdateTime, r.ID, first.ID, recs[101].ID)
		}
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"updatedAfter=yesterday", "pageNum=0", "pageSize=x"} {
			env, _ := f.page(t, tok, "/api/v1/events?"+q)
			if env.Code != 400 {
				t.Errorf("%s: code %d, want 400", q, env.Code)
			}
		}
	})
}

func TestLiveChangesVisible(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	after := f.c.Reference().Add(-time.Second).Format(time.DateTime)
	env, p := f.page(t, tok, "/api/v1/events?updatedAfter="+strings.ReplaceAll(after, " ", "%20"))
	if env.Code != 0 || p.Total != 0 {
		t.Fatalf("before live changes: %+v total %d", env, p.Total)
	}
	changed := map[int32]bool{}
	for range 200 {
		f.clock.Advance(time.Second)
		if ch := f.c.Tick(f.clock.Now()); ch.Entity == city.GovEvents {
			changed[ch.Index] = true
		}
	}
	ids, total := walk(t, f, tok, "events", "&updatedAfter="+strings.ReplaceAll(after, " ", "%20"), 50)
	if total != len(changed) || len(ids) != len(changed) {
		t.Errorf("%d events after the reference, %d changed", total, len(changed))
	}
}

func TestFaults(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	faults := f.s.Faults()
	t.Cleanup(faults.Reset)
	tests := []struct {
		name   string
		set    func()
		status int
		code   int
		check  func(t *testing.T, resp *http.Response)
	}{
		{"rate limit", func() { faults.SetRateLimit(1, 3*time.Second) }, 429, 429, func(t *testing.T, r *http.Response) {
			if r.Header.Get("Retry-After") != "3" {
				t.Errorf("Retry-After %q, want 3", r.Header.Get("Retry-After"))
			}
		}},
		{"server errors", func() { faults.SetServerErrors(1) }, 500, -1, nil},
		{"envelope errors", func() { faults.SetEnvelopeErrors(1) }, 200, 500, nil},
		{"down", func() { faults.SetDown(true) }, 503, -1, nil},
		{"reset", func() {}, 200, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			faults.Reset()
			tt.set()
			resp, b := f.get(t, tok, "/api/v1/grids")
			if tt.status == 500 {
				if resp.StatusCode < 500 {
					t.Fatalf("HTTP %d, want 5xx", resp.StatusCode)
				}
			} else if resp.StatusCode != tt.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.code >= 0 {
				var env envelope
				if err := json.Unmarshal(b, &env); err != nil || env.Code != tt.code {
					t.Errorf("envelope %s, want code %d", b, tt.code)
				}
			}
			if tt.check != nil {
				tt.check(t, resp)
			}
		})
	}
	t.Run("partial rate", func(t *testing.T) {
		faults.Reset()
		faults.SetRateLimit(0.5, time.Second)
		limited := 0
		for range 100 {
			if resp, _ := f.get(t, tok, "/api/v1/grids?pageSize=1"); resp.StatusCode == 429 {
				limited++
			}
		}
		if limited < 25 || limited > 75 {
			t.Errorf("%d of 100 rate-limited at 0.5", limited)
		}
	})
	t.Run("delay", func(t *testing.T) {
		faults.Reset()
		faults.SetDelay(150 * time.Millisecond)
		start := time.Now()
		f.get(t, tok, "/api/v1/grids?pageSize=1")
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("answered in %v, want ≥150ms", d)
		}
	})
}

func TestDeterministicPagesAndDirt(t *testing.T) {
	a, b := newFixture(t), newFixture(t)
	ta, tb := a.token(t), b.token(t)
	for _, r := range []string{"grids", "gridWorkers", "houses", "residents", "events"} {
		_, x := a.get(t, ta, "/api/v1/"+r+"?pageSize=500&pageNum=2")
		_, y := b.get(t, tb, "/api/v1/"+r+"?pageSize=500&pageNum=2")
		if !bytes.Equal(x, y) {
			t.Errorf("%s: pages differ between two cities of the same seed", r)
		}
	}
	// GBK defects reach the client as invalid UTF-8.
	gbk := 0
	for _, d := range a.c.Defects() {
		if d.Kind != "gbk_bytes" {
			continue
		}
		gbk++
		_, body := a.get(t, ta, "/api/v1/"+d.Entity+"?pageSize=500&pageNum=1")
		found := false
		for n := 1; !found && len(body) > 100; n++ {
			if !utf8.Valid(body) && bytes.Contains(body, []byte(`"id":`+d.ID+`,`)) {
				found = true
				break
			}
			_, body = a.get(t, ta, fmt.Sprintf("/api/v1/%s?pageSize=500&pageNum=%d", d.Entity, n+1))
		}
		if !found {
			t.Errorf("gbk defect %s/%s not delivered as raw bytes", d.Entity, d.ID)
		}
		if gbk >= 3 {
			break
		}
	}
}
