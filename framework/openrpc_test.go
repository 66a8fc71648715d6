package framework

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"permd/framework/protocol"
)

var update = flag.Bool("update", false, "write docs/openrpc.json from package protocol and the method table")

const openrpcPath = "../docs/openrpc.json"

// TestProtocolTypesForEveryMethod: every row of the method table has its
// params and result types in package protocol, and protocol names no
// method the daemon does not serve.
func TestProtocolTypesForEveryMethod(t *testing.T) {
	table := (&Service{}).methodTable()
	if len(table) < 30 {
		t.Fatalf("method table has %d rows; want every method", len(table))
	}
	served := map[string]bool{}
	for _, m := range table {
		if served[m.Name] {
			t.Errorf("method %s is in the table twice", m.Name)
		}
		served[m.Name] = true
		sp, ok := protocol.Lookup(m.Name)
		if !ok {
			t.Errorf("method %s has no spec in package protocol (add its params and result types to protocol/spec.go)", m.Name)
			continue
		}
		if sp.Params == nil || sp.Params.Kind() != reflect.Struct {
			t.Errorf("method %s: params type %v, want a struct", m.Name, sp.Params)
		}
		if sp.Result == nil {
			t.Errorf("method %s has no result type", m.Name)
		}
	}
	for _, sp := range protocol.Specs() {
		if !served[sp.Name] {
			t.Errorf("package protocol describes %s, which no part serves", sp.Name)
		}
	}
}

// TestOpenRPC: docs/openrpc.json is what package protocol and the method
// table generate (go test -run TestOpenRPC -update writes it), every
// method in it has params and a result schema, and docs/protocol.md has
// a heading for every method and for nothing else.
func TestOpenRPC(t *testing.T) {
	table := (&Service{}).methodTable()
	got, err := protocol.OpenRPC(contractAccess(table))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(openrpcPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(openrpcPath)
	if err != nil {
		t.Fatalf("read the contract: %v (generate it: go test ./framework -run TestOpenRPC -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/openrpc.json is stale: regenerate it with go test ./framework -run TestOpenRPC -update (first difference at line %d)", firstDiffLine(got, want))
	}

	var doc struct {
		OpenRPC string `json:"openrpc"`
		Methods []struct {
			Name   string            `json:"name"`
			Params []json.RawMessage `json:"params"`
			Result *struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"result"`
			Roles []string `json:"x-roles"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(want, &doc); err != nil {
		t.Fatalf("docs/openrpc.json: %v", err)
	}
	if doc.OpenRPC != "1.2.6" {
		t.Errorf("openrpc version %q, want 1.2.6", doc.OpenRPC)
	}
	inDoc := map[string]bool{}
	for _, m := range doc.Methods {
		inDoc[m.Name] = true
		if m.Params == nil {
			t.Errorf("%s: no params list", m.Name)
		}
		if m.Result == nil || len(m.Result.Schema) == 0 || string(m.Result.Schema) == "{}" {
			t.Errorf("%s: no result schema", m.Name)
		}
		if len(m.Roles) == 0 {
			t.Errorf("%s: no x-roles", m.Name)
		}
	}
	for _, m := range table {
		if !inDoc[m.Name] {
			t.Errorf("docs/openrpc.json lacks %s", m.Name)
		}
	}

	md, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	headed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^### ([a-z]+\.[a-z_]+)\b`).FindAllSubmatch(md, -1) {
		headed[string(m[1])] = true
	}
	for _, m := range table {
		if !headed[m.Name] {
			t.Errorf("docs/protocol.md has no \"### %s\" heading", m.Name)
		}
	}
	for name := range headed {
		if !slices.ContainsFunc(table, func(m Method) bool { return m.Name == name }) {
			t.Errorf("docs/protocol.md documents %s, which the daemon does not serve", name)
		}
	}
}

// TestOpenRPCRolesMatchTable: the roles the contract lists are the
// table's, so a client checked against the contract is checked against
// what the server enforces.
func TestOpenRPCRolesMatchTable(t *testing.T) {
	b, err := os.ReadFile(openrpcPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Methods []struct {
			Name  string   `json:"name"`
			Roles []string `json:"x-roles"`
			Widen []string `json:"x-widen-roles"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, m := range doc.Methods {
		roles[m.Name] = m.Roles
		if m.Name == protocol.MethodGrantsSet && !slices.Equal(m.Widen, []string{"shell"}) {
			t.Errorf("grants.set x-widen-roles %v, want [shell]", m.Widen)
		}
	}
	md, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	// "### perm.check — framework, root (hot path)": the roles a heading
	// names, the parenthesis aside ("all roles" is every role).
	documented := map[string][]string{}
	for _, h := range regexp.MustCompile(`(?m)^### ([a-z]+\.[a-z_]+) — (.+)$`).FindAllStringSubmatch(string(md), -1) {
		list := strings.TrimSpace(regexp.MustCompile(`\(.*\)`).ReplaceAllString(h[2], ""))
		var rs []string
		if list == "all roles" {
			for _, r := range AllRoles {
				rs = append(rs, string(r))
			}
		} else {
			for _, r := range strings.Split(list, ",") {
				rs = append(rs, strings.TrimSpace(r))
			}
		}
		documented[h[1]] = rs
	}
	for _, m := range (&Service{}).methodTable() {
		var want []string
		for _, r := range m.Roles {
			want = append(want, string(r))
		}
		if !slices.Equal(roles[m.Name], want) {
			t.Errorf("%s: contract roles %v, table %v", m.Name, roles[m.Name], want)
		}
		doc, ok := documented[m.Name]
		if !ok {
			t.Errorf("docs/protocol.md has no \"### %s — roles\" heading", m.Name)
			continue
		}
		slices.Sort(doc)
		slices.Sort(want)
		if !slices.Equal(doc, want) {
			t.Errorf("%s: docs/protocol.md says roles %v, the table allows %v", m.Name, doc, want)
		}
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
