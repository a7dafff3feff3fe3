package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idlog/idlog/internal/auth"
)

type savedSearch struct {
	ID, Name, Filter, Q, Range, Owner, Link string
	Columns                                 []string
	Shared                                  bool
}

func TestSavedSearches(t *testing.T) {
	e, _ := auditEnv(t)
	other, _, err := e.tokens.Create("analyst2", []auth.Role{auth.RoleAnalyst})
	if err != nil {
		t.Fatal(err)
	}
	create := func(tok, body string) (int, savedSearch, string) {
		resp, b := e.do("POST", tok, "/api/idlog/v1/searches", strings.NewReader(body), nil)
		var s savedSearch
		json.Unmarshal(b, &s)
		return resp.StatusCode, s, string(b)
	}
	list := func(tok string) []string {
		resp, b := e.get(tok, "/api/idlog/v1/searches")
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, b)
		}
		var l []savedSearch
		json.Unmarshal(b, &l)
		var names []string
		for _, s := range l {
			names = append(names, s.Name)
		}
		return names
	}
	code, mine, body := create(e.analyst, `{"name":"My lockouts","filter":"eventType eq \"user.account.lock\"","q":"","range":"7d","columns":["actor.alternateId","client.ipAddress"]}`)
	if code != 201 || mine.ID == "" || mine.Range != "7d" || len(mine.Columns) != 2 || mine.Shared {
		t.Fatalf("create: %d %s", code, body)
	}
	if !strings.HasSuffix(mine.Link, "/report/system_log_2?saved="+mine.ID) {
		t.Fatalf("share link %q", mine.Link)
	}
	code, team, body := create(e.analyst, `{"name":"Team: MFA failures","filter":"outcome.result eq \"FAILURE\"","range":"24h","shared":true}`)
	if code != 201 {
		t.Fatalf("create shared: %d %s", code, body)
	}
	// Bad input: every problem named.
	code, _, body = create(e.analyst, `{"name":"","filter":"eventType eq","range":"forever"}`)
	if code != 400 || !strings.Contains(body, "name") || !strings.Contains(body, "range") {
		t.Fatalf("bad search: %d %s", code, body)
	}
	if code, _, body = create(e.analyst, `{"name":"x","filter":"eventType eq"}`); code != 400 || !strings.Contains(body, "E0000053") {
		t.Fatalf("bad filter: %d %s", code, body)
	}
	if code, _, body = create(e.read, `{"name":"x"}`); code != 403 || !strings.Contains(body, "analyst") {
		t.Fatalf("a viewer saving: %d %s", code, body)
	}
	// Own and shared are visible; someone else's private one is not.
	if got := strings.Join(list(e.analyst), "|"); got != "My lockouts|Team: MFA failures" {
		t.Fatalf("owner's list: %s", got)
	}
	if got := strings.Join(list(other), "|"); got != "Team: MFA failures" {
		t.Fatalf("another analyst's list: %s", got)
	}
	if got := strings.Join(list(e.read), "|"); got != "Team: MFA failures" {
		t.Fatalf("a viewer's list: %s", got)
	}
	if resp, b := e.get(other, "/api/idlog/v1/searches/"+mine.ID); resp.StatusCode != 404 {
		t.Fatalf("another's private search: %d %s", resp.StatusCode, b)
	}
	// Only the owner (or an admin) changes a shared search; the link stays.
	upd := `{"name":"Team: MFA failures (7d)","filter":"outcome.result eq \"FAILURE\"","range":"7d","shared":true}`
	if resp, b := e.do("PUT", other, "/api/idlog/v1/searches/"+team.ID, strings.NewReader(upd), nil); resp.StatusCode != 403 {
		t.Fatalf("another analyst changing a shared search: %d %s", resp.StatusCode, b)
	}
	resp, b := e.do("PUT", e.admin, "/api/idlog/v1/searches/"+team.ID, strings.NewReader(upd), nil)
	var changed savedSearch
	json.Unmarshal(b, &changed)
	if resp.StatusCode != 200 || changed.Link != team.Link || changed.Name != "Team: MFA failures (7d)" {
		t.Fatalf("admin change: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do("DELETE", e.analyst, "/api/idlog/v1/searches/"+mine.ID, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.get(e.analyst, "/api/idlog/v1/searches/"+mine.ID); resp.StatusCode != 404 {
		t.Fatalf("deleted search still there: %d", resp.StatusCode)
	}
}
