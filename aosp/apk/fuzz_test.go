package apk

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseManifest(f *testing.F) {
	for _, n := range []string{"demo-manifest.bin"} {
		if b, err := os.ReadFile(filepath.Join("testdata", n)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err == nil && m.Package == "" {
			t.Fatal("manifest without package accepted")
		}
	})
}

func FuzzParseSigningBlock(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "demo-sigblock.bin")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := ParseSigningBlock(b)
		if err != nil {
			return
		}
		for _, id := range []uint32{BlockV2, BlockV3, BlockV31} {
			if v, ok := blk.Find(id); ok {
				parseSchemeBlock(v, "v3")
				parseSchemeBlock(v, "v2")
			}
		}
	})
}

// FuzzInspect runs the whole reader (zip, manifest, signing block, v1)
// over mutated APKs: it must never panic, and never call a mutated APK
// fully verified unless its signatures still check.
func FuzzInspect(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "demo-signed.apk")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := NewReader(bytes.NewReader(b), int64(len(b)), Limits{MaxManifest: 1 << 20, MaxMetaFile: 1 << 20})
		if err != nil {
			return
		}
		a.Inspect(Options{})
	})
}
