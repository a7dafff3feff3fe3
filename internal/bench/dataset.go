// Package bench measures idlog on a reproducible simulated dataset and
// compares it with what an analyst might reach for instead: jq over the
// NDJSON file and the same events loaded naively into SQLite. `idlog bench`
// runs it and writes the tables into docs/benchmarks.md.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/idlog/idlog/internal/simulate"
)

// End is the end of every benchmark dataset's window: fixed, so a dataset
// and the times its queries use are the same on every run.
var End = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Days is the dataset's span: Okta's retention, the window analysts ask about.
const Days = 90

// Dataset is a generated NDJSON file plus values to query it with.
type Dataset struct {
	Path    string
	Events  int
	Bytes   int64
	Users   int
	Samples Samples
	// Recent are values seen in the last 7 days, for the 7-day queries: a
	// session from two months ago would make a 7-day query trivially empty.
	Recent Samples
}

// Samples are ids that occur in the data, drawn evenly from the whole file so
// that queries hit active and quiet users alike.
type Samples struct {
	Users    []string `json:"users"`    // actor.id of users who signed in
	Emails   []string `json:"emails"`   // their actor.alternateId, for q
	IPs      []string `json:"ips"`      // client.ipAddress
	Sessions []string `json:"sessions"` // authenticationContext.externalSessionId
}

// usersFor sizes the org so that a 90-day window holds about n events. The
// rate per user and day is measured on a small sample of the same simulator
// rather than assumed, so it follows the simulator as it changes.
func usersFor(n int, seed int64) (int, error) {
	const users, days = 200, 14
	count := 0
	err := simulate.New(simulate.Config{Users: users, Days: days, End: End, Seed: seed, Attacks: true}).Run(func([]byte) error {
		count++
		return nil
	})
	if err != nil {
		return 0, err
	}
	perUserDay := float64(count) / users / days
	u := int(float64(n)/perUserDay/Days + 0.5)
	return max(u, 10), nil
}

// MakeDataset writes about n events to dir (reusing the file when a previous
// run made the same one) and samples values from it.
func MakeDataset(dir string, n int, seed int64, log io.Writer) (*Dataset, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("events-%d-seed%d", n, seed))
	meta := base + ".json"
	ds := &Dataset{Path: base + ".ndjson"}
	if b, err := os.ReadFile(meta); err == nil && json.Unmarshal(b, ds) == nil {
		if fi, err := os.Stat(ds.Path); err == nil && fi.Size() == ds.Bytes {
			fmt.Fprintf(log, "dataset: reusing %s (%d events)\n", ds.Path, ds.Events)
			return ds, nil
		}
	}
	users, err := usersFor(n, seed)
	if err != nil {
		return nil, err
	}
	ds.Users = users
	f, err := os.Create(ds.Path + ".tmp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	seen, seenRecent := map[string]bool{}, map[string]bool{}
	start := time.Now()
	last := start
	err = simulate.New(simulate.Config{Users: users, Days: Days, End: End, Seed: seed, Attacks: true}).Run(func(raw []byte) error {
		ds.Events++
		ds.Bytes += int64(len(raw)) + 1
		w.Write(raw)
		w.WriteByte('\n')
		// Decoding every event would dominate generation; one in 500 gives
		// thousands of candidates on any real size.
		if r.IntN(500) == 0 {
			ds.Samples.add(raw, seen)
		}
		if pastWeek(raw) && r.IntN(50) == 0 {
			ds.Recent.add(raw, seenRecent)
		}
		if now := time.Now(); now.Sub(last) > 2*time.Second {
			last = now
			fmt.Fprintf(log, "dataset: %d events, %.0f/s\n", ds.Events, float64(ds.Events)/now.Sub(start).Seconds())
		}
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return nil, err
	}
	ds.Samples.shuffle(r)
	ds.Recent.shuffle(r)
	if err := os.Rename(ds.Path+".tmp", ds.Path); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(ds)
	if err := os.WriteFile(meta, b, 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "dataset: %d events (%d users, %d days) in %s\n", ds.Events, users, Days, time.Since(start).Round(time.Second))
	return ds, nil
}

func (s *Samples) add(raw []byte, seen map[string]bool) {
	var e struct {
		EventType string `json:"eventType"`
		Actor     struct {
			ID          string `json:"id"`
			Type        string `json:"type"`
			AlternateID string `json:"alternateId"`
		} `json:"actor"`
		Client struct {
			IPAddress string `json:"ipAddress"`
		} `json:"client"`
		AuthenticationContext struct {
			ExternalSessionID string `json:"externalSessionId"`
		} `json:"authenticationContext"`
	}
	if json.Unmarshal(raw, &e) != nil || e.EventType != "user.session.start" {
		return
	}
	keep := func(list *[]string, v string) {
		if v != "" && !seen[v] && len(*list) < 2000 {
			seen[v] = true
			*list = append(*list, v)
		}
	}
	if e.Actor.Type == "User" && !seen[e.Actor.ID] {
		keep(&s.Users, e.Actor.ID)
		keep(&s.Emails, e.Actor.AlternateID)
	}
	keep(&s.IPs, e.Client.IPAddress)
	keep(&s.Sessions, e.AuthenticationContext.ExternalSessionID)
}

func (s *Samples) shuffle(r *rand.Rand) {
	for _, l := range [][]string{s.Users, s.Emails, s.IPs, s.Sessions} {
		r.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
	}
}

// weekStart is the published prefix from which an event is in the last 7
// days of the window; published is RFC 3339 in UTC, so comparing the text
// compares the time.
var weekStart = End.Add(-7 * 24 * time.Hour).Format("2006-01-02T15:04:05")

// pastWeek reads published without decoding the event: the simulator writes
// it as the second member.
func pastWeek(raw []byte) bool {
	i := bytes.Index(raw, []byte(`"published":"`))
	if i < 0 || len(raw) < i+13+len(weekStart) {
		return false
	}
	return string(raw[i+13:i+13+len(weekStart)]) >= weekStart
}
