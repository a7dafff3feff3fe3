package flows

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/simulate"
)

// truthRec is one ground-truth record of the simulator.
type truthRec struct {
	Kind      string   `json:"kind"`
	Attack    string   `json:"attack"`
	Status    string   `json:"status"`
	StoppedAt string   `json:"stoppedAt"`
	Reason    string   `json:"reason"`
	User      string   `json:"user"`
	UUIDs     []string `json:"uuids"`
}

// simulated generates a log and its ground truth in memory.
func simulated(t testing.TB, cfg simulate.Config) ([]Event, []truthRec) {
	t.Helper()
	var evs []Event
	var truth []truthRec
	err := simulate.New(cfg).RunTruth(func(raw []byte) error {
		e, err := FromRaw(raw)
		if err != nil {
			return err
		}
		evs = append(evs, e)
		return nil
	}, func(rec []byte) error {
		var r truthRec
		if err := json.Unmarshal(rec, &r); err != nil {
			return err
		}
		if r.Attack == "" {
			truth = append(truth, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, truth
}

// score compares reconstructed instances with the truth: an instance is
// right when it holds exactly the truth's events and has its kind, status
// and stoppedAt. It returns the number right and a description of the most
// common mistakes.
func score(ins []*Instance, truth []truthRec) (int, []string) {
	byUUID := make(map[string]*Instance, len(ins)*4)
	for _, in := range ins {
		for _, u := range in.UUIDs {
			byUUID[u] = in
		}
	}
	right := 0
	wrong := map[string]int{}
	for i := range truth {
		tr := &truth[i]
		in := byUUID[tr.UUIDs[0]]
		want := fmt.Sprintf("%s/%s/%s/%d", tr.Kind, tr.Status, tr.StoppedAt, len(tr.UUIDs))
		if in == nil {
			wrong[want+" -> (none)"]++
			continue
		}
		got := fmt.Sprintf("%s/%s/%s/%d", in.Kind, in.Status, in.StoppedAt, len(in.UUIDs))
		if got == want && slices.Equal(in.UUIDs, tr.UUIDs) {
			right++
			continue
		}
		if listed(in, tr) {
			got += " (ambiguous; the truth is among its readings)"
		}
		wrong[want+" -> "+got]++
	}
	var lines []string
	for k, n := range wrong {
		lines = append(lines, fmt.Sprintf("%6d  %s", n, k))
	}
	slices.Sort(lines)
	slices.Reverse(lines)
	if len(lines) > 15 {
		lines = lines[:15]
	}
	return right, lines
}

// listed reports whether in is ambiguous and one of its readings is
// exactly the truth.
func listed(in *Instance, tr *truthRec) bool {
	for _, rd := range in.Readings {
		if len(rd) == 1 && rd[0].Kind == tr.Kind && string(rd[0].Status) == tr.Status &&
			rd[0].StoppedAt == tr.StoppedAt && slices.Equal(rd[0].UUIDs, tr.UUIDs) {
			return true
		}
	}
	return false
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestAgainstSimulatorTruth reconstructs a simulated org's flows from the
// raw events and scores kind and ending against the simulator's ground
// truth. The acceptance bar is 99% on at least 100,000 instances; the
// default size (IDLOG_FLOWS_USERS users for IDLOG_FLOWS_DAYS days) clears
// the count. -short uses a smaller org.
func TestAgainstSimulatorTruth(t *testing.T) {
	users, days := envInt("IDLOG_FLOWS_USERS", 800), envInt("IDLOG_FLOWS_DAYS", 30)
	if testing.Short() {
		users, days = 200, 7
	}
	cfg := simulate.Config{Users: users, Apps: 16, Days: days, Seed: 8,
		End: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Attacks: true}
	t0 := time.Now()
	evs, truth := simulated(t, cfg)
	gen := time.Since(t0)
	t0 = time.Now()
	ins := Reconstruct(evs)
	rec := time.Since(t0)
	right, mistakes := score(ins, truth)
	acc := float64(right) / float64(len(truth))
	t.Logf("flow analysis vs ground truth: %d users, %d days, %d events, %d true instances, %d reconstructed; "+
		"right kind+status+stoppedAt+events: %d (%.3f%%); generate+decode %v, reconstruct %v",
		users, days, len(evs), len(truth), len(ins), right, 100*acc, gen.Round(time.Millisecond), rec.Round(time.Millisecond))
	ambiguous := 0
	for _, in := range ins {
		if in.Ambiguous {
			ambiguous++
		}
	}
	t.Logf("%d reconstructed instances (%.2f%%) say they are ambiguous", ambiguous, 100*float64(ambiguous)/float64(len(ins)))
	if len(mistakes) > 0 {
		t.Logf("most common mistakes (truth kind/status/stoppedAt/events -> reconstructed):\n%s", strings.Join(mistakes, "\n"))
	}
	if !testing.Short() && len(truth) < 100000 {
		t.Errorf("only %d true instances; the acceptance bar needs at least 100,000", len(truth))
	}
	if acc < 0.99 {
		t.Errorf("accuracy %.3f%% is below 99%%", 100*acc)
	}
}
