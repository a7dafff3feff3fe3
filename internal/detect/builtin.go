package detect

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// builtinFS holds idlog's own rules (builtin/*.yml, documented in
// docs/detections.md) and the detections of okta/customer-detections that
// are written in the System Log filter language (okta/, with its LICENSE
// and SOURCE naming the commit).
//
//go:embed builtin/*.yml okta/*.yml
var builtinFS embed.FS

// Builtin returns the built-in library: idlog's rules, then Okta's
// customer-detections queries as filter rules (ids "okta-<file>"). Okta
// queries that idlog refuses (a real mistake in the query) are returned as
// LoadErrors with the reason.
func Builtin() ([]*Rule, []*LoadError) {
	var rules []*Rule
	var bad []*LoadError
	files, _ := fs.Glob(builtinFS, "builtin/*.yml")
	sort.Strings(files)
	for _, f := range files {
		raw, _ := builtinFS.ReadFile(f)
		r, err := ParseRule(raw, "builtin")
		if err != nil {
			// The library is tested; a failure here is a build mistake.
			panic(fmt.Sprintf("detect: built-in rule %s: %v", f, err))
		}
		rules = append(rules, r)
	}
	files, _ = fs.Glob(builtinFS, "okta/*.yml")
	sort.Strings(files)
	for _, f := range files {
		raw, _ := builtinFS.ReadFile(f)
		r, err := parseOktaDetection(raw, path.Base(f))
		if err != nil {
			bad = append(bad, &LoadError{File: "okta-customer-detections/" + path.Base(f), Err: err})
			continue
		}
		rules = append(rules, r)
	}
	return rules, bad
}

// parseOktaDetection turns one okta/customer-detections file into a filter
// rule. Okta gives no severity; they are medium.
func parseOktaDetection(raw []byte, file string) (*Rule, error) {
	var d struct {
		Title       string `yaml:"title"`
		Description string `yaml:"description"`
		Threat      struct {
			Technique []any `yaml:"Technique"`
		} `yaml:"threat"`
		Detection struct {
			SystemLog map[string]string `yaml:"okta_systemlog"`
		} `yaml:"detection"`
		FalsePositives []string `yaml:"false_positives"`
	}
	if err := yaml.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	q, ok := d.Detection.SystemLog["OIE"]
	if !ok {
		return nil, fmt.Errorf("no System Log query")
	}
	r := &Rule{
		ID:             "okta-" + strings.ReplaceAll(strings.TrimSuffix(strings.ToLower(file), ".yml"), "_", "-"),
		Title:          d.Title,
		Description:    strings.TrimSpace(d.Description),
		Severity:       "medium",
		Query:          strings.TrimSpace(q),
		FalsePositives: d.FalsePositives,
		Source:         "okta-customer-detections/" + file,
	}
	for _, t := range d.Threat.Technique {
		var s string
		switch x := t.(type) {
		case string:
			s = x
		case map[string]any:
			for k := range x {
				s = k
			}
		}
		if id, _, _ := strings.Cut(s, ":"); strings.HasPrefix(id, "T") {
			r.Technique = append(r.Technique, strings.TrimSpace(id))
		}
	}
	if err := r.compile(); err != nil {
		return nil, err
	}
	return r, nil
}
