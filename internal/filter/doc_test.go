package filter

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocOperatorTable runs the examples of the operator table in
// docs/filter-language.md against the event the table describes, so the
// documentation cannot drift from Match.
func TestDocOperatorTable(t *testing.T) {
	md, err := os.ReadFile("../../docs/filter-language.md")
	if err != nil {
		t.Skip("docs not present:", err)
	}
	doc, err := DecodeJSON([]byte(`{"target":[{"id":"00u1","type":"User"},{"id":"0oa9","type":"AppInstance"}],
		"outcome":{"result":"FAILURE","reason":null},"severity":"INFO","eventType":"user.session.start",
		"securityContext":{"asNumber":812},"debugContext":{"debugData":{"url":"/idp/idx/identify?"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	i := strings.Index(s, "| Operator | Meaning | Matches | Does not match |")
	if i < 0 {
		t.Fatal("operator table not found")
	}
	code := regexp.MustCompile("`([^`]+)`")
	n := 0
	for _, row := range strings.Split(s[i:], "\n")[2:] {
		if !strings.HasPrefix(row, "|") {
			break
		}
		cells := strings.Split(row, "|")
		if len(cells) != 6 {
			t.Fatalf("row %q has %d cells", row, len(cells))
		}
		for col, want := range map[int]bool{3: true, 4: false} {
			for _, m := range code.FindAllStringSubmatch(cells[col], -1) {
				e, err := Parse(m[1])
				if err != nil {
					t.Errorf("doc example %q: %v", m[1], err)
					continue
				}
				if got := Match(e, doc); got != want {
					t.Errorf("doc example %q: Match = %v, the table says %v", m[1], got, want)
				}
				n++
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d examples checked", n)
	}
}

// TestDocErrorTable parses every filter of the error table in
// docs/filter-language.md and checks the message the table prints.
func TestDocErrorTable(t *testing.T) {
	md, err := os.ReadFile("../../docs/filter-language.md")
	if err != nil {
		t.Skip("docs not present:", err)
	}
	s := string(md)
	i := strings.Index(s, "| Filter | Message |")
	if i < 0 {
		t.Fatal("error table not found")
	}
	row := regexp.MustCompile("^\\| (?:`(.*)`|\\(empty\\)) \\| `(.*)` \\|$")
	n := 0
	for _, r := range strings.Split(s[i:], "\n")[2:] {
		if !strings.HasPrefix(r, "|") {
			break
		}
		m := row.FindStringSubmatch(r)
		if m == nil {
			t.Errorf("unreadable row %q", r)
			continue
		}
		_, err := Parse(m[1])
		if err == nil || !strings.Contains(err.Error(), m[2]) {
			t.Errorf("%q: got %v, the table says %q", m[1], err, m[2])
		}
		n++
	}
	if n < 10 {
		t.Errorf("only %d rows checked", n)
	}
}
