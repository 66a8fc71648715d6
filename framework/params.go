package framework

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// flatStruct describes a params struct whose fields are all scalars (or
// pointers to scalars, or slices of them): its keys can be checked in
// one pass over the top level.
type flatStruct struct {
	names map[string]bool // the fields' JSON names
	flat  bool
}

var flatStructs sync.Map // reflect.Type → *flatStruct

func flatOf(t reflect.Type) *flatStruct {
	if f, ok := flatStructs.Load(t); ok {
		return f.(*flatStruct)
	}
	f := &flatStruct{names: map[string]bool{}, flat: true}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			f.flat = false // embedded fields: encoding/json's rules, not these
			break
		}
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && sf.Tag.Get("json") == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if !scalar(sf.Type) {
			f.flat = false
			break
		}
		f.names[name] = true
	}
	flatStructs.Store(t, f)
	return f
}

func scalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return false // []byte is base64, and RawMessage any JSON
		}
		return scalar(t.Elem())
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return !t.Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(unmarshalerType)
	}
	return false
}

// decodeFlat is DecodeParams for params of a flat struct: json.Unmarshal
// decodes, and each top-level key is checked against the struct's JSON
// names in one pass, which costs half of what a json.Decoder with
// DisallowUnknownFields does (perm.check's hot path spent three quarters
// of its handler there). It returns false for anything else, and
// DecodeParams then takes the Decoder's path, whose errors name the
// field: a struct with nested values, a key that is not exactly a
// field's name, any decoding error. FuzzDecodeFlat holds the two equal.
func decodeFlat(params []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return false
	}
	f := flatOf(rv.Elem().Type())
	if !f.flat || json.Unmarshal(params, v) != nil {
		return false
	}
	// params is valid JSON now, and an object (Unmarshal into a struct
	// refuses anything else but null, which DecodeParams took before).
	return eachMember(params, func(key, _ []byte) bool { return f.names[string(key)] })
}
