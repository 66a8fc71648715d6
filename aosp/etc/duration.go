package etc

import (
	"encoding/json"
	"reflect"
	"strconv"
	"time"
)

// Duration is a time.Duration written in config files as a Go duration
// string ("5s", "10m"), shared by every part's config file and by the
// published recording rules (rules.json).
type Duration time.Duration

var durationType = reflect.TypeFor[Duration]()

// UnmarshalJSON accepts a Go duration string. Errors are JSON type errors,
// so that encoding/json names the field at fault; TypeProblem gives their
// text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		v := string(b)
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return &json.UnmarshalTypeError{Value: v, Type: durationType}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(s), Type: durationType}
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
