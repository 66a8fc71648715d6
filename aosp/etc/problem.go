package etc

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
)

// TypeProblem returns the one text every file (config, rules, request
// params) gives for a value of the wrong JSON type, when err (from
// encoding/json) is such an error. For a Duration, a string that does
// not parse says so, and a bare number is told it needs quotes and a
// unit (a unitless number has been read as seconds, milliseconds and
// nanoseconds by different tools, so none is assumed).
func TypeProblem(err error) (string, bool) {
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) {
		return "", false
	}
	if ute.Type != durationType {
		return "expected " + jsonKind(ute.Type) + ", got JSON " + ute.Value, true
	}
	if s, ok := strings.CutPrefix(ute.Value, "string "); ok {
		return s + ` is not a duration: write a number and a unit, such as "300ms", "60s", "5m" or "2h"`, true
	}
	return `expected a duration string such as "60s", got ` + ute.Value, true
}

// jsonKind names what a Go type takes in JSON terms, for errors a client
// author can act on (not the daemon's type names).
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
