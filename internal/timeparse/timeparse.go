// Package timeparse reads the times the CLI and the API take: RFC 3339 as
// Okta's since/until, a bare date, and relative forms such as -24h or -7d
// that an analyst types without looking at a clock.
package timeparse

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Help is the one-line description for flag usages.
const Help = "RFC 3339 (2026-03-02T14:05:09Z), a date (2026-03-02, midnight UTC), now, or relative: -15m, -24h, -7d"

// Parse reads s relative to now:
//
//	2026-03-02T14:05:09Z, 2026-03-02T14:05:09.123+02:00  RFC 3339, fraction optional
//	2026-03-02                                           midnight UTC that day
//	now                                                  now
//	-15m, -24h, -7d, -90d, -30s, -2w                     that long before now
//
// Relative forms are a sign, an integer and one unit: s, m, h, d (24 hours)
// or w (7 days); a leading '+' counts forward.
func Parse(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, fmt.Errorf("empty time: use %s", Help)
	case strings.EqualFold(s, "now"):
		return now, nil
	case s[0] == '-' || s[0] == '+':
		d, err := relative(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q not understood: use %s", s, Help)
}

var units = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

func relative(s string) (time.Duration, error) {
	bad := func(why string) (time.Duration, error) {
		return 0, fmt.Errorf("relative time %q %s: write a sign, a whole number and one of s, m, h, d, w (-15m, -24h, -7d)", s, why)
	}
	if len(s) < 3 {
		return bad("is incomplete")
	}
	unit, ok := units[s[len(s)-1]]
	if !ok {
		return bad(fmt.Sprintf("has unknown unit %q", s[len(s)-1:]))
	}
	n, err := strconv.ParseUint(s[1:len(s)-1], 10, 32)
	if err != nil {
		return bad("has no whole number")
	}
	// 2^32 weeks overflows a Duration; 100 years of any unit is plenty.
	if time.Duration(n) > 100*365*24*time.Hour/unit {
		return bad("is over 100 years")
	}
	d := time.Duration(n) * unit
	if s[0] == '-' {
		d = -d
	}
	return d, nil
}
