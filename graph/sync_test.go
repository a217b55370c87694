package graph_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ywtg/hub/store"
)

func TestSyncRunsAndQuarantine(t *testing.T) {
	ctx := context.Background()
	srv, st := newServer(t, 0)
	lock, err := st.TryLockSource(ctx, "citymgmt")
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	defer lock.Release()
	for i, outcome := range []error{nil, errors.New("open311: 503 Service Unavailable")} {
		run, err := lock.StartRun(ctx, i == 0)
		if err != nil {
			t.Fatal(err)
		}
		err = lock.InTx(ctx, func(w *store.Writer) error {
			if err := w.Quarantine(ctx, run, "citymgmt", []store.QuarantineEntry{
				{Stream: "requests", SourceID: "R1", Reason: "UNKNOWN_CODE", Field: "service_code", Message: "unknown 999999", Raw: []byte(`{"service_code":"999999"}`), Hash: []byte{byte(i), 1}},
				{Stream: "archive", SourceID: "R2", Reason: "BAD_ENCODING", Field: "description", Message: "not GBK", Raw: []byte{0xff, 0xfe, 'a'}, Hash: []byte{byte(i), 2}},
				{Stream: "requests", SourceID: "R3", Reason: "BAD_COORDINATES", Field: "lat/long", Message: "(0, 0)", Raw: []byte("0,0"), Hash: []byte{byte(i), 3}, RecordStored: true},
			}); err != nil {
				return err
			}
			return w.CommitBatch(ctx, run, "citymgmt", "requests", "c1", store.BatchCounts{Fetched: 5, Stored: 3, Quarantined: 2, Unchanged: 1,
				FieldDefects: 1, RecordsWithFieldDefects: 1})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lock.FinishRun(ctx, run, store.RunOutcome{Err: outcome, DownAfter: 3}); err != nil {
			t.Fatal(err)
		}
	}
	var d struct {
		SyncRuns struct {
			Edges []struct {
				Node struct {
					Status                                           string
					Full                                             bool
					Fetched, Stored, Quarantined, Unchanged, Deleted int
					Error                                            *string
					Source                                           struct{ Name string }
				}
			}
		}
		Quarantine struct {
			TotalCount int
			Edges      []struct {
				Node struct{ SourceID, Reason, Field, Raw, Stream string }
			}
		}
		Sources []struct {
			Status              string
			ConsecutiveFailures int
			LagSeconds          *float64
			RecordsFetched      int
			FieldDefects        int
			LastError           *string
		}
		Fields struct {
			Edges []struct {
				Node struct {
					SourceID, Field, Raw string
					RecordStored         bool
				}
			}
		}
	}
	srv.MustData(t, `{ syncRuns(source: "citymgmt") { edges { node { status full fetched stored quarantined unchanged deleted error source { name } } } }
		quarantine(source: "citymgmt", reason: "BAD_ENCODING") { totalCount edges { node { sourceId reason field raw stream } } }
		fields: quarantine(source: "citymgmt", reason: "BAD_COORDINATES") { edges { node { sourceId field raw recordStored } } }
		sources { status consecutiveFailures lagSeconds recordsFetched fieldDefects lastError } }`, nil, &d)
	// A field-level entry: its record was stored without the value.
	if f := d.Fields.Edges; len(f) != 2 || !f[0].Node.RecordStored || f[0].Node.Field != "lat/long" || f[0].Node.Raw != "0,0" {
		t.Fatalf("field-level entries = %+v", f)
	}
	if d.Sources[0].FieldDefects != 2 {
		t.Fatalf("source field defects = %d, want 2", d.Sources[0].FieldDefects)
	}
	runs := d.SyncRuns.Edges
	if len(runs) != 2 || runs[0].Node.Status != "FAILED" || runs[0].Node.Error == nil || runs[1].Node.Status != "OK" || !runs[1].Node.Full {
		t.Fatalf("runs = %+v", runs)
	}
	if r := runs[1].Node; r.Fetched != 5 || r.Stored != 3 || r.Quarantined != 2 || r.Source.Name != "citymgmt" {
		t.Fatalf("run counts = %+v", r)
	}
	q := d.Quarantine
	if q.TotalCount != 2 || q.Edges[0].Node.Raw != "base64://5h" || q.Edges[0].Node.Field != "description" {
		t.Fatalf("quarantine = %+v", q)
	}
	s := d.Sources[0]
	if s.Status != "DEGRADED" || s.ConsecutiveFailures != 1 || s.LagSeconds == nil || *s.LagSeconds < 0 || s.RecordsFetched != 10 || s.LastError == nil {
		t.Fatalf("source = %+v", s)
	}
}
