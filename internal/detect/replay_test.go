package detect

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idlog/idlog/internal/filter"
	"github.com/idlog/idlog/internal/simulate"
)

func replayLog(t *testing.T) [][]byte {
	t.Helper()
	raw, err := simulate.NDJSON(simulate.Config{Users: 30, Days: 10, Seed: 4, Attacks: true, End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
}

// TestPrefilter: every event a rule matches passes the rules' prefilter,
// which leaves out events of other types; a rule that can match any type
// leaves no prefilter.
func TestPrefilter(t *testing.T) {
	all, _ := Builtin()
	if Prefilter(all) != nil {
		t.Error("the library has rules for any event type, but a prefilter")
	}
	var typed []*Rule
	for _, r := range all {
		if _, _, ok := ruleTypes(r); ok {
			typed = append(typed, r)
		}
	}
	pre := Prefilter(typed)
	if pre == nil {
		t.Fatal("no prefilter for rules that each name their event types")
	}
	// It prints to a filter that parses back (the server gets it as text).
	if again, err := filter.Parse(pre.String()); err != nil || again.String() != pre.String() {
		t.Fatalf("prefilter %q: reparsed %v, %v", pre, again, err)
	}
	kept, matched := 0, 0
	lines := replayLog(t)
	for _, line := range lines {
		doc, err := filter.DecodeJSON(line)
		if err != nil {
			t.Fatal(err)
		}
		in := filter.Match(pre, doc)
		if in {
			kept++
		}
		for _, r := range typed {
			if r.match(doc) {
				matched++
				if !in {
					t.Fatalf("rule %s matches an event the prefilter leaves out: %s", r.ID, line)
				}
			}
		}
	}
	if matched == 0 || kept == len(lines) {
		t.Errorf("%d matches; the prefilter kept %d of %d events", matched, kept, len(lines))
	}
	one := Prefilter([]*Rule{mustRule(t, sprayRule)})
	if one == nil || one.String() != `eventType eq "user.session.start"` {
		t.Errorf("prefilter of the spray rule: %v", one)
	}
	pre = Prefilter([]*Rule{
		mustRule(t, "id: a\ntitle: a\nquery: eventType sw \"user.\"\n"),
		mustRule(t, "id: b\ntitle: b\nquery: eventType eq \"user.session.start\" or eventType eq \"zone.update\"\n"),
	})
	if pre == nil || pre.String() != `eventType sw "user." or eventType eq "zone.update"` {
		t.Errorf("prefilter of a prefix and two types: %v", pre)
	}
}

// TestReplay: the pipelined replay raises exactly what feeding the engine
// in turn does, and stops on an event that does not decode, a read error
// or a cancelled context.
func TestReplay(t *testing.T) {
	rules, _ := Builtin()
	lines := replayLog(t)
	var evs []Event
	for _, line := range lines {
		ev, err := DecodeEvent(line)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	want := run(NewEngine(rules), evs)
	if len(want) == 0 {
		t.Fatal("no alerts in the simulated log")
	}
	readAll := func(lines [][]byte) func(func([]byte) error) error {
		return func(fn func([]byte) error) error {
			buf := make([]byte, 0, 4096)
			for _, l := range lines {
				// The reader reuses its buffer, as a stream reader would.
				buf = append(buf[:0], l...)
				if err := fn(buf); err != nil {
					return err
				}
			}
			return nil
		}
	}
	calls := 0
	got, n, err := Replay(context.Background(), NewEngine(rules), readAll(lines), func(int, int, time.Time) { calls++ })
	if err != nil || n != len(lines) {
		t.Fatalf("replay: %d events, %v", n, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replay raised %d alerts, the engine in turn %d", len(got), len(want))
	}

	bad := append(append([][]byte{}, lines[:1000]...), []byte(`{"uuid":"x","published":"never"}`))
	bad = append(bad, lines[1000:]...)
	if _, _, err := Replay(context.Background(), NewEngine(rules), readAll(bad), nil); err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("an event without a time: %v", err)
	}
	boom := errors.New("boom")
	if _, _, err := Replay(context.Background(), NewEngine(rules), func(fn func([]byte) error) error {
		fn(lines[0])
		return boom
	}, nil); !errors.Is(err, boom) {
		t.Errorf("a read error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Replay(ctx, NewEngine(rules), readAll(lines), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled replay: %v", err)
	}
}
