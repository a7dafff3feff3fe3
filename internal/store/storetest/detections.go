package storetest

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// OktaDetectionQueries returns the System Log filter of every detection and
// hunt in the copy of okta/customer-detections kept in the filter package's
// testdata (with its license and commit), keyed by file.
func OktaDetectionQueries(t testing.TB) map[string]string {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("storetest: cannot locate its source")
	}
	root := filepath.Join(filepath.Dir(self), "..", "..", "filter", "testdata", "customer-detections")
	out := map[string]string{}
	for _, dir := range []string{"detections", "hunts"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.yml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Detection struct {
					SystemLog map[string]string `yaml:"okta_systemlog"`
				} `yaml:"detection"`
			}
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if q, ok := doc.Detection.SystemLog["OIE"]; ok {
				out[dir+"/"+filepath.Base(f)] = strings.TrimSpace(q)
			}
		}
	}
	if len(out) < 37 {
		t.Fatalf("storetest: %d customer-detections queries under %s, want 37", len(out), root)
	}
	return out
}

// testCustomerDetections runs every customer-detections filter that parses,
// and the language extensions they need on values found in the data, and
// compares each answer with the reference evaluator's. A backend may refuse
// an array index with an error (an answer is complete or it is an error),
// never answer it differently.
func testCustomerDetections(t *testing.T, s store.Store, m *model) {
	qs := OktaDetectionQueries(t)
	names := make([]string, 0, len(qs))
	for n := range qs {
		names = append(names, n)
	}
	sort.Strings(names)
	var srcs []string
	for _, n := range names {
		if _, err := filter.Parse(qs[n]); err == nil {
			srcs = append(srcs, qs[n])
		}
	}
	// Extensions on values that occur, so that the answers are not empty.
	for i := 0; i < len(m.docs) && len(srcs) < len(names)+18; i += 211 {
		if ts := filter.Resolve(m.docs[i], filter.Path{"target"}); len(ts) > 1 {
			if ns := filter.Resolve(ts[1], filter.Path{"displayName"}); len(ns) > 0 {
				if s, ok := ns[0].(string); ok {
					srcs = append(srcs, `target.1.displayName eq `+lit(s), `target.0.displayName eq `+lit(s))
				}
			}
		}
		if et := filter.Resolve(m.docs[i], filter.Path{"eventType"}); len(et) == 1 {
			if s, ok := et[0].(string); ok {
				srcs = append(srcs, `eventType in [`+lit(s)+`, "user.session.start"] and not (target.type in ["User", "AppInstance"])`,
					`eventType in [`+lit(s)+`] and not (target.0.type in ["User", "AppInstance"])`)
			}
		}
	}
	matched := 0
	for _, src := range srcs {
		e := mustParse(t, src)
		q := store.Query{Filter: e, Limit: 1000}
		if _, err := s.Query(t.Context(), q); err != nil && hasIndex(e) && strings.Contains(err.Error(), "array index") {
			t.Logf("refused (allowed for an index): %s: %v", src, err)
			continue
		}
		if check(t, s, m, q) && len(m.match(q)) > 0 {
			matched++
		}
	}
	t.Logf("%d filters, %d with a non-empty answer", len(srcs), matched)
	if matched < 5 {
		t.Errorf("only %d of %d filters matched anything: the comparison says little", matched, len(srcs))
	}
}

func hasIndex(e filter.Expr) bool {
	for _, p := range filter.Paths(e) {
		if p.HasIndex() {
			return true
		}
	}
	return false
}

// lit is s as a filter string literal.
func lit(s string) string { return filter.Value{Kind: filter.String, Str: s}.String() }
