package adb

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzReadMessage: whatever a peer sends, ReadMessage returns a message
// within the limit or an error; it never panics or reads past the limit.
func FuzzReadMessage(f *testing.F) {
	hdr := make([]byte, HeaderSize)
	EncodeHeader(hdr, Message{Command: CmdWRTE, Arg0: 1, Arg1: 2, Data: []byte("abc")}, true)
	f.Add(append(hdr, "abc"...))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Add(hdr[:10])
	f.Fuzz(func(t *testing.T, b []byte) {
		const limit = 4096
		for _, mode := range []CheckMode{CheckAlways, CheckNonZero, CheckNever} {
			r := bytes.NewReader(b)
			m, err := ReadMessage(r, limit, mode)
			if err != nil {
				continue
			}
			if len(m.Data) > limit || !knownCommand(m.Command) {
				t.Fatalf("accepted %v", m)
			}
			if used := len(b) - r.Len(); used != HeaderSize+len(m.Data) {
				t.Fatalf("consumed %d bytes for a %d-byte payload", used, len(m.Data))
			}
		}
	})
}

// FuzzParsePublicKey: a key is accepted only if it encodes back to the
// same bytes (n0inv and R^2 consistent with the modulus).
func FuzzParsePublicKey(f *testing.F) {
	f.Add("QAAAAA== user@host")
	f.Add(strings.Repeat("A", 700))
	f.Fuzz(func(t *testing.T, s string) {
		pub, _, err := ParsePublicKey(s)
		if err != nil {
			return
		}
		b64, _, _ := strings.Cut(strings.TrimRight(s, "\x00\r\n "), " ")
		if EncodePublicKey(pub) != b64 {
			t.Fatalf("accepted a key that does not re-encode to itself")
		}
		if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
			t.Fatal(err)
		}
	})
}
