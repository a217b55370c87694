package store_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// notReads are the methods of Store that take a context and are not reads
// of the hub's data, so they need no access value: writes and the schema,
// the credential lookup that comes before any principal, the sync
// engine's own bookkeeping, and the reference of the one address
// gazetteer every caller shares.
var notReads = map[string]string{
	"InTx": "writes", "InDerivedTx": "writes", "Migrate": "schema", "DeferIndexes": "schema (a first load)", "BuildDeferredIndexes": "schema (a first load)", "Ping": "liveness", "WatchChanges": "change notifications",
	"AppendAudit": "writes the audit log", "RecordMatchDecision": "writes a review decision",
	"APIKeyByHash": "credentials", "APIKeys": "credentials (operator command)", "CreateAPIKey": "credentials", "RevokeAPIKey": "credentials",
	"Cursor": "sync bookkeeping", "TryLockSource": "sync bookkeeping", "TryResolutionLease": "resolution bookkeeping (which replica resolves)", "TryLockSourceAs": "sync bookkeeping", "ResyncPending": "sync bookkeeping",
	"AddressVersion": "gazetteer reference", "AddressReference": "gazetteer reference",
	"SaveBuildingLinks": "building resolution (writes)", "CaseAddressesLinked": "building resolution bookkeeping (writes)", "TakeCaseAddressQueue": "building resolution bookkeeping (writes)",
	"SequenceChanges": "change log bookkeeping (writes)", "PruneChanges": "change log retention (writes)",
	"VacuumChangeQueue": "change log bookkeeping (maintenance)", "VacuumPersonQueue": "person resolution bookkeeping (maintenance)", "PrepareBackfill": "visibility bookkeeping before a backfill (maintenance)", "VacuumIncidentQueue": "incident regrouping bookkeeping (maintenance)", "RefreshPersonStatistics": "planner statistics (maintenance)", "RefreshIncidentStatistics": "planner statistics (maintenance)",
}

// TestReadsFailClosed calls every other method of Store that takes a
// context, with a context that says nothing about access: each must refuse
// with ErrNoScope before reading, and must not refuse once the context
// says Unscoped. A read added later is covered without being listed.
func TestReadsFailClosed(t *testing.T) {
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	ctxType := reflect.TypeFor[context.Context]()
	errType := reflect.TypeFor[error]()
	v := reflect.ValueOf(st)
	var checked []string
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		ft := m.Type // receiver first
		if ft.NumIn() < 2 || ft.In(1) != ctxType || ft.NumOut() == 0 || ft.Out(ft.NumOut()-1) != errType {
			continue
		}
		if _, ok := notReads[m.Name]; ok {
			continue
		}
		call := func(ctx context.Context) error {
			args := []reflect.Value{reflect.ValueOf(ctx)}
			for j := 2; j < ft.NumIn(); j++ {
				args = append(args, sample(ft.In(j)))
			}
			out := v.Method(i).Call(args)
			err, _ := out[len(out)-1].Interface().(error)
			return err
		}
		if err := call(context.Background()); !errors.Is(err, store.ErrNoScope) {
			t.Errorf("%s without an access value: %v, want ErrNoScope", m.Name, err)
		}
		if err := call(store.Unscoped(context.Background())); errors.Is(err, store.ErrNoScope) {
			t.Errorf("%s refused an Unscoped context", m.Name)
		}
		if err := call(store.WithScope(context.Background(), store.Scope{RegionCode: "420606001001"})); errors.Is(err, store.ErrNoScope) {
			t.Errorf("%s refused a scoped context", m.Name)
		}
		checked = append(checked, m.Name)
	}
	sort.Strings(checked)
	if len(checked) < 30 {
		t.Fatalf("only %d reads found: %v", len(checked), checked)
	}
	t.Logf("%d reads refuse a context without access: %v", len(checked), checked)
}

// sample is an argument value that makes a read go as far as its query: a
// slice of one element, a non-empty string, a positive number.
func sample(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	if t == reflect.TypeFor[store.Dimension]() {
		return reflect.ValueOf(store.DimStatus)
	}
	switch t.Kind() {
	case reflect.Slice:
		v = reflect.MakeSlice(t, 1, 1)
		v.Index(0).Set(sample(t.Elem()))
	case reflect.String:
		v.SetString("420606001001")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	}
	return v
}
