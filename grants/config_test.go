package grants

import (
	"errors"
	"testing"
	"time"

	"permd/aosp/etc"
)

// TestCompileNamesFieldsAsWritten: a bad grants.json value is refused
// with a field error naming the field as the file writes it; absent
// fields keep the defaults.
func TestCompileNamesFieldsAsWritten(t *testing.T) {
	for _, tc := range []struct {
		name  string
		f     File
		field string
	}{
		{"version", File{Version: 2}, "version"},
		{"once grace too long", File{Version: 1, OnceGrace: etc.Duration(2 * time.Hour)}, "once_grace"},
		{"ask ttl too short", File{Version: 1, AskTTL: etc.Duration(time.Millisecond)}, "ask_ttl"},
		{"sweep too long", File{Version: 1, SweepInterval: etc.Duration(2 * time.Hour)}, "sweep_interval"},
		{"unknown zone", File{Version: 1, TimeZone: "Mars/Olympus"}, "time_zone"},
	} {
		_, err := Compile(&tc.f)
		var fe *etc.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Problem == "" {
			t.Errorf("%s: got %v, want a field error naming %s", tc.name, err, tc.field)
		}
	}
	def, err := Compile(nil)
	if err != nil || def.Policy != DefaultPolicy() || def.Sweep != DefaultSweep {
		t.Errorf("no file: %+v %v, want the defaults", def, err)
	}
	st, err := Compile(&File{Version: 1, OnceGrace: etc.Duration(30 * time.Second), TimeZone: "Asia/Shanghai"})
	if err != nil || st.Policy.OnceGrace != 30*time.Second || st.Policy.AskTTL != DefaultPolicy().AskTTL || st.Policy.Location.String() != "Asia/Shanghai" {
		t.Errorf("once_grace 30s in Asia/Shanghai: %+v %v", st, err)
	}
}
