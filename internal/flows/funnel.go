package flows

import (
	"fmt"
	"slices"
	"strings"

	"github.com/idlog/idlog/internal/flowdef"
)

// Splits are the attributes a funnel can be split by.
var Splits = []string{"factor", "app", "country", "client"}

func checkSplit(s string) error {
	if s == "" || slices.Contains(Splits, s) {
		return nil
	}
	return fmt.Errorf("flows: cannot split by %q (one of %s)", s, strings.Join(Splits, ", "))
}

func splitValue(in *Instance, split string) string {
	v := ""
	switch split {
	case "factor":
		v = in.Factor
	case "app":
		v = in.App
	case "country":
		v = in.Country
	case "client":
		v = in.Client
	}
	if v == "" {
		return "(none)"
	}
	return v
}

// ReasonCount is one reason instances stopped, with how many did.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// FunnelStep is one step of a funnel.
type FunnelStep struct {
	Name     string `json:"name"`
	Optional bool   `json:"optional,omitempty"`
	// Reached counts the instances with an event at this step.
	Reached int `json:"reached"`
	// Stopped counts the instances that ended here without completing
	// (failed, denied or abandoned), by status, with their top reasons.
	Stopped   int           `json:"stopped"`
	Failed    int           `json:"failed"`
	Denied    int           `json:"denied"`
	Abandoned int           `json:"abandoned"`
	Reasons   []ReasonCount `json:"reasons"`
}

// Funnel counts the instances of one flow by how far they got.
type Funnel struct {
	Flow      string       `json:"flow"`
	Title     string       `json:"title"`
	Split     string       `json:"split,omitempty"`
	Value     string       `json:"value,omitempty"` // this part's split value
	Instances int          `json:"instances"`
	Completed int          `json:"completed"`
	Failed    int          `json:"failed"`
	Denied    int          `json:"denied"`
	Abandoned int          `json:"abandoned"`
	Steps     []FunnelStep `json:"steps"`
	// Parts are the funnels of each split value, largest first.
	Parts []*Funnel `json:"parts,omitempty"`
}

// topReasons is how many reasons a step lists.
const topReasons = 5

// BuildFunnel counts the instances of kind among ins; split (see Splits)
// adds one funnel per value of that attribute.
func BuildFunnel(kind string, ins []*Instance, split string) (*Funnel, error) {
	f, ok := flowdef.Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("flows: unknown flow %q (one of %s)", kind, kindList())
	}
	if err := checkSplit(split); err != nil {
		return nil, err
	}
	var mine []*Instance
	for _, in := range ins {
		if in.Kind == kind {
			mine = append(mine, in)
		}
	}
	out := count(&f, mine)
	if split == "" {
		return out, nil
	}
	out.Split = split
	groups := map[string][]*Instance{}
	for _, in := range mine {
		v := splitValue(in, split)
		groups[v] = append(groups[v], in)
	}
	for v, g := range groups {
		p := count(&f, g)
		p.Value = v
		out.Parts = append(out.Parts, p)
	}
	slices.SortFunc(out.Parts, func(a, b *Funnel) int {
		if a.Instances != b.Instances {
			return b.Instances - a.Instances
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out, nil
}

func count(f *flowdef.Flow, ins []*Instance) *Funnel {
	out := &Funnel{Flow: f.Kind, Title: f.Title, Instances: len(ins), Steps: make([]FunnelStep, len(f.Steps))}
	idx := map[string]int{}
	for i, s := range f.Steps {
		out.Steps[i] = FunnelStep{Name: s.Name, Optional: s.Optional, Reasons: []ReasonCount{}}
		idx[s.Name] = i
	}
	reasons := make([]map[string]int, len(f.Steps))
	for _, in := range ins {
		for i := range in.Steps {
			if len(in.Steps[i].Events) > 0 && i < len(out.Steps) {
				out.Steps[i].Reached++
			}
		}
		switch in.Status {
		case flowdef.Completed:
			out.Completed++
			continue
		case flowdef.Failed:
			out.Failed++
		case flowdef.Denied:
			out.Denied++
		case flowdef.Abandoned:
			out.Abandoned++
		}
		i, ok := idx[in.StoppedAt]
		if !ok {
			continue
		}
		st := &out.Steps[i]
		st.Stopped++
		switch in.Status {
		case flowdef.Failed:
			st.Failed++
		case flowdef.Denied:
			st.Denied++
		case flowdef.Abandoned:
			st.Abandoned++
		}
		if reasons[i] == nil {
			reasons[i] = map[string]int{}
		}
		reasons[i][in.Reason]++
	}
	for i, m := range reasons {
		for r, n := range m {
			out.Steps[i].Reasons = append(out.Steps[i].Reasons, ReasonCount{r, n})
		}
		slices.SortFunc(out.Steps[i].Reasons, func(a, b ReasonCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return strings.Compare(a.Reason, b.Reason)
		})
		if len(out.Steps[i].Reasons) > topReasons {
			out.Steps[i].Reasons = out.Steps[i].Reasons[:topReasons]
		}
	}
	return out
}
