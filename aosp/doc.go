// Package aosp is the Android integration of permd: its subpackages read
// Android formats (APKs, packages.list, the event log) and run the device
// e2e scenarios; this folder also holds the init .rc, the product makefile
// and the build scripts. The package itself only carries the build guards
// in deps_test.go.
package aosp
