package clickhouse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
)

// frag is a piece of SQL with its positional (?) arguments, in text order.
// The driver binds them client-side with proper quoting: values never reach
// the SQL text any other way, and column names come only from hotColumns
// and the fixed schema.
type frag struct {
	sql  string
	args []any
}

var (
	fragTrue  = frag{sql: "1"}
	fragFalse = frag{sql: "0"}
)

func join(op string, fs ...frag) frag {
	var parts []string
	var args []any
	for _, f := range fs {
		parts = append(parts, f.sql)
		args = append(args, f.args...)
	}
	if len(parts) == 1 {
		return fs[0]
	}
	return frag{"(" + strings.Join(parts, " "+op+" ") + ")", args}
}

// compiled is a filter in SQL. where is exact: a row matches it exactly when
// filter.Match says the event matches. key is implied by where (every row
// matching where matches key) and uses only the sort key column event_type,
// so that ClickHouse can skip granules; it is "" when nothing is implied.
type compiled struct {
	where frag
	key   frag
}

// compile turns a filter into SQL over the events table. A nil filter
// matches every event.
func compile(e filter.Expr) (compiled, error) {
	if e == nil {
		return compiled{where: fragTrue}, nil
	}
	return compileExpr(e)
}

func compileExpr(e filter.Expr) (compiled, error) {
	switch e := e.(type) {
	case *filter.Paren:
		return compileExpr(e.X)
	case *filter.Not:
		x, err := compileExpr(e.X)
		if err != nil {
			return compiled{}, err
		}
		return compiled{where: frag{"NOT (" + x.where.sql + ")", x.where.args}}, nil
	case *filter.Logical:
		l, err := compileExpr(e.Left)
		if err != nil {
			return compiled{}, err
		}
		r, err := compileExpr(e.Right)
		if err != nil {
			return compiled{}, err
		}
		if e.And {
			c := compiled{where: join("AND", l.where, r.where)}
			switch {
			case l.key.sql == "":
				c.key = r.key
			case r.key.sql == "":
				c.key = l.key
			default:
				c.key = join("AND", l.key, r.key)
			}
			return c, nil
		}
		c := compiled{where: join("OR", l.where, r.where)}
		if l.key.sql != "" && r.key.sql != "" {
			c.key = join("OR", l.key, r.key)
		}
		return c, nil
	case *filter.Compare:
		return compileCompare(e)
	}
	return compiled{}, fmt.Errorf("clickhouse: unknown filter node %T", e)
}

var sqlOps = map[filter.Op]string{
	filter.OpEq: "=", filter.OpGt: ">", filter.OpGe: ">=", filter.OpLt: "<", filter.OpLe: "<=",
}

// badLiteral reports a comparison the parser refuses; the compiler refuses
// it too rather than guess, with the position of the comparison.
func badLiteral(c *filter.Compare) error {
	return fmt.Errorf("clickhouse: at %d: %s cannot compare with %s", c.From, c.Op, c.Value)
}

func compileCompare(c *filter.Compare) (compiled, error) {
	op, val := c.Op, c.Value
	if c.Path.HasIndex() {
		// The columns flatten arrays, so the element an index names is not
		// in them, and this store has no check after the SQL: refuse rather
		// than answer with every element.
		return compiled{}, fmt.Errorf("clickhouse: at %d: the array index in %s is not supported by the ClickHouse store (use the any-element path %s)", c.From, c.Path, c.Path.WithoutIndex())
	}
	// null and ne are defined through pr and eq (docs/filter-language.md).
	switch {
	case op == filter.OpEq && val.Kind == filter.Null:
		return compileExpr(&filter.Not{X: &filter.Compare{Path: c.Path, Op: filter.OpPr, From: c.From}})
	case op == filter.OpNe && val.Kind == filter.Null:
		return compileExpr(&filter.Compare{Path: c.Path, Op: filter.OpPr, From: c.From})
	case op == filter.OpNe:
		eq := *c
		eq.Op = filter.OpEq
		return compileExpr(&filter.Not{X: &eq})
	case val.Kind == filter.Null && op != filter.OpPr:
		return compiled{}, badLiteral(c)
	}
	path := c.Path.String()
	if op == filter.OpPr {
		return compiled{where: frag{"has(present, ?)", []any{path}}}, nil
	}
	if path == "published" {
		return comparePublished(c)
	}
	switch val.Kind {
	case filter.String:
		return compareString(c, path)
	case filter.Number:
		sop, ok := sqlOps[op]
		if !ok {
			return compiled{}, badLiteral(c)
		}
		return compiled{where: frag{
			"arrayExists((p, v) -> p = ? AND v " + sop + " " + float64SQL + ", num_path, num_val)",
			[]any{path, math.Float64bits(val.Num)},
		}}, nil
	case filter.Bool:
		if op != filter.OpEq {
			return compiled{}, badLiteral(c)
		}
		return compiled{where: frag{"has(kv, ?)", []any{path + "?" + strconv.FormatBool(val.Bool)}}}, nil
	}
	return compiled{}, badLiteral(c)
}

// float64SQL rebuilds a float64 on the server from its IEEE bits: 18.16's
// float literal parser rejects some values (5e-324) and is not guaranteed
// to round like Go's, and the comparison must be on exactly the number
// filter.Match compares with.
const float64SQL = "reinterpretAsFloat64(reinterpretAsString(toUInt64(?)))"

// comparePublished compares the document's published value(s)
// chronologically at millisecond precision, as filter.Match does.
func comparePublished(c *filter.Compare) (compiled, error) {
	sop, ok := sqlOps[c.Op]
	if !ok {
		return compiled{}, badLiteral(c)
	}
	if c.Value.Kind != filter.String {
		return compiled{where: fragFalse}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, c.Value.Str)
	if err != nil {
		return compiled{where: fragFalse}, nil
	}
	return compiled{where: frag{"arrayExists(x -> x " + sop + " ?, pub_ms)", []any{t.UnixMilli()}}}, nil
}

func compareString(c *filter.Compare, path string) (compiled, error) {
	s := c.Value.Str
	if h, ok := hotByPath[path]; ok {
		col := hotColumns[h].name
		var w frag
		switch c.Op {
		case filter.OpEq:
			w = frag{"has(" + col + ", ?)", []any{s}}
		case filter.OpCo:
			w = frag{"arrayExists(x -> position(x, ?) > 0, " + col + ")", []any{s}}
		case filter.OpSw:
			w = frag{"arrayExists(x -> startsWith(x, ?), " + col + ")", []any{s}}
		case filter.OpEw:
			w = frag{"arrayExists(x -> endsWith(x, ?), " + col + ")", []any{s}}
		default:
			w = frag{"arrayExists(x -> x " + sqlOps[c.Op] + " ?, " + col + ")", []any{s}}
		}
		out := compiled{where: w}
		// event_type holds the single eventType string, or "" when an event
		// has none or several: so eventType eq "x" implies event_type in
		// ("x", ""), which the primary key can use.
		if path == "eventType" && c.Op == filter.OpEq && s != "" {
			out.key = frag{"event_type IN (?, '')", []any{s}}
		}
		return out, nil
	}
	prefix := path + "="
	// Offset (1-based, in bytes) of the value inside a kv entry.
	at := strconv.Itoa(len(prefix) + 1)
	switch c.Op {
	case filter.OpEq:
		return compiled{where: frag{"has(kv, ?)", []any{prefix + s}}}, nil
	case filter.OpSw:
		return compiled{where: frag{"arrayExists(x -> startsWith(x, ?), kv)", []any{prefix + s}}}, nil
	case filter.OpCo:
		return compiled{where: frag{"arrayExists(x -> startsWith(x, ?) AND position(substring(x, " + at + "), ?) > 0, kv)", []any{prefix, s}}}, nil
	case filter.OpEw:
		return compiled{where: frag{"arrayExists(x -> startsWith(x, ?) AND endsWith(substring(x, " + at + "), ?), kv)", []any{prefix, s}}}, nil
	}
	return compiled{where: frag{"arrayExists(x -> startsWith(x, ?) AND substring(x, " + at + ") " + sqlOps[c.Op] + " ?, kv)", []any{prefix, s}}}, nil
}
