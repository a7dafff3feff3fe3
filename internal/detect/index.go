package detect

import (
	"strings"

	"github.com/idlog/idlog/internal/filter"
)

// eventTypes says which event types a filter can match: exact names and
// name prefixes. ok is false when the filter does not constrain eventType
// (the rule must see every event).
func eventTypes(e filter.Expr) (exact, prefixes []string, ok bool) {
	switch e := e.(type) {
	case *filter.Paren:
		return eventTypes(e.X)
	case *filter.Compare:
		if len(e.Path) != 1 || e.Path[0] != "eventType" || e.Value.Kind != filter.String {
			return nil, nil, false
		}
		switch e.Op {
		case filter.OpEq:
			return []string{e.Value.Str}, nil, true
		case filter.OpSw:
			return nil, []string{e.Value.Str}, true
		}
		return nil, nil, false
	case *filter.Logical:
		le, lp, lok := eventTypes(e.Left)
		re, rp, rok := eventTypes(e.Right)
		if e.And {
			// Either side's constraint holds for the whole.
			switch {
			case lok:
				return le, lp, true
			case rok:
				return re, rp, true
			}
			return nil, nil, false
		}
		if lok && rok {
			return append(le, re...), append(lp, rp...), true
		}
	}
	return nil, nil, false
}

// ruleTypes is eventTypes for a whole rule (every step of a sequence).
func ruleTypes(r *Rule) (exact, prefixes []string, ok bool) {
	if strings.HasPrefix(r.Source, "sigma:") {
		return nil, nil, false
	}
	if r.Sequence != nil {
		for i := range r.Sequence.Steps {
			e, p, sok := eventTypes(r.Sequence.Steps[i].expr)
			if !sok {
				return nil, nil, false
			}
			exact, prefixes = append(exact, e...), append(prefixes, p...)
		}
		return exact, prefixes, true
	}
	x, err := filter.Parse(r.Query)
	if err != nil {
		return nil, nil, false
	}
	return eventTypes(x)
}

// ruleIndex finds the rules that can match an event type, so an event is
// tried only against those: most events (SSO, policy evaluations) concern a
// handful of the library's rules.
type ruleIndex struct {
	rules    []*Rule
	exact    map[string][]int
	prefixes []struct {
		p string
		i int
	}
	always []int
	cache  map[string][]*Rule
}

func newRuleIndex(rules []*Rule) *ruleIndex {
	ix := &ruleIndex{rules: rules, exact: map[string][]int{}, cache: map[string][]*Rule{}}
	for i, r := range rules {
		exact, prefixes, ok := ruleTypes(r)
		if !ok {
			ix.always = append(ix.always, i)
			continue
		}
		for _, t := range exact {
			ix.exact[t] = append(ix.exact[t], i)
		}
		for _, p := range prefixes {
			ix.prefixes = append(ix.prefixes, struct {
				p string
				i int
			}{p, i})
		}
	}
	return ix
}

// forType returns the rules to try on an event of type t, in rule order.
func (ix *ruleIndex) forType(t string) []*Rule {
	if rs, ok := ix.cache[t]; ok {
		return rs
	}
	use := make([]bool, len(ix.rules))
	for _, i := range ix.always {
		use[i] = true
	}
	for _, i := range ix.exact[t] {
		use[i] = true
	}
	for _, p := range ix.prefixes {
		if strings.HasPrefix(t, p.p) {
			use[p.i] = true
		}
	}
	var rs []*Rule
	for i, u := range use {
		if u {
			rs = append(rs, ix.rules[i])
		}
	}
	if len(ix.cache) < 10000 { // event types are few; a flood of odd ones is not cached
		ix.cache[t] = rs
	}
	return rs
}
