package jsonscan

import "testing"

func TestValueLen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{`"a\"b",1`, 6},
		{`{"k":[1,{"x":"}"}]} tail`, 19},
		{`123,`, 3},
		{`true}`, 4},
		{``, 0},
		{`{"open":1`, 10}, // unterminated: more than the input
		{`"open`, 6},
	} {
		if got := ValueLen([]byte(tc.in)); got != tc.want {
			t.Errorf("ValueLen(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
