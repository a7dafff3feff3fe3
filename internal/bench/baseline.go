package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Baseline is what a tool an analyst might use instead measured on the same
// question: one user, four sign-in event types, newest 100, over 90 days.
type Baseline struct {
	Name        string
	Events      int     // events it held
	LoadRate    float64 // events per second to load, 0 when there is no load step
	BytesPerEvt float64
	Query       time.Duration // median over the runs
	Runs        int
	UUIDs       []string // the answer of the last run, newest first, to check against idlog's
}

// plainID guards the one place a value is written into a command: ids the
// simulator makes are letters and digits only.
var plainID = regexp.MustCompile(`^[A-Za-z0-9]+$`)

type hit struct {
	Published string `json:"published"`
	UUID      string `json:"uuid"`
}

func newest100(hits []hit) []string {
	slices.SortFunc(hits, func(a, b hit) int { return strings.Compare(b.Published, a.Published) })
	var out []string
	for i := 0; i < len(hits) && i < 100; i++ {
		out = append(out, hits[i].UUID)
	}
	return out
}

// JQ runs jq over the NDJSON file, the way an analyst greps an export.
func JQ(ctx context.Context, ds *Dataset, user string, runs int) (*Baseline, error) {
	if _, err := exec.LookPath("jq"); err != nil {
		return nil, fmt.Errorf("jq is not installed")
	}
	types, _ := json.Marshal(SignInTypes)
	prog := `select(.actor.id == $u and (.eventType as $t | $types | index($t)) and .published >= $since) | {published, uuid}`
	b := &Baseline{Name: "jq 1.6 over NDJSON", Events: ds.Events, BytesPerEvt: float64(ds.Bytes) / float64(ds.Events)}
	var times []time.Duration
	for i := 0; i < runs; i++ {
		t := time.Now()
		cmd := exec.CommandContext(ctx, "jq", "-c", "--arg", "u", user, "--argjson", "types", string(types),
			"--arg", "since", End.Add(-Days*24*time.Hour).Format("2006-01-02T15:04:05.000Z"), prog, ds.Path)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("jq: %w", err)
		}
		var hits []hit
		for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			var h hit
			if len(line) > 0 && json.Unmarshal(line, &h) == nil {
				hits = append(hits, h)
			}
		}
		b.UUIDs = newest100(hits)
		times = append(times, time.Since(t))
	}
	b.Runs = runs
	b.Query = median(times)
	return b, nil
}

// SQLite loads the first n events as raw JSON text into a table with no
// index, the naive way, with the sqlite3 shell, and asks the question with
// json_extract.
func SQLite(ctx context.Context, ds *Dataset, dir string, n int, user string, runs int, log io.Writer) (*Baseline, error) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		return nil, fmt.Errorf("sqlite3 is not installed")
	}
	if !plainID.MatchString(user) {
		return nil, fmt.Errorf("sample user id %q is not plain", user)
	}
	db := filepath.Join(dir, "naive.sqlite")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	in, err := os.Open(ds.Path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	cmd := exec.CommandContext(ctx, "sqlite3", db)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	start := time.Now()
	w := bufio.NewWriterSize(stdin, 1<<20)
	fmt.Fprintln(w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE ev(raw TEXT);")
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	loaded := 0
	for loaded < n && sc.Scan() {
		if loaded%1000 == 0 {
			if loaded > 0 {
				fmt.Fprintln(w, ";COMMIT;")
			}
			fmt.Fprint(w, "BEGIN; INSERT INTO ev VALUES")
		} else {
			w.WriteByte(',')
		}
		// A SQL string literal: JSON text has no NUL, and doubling the
		// single quotes is all SQLite's quoting needs.
		w.WriteString("('")
		w.WriteString(strings.ReplaceAll(sc.Text(), "'", "''"))
		w.WriteString("')")
		loaded++
	}
	fmt.Fprintln(w, ";COMMIT;")
	if err := w.Flush(); err != nil {
		return nil, err
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("sqlite3 load: %v: %s", err, stderr.String())
	}
	loadTime := time.Since(start)
	fi, err := os.Stat(db)
	if err != nil {
		return nil, err
	}
	b := &Baseline{Name: "SQLite 3 (sqlite3 shell), raw JSON + json_extract, no index", Events: loaded,
		LoadRate: float64(loaded) / loadTime.Seconds(), BytesPerEvt: float64(fi.Size()) / float64(loaded)}
	fmt.Fprintf(log, "sqlite: loaded %d events in %s\n", loaded, loadTime.Round(time.Millisecond))

	var in4 []string
	for _, t := range SignInTypes {
		in4 = append(in4, "'"+t+"'")
	}
	query := fmt.Sprintf(`.parameter set @u '%s'
.parameter set @since '%s'
SELECT json_extract(raw,'$.published'), json_extract(raw,'$.uuid') FROM ev
 WHERE json_extract(raw,'$.actor.id') = @u AND json_extract(raw,'$.eventType') IN (%s)
   AND json_extract(raw,'$.published') >= @since
 ORDER BY json_extract(raw,'$.published') DESC LIMIT 100;
`, user, End.Add(-Days*24*time.Hour).Format("2006-01-02T15:04:05.000Z"), strings.Join(in4, ","))
	var times []time.Duration
	for i := 0; i < runs; i++ {
		t := time.Now()
		cmd := exec.CommandContext(ctx, "sqlite3", "-separator", "\t", db)
		cmd.Stdin = strings.NewReader(query)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("sqlite3 query: %w", err)
		}
		times = append(times, time.Since(t))
		b.UUIDs = nil
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if _, u, ok := strings.Cut(line, "\t"); ok {
				b.UUIDs = append(b.UUIDs, u)
			}
		}
	}
	b.Runs = runs
	b.Query = median(times)
	return b, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
