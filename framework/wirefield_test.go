package framework

import (
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"permd/framework/client"
)

// badInputs are requests each method must refuse with -32602, each with
// the field at fault present in the params, so that the field the error
// names can be looked up in what the client sent. Cases of a method this
// daemon does not serve are skipped, so that they may be written before
// the method is.
var badInputs = map[string][]string{
	"sys.version":         {`{"bogus":1}`},
	"sys.health":          {`{"verbose":true}`},
	"perm.check":          {`{"uid":"x"}`, `{"uid":-1,"package":"com.a","category":"camera"}`, `{"uid":10001,"package":"com.a","category":"telepathy"}`},
	"perm.request":        {`{"uid":"x"}`, `{"uid":10001,"package":"Not A Package","category":"camera"}`},
	"perm.decide":         {`{"request_id":5}`, `{"request_id":"r","time":{"mode":7}}`, `{"request_id":"r","frequency":{"max":"x"}}`},
	"app.state":           {`{"uid":10001,"state":"asleep"}`, `{"uid":"x","state":"foreground"}`},
	"loc.fudge":           {`{"uid":10001,"lat":91,"lon":0}`, `{"uid":10001,"lat":"n","lon":0}`, `{"uid":10001,"lat":1,"lon":2,"accuracy_m":-1}`},
	"grants.list":         {`{"uid":"x"}`, `{"package":"Not A Package"}`, `{"category":"telepathy"}`},
	"grants.get":          {`{"history":"x"}`, `{"user":-1,"package":"com.a","category":"camera"}`},
	"grants.set":          {`{"package":"com.a","category":"camera","decision":"allow","time":{"mode":"forever"}}`, `{"package":"com.a","category":"camera","frequency":{"max":"x"}}`, `{"package":"com.a","category":"camera","decision":"perhaps"}`},
	"grants.revoke":       {`{"user":-1,"package":"com.a","category":"camera"}`, `{"package":"com.a","category":"telepathy"}`},
	"grants.catalogue":    {`{"lang":"xx"}`},
	"policy.subscribe":    {`{"bogus":1}`},
	"op.start":            {`{"resource":"camera","uid":10001,"via":[{"uid":1000},{"uid":"x"}]}`, `{"resource":"telepathy","uid":10001}`, `{"resource":"camera","uid":10001,"via":[{"uid":1000,"bogus":1}]}`},
	"op.finish":           {`{"use":"x"}`},
	"op.heartbeat":        {`{"uses":[1,"x"]}`},
	"proc.died":           {`{"uid":-5}`, `{"uid":10001,"pid":-1}`},
	"indicator.get":       {`{"bogus":1}`},
	"indicator.subscribe": {`{"bogus":1}`},
	"ledger.report": {
		`{"records":[{"uid":10001,"kind":"access","category":"telepathy","result":"allowed"}]}`,
		`{"records":[{"uid":10001,"kind":"access","category":"camera","result":"allowed"},{"uid":"x"}]}`,
		`{"records":[{"uid":10001,"kind":"access","category":"camera","result":"allowed","time_ms":1}]}`,
		`{"records":[{"uid":10001,"kind":"access","category":"camera","result":"allowed","detail":{"bogus":1}}]}`,
		`{"records":[{"uid":10001,"kind":"access","category":"camera","result":"allowed"},{"uid":10001,"bogus":1}]}`,
	},
	"ledger.query":      {`{"since_ms":"x"}`, `{"until_ms":-1}`, `{"limit":5000}`, `{"uid":true}`},
	"ledger.summary":    {`{"uid":"x"}`, `{"since_ms":-1}`},
	"ledger.timeline":   {`{"bucket":"week"}`, `{"result":1}`},
	"ledger.export":     {`{"limit":-1}`, `{"package":7}`},
	"ledger.verify":     {`{"bogus":1}`},
	"rules.get":         {`{"version":"x"}`},
	"preinstall.status": {`{"severity":"bad"}`},
	"proc.report":       {`{"uid":10001,"reason":"telepathy"}`, `{"uid":10001,"reason":"broadcast","caller_uid":"x"}`},
	"proc.list":         {`{"uid":"x"}`},

	"app.removed":          {`{"uid":"x"}`, `{"uid":10001,"package":"Not A Package"}`},
	"ledger.lost":          {`{"dropped":0,"reason":"x"}`, `{"dropped":"x"}`},
	"loc.offset":           {`{"bogus":1}`},
	"perm.android_revoked": {`{"bogus":1}`},
	"time.zone":            {`{"zone":"Not/AZone"}`, `{"zone":5}`},
}

var pathSegment = regexp.MustCompile(`^([^.\[]*)((?:\[\d+\])*)$`)

// fieldIn reports whether the dotted, indexed path names a value present
// in params ("records[1].uid", "time.mode").
func fieldIn(params any, path string) bool {
	v := params
	for _, seg := range strings.Split(path, ".") {
		m := pathSegment.FindStringSubmatch(seg)
		if m == nil {
			return false
		}
		obj, ok := v.(map[string]any) // every segment starts with a key, "" included
		if !ok {
			return false
		}
		if v, ok = obj[m[1]]; !ok {
			return false
		}
		for _, idx := range regexp.MustCompile(`\d+`).FindAllString(m[2], -1) {
			arr, ok := v.([]any)
			i, _ := strconv.Atoi(idx)
			if !ok || i >= len(arr) {
				return false
			}
			v = arr[i]
		}
	}
	return true
}

// TestInvalidParamsNameWireFields calls every method with bad input over
// the socket and checks that each -32602 error's field is a key of the
// request as written: never a Go struct name ("Filter.since_ms"), never
// a name the client did not send ("time" for time_ms).
func TestInvalidParamsNameWireFields(t *testing.T) {
	ts := startTestService(t, testOptions{})
	var methods []string
	for name := range ts.svc.server.methods {
		methods = append(methods, name)
	}
	sort.Strings(methods)
	c := ts.dial(t)
	for _, m := range methods {
		cases := badInputs[m]
		if len(cases) == 0 {
			t.Errorf("%s has no bad-input case in badInputs: add one", m)
		}
		for _, params := range cases {
			err := c.Call(t.Context(), m, json.RawMessage(params), nil)
			re := clientRPCError(err)
			if re == nil || re.Code != CodeInvalidParams {
				t.Errorf("%s %s: got %v, want a %d error", m, params, err, CodeInvalidParams)
				continue
			}
			field := re.field()
			var sent any
			json.Unmarshal([]byte(params), &sent)
			if field == "" || !fieldIn(sent, field) {
				t.Errorf("%s %s: error names field %q, which is not in the request (message %q)", m, params, field, re.Message)
			}
		}
	}
}

// TestWireFieldOfDecodeErrors checks the naming on its own, for shapes
// the methods above may not have: embedded structs, nested arrays,
// maps, a type error from an Unmarshaler (no offset).
func TestWireFieldOfDecodeErrors(t *testing.T) {
	type inner struct {
		V int `json:"v"`
	}
	type emb struct {
		Since int64 `json:"since_ms"`
	}
	type params struct {
		emb
		Records []struct {
			UID  int     `json:"uid"`
			Deep []inner `json:"deep"`
		} `json:"records"`
		M    map[string]inner `json:"m"`
		Wait Duration         `json:"wait"`
		Cfg  struct {
			Idle Duration `json:"idle_timeout"`
		} `json:"limits"`
	}
	for _, tc := range []struct{ in, want string }{
		{`{"since_ms":"x"}`, "since_ms"},
		{`{"records":[{"uid":1},{"uid":"x"}]}`, "records[1].uid"},
		{`{"records":[{"uid":1},{"deep":[{"v":1},{"v":2},{"v":"s"}]}]}`, "records[1].deep[2].v"},
		{`{"records":[{"uid":{}}]}`, "records[0].uid"},
		{`{"m":{"k":{"v":"s"}}}`, "m.k.v"},
		{`{"wait":"soon"}`, "wait"},
		{`{"limits":{"idle_timeout":5}}`, "limits.idle_timeout"},
		{` { "records" : [ { "uid" : "x" } ] } `, "records[0].uid"},
		{`{"records":[{"uid":1},{"deep":[{"v":1,"bogus":2}]}]}`, "records[1].deep[0].bogus"},
		{`{"m":{"k":{"bogus":1}}}`, "m.k.bogus"},
		{`{"since_ms":1,"limits":{"idle_timeout":"1s","bogus":1}}`, "limits.bogus"},
		{`{"SINCE_MS":1,"bogus":1}`, "bogus"},
		{`{"wait":"1s","Records":[{"UID":1,"bogus":1}]}`, "Records[0].bogus"},
	} {
		var p params
		err := DecodeParams(json.RawMessage(tc.in), &p)
		var re *Error
		if !errors.As(err, &re) {
			t.Errorf("%s: got %v, want an *Error", tc.in, err)
			continue
		}
		if got := re.field(); got != tc.want {
			t.Errorf("%s: field %q, want %q (message %q)", tc.in, got, tc.want, re.Message)
		}
	}
}

// clientRPCError turns the Go client's error into the daemon's shape.
func clientRPCError(err error) *Error {
	var ce *client.RPCError
	if !errors.As(err, &ce) {
		return nil
	}
	var data map[string]any
	json.Unmarshal(ce.Data, &data)
	return &Error{Code: ce.Code, Message: ce.Message, Data: data}
}

func (e *Error) field() string {
	if f, ok := e.Data.(map[string]string); ok {
		return f["field"]
	}
	if f, ok := e.Data.(map[string]any); ok {
		s, _ := f["field"].(string)
		return s
	}
	return ""
}
