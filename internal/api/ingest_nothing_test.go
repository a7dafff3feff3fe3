package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/api"
)

// TestPostNothingStored: a body every event of which is rejected answers
// 400 in Okta's error shape, naming the rejections; one with a stored or
// already stored event, or none at all, still answers 200.
func TestPostNothingStored(t *testing.T) {
	e := newEnv(t, api.Options{})
	evs := genEvents(50, 1, t0, time.Hour)
	for _, c := range []struct {
		name, body string
		status     int
		want       []string
	}{
		{"every event rejected", "nope\n" + `{"uuid":"x"}` + "\n", 400, []string{
			`"errorCode":"E0000001"`, "none of its 2 events was stored", "line 1: ", "line 2: missing published"}},
		{"empty", "", 200, []string{`"accepted":0`}},
		{"one stored", string(evs[0]) + "\nnope\n", 200, []string{`"accepted":1`, `"rejectedCount":1`}},
		{"only duplicates", string(evs[0]) + "\nnope\n", 200, []string{`"duplicates":1`}},
	} {
		resp, b := e.do("POST", e.write, "/api/v1/logs", strings.NewReader(c.body), nil)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, b)
			continue
		}
		if !json.Valid(b) {
			t.Errorf("%s: not JSON: %s", c.name, b)
		}
		for _, w := range c.want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: answer lacks %q: %s", c.name, w, b)
			}
		}
	}
}
