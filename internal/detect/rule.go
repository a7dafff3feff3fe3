// Package detect runs detection rules over LogEvents: a filter expression,
// optionally with a threshold over a window grouped by fields, or an ordered
// sequence within a window grouped by a key. Rules come from YAML files,
// from SigmaHQ's rule format, and from a built-in library. The Engine runs
// them on events as they arrive (in any order) and over history alike, and
// raises Alerts deduplicated per rule and group.
package detect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idlog/idlog/internal/filter"
)

// Severities, lowest first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Duration is a time.Duration written as "10m", "1h" or "2d" in YAML.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if x, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(x, "%d", &days); err != nil || days <= 0 {
			return fmt.Errorf("line %d: duration %q: want a number of days such as 2d", n.Line, s)
		}
		*d = Duration(time.Duration(days) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return fmt.Errorf("line %d: duration %q: want a positive duration such as 10m, 1h or 2d", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Rule is one detection. Exactly one of Threshold and Sequence may be set;
// with neither, every matching event raises (or extends) an alert.
type Rule struct {
	ID          string   `yaml:"id" json:"id"`
	Title       string   `yaml:"title" json:"title"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Severity    string   `yaml:"severity" json:"severity"`
	Technique   []string `yaml:"mitre" json:"mitre,omitempty"`
	// Query is a filter in idlog's language (docs/filter-language.md).
	Query string `yaml:"query" json:"query,omitempty"`
	// GroupBy names the fields whose values make one alert's group; for a
	// sequence it is the default key of its steps. Empty means
	// actor.alternateId.
	GroupBy        []string   `yaml:"group" json:"group,omitempty"`
	Threshold      *Threshold `yaml:"threshold" json:"threshold,omitempty"`
	Sequence       *Sequence  `yaml:"sequence" json:"sequence,omitempty"`
	Dedup          Duration   `yaml:"dedup" json:"dedup,omitempty"`
	Fields         []string   `yaml:"fields" json:"fields,omitempty"`
	FalsePositives []string   `yaml:"false_positives" json:"false_positives,omitempty"`
	// Source says where the rule came from: "builtin", a file path, or
	// "sigma:<path>".
	Source string `yaml:"-" json:"source"`

	match  func(doc any) bool
	groups []filter.Path
	// sigma is set for a Sigma rule, whose match is its own matcher;
	// sigmaReads are the paths that matcher reads; sigmaRefs the id and
	// name a correlation may call it by.
	sigma      bool
	sigmaReads []filter.Path
	sigmaRefs  []string
}

// Threshold: at least Count matching events of one group within Within,
// and, when Distinct is set, at least DistinctCount different values of
// that field among them.
type Threshold struct {
	Count         int      `yaml:"count" json:"count"`
	Within        Duration `yaml:"within" json:"within"`
	Distinct      string   `yaml:"distinct" json:"distinct,omitempty"`
	DistinctCount int      `yaml:"distinct_count" json:"distinct_count,omitempty"`

	distinct filter.Path
}

// Sequence: its steps in order, each at least Count times (default 1), all
// within Within of the first, for one key.
type Sequence struct {
	Within Duration `yaml:"within" json:"within"`
	Steps  []Step   `yaml:"steps" json:"steps"`
	// AnyOrder: the steps may come in any order, each at least Count
	// times within Within (Sigma's temporal correlation).
	AnyOrder bool `yaml:"any_order" json:"any_order,omitempty"`
}

// Step is one stage of a sequence. By overrides the rule's group for this
// step (an admin's reset names the user in target, the user's own enrolment
// in actor).
type Step struct {
	Query string   `yaml:"query" json:"query"`
	Count int      `yaml:"count" json:"count,omitempty"`
	By    []string `yaml:"by" json:"by,omitempty"`

	expr  filter.Expr
	match func(doc any) bool // expr's, or a Sigma rule's matcher
	by    []filter.Path
}

// DefaultDedup is how long an alert keeps absorbing new events of its rule
// and group when the rule does not say.
const DefaultDedup = time.Hour

// Kind says how the rule decides: "filter", "threshold" or "sequence".
func (r *Rule) Kind() string {
	switch {
	case r.Threshold != nil:
		return "threshold"
	case r.Sequence != nil:
		return "sequence"
	}
	return "filter"
}

// Window is the longest span of events the rule looks at together.
func (r *Rule) Window() time.Duration {
	switch {
	case r.Threshold != nil:
		return time.Duration(r.Threshold.Within)
	case r.Sequence != nil:
		return time.Duration(r.Sequence.Within)
	}
	return 0
}

func (r *Rule) dedup() time.Duration {
	if r.Dedup > 0 {
		return time.Duration(r.Dedup)
	}
	return DefaultDedup
}

// Match reports whether the rule's query (for a sequence: any step's)
// matches the decoded event.
func (r *Rule) Match(doc any) bool { return r.match(doc) }

// compile checks the rule and prepares it to run. A rule with a match
// function already set (Sigma) keeps it.
func (r *Rule) compile() error {
	if r.ID == "" {
		return errors.New("missing id")
	}
	if r.Title == "" {
		return errors.New("missing title")
	}
	r.Severity = strings.ToLower(r.Severity)
	if r.Severity == "" {
		r.Severity = "medium"
	}
	if !contains(Severities, r.Severity) {
		return fmt.Errorf("severity %q: want one of %s", r.Severity, strings.Join(Severities, ", "))
	}
	if r.Threshold != nil && r.Sequence != nil {
		return errors.New("a rule has a threshold or a sequence, not both")
	}
	groups := r.GroupBy
	if len(groups) == 0 {
		groups = []string{"actor.alternateId"}
	}
	r.groups = nil
	for _, g := range groups {
		p, err := fieldPath(g)
		if err != nil {
			return fmt.Errorf("group: %w", err)
		}
		r.groups = append(r.groups, p)
	}
	for _, f := range r.Fields {
		if _, err := fieldPath(f); err != nil {
			return fmt.Errorf("fields: %w", err)
		}
	}
	var base filter.Expr
	if r.Query != "" {
		e, err := filter.Parse(r.Query)
		if err != nil {
			return queryError("query", r.Query, err)
		}
		base = e
	}
	switch {
	case r.Sequence != nil:
		s := r.Sequence
		if s.Within <= 0 {
			return errors.New("sequence: within must be set (e.g. 10m)")
		}
		if len(s.Steps) < 2 {
			return errors.New("sequence: needs at least two steps")
		}
		for i := range s.Steps {
			st := &s.Steps[i]
			if st.Count == 0 {
				st.Count = 1
			}
			if st.Count < 0 {
				return fmt.Errorf("sequence step %d: count must be positive", i+1)
			}
			if st.match == nil {
				e, err := filter.Parse(st.Query)
				if err != nil {
					return queryError(fmt.Sprintf("sequence step %d query", i+1), st.Query, err)
				}
				if base != nil {
					e = &filter.Logical{And: true, Left: base, Right: e}
				}
				st.expr = e
				st.match = func(doc any) bool { return filter.Match(e, doc) }
			}
			st.by = r.groups
			if len(st.By) > 0 {
				st.by = nil
				for _, g := range st.By {
					p, err := fieldPath(g)
					if err != nil {
						return fmt.Errorf("sequence step %d by: %w", i+1, err)
					}
					st.by = append(st.by, p)
				}
			}
		}
		if r.match == nil {
			steps := s.Steps
			r.match = func(doc any) bool {
				for i := range steps {
					if steps[i].match(doc) {
						return true
					}
				}
				return false
			}
		}
		return nil
	case r.Threshold != nil:
		t := r.Threshold
		if t.Count < 1 {
			return errors.New("threshold: count must be at least 1")
		}
		if t.Within <= 0 {
			return errors.New("threshold: within must be set (e.g. 1h)")
		}
		if t.Distinct != "" {
			p, err := fieldPath(t.Distinct)
			if err != nil {
				return fmt.Errorf("threshold distinct: %w", err)
			}
			t.distinct = p
			if t.DistinctCount < 1 {
				return errors.New("threshold: distinct_count must be at least 1 with distinct")
			}
		}
	}
	if r.match == nil {
		if base == nil {
			return errors.New("missing query")
		}
		r.match = func(doc any) bool { return filter.Match(base, doc) }
	}
	return nil
}

func queryError(what, src string, err error) error {
	var pe *filter.Error
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s at offset %d\n%s", what, pe.Msg, pe.Pos, pe.Caret())
	}
	return fmt.Errorf("%s: %w", what, err)
}

// fieldPath checks a field name as a filter path would be checked.
func fieldPath(s string) (filter.Path, error) {
	e, err := filter.Parse(s + " pr")
	if err != nil {
		return nil, fmt.Errorf("field %q: %v", s, err)
	}
	c, ok := e.(*filter.Compare)
	if !ok {
		return nil, fmt.Errorf("field %q is not a path", s)
	}
	return c.Path, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ParseRule reads one rule in idlog's YAML format, or a Sigma rule (a
// document with a logsource and a detection), and checks that it can run.
func ParseRule(raw []byte, source string) (*Rule, error) {
	var probe struct {
		Detection any `yaml:"detection"`
		Logsource any `yaml:"logsource"`
		Correl    any `yaml:"correlation"`
	}
	if err := yaml.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	if probe.Detection != nil || probe.Logsource != nil || probe.Correl != nil {
		return ParseSigma(raw, source)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	r := &Rule{}
	if err := dec.Decode(r); err != nil {
		return nil, err
	}
	r.Source = source
	if err := r.compile(); err != nil {
		return nil, err
	}
	return r, nil
}

// LoadError is a rule file that cannot run, with the reason.
type LoadError struct {
	File string
	Err  error
}

func (e *LoadError) Error() string { return e.File + ": " + e.Err.Error() }

// LoadDir reads every .yml and .yaml file under dir (recursively). Files
// that cannot run are returned as LoadErrors, never skipped silently; the
// rules that can run are returned either way.
func LoadDir(dir string) ([]*Rule, []*LoadError, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	var rules []*Rule
	var bad []*LoadError
	type pending struct {
		source string
		raw    []byte
	}
	var correlations []pending
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		docs, err := splitDocuments(raw)
		if err != nil {
			bad = append(bad, &LoadError{File: f, Err: err})
			continue
		}
		for i, doc := range docs {
			source := f
			if len(docs) > 1 {
				source = fmt.Sprintf("%s#%d", f, i+1) // the i+1th YAML document
			}
			if isCorrelation(doc) {
				correlations = append(correlations, pending{source, doc})
				continue
			}
			r, err := ParseRule(doc, source)
			if err != nil {
				bad = append(bad, &LoadError{File: source, Err: err})
				continue
			}
			rules = append(rules, r)
		}
	}
	// Correlations name Sigma rules of any file; the rules they use run
	// as their parts only (unless a correlation says generate: true).
	find := func(ref string) *Rule {
		for _, r := range rules {
			if r.sigma && contains(r.sigmaRefs, ref) {
				return r
			}
		}
		return nil
	}
	parts := map[*Rule]bool{}
	for _, c := range correlations {
		r, used, err := parseSigmaCorrelation(c.raw, c.source, find)
		if err != nil {
			bad = append(bad, &LoadError{File: c.source, Err: err})
			continue
		}
		for _, u := range used {
			parts[u] = true
		}
		rules = append(rules, r)
	}
	rules = slices.DeleteFunc(rules, func(r *Rule) bool { return parts[r] })
	if err := checkUnique(rules); err != nil {
		return nil, nil, err
	}
	return rules, bad, nil
}

func checkUnique(rules []*Rule) error {
	seen := map[string]string{}
	for _, r := range rules {
		if prev, ok := seen[r.ID]; ok {
			return fmt.Errorf("rule id %q appears twice (%s and %s)", r.ID, prev, r.Source)
		}
		seen[r.ID] = r.Source
	}
	return nil
}
