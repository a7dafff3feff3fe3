package storetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/event"
	"github.com/idlog/idlog/internal/store"
)

// RealEvents are the real Okta LogEvents kept in the project's testdata
// (Okta's documentation and Elastic's fixtures, see their READMEs), one
// store.Event each.
func RealEvents(tb testing.TB) []store.Event {
	tb.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("storetest: cannot find its own source")
	}
	root := filepath.Join(filepath.Dir(self), "..", "..")
	var out []store.Event
	for _, f := range []string{
		"flows/testdata/real/elastic-okta-system-events.jsonl",
		"flows/testdata/real/okta-docs-event-correlation.jsonl",
		"event/testdata/okta-sample.json",
	} {
		raw, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			tb.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") {
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				tb.Fatalf("%s: %v", f, err)
			}
			out = append(out, rawEvent(b.String()))
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				out = append(out, rawEvent(string(line)))
			}
		}
	}
	return out
}

// ProjectMemberSets are the member lists testProject asks for: the
// built-in rule library's (see detect.Engine.Members), one member alone of
// each kind (typed values in it, targets split into items, kept whole),
// every member, none, and names that are no member.
var ProjectMemberSets = [][]string{
	{"actor", "authenticationContext", "client", "debugContext", "eventType", "outcome", "published", "securityContext", "target", "uuid"},
	{"target"},
	{"actor"},
	{"request", "debugContext"},
	{"uuid", "published", "eventType", "version", "severity", "legacyEventType", "displayMessage",
		"actor", "client", "device", "outcome", "target", "transaction", "debugContext",
		"authenticationContext", "securityContext", "request"},
	{},
	{"notAMember", "extra", "eventType"},
}

// testProject checks a store.Projector: for range and filter queries it
// hands over the events Query returns, in (published, seq) order, and each
// event's named members are the members of the whole event, byte for byte
// and in order. The store holds the suite's data plus the real events.
func testProject(t *testing.T, open Opener) {
	s := open(t)
	pj, ok := s.(store.Projector)
	if !ok {
		t.Skip("the store does not implement store.Projector (readers page through Query)")
	}
	ctx := context.Background()
	evs := append(Dataset(), RealEvents(t)...)
	for i := 0; i < len(evs); i += 300 {
		// Newest batches first: rows stored out of published order.
		j := len(evs) - i
		if _, err := s.Append(ctx, evs[max(j-300, 0):j]); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Query(ctx, store.Query{Order: store.ByPublished})
	if err != nil {
		t.Fatal(err)
	}
	mid := all[len(all)/2].Published
	queries := []store.Query{
		{},
		{Since: all[0].Published, Until: mid},
		{Since: mid, Until: all[len(all)-1].Published.Add(time.Millisecond)},
		{Filter: mustParse(t, `eventType eq "user.session.start"`)},
		{Filter: mustParse(t, `eventType sw "user.authentication" or outcome.result eq "FAILURE"`), Since: all[0].Published.Add(time.Hour)},
		{Filter: mustParse(t, `target.displayName pr`)},
		{Keywords: []string{"okta"}},
	}
	for _, q := range queries {
		want, err := s.Query(ctx, q) // Order ByPublished, no limit
		if err != nil {
			t.Fatal(err)
		}
		full := map[string][]byte{}
		for _, e := range want {
			full[e.UUID] = e.Raw
		}
		for _, names := range ProjectMemberSets {
			var got []store.Event
			err := pj.Project(ctx, q, names, func(e store.Event) error {
				got = append(got, e)
				return nil
			})
			if err != nil {
				t.Errorf("project %s %v: %v", describe(q), names, err)
				continue
			}
			if g, w := uuids(got), uuids(want); !slices.Equal(g, w) {
				t.Errorf("project %s %v: not the events Query returns, in its order:\n%s", describe(q), names, diff(g, w))
				continue
			}
			for i, e := range got {
				if e.Seq != want[i].Seq || !e.Published.Equal(want[i].Published) {
					t.Errorf("project %s: %s: seq %d published %v, want %d %v", describe(q), e.UUID, e.Seq, e.Published, want[i].Seq, want[i].Published)
					break
				}
				g, err := namedMembers(e.Raw, names)
				if err != nil {
					t.Errorf("project %s %v: %s: %v in %s", describe(q), names, e.UUID, err, e.Raw)
					break
				}
				w, err := namedMembers(full[e.UUID], names)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(g, w) {
					t.Errorf("project %s %v: %s:\n got %s\nwant %s (of %s)", describe(q), names, e.UUID, g, w, full[e.UUID])
					break
				}
			}
		}
	}
	// Only a whole ascending range can be projected.
	for _, q := range []store.Query{{Limit: 5}, {Descending: true}, {Order: store.BySeq}, {After: &store.Position{Published: mid}}} {
		if err := pj.Project(ctx, q, nil, func(store.Event) error { return nil }); err == nil {
			t.Errorf("project %s: no error", describe(q))
		}
	}
	// An error of the caller's stops the read and comes back.
	stop := fmt.Errorf("enough")
	n := 0
	err = pj.Project(ctx, store.Query{}, nil, func(store.Event) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("project stopped by its caller: %v after %d events, want %v after 1", err, n, stop)
	}
}

// namedMembers lists, in order, "key:value" for each top-level member of
// the JSON object raw whose key is one of names, value as its bytes.
func namedMembers(raw []byte, names []string) ([]string, error) {
	d, err := event.Walk(raw)
	if err != nil {
		return nil, err
	}
	if d.Nodes[0].Kind != event.KindObject {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []string
	d.Children(0, func(c int) bool {
		if k := d.Key(c); slices.Contains(names, k) {
			out = append(out, k+":"+string(d.Bytes(c)))
		}
		return true
	})
	return out, nil
}
