package address_test

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
	"golang.org/x/text/width"

	"github.com/ywtg/hub/address"
)

// ToSimplified skips the conversion for text holding no character that can
// make it change anything; the test holds it to what the conversion itself
// gives, character by character over the Han blocks, for every key of the
// tables (alone and inside other text), and for the variant set's
// addresses.
func TestToSimplifiedAgreesWithTheConversion(t *testing.T) {
	cc, err := opencc.New("t2s")
	if err != nil {
		t.Fatal(err)
	}
	check := func(s string) {
		t.Helper()
		want, err := cc.Convert(s)
		if err != nil {
			t.Fatal(err)
		}
		got, changed := address.ToSimplified(s)
		if got != want || changed != (want != s) {
			t.Fatalf("ToSimplified(%q) = %q, %v; the conversion gives %q", s, got, changed, want)
		}
	}
	han := [][2]rune{{0x2E80, 0x2FDF}, {0x3000, 0x303F}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0x20000, 0x2FA1F}}
	n := 0
	for _, b := range han {
		for r := b[0]; r <= b[1]; r++ {
			check(string(r))
			n++
		}
	}
	keys := 0
	for _, g := range cc.DictChains {
		for _, d := range g.Dicts {
			for _, id := range d.Trie.PrefixPredict(nil, 0) {
				key, err := d.Trie.Key(id)
				if err != nil || !utf8.Valid(key) {
					t.Fatalf("key %d: %q, %v", id, key, err)
				}
				check(string(key))
				check("在" + string(key) + "路")
				keys++
			}
		}
	}
	if keys < 4000 {
		t.Fatalf("%d keys in the t2s tables; the tables did not load", keys)
	}
	f, err := os.Open("testdata/variants.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	lines := 0
	for sc.Scan() {
		if f := strings.Split(sc.Text(), "\t"); len(f) > 1 { // family, text, compound, building
			check(f[1])
			lines++
		}
	}
	if err := sc.Err(); err != nil || lines == 0 {
		t.Fatalf("variant set: %d lines, %v", lines, err)
	}
	t.Logf("%d characters, %d keys, %d variant lines agree", n, keys, lines)
}

// FoldWidth looks before it folds; it must fold what the transform folds,
// for every character, alone and inside Han text.
func TestFoldWidthAgreesWithTheTransform(t *testing.T) {
	folded := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		for _, s := range []string{string(r), "幸福小区" + string(r) + "栋"} {
			want := width.Fold.String(s)
			got, changed := address.FoldWidth(s)
			if got != want || changed != (want != s) {
				t.Fatalf("FoldWidth(%q) = %q, %v; the transform gives %q", s, got, changed, want)
			}
		}
		if _, changed := address.FoldWidth(string(r)); changed {
			folded++
		}
	}
	if folded < 200 {
		t.Fatalf("%d characters folded; the full-width forms alone are 94", folded)
	}
}

// The common case: an address in simplified characters.
func BenchmarkToSimplified(b *testing.B) {
	for _, s := range []string{"武汉市江岸区解放大道18号幸福小区3栋2单元501室", "襄陽市樊城區人民路8號"} {
		b.Run(s[:9], func(b *testing.B) {
			for b.Loop() {
				address.ToSimplified(s)
			}
		})
	}
}

func BenchmarkFoldWidth(b *testing.B) {
	for _, s := range []string{"武汉市江岸区解放大道18号幸福小区3栋2单元501室", "幸福小区３栋"} {
		b.Run(s[:9], func(b *testing.B) {
			for b.Loop() {
				address.FoldWidth(s)
			}
		})
	}
}
