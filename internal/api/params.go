package api

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/store"
)

// causes collects validation failures of several parameters, so one answer
// names every problem, as Okta's errorCauses do.
type causes struct {
	list []string
}

func (c *causes) add(param, msg string) {
	c.list = append(c.list, param+": "+msg)
}

func (c *causes) err() error {
	if len(c.list) == 0 {
		return nil
	}
	summaries := make([]string, len(c.list))
	for i, s := range c.list {
		param, msg, _ := strings.Cut(s, ": ")
		summaries[i] = "'" + param + "': " + msg
	}
	// Okta joins the causes with ". " after messages that end in "."
	// themselves; the doubled period is Okta's, kept for fidelity.
	return &Error{kind: kindBadRequest, Code: codeValidation,
		Summary: "Api validation failed: " + strings.Join(summaries, ". "), Causes: c.list}
}

const (
	msgDateFormat = "The date format in your query is not recognized. Please enter dates using ISO8601 string format."
	msgDateValid  = "must be a valid date-time or empty."
)

// parseTime reads an RFC 3339 time. A "+" in an offset that reached the
// server unencoded has become a space; it is put back.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if strings.Contains(s, " ") {
		if t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(s, " ", "+")); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("bad date")
}

// timeParam reads an optional time parameter; "" or absent is zero.
func timeParam(v url.Values, name string, c *causes) time.Time {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		c.add(name, msgDateFormat)
		c.add(name, msgDateValid)
	}
	return t
}

// selection is what every read endpoint filters by.
type selection struct {
	filterText string
	q          string
	expr       filter.Expr
	keywords   []string
	since      time.Time
	until      time.Time
}

// maxFilterBytes bounds a filter's text. The seed's longest query is about
// 1.5 KB; the bound keeps what one request can make the server store (long
// filters are kept on disk for their cursors) small.
const maxFilterBytes = 16 << 10

// parseFilter parses the filter and q texts. Their errors are Okta's own
// (E0000053, E0000031, E0000001) and are returned as they are, ahead of
// other validation causes, because they carry a position.
func parseFilter(filterText, q string) (filter.Expr, []string, error) {
	if len(filterText) > maxFilterBytes {
		return nil, nil, validationError("filter", "is longer than "+strconv.Itoa(maxFilterBytes)+" bytes.")
	}
	var expr filter.Expr
	if strings.TrimSpace(filterText) != "" {
		e, err := filter.Parse(filterText)
		if err != nil {
			return nil, nil, filterError(err)
		}
		expr = e
	}
	kws, err := filter.ParseKeywords(q)
	if err != nil {
		return nil, nil, filterError(err)
	}
	return expr, kws, nil
}

func filterError(err error) error {
	var fe *filter.Error
	if errors.As(err, &fe) {
		return &Error{kind: kindBadRequest, Code: fe.Code, Summary: fe.Error(), Causes: []string{fe.Error()}}
	}
	return validationError("filter", err.Error())
}

// parseSelection reads filter, q, since and until for the idlog endpoints;
// absent times leave that side unbounded.
func parseSelection(v url.Values) (selection, error) {
	var c causes
	sel := selection{filterText: v.Get("filter"), q: v.Get("q")}
	sel.since = timeParam(v, "since", &c)
	sel.until = timeParam(v, "until", &c)
	if err := c.err(); err != nil {
		return sel, err
	}
	var err error
	sel.expr, sel.keywords, err = parseFilter(sel.filterText, sel.q)
	return sel, err
}

func (sel selection) query() store.Query {
	return store.Query{Filter: sel.expr, Keywords: sel.keywords, Since: sel.since, Until: sel.until}
}

// intParam reads an optional integer in [lo, hi].
func intParam(v url.Values, name string, def, lo, hi int, c *causes) int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		c.add(name, "must be an integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi)+".")
		return def
	}
	return n
}
