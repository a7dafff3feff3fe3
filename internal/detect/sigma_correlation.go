package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idlog/idlog/internal/filter"
)

// Sigma correlation rules (the Sigma specification's meta rules) count or
// order the matches of other Sigma rules, named by their name or id, in
// the same file (as further YAML documents) or elsewhere in the rules
// directory. They become idlog thresholds and sequences:
//
//	event_count       threshold: count >= N of the rules' matches per group within the timespan
//	value_count       threshold: >= N different values of a field per group
//	temporal_ordered  sequence: the rules in the order listed
//	temporal          sequence in any order: each rule at least once
//
// The condition must be gte or gt (idlog raises on "at least"); group-by
// is required. The rules a correlation names run only as its parts unless
// it says generate: true, as the specification says.

type sigmaCorrelationDoc struct {
	Title       string   `yaml:"title"`
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Level       string   `yaml:"level"`
	Tags        []string `yaml:"tags"`
	FalsePos    []string `yaml:"falsepositives"`
	Correlation struct {
		Type      string         `yaml:"type"`
		Rules     any            `yaml:"rules"`
		GroupBy   any            `yaml:"group-by"`
		Timespan  string         `yaml:"timespan"`
		Condition map[string]any `yaml:"condition"`
		Generate  bool           `yaml:"generate"`
		Aliases   any            `yaml:"aliases"`
		Ordered   *bool          `yaml:"ordered"`
	} `yaml:"correlation"`
}

// isCorrelation reports whether one YAML document is a correlation rule.
func isCorrelation(raw []byte) bool {
	var probe struct {
		Correlation any `yaml:"correlation"`
	}
	return yaml.Unmarshal(raw, &probe) == nil && probe.Correlation != nil
}

// splitDocuments splits a YAML file into its documents, each as YAML text.
func splitDocuments(raw []byte) ([][]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var out [][]byte
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(n.Content) == 0 {
			continue // an empty document
		}
		b, err := yaml.Marshal(&n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no YAML document")
	}
	return out, nil
}

// stringList reads a YAML string or list of strings.
func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{x}, true
	case []any:
		var out []string
		for _, el := range x {
			s, ok := el.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// sigmaTimespan reads a Sigma timespan: a number and s, m, h or d.
func sigmaTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("timespan %q: want a number and s, m, h or d (e.g. 10m)", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[s[len(s)-1]]
	if err != nil || n <= 0 || unit == 0 {
		return 0, fmt.Errorf("timespan %q: want a number and s, m, h or d (e.g. 10m)", s)
	}
	return time.Duration(n) * unit, nil
}

// parseSigmaCorrelation compiles one correlation rule; find looks up the
// Sigma rules it names. It returns the rule and the rules it used.
func parseSigmaCorrelation(raw []byte, source string, find func(ref string) *Rule) (*Rule, []*Rule, error) {
	var d sigmaCorrelationDoc
	if err := yaml.Unmarshal(raw, &d); err != nil {
		return nil, nil, fmt.Errorf("sigma correlation: %w", err)
	}
	c := d.Correlation
	fail := func(format string, a ...any) (*Rule, []*Rule, error) {
		return nil, nil, fmt.Errorf("sigma correlation: "+format, a...)
	}
	if d.ID == "" || d.Title == "" {
		return fail("missing id or title")
	}
	if c.Aliases != nil {
		return fail("aliases (one field under different names in different rules) are not supported")
	}
	refs, ok := stringList(c.Rules)
	if !ok || len(refs) == 0 {
		return fail("rules: want the names or ids of the rules it correlates")
	}
	var parts []*Rule
	for _, ref := range refs {
		r := find(ref)
		if r == nil {
			return fail("rules: no Sigma rule named %q in the rules loaded (a correlation of correlations is not supported)", ref)
		}
		parts = append(parts, r)
	}
	groups, ok := stringList(c.GroupBy)
	if !ok {
		return fail("group-by: want a list of fields")
	}
	if len(groups) == 0 {
		return fail("group-by is required (idlog counts per group: name the field, e.g. client.ipAddress)")
	}
	span, err := sigmaTimespan(c.Timespan)
	if err != nil {
		return fail("%v", err)
	}
	r := &Rule{
		ID: "sigma-" + d.ID, Title: d.Title, Description: strings.TrimSpace(d.Description), Severity: sigmaLevel(d.Level),
		FalsePositives: d.FalsePos, Source: "sigma:" + source, GroupBy: groups, sigma: true,
	}
	r.Technique = sigmaTechniques(d.Tags)
	for _, p := range parts {
		r.sigmaReads = append(r.sigmaReads, p.sigmaReads...)
	}
	if r.sigmaReads == nil {
		r.sigmaReads = []filter.Path{} // reads only its groups
	}
	switch c.Type {
	case "event_count", "value_count":
		n, err := atLeast(c.Condition)
		if err != nil {
			return fail("condition: %v", err)
		}
		r.Threshold = &Threshold{Count: n, Within: Duration(span)}
		if c.Type == "value_count" {
			f, _ := c.Condition["field"].(string)
			if f == "" {
				return fail("condition: value_count needs a field")
			}
			r.Threshold.Distinct, r.Threshold.DistinctCount = f, n
		}
		r.match = func(doc any) bool {
			for _, p := range parts {
				if p.match(doc) {
					return true
				}
			}
			return false
		}
	case "temporal", "temporal_ordered":
		if len(parts) < 2 {
			return fail("%s needs at least two rules", c.Type)
		}
		if len(c.Condition) > 0 {
			return fail("condition: %s takes none (every rule must match once within the timespan)", c.Type)
		}
		r.Sequence = &Sequence{Within: Duration(span), AnyOrder: c.Type == "temporal" && (c.Ordered == nil || !*c.Ordered)}
		for _, p := range parts {
			r.Sequence.Steps = append(r.Sequence.Steps, Step{Query: p.Title, match: p.match})
		}
	default:
		return fail("type %q is not supported (event_count, value_count, temporal, temporal_ordered)", c.Type)
	}
	if err := r.compile(); err != nil {
		return nil, nil, err
	}
	if c.Generate {
		return r, nil, nil
	}
	return r, parts, nil
}

// atLeast reads a condition of the form gte: N or gt: N.
func atLeast(cond map[string]any) (int, error) {
	var ops []string
	for op := range cond {
		if op != "field" {
			ops = append(ops, op)
		}
	}
	if len(ops) != 1 {
		return 0, errors.New("want one bound, gte: N or gt: N")
	}
	op := ops[0]
	n, ok := cond[op].(int)
	if !ok || n < 0 {
		return 0, fmt.Errorf("%s: want a whole number", op)
	}
	switch op {
	case "gte":
		return max(n, 1), nil
	case "gt":
		return n + 1, nil
	}
	return 0, fmt.Errorf("%s: idlog raises when a count reaches a bound (gte or gt), not while it stays below or at one", op)
}
