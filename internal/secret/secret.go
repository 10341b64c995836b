// Package secret encrypts stored secrets (Password fields, API secrets) with
// the site's key. Frappe stores them reversibly because Event Streaming must
// send a stored secret to the other site; so do we, with AES-256-GCM and a
// random nonce per value.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Box encrypts and decrypts with one site key.
type Box struct {
	aead cipher.AEAD
	rnd  io.Reader
}

const prefix = "v1:"

// NewKey returns a fresh random key in its text form.
func NewKey(rnd io.Reader) (string, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(rnd, k); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// New builds a Box from a key made by NewKey. rnd supplies nonces (crypto/rand in production).
func New(key string, rnd io.Reader) (*Box, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(key))
	if err != nil || len(k) != 32 {
		return nil, errors.New("encryption key must be 32 bytes in base64")
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	return &Box{aead: aead, rnd: rnd}, nil
}

// Encrypt returns "v1:" + base64(nonce|ciphertext). The version prefix lets
// keys rotate later.
func (b *Box) Encrypt(plain string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := io.ReadFull(b.rnd, nonce); err != nil {
		return "", err
	}
	ct := b.aead.Seal(nonce, nonce, []byte(plain), nil)
	return prefix + base64.StdEncoding.EncodeToString(ct), nil
}

// Decrypt reverses Encrypt.
func (b *Box) Decrypt(s string) (string, error) {
	if !strings.HasPrefix(s, prefix) {
		return "", errors.New("secret: unknown format")
	}
	raw, err := base64.StdEncoding.DecodeString(s[len(prefix):])
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("secret: corrupt value")
	}
	ns := b.aead.NonceSize()
	pt, err := b.aead.Open(nil, raw[:ns], raw[ns:], nil)
	if err != nil {
		return "", fmt.Errorf("secret: cannot decrypt (wrong site key?): %w", err)
	}
	return string(pt), nil
}

// Mask is what a Password field shows instead of its value: one * per character.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	return strings.Repeat("*", len([]rune(s)))
}

// IsMask reports whether s consists only of '*': Frappe treats such a value
// in a save as "unchanged".
func IsMask(s string) bool {
	return s != "" && strings.Trim(s, "*") == ""
}
