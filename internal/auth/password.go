// Package auth holds credential checks that need no storage: password hashing
// (argon2id in PHC form), Authorization header parsing, and the login rate
// limiter. Users, sessions and keys are stored through package app.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: the OWASP minimum (19 MiB, t=2, p=1), sized so a burst
// of logins cannot exhaust a 2-core machine.
const (
	argonMem     = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an argon2id hash in PHC string form.
func HashPassword(pw string, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMem, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMem, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword verifies pw against a hash made by HashPassword.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// RandomHex returns n random hex characters (Frappe's api_key and api_secret
// are 15 hex characters from frappe.generate_hash(length=15)).
func RandomHex(rnd io.Reader, n int) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, (n+1)/2)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b)[:n], nil
}

// ErrMalformed is returned for an Authorization header with two parts that is
// neither `token key:secret` nor `Basic base64(key:secret)`.
var ErrMalformed = errors.New("malformed Authorization header")

// ParseAuthorization reads `token key:secret` or `Basic base64(key:secret)`.
// ok is false when the header is absent or has another number of parts (Frappe
// then runs the request as Guest); err is set when it has two parts but cannot
// be read (Frappe answers 401).
func ParseAuthorization(h string) (key, secret string, ok bool, err error) {
	parts := strings.Fields(h)
	if len(parts) != 2 {
		return "", "", false, nil
	}
	var cred string
	switch strings.ToLower(parts[0]) {
	case "token":
		cred = parts[1]
	case "basic":
		b, derr := base64.StdEncoding.DecodeString(parts[1])
		if derr != nil {
			return "", "", true, ErrMalformed
		}
		cred = string(b)
	default:
		return "", "", true, ErrMalformed
	}
	k, s, found := strings.Cut(cred, ":")
	if !found || k == "" || s == "" {
		return "", "", true, ErrMalformed
	}
	return k, s, true, nil
}
