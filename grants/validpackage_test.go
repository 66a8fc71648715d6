package grants

import "testing"

// FuzzValidPackage holds ValidPackage's scan to packageRE, the syntax it
// implements.
func FuzzValidPackage(f *testing.F) {
	for _, s := range []string{"com.example.app", "a.b", "com", "com.", ".com", "com..a", "com.1a", "Com.A_1.b2", "com.ex-ample", "com.exämple", "_a.b", "a._b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		want := len(name) <= 255 && packageRE.MatchString(name)
		if got := ValidPackage(name); got != want {
			t.Fatalf("ValidPackage(%q) = %v, packageRE says %v", name, got, want)
		}
	})
}

// BenchmarkValidPackage is the check perm.check makes of every package.
func BenchmarkValidPackage(b *testing.B) {
	for b.Loop() {
		if !ValidPackage("com.bench.app") {
			b.Fatal("refused")
		}
	}
}
