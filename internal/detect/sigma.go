package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/idlog/idlog/internal/filter"
)

// Sigma rules (https://sigmahq.io, the SigmaHQ rule format) are compiled to
// a matcher over the decoded LogEvent. Field names are Okta's own paths
// (actor.alternateId), as SigmaHQ's Okta rules write them. Supported:
// logsource product okta; field maps (and), lists of maps (or), value
// lists (or; and with |all); the modifiers contains, startswith, endswith,
// re, all, cased and exists; conditions with and, or, not, parentheses,
// "1 of"/"all of" a name, a name with a wildcard, or "them". Strings
// compare case-insensitively, as Sigma specifies, and a value of another
// JSON type compares by its text (true, 5). Everything else — another
// logsource, keyword searches, placeholders (|expand) that have no value,
// correlation rules, unknown modifiers — is refused when the rule loads,
// with the reason.

type sigmaDoc struct {
	Title       string         `yaml:"title"`
	ID          string         `yaml:"id"`
	Name        string         `yaml:"name"`
	Status      string         `yaml:"status"`
	Description string         `yaml:"description"`
	Tags        []string       `yaml:"tags"`
	Level       string         `yaml:"level"`
	Logsource   map[string]any `yaml:"logsource"`
	Detection   map[string]any `yaml:"detection"`
	Correlation any            `yaml:"correlation"`
	FalsePos    []string       `yaml:"falsepositives"`
	Fields      []string       `yaml:"fields"`
}

// matcher decides one piece of a Sigma detection.
type matcher func(doc any) bool

// ParseSigma compiles one Sigma rule.
func ParseSigma(raw []byte, source string) (*Rule, error) {
	var d sigmaDoc
	if err := yaml.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("sigma: %w", err)
	}
	if d.Correlation != nil {
		return nil, errors.New("sigma: a correlation rule names other rules: load it with them from a rules directory (--rules DIR, idlog rules check DIR)")
	}
	if p, _ := d.Logsource["product"].(string); !strings.EqualFold(p, "okta") {
		return nil, fmt.Errorf("sigma: logsource product %q: only okta is supported", p)
	}
	if d.ID == "" || d.Title == "" {
		return nil, errors.New("sigma: missing id or title")
	}
	cond, ok := d.Detection["condition"]
	if !ok {
		return nil, errors.New("sigma: detection has no condition")
	}
	condStr, ok := cond.(string)
	if !ok {
		return nil, errors.New("sigma: only a single condition string is supported")
	}
	if _, ok := d.Detection["timeframe"]; ok {
		return nil, errors.New("sigma: timeframe (aggregation) is not supported")
	}
	sels := map[string]matcher{}
	for name, v := range d.Detection {
		if name == "condition" {
			continue
		}
		m, err := sigmaSelection(v)
		if err != nil {
			return nil, fmt.Errorf("sigma: selection %s: %w", name, err)
		}
		sels[name] = m
	}
	m, err := parseCondition(condStr, sels)
	if err != nil {
		return nil, fmt.Errorf("sigma: condition %q: %w", condStr, err)
	}
	r := &Rule{
		ID: "sigma-" + d.ID, Title: d.Title, Description: strings.TrimSpace(d.Description), Severity: sigmaLevel(d.Level),
		FalsePositives: d.FalsePos, Source: "sigma:" + source, match: m, Technique: sigmaTechniques(d.Tags),
		sigma: true, sigmaReads: sigmaPaths(d.Detection), sigmaRefs: []string{d.ID},
	}
	if d.Name != "" {
		r.sigmaRefs = append(r.sigmaRefs, d.Name)
	}
	for _, f := range d.Fields {
		if _, err := fieldPath(f); err == nil {
			r.Fields = append(r.Fields, f)
		}
	}
	if err := r.compile(); err != nil {
		return nil, err
	}
	return r, nil
}

// sigmaLevel is the severity of a Sigma level.
func sigmaLevel(level string) string {
	sev := strings.ToLower(level)
	if sev == "informational" {
		sev = "info"
	}
	if !contains(Severities, sev) {
		sev = "medium"
	}
	return sev
}

// sigmaTechniques are the ATT&CK techniques of Sigma tags (attack.t1110.003).
func sigmaTechniques(tags []string) []string {
	var out []string
	for _, tag := range tags {
		if t, ok := strings.CutPrefix(tag, "attack.t"); ok {
			out = append(out, "T"+strings.ToUpper(t))
		}
	}
	return out
}

// sigmaPaths are the fields a Sigma detection reads.
func sigmaPaths(det map[string]any) []filter.Path {
	var out []filter.Path
	add := func(m map[string]any) {
		for k := range m {
			if p, err := fieldPath(strings.Split(k, "|")[0]); err == nil {
				out = append(out, p)
			}
		}
	}
	for name, v := range det {
		if name == "condition" {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			add(x)
		case []any:
			for _, el := range x {
				if m, ok := el.(map[string]any); ok {
					add(m)
				}
			}
		}
	}
	return out
}

// sigmaSelection: a map is the and of its fields; a list of maps the or of
// them. A list of plain values (keywords) is refused.
func sigmaSelection(v any) (matcher, error) {
	switch x := v.(type) {
	case map[string]any:
		return sigmaMap(x)
	case []any:
		var ms []matcher
		for _, el := range x {
			m, ok := el.(map[string]any)
			if !ok {
				return nil, errors.New("keyword searches (values without a field) are not supported")
			}
			mm, err := sigmaMap(m)
			if err != nil {
				return nil, err
			}
			ms = append(ms, mm)
		}
		return func(doc any) bool {
			for _, m := range ms {
				if m(doc) {
					return true
				}
			}
			return false
		}, nil
	}
	return nil, errors.New("keyword searches (values without a field) are not supported")
}

func sigmaMap(m map[string]any) (matcher, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ms []matcher
	for _, k := range keys {
		f, err := sigmaField(k, m[k])
		if err != nil {
			return nil, err
		}
		ms = append(ms, f)
	}
	return func(doc any) bool {
		for _, m := range ms {
			if !m(doc) {
				return false
			}
		}
		return true
	}, nil
}

// sigmaField compiles `field|mod|mod: value(s)`.
func sigmaField(key string, v any) (matcher, error) {
	parts := strings.Split(key, "|")
	p, err := fieldPath(parts[0])
	if err != nil {
		return nil, err
	}
	all, cased, exists := false, false, false
	op := "eq"
	for _, mod := range parts[1:] {
		switch mod {
		case "contains", "startswith", "endswith", "re":
			if op != "eq" {
				return nil, fmt.Errorf("%s: two matching modifiers", key)
			}
			op = mod
		case "all":
			all = true
		case "cased":
			cased = true
		case "exists":
			exists = true
		case "expand":
			return nil, fmt.Errorf("%s: the placeholder %v has no value in idlog (edit the rule to name the values)", key, v)
		default:
			return nil, fmt.Errorf("%s: modifier %q is not supported", key, mod)
		}
	}
	var vals []any
	switch x := v.(type) {
	case []any:
		vals = x
	default:
		vals = []any{x}
	}
	if exists {
		want, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%s: exists needs true or false", key)
		}
		return func(doc any) bool { return len(filter.Resolve(doc, p) /* any value */) > 0 == want }, nil
	}
	var preds []func(string) bool
	nullWanted := false
	for _, val := range vals {
		if val == nil {
			nullWanted = true
			continue
		}
		s := fmt.Sprint(val)
		switch op {
		case "re":
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", key, err)
			}
			preds = append(preds, re.MatchString)
		default:
			if strings.ContainsAny(s, "*?") {
				wild, err := wildcard(s, op, cased)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", key, err)
				}
				preds = append(preds, wild.MatchString)
				continue
			}
			preds = append(preds, stringPred(op, s, cased))
		}
	}
	valueMatches := func(doc any, pred func(string) bool) bool {
		for _, x := range filter.Resolve(doc, p) {
			if s, ok := valueText(x); ok && pred(s) {
				return true
			}
		}
		return false
	}
	return func(doc any) bool {
		if nullWanted && len(filter.Resolve(doc, p)) == 0 {
			return true
		}
		if len(preds) == 0 {
			return false
		}
		for _, pr := range preds {
			ok := valueMatches(doc, pr)
			if all && !ok {
				return false
			}
			if !all && ok {
				return true
			}
		}
		return all
	}, nil
}

func valueText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func stringPred(op, s string, cased bool) func(string) bool {
	fold := func(x string) string { return x }
	if !cased {
		fold = strings.ToLower
		s = strings.ToLower(s)
	}
	switch op {
	case "contains":
		return func(x string) bool { return strings.Contains(fold(x), s) }
	case "startswith":
		return func(x string) bool { return strings.HasPrefix(fold(x), s) }
	case "endswith":
		return func(x string) bool { return strings.HasSuffix(fold(x), s) }
	}
	return func(x string) bool { return fold(x) == s }
}

// wildcard turns a Sigma value with * and ? (\ escapes them) into an
// anchored regular expression for op.
func wildcard(s, op string, cased bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if !cased {
		b.WriteString("(?is)")
	} else {
		b.WriteString("(?s)")
	}
	if op == "eq" || op == "startswith" {
		b.WriteString("^")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && strings.IndexByte(`*?\`, s[i+1]) >= 0 {
				b.WriteString(regexp.QuoteMeta(s[i+1 : i+2]))
				i++
			} else {
				b.WriteString(`\\`)
			}
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if op == "eq" || op == "endswith" {
		b.WriteString("$")
	}
	return regexp.Compile(b.String())
}

// parseCondition parses a Sigma condition over the named selections.
func parseCondition(src string, sels map[string]matcher) (matcher, error) {
	toks := condTokens(src)
	c := &condParser{toks: toks, sels: sels}
	m, err := c.or()
	if err != nil {
		return nil, err
	}
	if c.i < len(toks) {
		if toks[c.i] == "|" {
			return nil, errors.New("aggregations after '|' are not supported (write an idlog rule with a threshold)")
		}
		return nil, fmt.Errorf("unexpected %q", toks[c.i])
	}
	return m, nil
}

func condTokens(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		switch c := rune(s[i]); {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')' || c == '|':
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && s[j] != '(' && s[j] != ')' && s[j] != '|' {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

type condParser struct {
	toks []string
	i    int
	sels map[string]matcher
}

func (c *condParser) peek() string {
	if c.i < len(c.toks) {
		return c.toks[c.i]
	}
	return ""
}

func (c *condParser) or() (matcher, error) {
	l, err := c.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(c.peek(), "or") {
		c.i++
		r, err := c.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(doc any) bool { return a(doc) || b(doc) }
	}
	return l, nil
}

func (c *condParser) and() (matcher, error) {
	l, err := c.not()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(c.peek(), "and") {
		c.i++
		r, err := c.not()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(doc any) bool { return a(doc) && b(doc) }
	}
	return l, nil
}

func (c *condParser) not() (matcher, error) {
	if strings.EqualFold(c.peek(), "not") {
		c.i++
		x, err := c.not()
		if err != nil {
			return nil, err
		}
		return func(doc any) bool { return !x(doc) }, nil
	}
	return c.primary()
}

func (c *condParser) primary() (matcher, error) {
	t := c.peek()
	switch {
	case t == "":
		return nil, errors.New("ends too early")
	case t == "|":
		return nil, errors.New("aggregations after '|' are not supported")
	case t == "(":
		c.i++
		x, err := c.or()
		if err != nil {
			return nil, err
		}
		if c.peek() != ")" {
			return nil, errors.New("missing ')'")
		}
		c.i++
		return x, nil
	case t == "1" || strings.EqualFold(t, "all"):
		c.i++
		if !strings.EqualFold(c.peek(), "of") {
			return nil, fmt.Errorf("%q must be followed by 'of'", t)
		}
		c.i++
		pat := c.peek()
		if pat == "" {
			return nil, errors.New("'of' needs a name, a pattern or them")
		}
		c.i++
		var ms []matcher
		names := make([]string, 0, len(c.sels))
		for n := range c.sels {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if ok, _ := path.Match(pat, n); ok || pat == "them" {
				ms = append(ms, c.sels[n])
			}
		}
		if len(ms) == 0 {
			return nil, fmt.Errorf("%q names no selection", pat)
		}
		if t == "1" {
			return func(doc any) bool {
				for _, m := range ms {
					if m(doc) {
						return true
					}
				}
				return false
			}, nil
		}
		return func(doc any) bool {
			for _, m := range ms {
				if !m(doc) {
					return false
				}
			}
			return true
		}, nil
	}
	m, ok := c.sels[t]
	if !ok {
		return nil, fmt.Errorf("unknown selection %q", t)
	}
	c.i++
	return m, nil
}
