package process

import (
	"errors"
	"testing"
	"time"

	"permd/aosp/etc"
)

// TestCompileNamesFieldsAsWritten: a bad process.json value is refused
// with a field error naming the field as the file writes it; absent
// fields keep DefaultConfig's values.
func TestCompileNamesFieldsAsWritten(t *testing.T) {
	d := func(v time.Duration) *etc.Duration { e := etc.Duration(v); return &e }
	for _, tc := range []struct {
		name  string
		f     File
		field string
	}{
		{"mode", File{Mode: "psychic"}, "mode"},
		{"poll interval too short", File{PollInterval: d(time.Millisecond)}, "poll_interval"},
		{"window zero", File{Window: d(0)}, "window"},
		{"host uid", File{HostPackages: map[string][]string{"abc": {"x.y"}}}, "host_packages.abc"},
		{"host package", File{HostPackages: map[string][]string{"1000": {"bad/n"}}}, "host_packages.1000"},
	} {
		_, err := Compile(&tc.f)
		var fe *etc.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Problem == "" {
			t.Errorf("%s: got %v, want a field error naming %s", tc.name, err, tc.field)
		}
	}
	def, err := Compile(nil)
	if err != nil || def.Config != DefaultConfig() || !def.Logd || def.Host == nil {
		t.Errorf("no file: %+v %v, want the defaults", def, err)
	}
	off := false
	st, err := Compile(&File{Mode: ModePoll, PollInterval: d(time.Second), Logd: &off, HostPackages: map[string][]string{"10123": {"com.example.cam"}}})
	want := DefaultConfig()
	want.Mode, want.PollInterval = ModePoll, time.Second
	if err != nil || st.Config != want || st.Logd || len(st.Host[10123]) != 1 {
		t.Errorf("poll mode every second, no logd, one host app: %+v %v", st, err)
	}
}
