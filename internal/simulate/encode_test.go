package simulate

import (
	"math/rand/v2"
	"regexp"
	"testing"
	"time"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAppendUUID(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ms := time.Date(2026, 3, 26, 21, 5, 32, 159e6, time.UTC).UnixMilli()
	seen := map[string]bool{}
	for i := 0; i < 20000; i++ {
		u := string(appendUUID(nil, ms, r.Uint64()))
		if !uuidRE.MatchString(u) {
			t.Fatalf("%s is not a version-1 uuid", u)
		}
		if seen[u] {
			t.Fatalf("%s twice in one millisecond", u)
		}
		seen[u] = true
	}
	// The timestamp is the event's: Okta's sample uuid for 2023-03-26 21:05
	// starts its time_mid/time_hi with 11ed, and so does ours.
	u := string(appendUUID(nil, time.Date(2023, 3, 26, 21, 5, 32, 159e6, time.UTC).UnixMilli(), 0))
	if u[9:13] != "cc19" || u[14:18] != "11ed" {
		t.Errorf("uuid %s, want …-cc19-11ed-… like f1d0b993-cc19-11ed-a688-db22c99ef6c4", u)
	}
}

func TestTimeCache(t *testing.T) {
	var c timeCache
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		ms := r.Int64N(4e12) - 1e12 // 1938 … 2096
		want := time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
		if got := string(c.append(nil, ms)); got != want {
			t.Fatalf("%d: %s, want %s", ms, got, want)
		}
	}
}
