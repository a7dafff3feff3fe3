package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
)

func TestScenariosList(t *testing.T) {
	out, _, code := runInProcess(t, "", "scenarios")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	all := scenario.All()
	if len(lines) != len(all)+1 {
		t.Fatalf("%d lines, want a header and %d scenarios:\n%s", len(lines), len(all), out)
	}
	for i, s := range all {
		f := strings.Fields(lines[i+1])
		if f[0] != s.Name || f[1] != "--"+s.Param || !strings.HasSuffix(lines[i+1], s.Title) {
			t.Errorf("row %q, want %s --%s %s", lines[i+1], s.Name, s.Param, s.Title)
		}
	}
	out, _, code = runInProcess(t, "", "scenarios", "--output", "json")
	var rows []map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != len(all) || rows[0]["template"] != all[0].Template {
		t.Errorf("--output json: code %d, %d rows", code, len(rows))
	}
}

func TestScenariosShow(t *testing.T) {
	cases := []struct {
		args  []string
		name  string
		value string
	}{
		{[]string{"signin-events-user", "--user", "00u1"}, "signin-events-user", "00u1"},
		{[]string{"--user", "00u1", "logout"}, "logout", "00u1"},
		{[]string{"signin-events-ip", "--ip", "203.0.113.7"}, "signin-events-ip", "203.0.113.7"},
		{[]string{"session-events", "--session", "102abc"}, "session-events", "102abc"},
		{[]string{"mfa", "--user", `x" or eventType pr or actor.id eq "`}, "mfa", `x" or eventType pr or actor.id eq "`},
	}
	for _, c := range cases {
		out, errOut, code := runInProcess(t, "", append([]string{"scenarios", "show"}, c.args...)...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", c.args, code, errOut)
			continue
		}
		s, _ := scenario.Lookup(c.name)
		want, _ := s.Expand(c.value)
		if out != want+"\n" {
			t.Errorf("%v: printed\n%s\nwant\n%s", c.args, out, want)
		}
		if _, err := filter.Parse(out); err != nil {
			t.Errorf("%v: output does not parse: %v", c.args, err)
		}
	}
	out, _, code := runInProcess(t, "", "scenarios", "show", "logout", "--user", "u", "--normal")
	if want := `(actor.id eq "u" or target.id eq "u") and (eventType eq "user.session.end" or eventType eq "user.authentication.slo")` + "\n"; code != 0 || out != want {
		t.Errorf("--normal: code %d, %q, want %q", code, out, want)
	}
}

func TestScenariosShowErrors(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"logout"}, "takes --user (missing)"},
		{[]string{"logout", "--ip", "1.2.3.4"}, "takes --user, not --ip"},
		{[]string{"logout", "--user", "a", "--session", "b"}, "takes --user only (got --session --user)"},
		{[]string{"signin-events-ip", "--user", "a"}, "takes --ip"},
		{[]string{"nope", "--user", "a"}, `unknown scenario "nope"`},
		{[]string{"--user", "a"}, "exactly one scenario"},
		{[]string{"logout", "mfa", "--user", "a"}, "exactly one scenario"},
		{[]string{"logout", "--user", ""}, "empty"},
		{[]string{"logout", "--frob"}, "flag provided but not defined"},
	}
	for _, c := range cases {
		out, errOut, code := runInProcess(t, "", append([]string{"scenarios", "show"}, c.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want 2 and %q", c.args, code, out, errOut, c.msg)
		}
	}
}
