package pii_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/ywtg/hub/pii"
)

func TestHashSealMask(t *testing.T) {
	k, err := pii.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	id := "420606198005011234"
	if !bytes.Equal(k.Hash("id", id), k.Hash("id", id)) || bytes.Equal(k.Hash("id", id), k.Hash("phone", id)) {
		t.Fatal("hash must be stable and domain-separated")
	}
	other, _ := pii.NewKeys([]byte("another master key of 32 bytes!!"))
	if bytes.Equal(k.Hash("id", id), other.Hash("id", id)) {
		t.Fatal("hash must depend on the key")
	}
	sealed := k.Seal(id)
	if bytes.Contains(sealed, []byte(id)) || bytes.Equal(sealed, k.Seal(id)) {
		t.Fatal("sealing must hide the value and use fresh nonces")
	}
	if got, err := k.Open(sealed); err != nil || got != id {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("opened with the wrong key")
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := k.Open(sealed); err == nil {
		t.Fatal("opened a tampered value")
	}
	if _, err := pii.NewKeys([]byte("short")); err == nil {
		t.Fatal("short master key accepted")
	}
	for in, want := range map[string]string{"420606198005011239": "420606********1239", "13800001111": "138****1111"} {
		var got string
		if len(in) == 18 {
			got = pii.MaskID(in)
		} else {
			got = pii.MaskPhone(in)
		}
		if got != want {
			t.Errorf("mask(%s) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"张三": "张*", "欧阳娜娜": "欧***", "王小明": "王**", "李": "李", "": "",
		"买买提·艾力": "买**·**", "John Smith": "J*** *****",
	} {
		if got := pii.MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHashIsTheKeyedHMAC pins Hash to its definition (stored hashes must
// never change): HMAC-SHA256 under the key derived from the master for
// hashing, over kind, a zero byte and the value; also when many goroutines
// hash at once with the keyed HMACs Hash reuses.
func TestHashIsTheKeyedHMAC(t *testing.T) {
	master := []byte("0123456789abcdef0123456789abcdef")
	k, err := pii.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	key := mac(master, "hub/pii/hash/v1")
	want := func(kind, value string) []byte { return mac(key, kind+"\x00"+value) }
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				kind, value := "id", fmt.Sprintf("4206061980%08d", g*1000+i)
				if i%2 == 1 {
					kind, value = "phone", fmt.Sprintf("138%08d", g*1000+i)
				}
				if got := k.Hash(kind, value); !bytes.Equal(got, want(kind, value)) {
					errs <- fmt.Sprintf("Hash(%q, %q) = %x, want %x", kind, value, got, want(kind, value))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
