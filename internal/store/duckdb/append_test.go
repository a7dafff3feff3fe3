package duckdb

import "testing"

func TestDupKeys(t *testing.T) {
	cases := []struct {
		json string
		want bool
	}{
		{`{"a":1,"b":2}`, false},
		{`{"a":1,"a":2}`, true},
		{`{"a":{"b":1,"b":2}}`, true},
		{`{"a":[{"b":1},{"b":2}]}`, false},
		{`{"a":{"b":1},"c":{"b":2}}`, false},
		{`{"a":"\"b\":1,","b":1}`, false},
		{`{"a":1,"\u0061":2}`, true},
		{`{"a":["a","a"],"b":{"a":"a"}}`, false},
		{`{ "a" : 1 , "a" : 2 }`, true},
		{`{"x\\":1,"x":2}`, false},
	}
	for _, c := range cases {
		if got := dupKeys([]byte(c.json)); got != c.want {
			t.Errorf("dupKeys(%s) = %v, want %v", c.json, got, c.want)
		}
	}
}
