package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/store"
)

// nodeSDK makes sure Okta's Node.js SDK is installed in test/nodesdk and
// returns that directory. Without node or npm, or when the install fails
// offline, the test is skipped, except in CI (CI set), where it must run.
func nodeSDK(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "nodesdk"))
	if err != nil {
		t.Fatal(err)
	}
	skip := t.Skipf
	if os.Getenv("CI") != "" {
		skip = t.Fatalf
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			skip("%s is not installed: %v", tool, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@okta", "okta-sdk-nodejs", "package.json")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "sh", filepath.Join(dir, "install.sh")).CombinedOutput()
		if err != nil {
			skip("installing @okta/okta-sdk-nodejs failed (offline?): %v\n%s", err, out)
		}
	}
	return dir
}

type nodeQuery struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
	Max    int            `json:"max,omitempty"`
	want   []string       // the store's answer
}

// TestOktaNodeSDK lists simulated events through @okta/okta-sdk-nodejs:
// every scenario (the seed's queries, verbatim) with limit 7 across many
// pages, keywords, descending order, a 4 KB filter and a polling stream,
// each compared with the store's own answer in order.
func TestOktaNodeSDK(t *testing.T) {
	dir := nodeSDK(t)
	e := newSimEnv(t, 40, 7)
	since, until := simEnd.Add(-7*24*time.Hour), simEnd
	iso := func(t time.Time) string { return t.Format("2006-01-02T15:04:05.000Z") }
	// Candidate values per parameter; each scenario takes the one that
	// selects the most events, so its pages are many.
	paths := map[string]filter.Path{
		scenario.ParamUser:    {"actor", "id"},
		scenario.ParamIP:      {"client", "ipAddress"},
		scenario.ParamSession: {"authenticationContext", "externalSessionId"},
	}
	candidates := map[string][]string{}
	for param, path := range paths {
		vals, err := e.st.TopValues(context.Background(), store.Query{}, path, 25)
		if err != nil || len(vals) == 0 {
			t.Fatalf("%s: %v", path, err)
		}
		for _, v := range vals {
			candidates[param] = append(candidates[param], v.Value)
		}
	}
	best := func(sc scenario.Scenario) string {
		var pick string
		var most int64 = -1
		for _, v := range candidates[sc.Param] {
			f, err := sc.Expand(v)
			if err != nil {
				t.Fatal(err)
			}
			n, err := e.st.Count(context.Background(), store.Query{Filter: mustParse(t, f), Since: since, Until: until})
			if err != nil {
				t.Fatal(err)
			}
			if n > most {
				pick, most = v, n
			}
		}
		return pick
	}
	values := map[string]string{scenario.ParamUser: candidates[scenario.ParamUser][0]}

	var queries []*nodeQuery
	add := func(name, f, q string, desc bool, limit int) {
		params := map[string]any{"since": iso(since), "until": iso(until), "limit": limit}
		if f != "" {
			params["filter"] = f
		}
		if q != "" {
			params["q"] = q
		}
		if desc {
			params["sortOrder"] = "DESCENDING"
		}
		kws, err := filter.ParseKeywords(q)
		if err != nil {
			t.Fatal(err)
		}
		sq := store.Query{Filter: mustParse(t, f), Keywords: kws, Since: since, Until: until, Order: store.ByPublished, Descending: desc}
		queries = append(queries, &nodeQuery{Name: name, Params: params, want: e.storeAnswer(sq)})
	}
	for _, sc := range scenario.All() {
		f, err := sc.Expand(best(sc))
		if err != nil {
			t.Fatal(err)
		}
		add("scenario "+sc.Name, f, "", false, 7)
	}
	add("keywords", "", "user.session.start "+strings.ToLower(values[scenario.ParamUser]), false, 7)
	add("descending", `outcome.result eq "FAILURE"`, "", true, 7)
	// A 4 KB filter: every user of the org, then made-up ones.
	users, err := e.st.TopValues(context.Background(), store.Query{}, filter.Path{"actor", "id"}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var long strings.Builder
	long.WriteString(`eventType sw "user." and (`)
	for i := 0; long.Len() < 4096; i++ {
		if i > 0 {
			long.WriteString(" or ")
		}
		id := fmt.Sprintf("00uNOSUCHUSER%07x", i*7919)
		if i < len(users) {
			id = users[i].Value
		}
		fmt.Fprintf(&long, "actor.id eq %q", id)
	}
	long.WriteString(")")
	add("4 KB filter", long.String(), "", false, 50)

	// Polling: no until; the stream never ends, so stop at the store's count.
	poll := e.storeAnswer(store.Query{Since: since, Order: store.BySeq})
	queries = append(queries, &nodeQuery{Name: "polling", Params: map[string]any{"since": iso(since), "limit": 200},
		Max: len(poll), want: poll})

	pages, empty := 0, 0
	for _, q := range queries {
		if len(q.want) == 0 {
			t.Logf("%s selects nothing in the test data", q.Name)
			empty++
		}
		if l, ok := q.Params["limit"].(int); ok {
			pages += (len(q.want) + l - 1) / l
		}
	}
	if empty > len(queries)/4 {
		t.Fatalf("%d of %d queries select nothing: the test would prove little", empty, len(queries))
	}
	spec, _ := json.Marshal(map[string]any{"orgUrl": e.ts.URL, "token": e.read, "queries": queries})
	// A client that loops (as the Node.js SDK does on a Link header it
	// cannot parse) is cut off.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "list.js")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got map[string]struct {
		UUIDs []string `json:"uuids"`
		Error string   `json:"error"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output: %v: %.300s", err, out)
	}
	for _, q := range queries {
		g := got[q.Name]
		if g.Error != "" {
			t.Errorf("%s: the SDK failed after %d events: %s", q.Name, len(g.UUIDs), g.Error)
			continue
		}
		t.Run(q.Name, func(t *testing.T) { equalIDs(t, q.Name, g.UUIDs, q.want) })
	}
	t.Logf("%d queries, about %d pages through the Node.js SDK", len(queries), pages)
}
