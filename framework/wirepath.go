package framework

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// Clients see a field named as they wrote it. encoding/json names a
// field that failed to decode by its path of Go struct fields, which
// leaks the daemon's types: a field promoted from an embedded struct
// comes out as "Filter.since_ms", and array elements lose their index
// ("records.uid"); an unknown field is named without any path at all.
// wireField and unknownFieldPath turn these into the path on the wire
// ("since_ms", "records[3].uid", "records[3].bogus").

// wireField names the field of raw (decoded into v) that a
// json.UnmarshalTypeError is about.
func wireField(ute *json.UnmarshalTypeError, raw []byte, v any) string {
	field := dropEmbedded(ute.Field, reflect.TypeOf(v))
	// Where the decoder knows the offset of the bad value, read the
	// path with indices from the bytes themselves; an Unmarshaler's own
	// error has no offset, and then the path from the types stands.
	if p, ok := pathAt(raw, ute.Offset); ok && sameField(p, field) {
		return p
	}
	return field
}

// sameField reports whether the wire path p (with indices and map keys)
// is the value the decoder's path goPath names: goPath's names appear in
// p in order, p adding only indices and map keys (which goPath omits).
func sameField(p, goPath string) bool {
	ws := strings.Split(stripIndices(p), ".")
	gs := strings.Split(goPath, ".")
	i := 0
	for _, w := range ws {
		// encoding/json matches keys without regard to case, and names
		// the field by its own spelling.
		if i < len(gs) && strings.EqualFold(w, gs[i]) {
			i++
		}
	}
	return i == len(gs)
}

// dropEmbedded removes from a dotted encoding/json field path the names
// of embedded structs, which do not appear on the wire.
func dropEmbedded(goPath string, t reflect.Type) string {
	if goPath == "" {
		return ""
	}
	var out []string
	for _, seg := range strings.Split(goPath, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out, t = append(out, seg), nil
			continue
		}
		var next reflect.Type
		embedded := false
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && tag == "" && f.Name == seg {
				next, embedded = f.Type, true
				break
			}
			name := tag
			if name == "" {
				name = f.Name
			}
			if name == seg && tag != "-" {
				next = f.Type
				break
			}
		}
		if !embedded {
			out = append(out, seg)
		}
		t = next
	}
	return strings.Join(out, ".")
}

// stripIndices removes "[n]" from a wire path.
func stripIndices(p string) string {
	var b strings.Builder
	depth := 0
	for _, r := range p {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pathAt returns the path of the JSON value of raw that ends at offset
// (a scalar) or whose opening brace or bracket ends there (an object or
// array), as the decoder reports offsets.
func pathAt(raw []byte, offset int64) (string, bool) {
	if offset <= 0 {
		return "", false
	}
	type frame struct {
		array     bool
		index     int
		key       string
		expectKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	// valueDone moves the enclosing container past the value just read.
	valueDone := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].expectKey = true
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		end := dec.InputOffset()
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].expectKey {
			if k, ok := tok.(string); ok {
				stack[n-1].key, stack[n-1].expectKey = k, false
				continue
			}
		}
		switch tok {
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if end >= offset {
			p := path()
			return p, p != ""
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{expectKey: true})
		case json.Delim('['):
			stack = append(stack, frame{array: true})
		default:
			valueDone()
		}
	}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// unknownFieldPath finds, in raw as decoded into v, the first object key
// in document order that no struct field takes (which is the one
// encoding/json reports, by bare name), and returns its wire path
// ("records[2].bogus"). It returns name when the walk does not find it.
func unknownFieldPath(raw []byte, v any, name string) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if p, ok, err := findUnknown(dec, reflect.TypeOf(v), "", name); err == nil && ok {
		return p
	}
	return name
}

func findUnknown(dec *json.Decoder, t reflect.Type, path, name string) (string, bool, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)) {
		t = nil // decodes itself: whatever it holds is not a field
	}
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			key, _ := kt.(string)
			child := key
			if path != "" {
				child = path + "." + key
			}
			var ct reflect.Type
			switch {
			case t == nil:
			case t.Kind() == reflect.Map:
				ct = t.Elem()
			case t.Kind() == reflect.Struct:
				f, ok := fieldOf(t, key)
				if !ok && key == name {
					return child, true, nil
				}
				ct = f
			}
			if p, ok, err := findUnknown(dec, ct, child, name); err != nil || ok {
				return p, ok, err
			}
		}
		_, err = dec.Token()
		return "", false, err
	case json.Delim('['):
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, ok, err := findUnknown(dec, et, path+"["+strconv.Itoa(i)+"]", name); err != nil || ok {
				return p, ok, err
			}
		}
		_, err = dec.Token()
		return "", false, err
	}
	return "", false, nil
}

// fieldOf returns the type of the field of struct t that takes the JSON
// key, matching as encoding/json does: the exact name first, then any
// case, promoted fields of embedded structs included.
func fieldOf(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	var walk func(t reflect.Type) (reflect.Type, bool)
	walk = func(t reflect.Type) (reflect.Type, bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "-" {
				continue
			}
			if f.Anonymous && tag == "" {
				et := f.Type
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					if ft, ok := walk(et); ok {
						return ft, true
					}
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			n := tag
			if n == "" {
				n = f.Name
			}
			if n == key {
				return f.Type, true
			}
			if fold == nil && strings.EqualFold(n, key) {
				fold = f.Type
			}
		}
		return nil, false
	}
	if ft, ok := walk(t); ok {
		return ft, true
	}
	return fold, fold != nil
}
