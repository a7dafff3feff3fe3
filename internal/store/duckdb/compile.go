package duckdb

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/filter"
)

// A compiled filter is a pair of SQL conditions that bracket the exact answer:
// every row matching lo matches the filter, and every row matching the filter
// matches up. Where the SQL is exact the two are the same text. Rows that
// match up but not lo are checked in Go with filter.Match (the reference
// evaluator), so a backend answer can never differ from the definition.
//
// The SQL is exact for every operator on the typed columns and, through
// json_extract on the stored members, on every other path, except for rows
// it cannot decide: events flagged odd (a typed path holding a value of an
// unexpected shape, object keys that the arrays column cannot spell, an event
// kept whole in rest) and, for a JSON path, rows with more than one array on
// the path. Those rows are the Go check's.
type cond struct {
	up, lo string
}

func (c cond) exact() bool { return c.up == c.lo }

const (
	sqlTrue  = "TRUE"
	sqlFalse = "FALSE"
)

// compiler turns filter ASTs into SQL with numbered parameters ($1, $2, …),
// so that one fragment can appear in both bounds without repeating its
// arguments. Values are always parameters; column names come only from the
// columns table.
type compiler struct {
	args []any
}

func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

func (c *compiler) expr(e filter.Expr) (cond, error) {
	switch e := e.(type) {
	case nil:
		return cond{sqlTrue, sqlTrue}, nil
	case *filter.Paren:
		return c.expr(e.X)
	case *filter.Not:
		x, err := c.expr(e.X)
		if err != nil {
			return cond{}, err
		}
		if x.exact() {
			s := "(NOT " + x.up + ")"
			return cond{s, s}, nil
		}
		return cond{"(NOT " + x.lo + ")", "(NOT " + x.up + ")"}, nil
	case *filter.Logical:
		l, err := c.expr(e.Left)
		if err != nil {
			return cond{}, err
		}
		r, err := c.expr(e.Right)
		if err != nil {
			return cond{}, err
		}
		op := " OR "
		if e.And {
			op = " AND "
		}
		up := "(" + l.up + op + r.up + ")"
		if l.exact() && r.exact() {
			return cond{up, up}, nil
		}
		return cond{up, "(" + l.lo + op + r.lo + ")"}, nil
	case *filter.Compare:
		return c.compare(e)
	}
	return cond{}, fmt.Errorf("duckdb: unknown filter node %T", e)
}

func (c *compiler) compare(e *filter.Compare) (cond, error) {
	op, val := e.Op, e.Value
	if e.Path.HasIndex() {
		// An array index (target.0.displayName) has no JSON path form that
		// agrees with filter.Match on every shape (an index name met at an
		// object is a key), so every row is a candidate for the Go check.
		// The other comparisons and-ed with it keep the candidates few.
		return cond{sqlTrue, sqlFalse}, nil
	}
	if val.Kind == filter.String && !utf8.ValidString(val.Str) {
		// DuckDB strings are UTF-8, so such a literal cannot be bound; yet a
		// piece of a stored string can still contain it. Leave it to the Go
		// check: every row is a candidate, none is certain.
		return cond{sqlTrue, sqlFalse}, nil
	}
	// Null literals and ne are defined through pr and eq.
	switch {
	case op == filter.OpEq && val.Kind == filter.Null:
		return c.expr(&filter.Not{X: &filter.Compare{Path: e.Path, Op: filter.OpPr}})
	case op == filter.OpNe && val.Kind == filter.Null:
		return c.expr(&filter.Compare{Path: e.Path, Op: filter.OpPr})
	case op == filter.OpNe:
		eq := *e
		eq.Op = filter.OpEq
		return c.expr(&filter.Not{X: &eq})
	case val.Kind == filter.Null:
		return cond{}, fmt.Errorf("duckdb: %s null is not a valid comparison", op)
	}
	path := e.Path.String()
	if path == "published" {
		return c.published(op, val)
	}
	if col := columnByPath[path]; col != nil {
		s, err := c.typed(col, op, val)
		if err != nil {
			return cond{}, err
		}
		return bracket(s), nil
	}
	return c.json(e.Path, op, val)
}

// bracket wraps a condition that is exact on every event but the odd ones.
func bracket(s string) cond {
	if s == sqlFalse {
		return cond{"odd", sqlFalse}
	}
	return cond{"(odd OR " + s + ")", "(NOT odd AND " + s + ")"}
}

var sqlOps = map[filter.Op]string{
	filter.OpEq: "=", filter.OpGt: ">", filter.OpGe: ">=", filter.OpLt: "<", filter.OpLe: "<=",
}

// published compares the published column chronologically at millisecond
// precision, as filter.Match does. Every stored event has a published time,
// and ingest stores the document's own published value, so it is exact.
func (c *compiler) published(op filter.Op, val filter.Value) (cond, error) {
	if op == filter.OpPr {
		return cond{sqlTrue, sqlTrue}, nil
	}
	if val.Kind != filter.String {
		return cond{sqlFalse, sqlFalse}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, val.Str)
	if err != nil {
		return cond{sqlFalse, sqlFalse}, nil
	}
	sop, ok := sqlOps[op]
	if !ok {
		return cond{}, fmt.Errorf("duckdb: operator %s is not valid on published", op)
	}
	s := "(published " + sop + " " + c.arg(time.UnixMilli(t.UnixMilli()).UTC()) + ")"
	return cond{s, s}, nil
}

// stringPred is the SQL of `x op lit` for a VARCHAR expression x.
func (c *compiler) stringPred(x string, op filter.Op, lit string) (string, error) {
	p := c.arg(lit)
	switch op {
	case filter.OpCo:
		return "contains(" + x + ", " + p + ")", nil
	case filter.OpSw:
		return "starts_with(" + x + ", " + p + ")", nil
	case filter.OpEw:
		return "suffix(" + x + ", " + p + ")", nil
	}
	if sop, ok := sqlOps[op]; ok {
		return x + " " + sop + " " + p, nil
	}
	return "", fmt.Errorf("duckdb: operator %s is not valid with a string", op)
}

func (c *compiler) numberPred(x string, op filter.Op, lit float64) (string, error) {
	sop, ok := sqlOps[op]
	if !ok {
		return "", fmt.Errorf("duckdb: operator %s is not valid with a number", op)
	}
	return x + " " + sop + " " + c.arg(lit), nil
}

// typed compiles a comparison on a typed column. It is exact for events that
// are not odd.
func (c *compiler) typed(col *column, op filter.Op, val filter.Value) (string, error) {
	switch col.kind {
	case kString:
		switch {
		case op == filter.OpPr:
			return "coalesce(" + col.name + " <> '', FALSE)", nil
		case val.Kind == filter.String:
			s, err := c.stringPred(col.name, op, val.Str)
			return "coalesce(" + s + ", FALSE)", err
		}
		return sqlFalse, nil // the column holds only strings
	case kNumber:
		switch {
		case op == filter.OpPr:
			return "(" + col.name + " IS NOT NULL)", nil
		case val.Kind == filter.Number:
			s, err := c.numberPred(col.name, op, val.Num)
			return "coalesce(" + s + ", FALSE)", err
		}
		return sqlFalse, nil
	case kStringList:
		var pred string
		switch {
		case op == filter.OpPr:
			pred = "x <> ''"
		case op == filter.OpEq && val.Kind == filter.String:
			return "coalesce(list_contains(" + col.name + ", " + c.arg(val.Str) + "), FALSE)", nil
		case val.Kind == filter.String:
			s, err := c.stringPred("x", op, val.Str)
			if err != nil {
				return "", err
			}
			pred = s
		default:
			return sqlFalse, nil
		}
		return "coalesce(len(list_filter(" + col.name + ", x -> " + pred + ")) > 0, FALSE)", nil
	}
	return "", fmt.Errorf("duckdb: column %s has no kind", col.name)
}

var pathName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// json compiles a comparison on a path without a typed column. DuckDB's
// json_extract follows one path without fan-out, which is exact for a row
// where no array lies on the path; with `[*]` after the one array on the
// path it is exact where there is exactly one (and its elements are not
// arrays). The arrays column lists, for each row, the key paths that hold an
// array (with "[]" appended per level of array nesting), so the SQL knows
// which form is exact for the row. Rows with more arrays on the path (or
// odd keys) are left to the Go check: the condition is TRUE in up and FALSE
// in lo for them.
//
// The JSON paths are written into the SQL text, not bound: DuckDB needs them
// constant, and every name in them has matched pathName.
func (c *compiler) json(p filter.Path, op filter.Op, val filter.Value) (cond, error) {
	var prefixes []string
	for i, n := range p {
		if !pathName.MatchString(n) {
			return cond{}, fmt.Errorf("duckdb: attribute name %q is not valid", n)
		}
		pre := strings.Join(p[:i+1], ".")
		prefixes = append(prefixes, pre, pre+"[]")
	}
	if _, ok := memberIndex[p[0]]; !ok {
		// Not a LogEvent field: only events kept whole could have it.
		return cond{"odd", sqlFalse}, nil
	}
	// The member is read as stored, markers and all: a string that is a
	// marker is mapped back to its typed column (unmarkSQL), which is much
	// cheaper than rebuilding the text. Target elements carry per-element
	// markers, so that member is rebuilt.
	doc := memberColumn(p[0])
	unmark := func(s string) string { return unmarkSQL(p[0], s) }
	if p[0] == "target" {
		doc = memberSQL(p[0])
		unmark = func(s string) string { return s }
	}
	pred, err := c.jsonPred(op, val, unmark)
	if err != nil {
		return cond{}, err
	}
	// jsonPath is the JSON path inside the member of names from..to, with
	// [*] after the name at index star (none when star < 0).
	jsonPath := func(star int) string {
		jp := "$"
		if star == 0 {
			jp += "[*]"
		}
		for i := 1; i < len(p); i++ {
			jp += "." + p[i]
			if i == star {
				jp += "[*]"
			}
		}
		return jp
	}
	onPath := "list_intersect(arrays, " + c.arg(prefixes) + ")"
	// The member's text is rebuilt once per row and bound to d by a lambda.
	x := strings.ReplaceAll(pred, "@v", "x")
	var b strings.Builder
	b.WriteString("list_transform([" + doc + "], d -> CASE WHEN len(" + onPath + ") = 0 THEN coalesce(len(list_filter([json_extract(d, '" +
		jsonPath(-1) + "')], x -> " + x + ")) > 0, FALSE)")
	for i := range p {
		fmt.Fprintf(&b, " WHEN %s[1] = %s THEN coalesce(len(list_filter(json_extract(d, '%s'), x -> %s)) > 0, FALSE)",
			onPath, c.arg(prefixes[2*i]), jsonPath(i), x)
	}
	b.WriteString(" ELSE FALSE END)[1]")
	decided := "(NOT odd AND len(" + onPath + ") <= 1)"
	e := b.String()
	return cond{"(NOT " + decided + " OR " + e + ")", "(" + decided + " AND " + e + ")"}, nil
}

// jsonPred is `@v op lit` for a JSON value @v, a placeholder the caller
// replaces with the value's expression.
func (c *compiler) jsonPred(op filter.Op, val filter.Value, unmark func(string) string) (string, error) {
	const str = "(@v ->> '$')"
	switch {
	case op == filter.OpPr:
		// Markers stand for non-empty strings, so pr needs no unmarking.
		return "(json_type(@v) NOT IN ('NULL', 'ARRAY') AND NOT (json_type(@v) = 'VARCHAR' AND " + str + " = ''))", nil
	case val.Kind == filter.String:
		s, err := c.stringPred(unmark(str), op, val.Str)
		if err != nil {
			return "", err
		}
		return "(json_type(@v) = 'VARCHAR' AND " + s + ")", nil
	case val.Kind == filter.Number:
		s, err := c.numberPred("TRY_CAST(@v AS DOUBLE)", op, val.Num)
		if err != nil {
			return "", err
		}
		return "(json_type(@v) IN ('UBIGINT', 'BIGINT', 'DOUBLE', 'HUGEINT') AND " + s + ")", nil
	case val.Kind == filter.Bool:
		if op != filter.OpEq {
			return "", fmt.Errorf("duckdb: operator %s is not valid with a boolean", op)
		}
		return "(json_type(@v) = 'BOOLEAN' AND TRY_CAST(@v AS BOOLEAN) = " + c.arg(val.Bool) + ")", nil
	}
	return "", fmt.Errorf("duckdb: unsupported literal %s", val)
}
