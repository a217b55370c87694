// Package pii protects personal data by design: keyed hashes for matching
// (HMAC-SHA256, so a leaked table cannot be searched by ID number), sealing
// of the raw values for audited unmasking (AES-256-GCM), and the masked
// forms every caller sees by default.
//
// pii imports nothing of the hub.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Keys hold the secrets of personal-data protection.
type Keys struct {
	hash []byte
	aead cipher.AEAD
	// macs holds keyed HMACs for Hash to reset and reuse: keying one
	// (two SHA-256 blocks of padded key, four allocations) cost as much
	// as hashing a value.
	macs sync.Pool
}

// NewKeys derives the hashing and sealing keys from one master secret of at
// least 32 bytes, with domain separation so neither key reveals the other.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) < 32 {
		return nil, errors.New("pii: the master key must have at least 32 bytes")
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, master)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("hub/pii/seal/v1"))
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pii: %w", err)
	}
	k := &Keys{hash: derive("hub/pii/hash/v1"), aead: aead}
	k.macs.New = func() any { return hmac.New(sha256.New, k.hash) }
	return k, nil
}

// Hash is the keyed matching hash of a normalised value of a kind ("id",
// "phone"): the same value of two kinds never collides.
func (k *Keys) Hash(kind, value string) []byte {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	sum := m.Sum(nil)
	k.macs.Put(m)
	return sum
}

// Seal encrypts a value; the result carries its nonce.
func (k *Keys) Seal(value string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("pii: no randomness: %v", err)) // crypto/rand never fails on Linux
	}
	return k.aead.Seal(nonce, nonce, []byte(value), nil)
}

// Open decrypts a sealed value.
func (k *Keys) Open(sealed []byte) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("pii: sealed value too short")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", errors.New("pii: sealed value does not open with this key")
	}
	return string(plain), nil
}

// MaskID keeps the first 6 and last 4 characters of a citizen ID.
func MaskID(id string) string {
	if len(id) < 10 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}

// MaskPhone keeps the first 3 and last 4 digits of a mobile number.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// MaskName keeps the first character of a name and masks every other
// letter: 张三 → 张*, 欧阳娜娜 → 欧***, John Smith → J*** *****. Spaces
// and middle dots stay, so the shape of the name is visible. It is the
// hub's one masking rule for names: connectors store its result beside
// the name, and every masked output shows that stored form.
func MaskName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	first := true
	for _, r := range name {
		switch {
		case first:
			b.WriteRune(r)
			first = false
		case r == ' ' || r == '·':
			b.WriteRune(r)
		default:
			b.WriteByte('*')
		}
	}
	return b.String()
}
