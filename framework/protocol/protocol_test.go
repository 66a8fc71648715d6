package protocol

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func fullTable() map[string]Access {
	t := map[string]Access{}
	for _, s := range specs {
		t[s.Name] = Access{Roles: []string{"root"}}
	}
	return t
}

func TestOpenRPCRefusesTableAndSpecsThatDisagree(t *testing.T) {
	if _, err := OpenRPC(fullTable()); err != nil {
		t.Fatalf("full table: %v", err)
	}
	missing := fullTable()
	delete(missing, MethodPermCheck)
	if _, err := OpenRPC(missing); err == nil || !strings.Contains(err.Error(), MethodPermCheck) {
		t.Errorf("table without perm.check: error %v, want one naming it", err)
	}
	extra := fullTable()
	extra["perm.telepathy"] = Access{Roles: []string{"root"}}
	if _, err := OpenRPC(extra); err == nil || !strings.Contains(err.Error(), "perm.telepathy") {
		t.Errorf("table with an undescribed method: error %v, want one naming it", err)
	}
}

func TestOpenRPCSchemasFollowTags(t *testing.T) {
	b, err := OpenRPC(fullTable())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Methods []struct {
			Name   string `json:"name"`
			Params []struct {
				Name     string `json:"name"`
				Required bool   `json:"required"`
			} `json:"params"`
		} `json:"methods"`
		Components struct {
			Schemas map[string]struct {
				Properties           map[string]json.RawMessage `json:"properties"`
				Required             []string                   `json:"required"`
				AdditionalProperties *bool                      `json:"additionalProperties"`
			} `json:"schemas"`
			Errors map[string]struct {
				Code int `json:"code"`
			} `json:"errors"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	params := map[string]map[string]bool{}
	for _, m := range doc.Methods {
		params[m.Name] = map[string]bool{}
		for _, p := range m.Params {
			params[m.Name][p.Name] = p.Required
		}
	}
	// Filters are embedded in the read params and flattened, as
	// encoding/json flattens them.
	if req, ok := params[MethodLedgerQuery]["since_ms"]; !ok || req {
		t.Errorf("ledger.query params %v: want since_ms, optional", params[MethodLedgerQuery])
	}
	if !params[MethodPermCheck]["uid"] {
		t.Errorf("perm.check uid not required: %v", params[MethodPermCheck])
	}
	ev := doc.Components.Schemas["Event"]
	if _, ok := ev.Properties["time_ms"]; !ok || ev.AdditionalProperties != nil {
		t.Errorf("Event schema %+v: want time_ms and an open object (clients ignore new fields)", ev)
	}
	in := doc.Components.Schemas["ReportRecordInput"]
	if in.AdditionalProperties == nil || *in.AdditionalProperties || !strings.Contains(strings.Join(in.Required, ","), "uid") {
		t.Errorf("ReportRecordInput schema %+v: want closed (unknown fields are refused) with uid required", in)
	}
	if doc.Components.Errors["PermissionDenied"].Code != CodePermissionDenied || len(doc.Components.Errors) != len(Errors) {
		t.Errorf("components/errors %v: want every code", doc.Components.Errors)
	}
}

func TestEncodedKeepsBytesAndDecodes(t *testing.T) {
	raw := []byte(`{"seq":7,"time":"2026-03-02T10:00:03.12Z","resources":[]}`)
	b, err := json.Marshal(struct {
		R Encoded[IndicatorSnapshot] `json:"r"`
	}{Encoded[IndicatorSnapshot](raw)})
	if err != nil || string(b) != `{"r":`+string(raw)+`}` {
		t.Fatalf("marshal: %s, %v", b, err)
	}
	s, err := Encoded[IndicatorSnapshot](raw).Decode()
	if err != nil || s.Seq != 7 || s.Resources == nil {
		t.Fatalf("decode: %+v, %v", s, err)
	}
}

// TestEveryFieldNamesItsWireName: each member of every params, result
// and notification type has an explicit json tag, so a Go rename can
// never rename a field on the wire.
func TestEveryFieldNamesItsWireName(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ.PkgPath() != reflect.TypeFor[Spec]().PkgPath() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			if f.Anonymous {
				walk(path, f.Type)
				continue
			}
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "" {
				t.Errorf("%s: %s.%s has no json name", path, typ.Name(), f.Name)
			}
			walk(path, f.Type)
		}
	}
	for _, s := range Specs() {
		walk(s.Name+" params", s.Params)
		walk(s.Name+" result", s.Result)
	}
	for _, n := range Notes() {
		walk(n.Name, n.Params)
	}
	if len(seen) < 40 {
		t.Fatalf("walked %d protocol types; want every type the specs reach", len(seen))
	}
}
