package framework

import (
	"encoding/json"
	"testing"
	"time"
)

// TestRequestIDThatCannotBeEchoed: JSON-RPC 2.0 §5 says an error about a
// request whose id cannot be told gets "id": null. An id that is an
// object, an array or a boolean is such a case: the reply must not echo
// it, and the connection keeps serving.
func TestRequestIDThatCannotBeEchoed(t *testing.T) {
	ts := startTestService(t, testOptions{})
	rc := dialRaw(t, ts.socket)
	for _, id := range []string{`{"x":1}`, `[1]`, `[]`, `true`, `false`, `{}`} {
		rc.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"sys.version"}` + "\n")
		r := rc.reply()
		got, present := r["id"]
		if !present || got != nil {
			t.Errorf("id %s: reply id %v (present %v), want \"id\": null; reply %v", id, got, present, r)
		}
		if code := errCode(r); code != CodeInvalidRequest {
			t.Errorf("id %s: error code %d, want %d; reply %v", id, code, CodeInvalidRequest, r)
		}
	}
	// Ids JSON-RPC allows are echoed as sent.
	for _, id := range []string{`"abc"`, `7`, `-3`, `1.5`, `null`} {
		rc.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"sys.version"}` + "\n")
		rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := rc.r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("id %s: read reply: %v", id, err)
		}
		var r struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("id %s: reply %q: %v", id, line, err)
		}
		if string(r.ID) != id || r.Result == nil {
			t.Errorf("id %s: reply %s, want the id echoed and a result", id, line)
		}
	}
}

// TestBatchRequestIDThatCannotBeEchoed: the same inside a batch, where
// each bad entry gets its own reply with a null id.
func TestBatchRequestIDThatCannotBeEchoed(t *testing.T) {
	ts := startTestService(t, testOptions{})
	rc := dialRaw(t, ts.socket)
	rc.send(`[{"jsonrpc":"2.0","id":{"a":1},"method":"sys.version"},{"jsonrpc":"2.0","id":9,"method":"sys.version"},{"jsonrpc":"2.0","id":true,"method":"sys.version"}]` + "\n")
	rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := rc.r.ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]json.RawMessage
	if err := json.Unmarshal(line, &out); err != nil {
		t.Fatalf("batch reply %q: %v", line, err)
	}
	if len(out) != 3 {
		t.Fatalf("batch reply has %d entries, want 3: %s", len(out), line)
	}
	for i, want := range []string{"null", "9", "null"} {
		if got := string(out[i]["id"]); got != want {
			t.Errorf("batch entry %d: id %s, want %s (reply %s)", i, got, want, line)
		}
	}
	if out[0]["error"] == nil || out[1]["result"] == nil || out[2]["error"] == nil {
		t.Errorf("batch reply: want error, result, error; got %s", line)
	}
}
