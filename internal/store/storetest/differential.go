package storetest

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// diffPaths are the paths random filters draw from: typed columns, list
// paths, deep and generic paths, numbers, booleans and absent paths.
var diffPaths = []string{
	"eventType", "severity", "displayMessage", "actor.id", "actor.alternateId", "actor.displayName", "actor.type",
	"target.id", "target.type", "target.alternateId", "target.displayName", "target.detailEntry.methodTypeUsed", "target",
	"client.ipAddress", "client.zone", "client.userAgent.browser", "client.geographicalContext.country",
	"client.geographicalContext.city", "client.geographicalContext.geolocation.lat", "client.geographicalContext.geolocation.lon",
	"authenticationContext.externalSessionId", "authenticationContext.rootSessionId", "authenticationContext.authenticationStep",
	"transaction.id", "outcome.result", "outcome.reason", "outcome", "debugContext.debugData.dtHash",
	"debugContext.debugData.requestUri", "debugContext.debugData.threatSuspected", "debugContext.debugData.arr",
	"debugContext.debugData.obj.deep.k", "debugContext.debugData.n", "debugContext.debugData.b", "debugContext.debugData.a.b",
	"securityContext.isProxy", "securityContext.asNumber", "request.ipChain.ip", "published", "device", "debugContext.debugData.nosuch",
}

type gen struct {
	r *rand.Rand
	m *model
}

// value draws a literal for path p: usually one found in the data (whole,
// or a piece of it for co/sw/ew), sometimes an absent one.
func (g *gen) value(p filter.Path, op filter.Op) filter.Value {
	if p.String() == "published" {
		t := g.m.events[g.r.IntN(len(g.m.events))].Published.Add(time.Duration(g.r.IntN(3)-1) * time.Millisecond)
		return filter.Value{Kind: filter.String, Str: t.Format(time.RFC3339Nano)}
	}
	var found []any
	for tries := 0; tries < 20 && len(found) == 0; tries++ {
		found = filter.Resolve(g.m.docs[g.r.IntN(len(g.m.docs))], p)
	}
	if len(found) == 0 || g.r.IntN(8) == 0 {
		switch g.r.IntN(3) {
		case 0:
			return filter.Value{Kind: filter.Number, Num: 5, Text: "5"}
		case 1:
			if op == filter.OpEq {
				return filter.Value{Kind: filter.Bool, Bool: true}
			}
		}
		return filter.Value{Kind: filter.String, Str: "absent-ä"}
	}
	v := found[g.r.IntN(len(found))]
	switch x := v.(type) {
	case string:
		if op == filter.OpCo || op == filter.OpSw || op == filter.OpEw || g.r.IntN(6) == 0 {
			if len(x) > 0 {
				i := g.r.IntN(len(x))
				j := i + g.r.IntN(len(x)-i+1)
				switch op {
				case filter.OpSw:
					i = 0
				case filter.OpEw:
					j = len(x)
				}
				x = x[i:j]
			}
		}
		return filter.Value{Kind: filter.String, Str: x}
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		if g.r.IntN(3) == 0 {
			f += float64(g.r.IntN(3) - 1)
		}
		return filter.Value{Kind: filter.Number, Num: f, Text: strconv.FormatFloat(f, 'g', -1, 64)}
	case bool:
		if op == filter.OpEq || op == filter.OpNe {
			return filter.Value{Kind: filter.Bool, Bool: x}
		}
	}
	return filter.Value{Kind: filter.String, Str: "x"}
}

func (g *gen) compare() filter.Expr {
	p := filter.Path(splitDots(diffPaths[g.r.IntN(len(diffPaths))]))
	op := filter.Ops[g.r.IntN(len(filter.Ops))]
	if p.String() == "published" && (op == filter.OpCo || op == filter.OpSw || op == filter.OpEw) {
		op = filter.OpGe
	}
	c := &filter.Compare{Path: p, Op: op}
	if op == filter.OpPr {
		return c
	}
	if (op == filter.OpEq || op == filter.OpNe) && g.r.IntN(12) == 0 {
		c.Value = filter.Value{Kind: filter.Null}
		return c
	}
	c.Value = g.value(p, op)
	// Operators that only take strings or numbers.
	switch {
	case (op == filter.OpCo || op == filter.OpSw || op == filter.OpEw) && c.Value.Kind != filter.String:
		c.Value = filter.Value{Kind: filter.String, Str: "e"}
	case op != filter.OpEq && op != filter.OpNe && c.Value.Kind == filter.Bool:
		c.Op = filter.OpEq
	}
	return c
}

func (g *gen) expr(depth int) filter.Expr {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.compare()
	}
	switch g.r.IntN(5) {
	case 0:
		return &filter.Not{X: g.expr(depth - 1)}
	case 1, 2:
		return &filter.Logical{And: true, Left: g.expr(depth - 1), Right: g.expr(depth - 1)}
	}
	return &filter.Logical{Left: g.expr(depth - 1), Right: g.expr(depth - 1)}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// testDifferential checks n random filters against the reference evaluator.
func testDifferential(t *testing.T, s store.Store, m *model, n int) {
	seed := time.Now().UnixNano()
	t.Logf("differential seed %d", seed)
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), 1)), m: m}
	failures := 0
	for i := 0; i < n && failures < 10; i++ {
		q := store.Query{Filter: g.expr(3), Limit: 50, Descending: g.r.IntN(2) == 0}
		if g.r.IntN(2) == 0 {
			q.Order = store.BySeq
		}
		if !check(t, s, m, q) {
			failures++
		}
	}
}
