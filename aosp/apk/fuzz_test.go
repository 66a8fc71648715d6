package apk

import (
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
