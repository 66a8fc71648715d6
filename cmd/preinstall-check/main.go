// Command preinstall-check vets apps for preinstallation under CAC draft
// Art. 29: it inspects APKs (manifest, signers), checks them against the
// OEM's registry of verified operators, and writes registry templates. It
// runs inside the AOSP build, so it uses the standard library and this
// repository only.
package main

import (
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Now))
}
