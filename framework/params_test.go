package framework

import (
	"bytes"
	"encoding/json"
	"permd/framework/protocol"
	"reflect"
	"testing"
)

// flatTestParams has each kind of field decodeFlat takes.
type flatTestParams struct {
	UID   *int     `json:"uid"`
	Name  string   `json:"name,omitempty"`
	Tags  []string `json:"tags"`
	On    bool     `json:"on"`
	Ratio float64
	skip  int
}

// FuzzDecodeFlat holds decodeFlat to a json.Decoder with
// DisallowUnknownFields, DecodeParams's general path: whenever it takes
// params, the Decoder takes them too and fills the same struct.
func FuzzDecodeFlat(f *testing.F) {
	for _, s := range []string{
		`{"uid":10123,"package":"com.example","op":"android:camera","state":"foreground"}`,
		`{"uid":1,"category":"location","uid":2}`,
		`{"UID":1}`,
		`{"bogus":1}`,
		`{"uid":"1"}`,
		`{"uid":1.5}`,
		`{"uid":1,"name":"a\u0041","tags":["x",null],"on":true,"Ratio":1e3}`,
		`{"uid":null,"tags":null}`,
		`{"ratio":2}`,
		`{"skip":1}`,
		`{}`,
		` { "uid" : 1 } `,
		`[1]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		check := func(fast, slow any) {
			if !decodeFlat(params, fast) {
				return
			}
			dec := json.NewDecoder(bytes.NewReader(params))
			dec.DisallowUnknownFields()
			if err := dec.Decode(slow); err != nil {
				t.Fatalf("%q: decodeFlat took it, the Decoder refuses it: %v", params, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%q: decodeFlat read %+v, the Decoder %+v", params, fast, slow)
			}
		}
		check(&protocol.CheckParams{}, &protocol.CheckParams{})
		check(&flatTestParams{}, &flatTestParams{})
	})
}

// TestDecodeFlatLeavesErrorsToTheDecoder: an unknown key, a key spelt in
// another case and a wrong type all take DecodeParams's general path,
// whose errors name the field as the client wrote it.
func TestDecodeFlatLeavesErrorsToTheDecoder(t *testing.T) {
	var q protocol.CheckParams
	if !decodeFlat([]byte(`{"uid":7,"op":"android:camera"}`), &q) || q.UID == nil || *q.UID != 7 || q.Op != "android:camera" {
		t.Fatalf("perm.check's params were not decoded in place: %+v", q)
	}
	for _, params := range []string{`{"uid":7,"bogus":1}`, `{"UID":7}`, `{"uid":"7"}`} {
		if decodeFlat([]byte(params), &protocol.CheckParams{}) {
			t.Errorf("%s: taken in place, want the Decoder's path", params)
		}
	}
	if err := DecodeParams([]byte(`{"uid":7,"bogus":1}`), &protocol.CheckParams{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("bogus")) {
		t.Fatalf("unknown field: %v, want an error naming it", err)
	}
	type nested struct {
		Time struct {
			Mode string `json:"mode"`
		} `json:"time"`
	}
	if decodeFlat([]byte(`{"time":{"mode":"x"}}`), &nested{}) {
		t.Fatal("a struct with a nested object was taken in place")
	}
}
