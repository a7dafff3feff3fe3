package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/event"
)

func TestEventTypesJSON(t *testing.T) {
	cases := []struct {
		args []string
		keep func(event.EventType) bool
	}{
		{nil, func(event.EventType) bool { return true }},
		{[]string{"--category", "mfa"}, func(t event.EventType) bool { return t.Category == "mfa" }},
		{[]string{"--flow", "sspr"}, func(t event.EventType) bool { return t.HasFlow("sspr") }},
		{[]string{"--category", "password", "--flow", "sspr"}, func(t event.EventType) bool { return t.Category == "password" && t.HasFlow("sspr") }},
		{[]string{"unlock"}, func(t event.EventType) bool { return strings.Contains(t.Name, "unlock") }},
	}
	for _, c := range cases {
		args := append([]string{"eventtypes", "--output", "json"}, c.args...)
		out, errOut, code := runInProcess(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var got []event.EventType
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var want []string
		for _, et := range event.Types() {
			if c.keep(et) {
				want = append(want, et.Name)
			}
		}
		if len(got) != len(want) || len(want) == 0 {
			t.Errorf("%v: %d types, want %d (> 0)", args, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].Name != want[i] || got[i].Description == "" || got[i].Flows == nil {
				t.Errorf("%v: row %d = %+v, want %s with description and flows", args, i, got[i], want[i])
			}
		}
	}
}

func TestEventTypesTable(t *testing.T) {
	out, _, code := runInProcess(t, "", "eventtypes", "--flow", "logout")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "NAME") || len(lines) != 3 {
		t.Fatalf("want a header and the two logout types, got\n%s", out)
	}
	for i, name := range []string{"user.authentication.slo", "user.session.end"} {
		et, _ := event.LookupType(name)
		if f := strings.Fields(lines[i+1]); f[0] != name || f[1] != et.Category || !strings.Contains(lines[i+1], et.Description) {
			t.Errorf("row %q, want %s %s …", lines[i+1], name, et.Category)
		}
	}
}

func TestEventTypesErrors(t *testing.T) {
	for _, args := range [][]string{{"--category", "nope"}, {"--flow", "login"}, {"--output", "yaml"}, {"a", "b"}} {
		if _, errOut, code := runInProcess(t, "", append([]string{"eventtypes"}, args...)...); code != 2 || errOut == "" {
			t.Errorf("%v: code %d, stderr %q; want 2", args, code, errOut)
		}
	}
	if _, _, code := runInProcess(t, "", "eventtypes", "no.such.type"); code != 1 {
		t.Errorf("no match: code %d, want 1", code)
	}
}
