package framework

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"permd/aosp/preinstall"
	"permd/framework/protocol"
	"permd/grants"
	"permd/indicator"
	"permd/ledger"
)

// TestWireTypesMatchDomain: each protocol type the handlers fill from a
// domain value has the same JSON members (names, options, kinds, all the
// way down) as that value, so a field added to a domain type and not to
// the protocol cannot silently vanish from replies (and the reverse).
func TestWireTypesMatchDomain(t *testing.T) {
	for _, tc := range []struct{ domain, wire reflect.Type }{
		{reflect.TypeFor[grants.Grant](), reflect.TypeFor[protocol.Grant]()},
		{reflect.TypeFor[grants.Decision](), reflect.TypeFor[protocol.Decision]()},
		{reflect.TypeFor[grants.RequestResult](), reflect.TypeFor[protocol.RequestResult]()},
		{reflect.TypeFor[grants.HistoryEntry](), reflect.TypeFor[protocol.HistoryEntry]()},
		{reflect.TypeFor[grants.Catalogue](), reflect.TypeFor[protocol.Catalogue]()},
		{reflect.TypeFor[ledger.Filter](), reflect.TypeFor[protocol.Filter]()},
		{reflect.TypeFor[ledger.Page](), reflect.TypeFor[protocol.Page]()},
		{reflect.TypeFor[ledger.SummaryRow](), reflect.TypeFor[protocol.SummaryRow]()},
		{reflect.TypeFor[ledger.Bucket](), reflect.TypeFor[protocol.Bucket]()},
		{reflect.TypeFor[ledger.CheckedReport](), reflect.TypeFor[protocol.VerifyResult]()},
		{reflect.TypeFor[indicator.Snapshot](), reflect.TypeFor[protocol.IndicatorSnapshot]()},
		{reflect.TypeFor[indicator.Started](), reflect.TypeFor[protocol.OpStartResult]()},
		{reflect.TypeFor[PreinstallStatus](), reflect.TypeFor[protocol.PreinstallStatus]()},
		{reflect.TypeFor[preinstall.Finding](), reflect.TypeFor[protocol.Finding]()},
		{reflect.TypeFor[MethodCount](), reflect.TypeFor[protocol.MethodCount]()},
	} {
		d, w := jsonShape(tc.domain), jsonShape(tc.wire)
		if !slices.Equal(d, w) {
			t.Errorf("%v and %v differ on the wire:\n%s", tc.domain, tc.wire, shapeDiff(d, w))
		}
	}
}

// jsonShape lists every JSON member reachable from t as
// "path kind options", sorted.
func jsonShape(t reflect.Type) []string {
	var out []string
	var walk func(prefix string, t reflect.Type, depth int)
	walk = func(prefix string, t reflect.Type, depth int) {
		if depth > 8 {
			return
		}
		for t.Kind() == reflect.Pointer {
			prefix += "*"
			t = t.Elem()
		}
		switch {
		case t == reflect.TypeFor[time.Time]():
			out = append(out, prefix+" time")
		case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
			out = append(out, prefix+" raw")
		case t.Kind() == reflect.Slice:
			walk(prefix+"[]", t.Elem(), depth+1)
		case t.Kind() == reflect.Map:
			walk(prefix+"{}", t.Elem(), depth+1)
		case t.Kind() == reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if f.Anonymous && name == "" {
					walk(prefix, f.Type, depth+1)
					continue
				}
				if !f.IsExported() {
					continue
				}
				if name == "" {
					name = f.Name
				}
				out = append(out, prefix+"."+name+" ,"+opts)
				walk(prefix+"."+name, f.Type, depth+1)
			}
		default:
			out = append(out, prefix+" "+t.Kind().String())
		}
	}
	walk("", t, 0)
	sort.Strings(out)
	return out
}

func shapeDiff(a, b []string) string {
	var s strings.Builder
	for _, x := range a {
		if !slices.Contains(b, x) {
			s.WriteString("  domain only: " + x + "\n")
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			s.WriteString("  protocol only: " + x + "\n")
		}
	}
	return s.String()
}
