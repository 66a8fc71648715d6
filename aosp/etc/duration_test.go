package etc

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDurationRoundTrip(t *testing.T) {
	var v struct {
		D Duration `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"1m30s"}`), &v); err != nil || time.Duration(v.D) != 90*time.Second {
		t.Fatalf("decode \"1m30s\": %v %v, want 1m30s", time.Duration(v.D), err)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"d":"1m30s"}` {
		t.Fatalf("encode: %s %v, want {\"d\":\"1m30s\"}", b, err)
	}
}

// TestTypeProblem: the texts every config file, the rules and request
// params share, with encoding/json naming the field.
func TestTypeProblem(t *testing.T) {
	type file struct {
		D     Duration  `json:"wait"`
		P     *Duration `json:"hold"`
		N     int       `json:"n"`
		Inner struct {
			D Duration `json:"idle_timeout"`
		} `json:"limits"`
	}
	for _, tc := range []struct{ in, field, want string }{
		{`{"wait":"soon"}`, "wait", `"soon" is not a duration: write a number and a unit, such as "300ms", "60s", "5m" or "2h"`},
		{`{"hold":"5"}`, "hold", `"5" is not a duration: write a number and a unit, such as "300ms", "60s", "5m" or "2h"`},
		{`{"limits":{"idle_timeout":300}}`, "limits.idle_timeout", `expected a duration string such as "60s", got 300`},
		{`{"wait":{"s":1}}`, "wait", `expected a duration string such as "60s", got {"s":1}`},
		{`{"n":"x"}`, "n", `expected an integer, got JSON string`},
		{`{"limits":[]}`, "limits", `expected an object, got JSON array`},
	} {
		var f file
		err := json.Unmarshal([]byte(tc.in), &f)
		got, ok := TypeProblem(err)
		var ute *json.UnmarshalTypeError
		if !ok || got != tc.want {
			t.Errorf("%s: TypeProblem = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		if errors.As(err, &ute); ute == nil || ute.Field != tc.field {
			t.Errorf("%s: error %v names field %v, want %q", tc.in, err, ute, tc.field)
		}
	}
	if _, ok := TypeProblem(json.Unmarshal([]byte(`{`), new(file))); ok {
		t.Error("a syntax error is not a type problem")
	}
}
