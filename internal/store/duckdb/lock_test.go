package duckdb

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/idlog/idlog/internal/store"
)

// TestHoldStore is not a test: TestOpenLocked runs the test binary with
// IDLOG_HOLD set, and this holds the store open until stdin closes.
func TestHoldStore(t *testing.T) {
	path := os.Getenv("IDLOG_HOLD")
	if path == "" {
		t.Skip("helper process only")
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	os.Stdout.WriteString("held\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "events.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHoldStore$")
	cmd.Env = append(os.Environ(), "IDLOG_HOLD="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "held\n" {
		t.Fatalf("helper: %q %v", line, err)
	}
	s, err := Open(path)
	if err == nil {
		s.Close()
		t.Fatal("opened a store another process holds")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("error %v does not wrap store.ErrLocked", err)
	}
}

func TestReopenKeepsSeq(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.duckdb")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	evs := storetestEvents(30)
	if _, err := s.Append(ctx, evs[:20]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteBefore(ctx, evs[25].Published); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Append(ctx, evs[15:])
	if err != nil || res.Added != 15 {
		t.Fatalf("append after reopen: %+v %v", res, err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.MaxSeq != 35 || st.Events != 15 {
		t.Fatalf("stats after reopen: %+v %v, want max seq 35 and 15 events", st, err)
	}
}
