package pii_test

import (
	"testing"

	"github.com/ywtg/hub/pii"
)

// BenchmarkHash is the matching hash of one citizen ID, as a connector
// computes it for each record naming a person.
func BenchmarkHash(b *testing.B) {
	k, err := pii.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k.Hash("id", "420606198005011234")
	}
}
