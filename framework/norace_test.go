//go:build !race

package framework

// raceEnabled: see race_test.go.
const raceEnabled = false
