package protocol

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Access is what the daemon's method table says about a method beyond
// its wire shape: the roles that may call it, the roles config may add
// (permd.json widen), and whether it never blocks.
type Access struct {
	Roles []string
	Widen []string
	Fast  bool
}

// OpenRPC builds the machine-readable contract (OpenRPC 1.2.6) from the
// specs and the daemon's method table. Params and result schemas are
// derived by reflection from the Go types and their JSON tags, with the
// rules encoding/json follows: tag names, embedded structs flattened,
// "-" skipped. Params are closed (the daemon refuses unknown fields);
// results are open (clients must ignore fields they do not know). It
// fails when a method of the table has no spec or a spec no method, so
// the contract cannot silently leave one out.
func OpenRPC(table map[string]Access) ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}}
	var methods []any
	for _, sp := range specs {
		acc, ok := table[sp.Name]
		if !ok {
			return nil, fmt.Errorf("openrpc: %s has a spec but no row in the method table", sp.Name)
		}
		if sp.Params == nil || sp.Result == nil {
			return nil, fmt.Errorf("openrpc: %s lacks a params or result type", sp.Name)
		}
		if sp.Params.Kind() != reflect.Struct {
			return nil, fmt.Errorf("openrpc: %s params are a %s, want a struct (params go by name)", sp.Name, sp.Params.Kind())
		}
		params := []any{}
		for _, f := range fields(sp.Params) {
			params = append(params, ordered{
				{"name", f.name},
				{"required", f.required},
				{"schema", g.schema(f.typ, f.nullable(false), false)},
			})
		}
		m := ordered{
			{"name", sp.Name},
			{"summary", sp.Summary},
			{"paramStructure", "by-name"},
			{"params", params},
			{"result", ordered{{"name", sp.Result.Name()}, {"schema", g.schema(sp.Result, false, true)}}},
			{"x-roles", acc.Roles},
		}
		if len(acc.Widen) > 0 {
			m = append(m, kv{"x-widen-roles", acc.Widen})
		}
		m = append(m, kv{"x-fast", acc.Fast})
		if len(sp.Notes) > 0 {
			m = append(m, kv{"x-notifications", sp.Notes})
		}
		methods = append(methods, m)
	}
	for name := range table {
		if _, ok := Lookup(name); !ok {
			return nil, fmt.Errorf("openrpc: method %s of the table has no spec in package protocol", name)
		}
	}
	var notifications []any
	for _, n := range notes {
		notifications = append(notifications, ordered{
			{"name", n.Name},
			{"summary", n.Summary},
			{"params", g.schema(n.Params, false, true)},
		})
	}
	errs := ordered{}
	for _, e := range Errors {
		errs = append(errs, kv{e.Name, ordered{{"code", e.Code}, {"message", e.Message}}})
	}
	doc := ordered{
		{"openrpc", "1.2.6"},
		{"info", ordered{
			{"title", "permd"},
			{"version", fmt.Sprint(Version)},
			{"description", "permd's JSON-RPC 2.0 protocol over a unix stream socket, one JSON value per line. Generated from package permd/framework/protocol and the daemon's method table; docs/protocol.md explains each method. x-roles: the roles that may call a method; x-widen-roles: roles permd.json may add; x-fast: the daemon answers without blocking; x-notifications: what a subscription then sends."},
		}},
		{"methods", methods},
		{"components", ordered{
			{"schemas", g.defs},
			{"errors", errs},
		}},
		{"x-notifications", notifications},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// kv and ordered keep the document's keys in a fixed, readable order
// (encoding/json sorts map keys, which would put "components" first).
type kv struct {
	k string
	v any
}

type ordered []kv

func (o ordered) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.k, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// field is one JSON member of a struct, as encoding/json sees it.
type field struct {
	name      string
	typ       reflect.Type
	required  bool
	omitempty bool
}

// nullable reports whether encoding/json may write null for the field:
// a nil pointer, slice or map that no omitempty or omitzero drops. In
// params (results false) a pointer only marks a field whose absence the
// daemon tells from a zero value, so it is not nullable there.
func (f field) nullable(results bool) bool {
	if !results || f.omitempty {
		return false
	}
	switch f.typ.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return true
	}
	return false
}

// fields lists t's JSON members in declaration order, embedded structs
// without a tag flattened into their parent.
func fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			out = append(out, fields(sf.Type)...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{
			name:      name,
			typ:       sf.Type,
			required:  sf.Tag.Get("rpc") == "required",
			omitempty: slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero"),
		})
	}
	return out
}

// schemaGen derives JSON Schemas; named structs become entries of
// components/schemas, referred to by $ref.
type schemaGen struct {
	defs map[string]any
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	rulesType   = reflect.TypeFor[Rules]()
	nullSchema  = map[string]any{"type": "null"}
	objectOnly  = map[string]any{"type": "object"}
	anySchema   = map[string]any{}
	rulesSchema = map[string]any{"type": "object", "description": "the recording rules document as published (docs/recording-rules.md)"}
)

// schema returns t's schema; nullable adds null; results says whether t
// is read by clients (open objects, nil collections written as null)
// rather than sent by them (closed objects).
func (g *schemaGen) schema(t reflect.Type, nullable, results bool) any {
	s := g.base(t, results)
	if nullable {
		return map[string]any{"oneOf": []any{s, nullSchema}}
	}
	return s
}

func (g *schemaGen) base(t reflect.Type, results bool) any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return objectOnly
	case rulesType:
		return rulesSchema
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.base(t.Elem(), results)
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Interface:
		return anySchema
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), false, results)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), false, results)}
	case reflect.Struct:
		return g.object(t, results)
	}
	panic(fmt.Sprintf("protocol: no JSON schema for %s", t))
}

// object describes a struct; a named one is defined once under
// components/schemas and referred to. A type sent by clients gets the
// suffix "Input" (unless its name ends in Params): the same Go type may
// be sent in one place (closed: unknown fields refused) and read in
// another (open), and the two schemas differ.
func (g *schemaGen) object(t reflect.Type, results bool) any {
	name := t.Name()
	if name != "" && !results && !strings.HasSuffix(name, "Params") {
		name += "Input"
	}
	if name != "" {
		if _, ok := g.defs[name]; ok {
			return map[string]any{"$ref": "#/components/schemas/" + name}
		}
		g.defs[name] = nil // placeholder against recursion
	}
	props := map[string]any{}
	var required []string
	for _, f := range fields(t) {
		props[f.name] = g.schema(f.typ, f.nullable(results), results)
		if f.required {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	if !results {
		s["additionalProperties"] = false
	}
	if name == "" {
		return s
	}
	g.defs[name] = s
	return map[string]any{"$ref": "#/components/schemas/" + name}
}
