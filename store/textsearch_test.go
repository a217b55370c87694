package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// searchCases are cases whose texts put the search's edges to the test.
func searchCases() []canon.Case {
	texts := [][2]string{
		{"井盖缺失：人民路12号", "人民路12号井盖缺失，车辆绕行"},
		{"道路破损", "解放路井盖周边路面破损"},
		{"井边杂物", "小区水井旁堆放杂物，盖板松动"}, // 井 and 盖, never side by side
		{"路灯不亮", "长虹路Led路灯不亮"},     // Latin letters in another case
		{"占道经营", "商户占道"},           // a term across title and description: "经营 商户"
		{"异体字", "\U00024E95盖"},     // U+24E95 packs as 井 (U+4E95) does
		{"噪音扰民", "夜间施工噪音 100% 超标"}, // LIKE's metacharacters as text
	}
	cases := storetest.MakeCases(len(texts))
	for i, tx := range texts {
		cases[i].Title, cases[i].Description = tx[0], tx[1]
	}
	return cases
}

// TestTextSearchFindsWhatILIKEFinds holds the bigram index to what it
// stands in for: every term finds the cases whose "title description"
// holds it, ignoring case, and no other, whatever bigrams they share.
func TestTextSearchFindsWhatILIKEFinds(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	storetest.SeedRegions(t, st)
	storetest.SeedCases(t, st, searchCases())
	tests := []struct {
		term string
		want int
	}{
		{"井盖", 2}, // two characters: no trigram, bigrams
		{"井", 3},  // one character: no bigram either
		{"井盖缺失", 1},
		{"led", 1}, // case
		{"LED路灯", 1},
		{"经营 商户", 1},       // across the title and the description
		{"经营商户", 0},        // not without the space between them
		{"\U00024E95盖", 1}, // its bigram is 井盖's: only ILIKE tells them apart
		{"100%", 1},
		{"0%超", 0},
		{"盖板松动", 1},
		{"井杂", 0},
	}
	for _, tc := range tests {
		t.Run(tc.term, func(t *testing.T) {
			n, err := st.CountCases(ctx, store.CaseFilter{Text: tc.term})
			if err != nil {
				t.Fatal(err)
			}
			var like int
			pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(tc.term) + "%"
			if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "case" WHERE (title || ' ' || description) ILIKE $1`, pattern).Scan(&like); err != nil {
				t.Fatal(err)
			}
			if n != tc.want || like != tc.want {
				t.Fatalf("%q: %d cases found, ILIKE finds %d; want %d", tc.term, n, like, tc.want)
			}
		})
	}
}

// TestSearchGramsAreTheMigrations holds the bigrams the writer computes
// equal to those the migration computed for the cases it held
// (hub_search_grams), and a written case's column to the writer's.
func TestSearchGramsAreTheMigrations(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := dbtest.NewStore(t)
	for _, text := range []string{"", "井", "井盖", "井盖 井盖", "LED路灯 Ａｂ", "\U00024E95盖\U0001F600", "路面破损，影响通行：人民路12号"} {
		var sql []int32
		if err := st.Pool().QueryRow(ctx, `SELECT hub_search_grams($1)`, text).Scan(&sql); err != nil {
			t.Fatal(err)
		}
		if got := store.SearchGrams(text); !slices.Equal(got, sql) || (len([]rune(text)) > 1 && len(got) == 0) {
			t.Errorf("%q: writer's bigrams %v, migration's %v", text, got, sql)
		}
	}
	storetest.SeedRegions(t, st)
	cases := searchCases()
	storetest.SeedCases(t, st, cases)
	rows, err := st.Pool().Query(ctx, `SELECT title, description, search_grams, hub_search_grams(title || ' ' || description) FROM "case"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var title, desc string
		var stored, sql []int32
		if err := rows.Scan(&title, &desc, &stored, &sql); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(stored, sql) || len(stored) == 0 {
			t.Errorf("%s %s: stored %v, computed %v", title, desc, stored, sql)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != len(cases) {
		t.Fatalf("%d cases read, %v; want %d", n, err, len(cases))
	}
}

// TestTextSearchIsServedByTheIndex: the statement a search of two
// characters runs can take its cases from the bigram index (a scan of
// every case is what the trigram index left it).
func TestTextSearchIsServedByTheIndex(t *testing.T) {
	ctx := store.Unscoped(context.Background())
	st := oneSessionStore(t)
	storetest.SeedCases(t, st, searchCases())
	if n, err := st.CountCases(ctx, store.CaseFilter{Text: "井盖"}); err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
	// One connection: the statement prepared is this session's. Its
	// parameters are the term's bigrams and its pattern.
	var name, types string
	if err := st.Pool().QueryRow(ctx, `SELECT name, parameter_types::text FROM pg_prepared_statements
		WHERE statement LIKE 'SELECT count(*) FROM "case" c WHERE %'`).Scan(&name, &types); err != nil {
		t.Fatal(err)
	}
	if types != "{integer[],text}" {
		t.Fatalf("the search's parameters are %s, want {integer[],text}", types)
	}
	grams := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(store.SearchGrams("井盖"))), ","), "[]")
	var plan []string
	if _, err := st.Pool().Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Pool().Query(ctx, `EXPLAIN EXECUTE `+name+`('{`+grams+`}', '%井盖%')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "case_search_idx") {
		t.Fatalf("the search is not served by case_search_idx:\n%s", strings.Join(plan, "\n"))
	}
}
