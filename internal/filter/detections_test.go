package filter

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// customerDetections is the copy of okta/customer-detections in testdata
// (its LICENSE and SOURCE, which names the commit, are beside it).
const customerDetections = "testdata/customer-detections"

// oktaQuery is one System Log filter of a detection or hunt.
type oktaQuery struct {
	file, key, src string
}

// loadOktaQueries reads every okta_systemlog query of the copy.
func loadOktaQueries(t testing.TB) []oktaQuery {
	t.Helper()
	var files []string
	for _, dir := range []string{"detections", "hunts"} {
		fs, err := filepath.Glob(filepath.Join(customerDetections, dir, "*.yml"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	sort.Strings(files)
	var out []oktaQuery
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
		for k, src := range doc.Detection.SystemLog {
			if k != "OIE" {
				// A few files indent a Datadog query under okta_systemlog.
				continue
			}
			out = append(out, oktaQuery{file: filepath.ToSlash(strings.TrimPrefix(f, customerDetections+"/")), key: k, src: strings.TrimSpace(src)})
		}
	}
	return out
}

// oktaMistakes are the customer-detections queries with a real mistake,
// refused with this message at this text.
var oktaMistakes = map[string]struct{ msg, at string }{
	// A bare "result": the field is outcome.result.
	"detections/detect_aitm_phishing_using_okta_fastpass.yml": {"field is not valid: result", "result"},
}

// TestCustomerDetections: every System Log filter of okta/customer-detections
// parses, prints to a filter that parses back to the same tree, or (the
// few with a real mistake) is refused with an error that points at it.
func TestCustomerDetections(t *testing.T) {
	qs := loadOktaQueries(t)
	if len(qs) < 37 {
		t.Fatalf("%d queries in %s, want the 37 of the copy", len(qs), customerDetections)
	}
	refused := 0
	for _, q := range qs {
		e, err := Parse(q.src)
		if m, ok := oktaMistakes[q.file]; ok {
			refused++
			pe, isErr := err.(*Error)
			if !isErr {
				t.Errorf("%s: parsed (%v), want the error %q", q.file, e, m.msg)
				continue
			}
			if !strings.Contains(pe.Error(), m.msg) || q.src[pe.Pos:pe.End] != m.at {
				t.Errorf("%s: error %q at %q, want %q at %q", q.file, pe.Error(), q.src[pe.Pos:pe.End], m.msg, m.at)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s (%s): %v", q.file, q.key, err)
			continue
		}
		checkPositions(t, q.src, e)
		again, err := Parse(e.String())
		if err != nil || shape(again) != shape(e) {
			t.Errorf("%s: String() %q reparses to %v, %v", q.file, e, again, err)
		}
	}
	if refused != len(oktaMistakes) {
		t.Errorf("%d queries refused, want %d", refused, len(oktaMistakes))
	}
}
