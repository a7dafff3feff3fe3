package simulate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/flowdef"
)

// summaryConfig is what docs/simulator.md describes: the same as
// `idlog simulate --users 200 --days 30 --end 2026-11-02T00:00:00Z --seed 1`.
var summaryConfig = Config{Users: 200, Apps: 12, Days: 30, End: testEnd, Seed: 1}

type summary struct {
	events, bytes               int
	weekday, weekend            []int // events per UTC day
	types                       map[string]int
	results                     map[string]int // type=result
	kinds                       map[string]map[string]int
	reasons                     map[string]int
	signinAttempts, signinFails int
}

func summarize(t *testing.T, cfg Config) summary {
	s := summary{types: map[string]int{}, results: map[string]int{}, kinds: map[string]map[string]int{}, reasons: map[string]int{}}
	perDay := map[string]int{}
	err := New(cfg).RunTruth(func(raw []byte) error {
		var e struct {
			Published, EventType string
			Outcome              struct{ Result string }
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		s.events++
		s.bytes += len(raw) + 1
		s.types[e.EventType]++
		s.results[e.EventType+"="+e.Outcome.Result]++
		perDay[e.Published[:10]]++
		return nil
	}, func(rec []byte) error {
		var r truthRec
		if err := json.Unmarshal(rec, &r); err != nil {
			return err
		}
		if r.Kind == "" {
			return nil
		}
		if s.kinds[r.Kind] == nil {
			s.kinds[r.Kind] = map[string]int{}
		}
		s.kinds[r.Kind][r.Status]++
		if r.Reason != "" {
			s.reasons[r.Kind+" "+r.Reason]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for day, n := range perDay {
		d, _ := time.Parse("2006-01-02", day)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			s.weekend = append(s.weekend, n)
		} else {
			s.weekday = append(s.weekday, n)
		}
	}
	s.signinAttempts = 0
	for _, n := range s.kinds[flowdef.SignIn] {
		s.signinAttempts += n
	}
	s.signinFails = s.signinAttempts - s.kinds[flowdef.SignIn][string(flowdef.Completed)]
	return s
}

func mean(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0
	for _, x := range xs {
		sum += x
	}
	return float64(sum) / float64(len(xs))
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func (s summary) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Events: %d (%.1f MB, %d bytes per event on average)\n\n", s.events, float64(s.bytes)/1e6, s.bytes/max(s.events, 1))
	fmt.Fprintf(&b, "| Days | Count | Mean events/day | Min | Max |\n|---|---|---|---|---|\n")
	for _, d := range []struct {
		name string
		xs   []int
	}{{"Weekdays", s.weekday}, {"Weekend days", s.weekend}} {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %d | %d |\n", d.name, len(d.xs), mean(d.xs), slices.Min(d.xs), slices.Max(d.xs))
	}
	fmt.Fprintf(&b, "\n| Flow kind | Instances | Completed | Failed | Abandoned | Denied |\n|---|---|---|---|---|---|\n")
	kinds := []string{flowdef.SignIn, flowdef.AppSignIn, flowdef.MFA, flowdef.SSPR, flowdef.Unlock, flowdef.Logout, flowdef.FactorChange, flowdef.Other}
	for _, k := range kinds {
		m := s.kinds[k]
		n := 0
		for _, c := range m {
			n += c
		}
		fmt.Fprintf(&b, "| %s | %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", k, n,
			pct(m["completed"], n), pct(m["failed"], n), pct(m["abandoned"], n), pct(m["denied"], n))
	}
	fmt.Fprintf(&b, "\n| Ground-truth reason | Flows |\n|---|---|\n")
	var rs []string
	for r := range s.reasons {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %d |\n", r, s.reasons[r])
	}
	fmt.Fprintf(&b, "\n| Event type | Events | Share | Not SUCCESS/ALLOW/CHALLENGE |\n|---|---|---|---|\n")
	var ts []string
	for t := range s.types {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b string) int { return s.types[b] - s.types[a] })
	for _, t := range ts {
		bad := s.types[t] - s.results[t+"=SUCCESS"] - s.results[t+"=ALLOW"] - s.results[t+"=CHALLENGE"]
		fmt.Fprintf(&b, "| %s | %d | %.2f%% | %d |\n", t, s.types[t], pct(s.types[t], s.events), bad)
	}
	return b.String()
}

// TestSummary generates the month docs/simulator.md describes and checks
// that its shape is what the doc claims. With -v it prints the tables.
func TestSummary(t *testing.T) {
	s := summarize(t, summaryConfig)
	if testing.Verbose() {
		t.Log("\n" + s.markdown())
	}
	wd, we := mean(s.weekday), mean(s.weekend)
	perUser := wd / float64(summaryConfig.Users)
	checks := []struct {
		what   string
		got    float64
		lo, hi float64
	}{
		{"weekday events per user", perUser, 10, 25},
		{"weekend share of a weekday", we / wd, 0.05, 0.25},
		{"failed sign-ins, % of attempts", pct(s.signinFails, s.signinAttempts), 4, 12},
		{"wrong passwords, % of sign-in attempts", pct(s.reasons["signin INVALID_CREDENTIALS"], s.signinAttempts), 3, 8},
		{"unanswered MFA, % of sign-in attempts", pct(s.reasons["signin MFA_NOT_ANSWERED"], s.signinAttempts), 1, 4},
		{"app denials, % of app sign-ins", pct(s.kinds[flowdef.AppSignIn]["denied"], s.kinds[flowdef.AppSignIn]["denied"]+s.kinds[flowdef.AppSignIn]["completed"]), 0.5, 4},
		{"password resets", float64(s.types["user.account.reset_password"]), 10, 80},
		{"lock-outs", float64(s.types["user.account.lock"]), 3, 40},
		{"sign-outs per sign-in", float64(s.types["user.session.end"]) / float64(s.kinds[flowdef.SignIn]["completed"]), 0.25, 0.5},
	}
	for _, c := range checks {
		if c.got < c.lo || c.got > c.hi {
			t.Errorf("%s = %.2f, want within [%g, %g]", c.what, c.got, c.lo, c.hi)
		}
	}
}
