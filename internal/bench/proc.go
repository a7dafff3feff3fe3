package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A process-level measurement runs idlog (and a peer) as separate
// processes, the way an operator runs them: the import's peak memory is the
// import process's, a server's memory is the server's, and nothing of the
// bench itself is counted.

// proc is a server process started by bench: idlog serve or a peer.
type proc struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	out     *tailBuffer // its stdout and stderr, for the error when it dies
	done    chan struct{}
	err     error // set when done is closed
}

// startProc starts bin with args; its output is kept (the last 8 KB) to
// explain a failure.
func startProc(name, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, out: &tailBuffer{max: 8 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended, with why.
func (p *proc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited (%v): %s", p.name, p.err, strings.TrimSpace(p.out.String()))
	default:
		return nil
	}
}

// stop ends the process: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// memory returns the process's resident set now and its peak so far
// (VmRSS, VmHWM), in bytes.
func (p *proc) memory() (rss, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	return statusKB(b, "VmRSS:"), statusKB(b, "VmHWM:")
}

// statusKB reads one "Name:   123 kB" line of /proc/PID/status as bytes.
func statusKB(status []byte, name string) int64 {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// runMeasured runs bin to the end and returns its wall time and peak
// resident memory (from the kernel's rusage of the child).
func runMeasured(ctx context.Context, name, bin string, args ...string) (wall time.Duration, peakRSS int64, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	out := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil {
		return wall, 0, fmt.Errorf("%s: %v: %s", name, err, strings.TrimSpace(out.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peakRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return wall, peakRSS, nil
}

// freeAddr returns a loopback address with a port nobody listens on now.
// Another process could take it before the server binds it; the server's
// start then fails loudly, and bench says so.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url until it answers 200, the process dies or ctx ends.
// Any answer other than 200, 503 or 429 is an error at once.
func waitHTTP(ctx context.Context, p *proc, url string, header http.Header, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				return nil
			case http.StatusServiceUnavailable, http.StatusTooManyRequests:
				// still starting, or busy: ask again
			default:
				// A server that refuses the question will not answer it
				// later: say why now rather than after the timeout.
				return fmt.Errorf("%s answered %s: %s: %s", p.name, url, resp.Status, bytes.TrimSpace(body))
			}
		}
		if err := p.exited(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s", p.name, url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := walkFiles(dir, func(fi os.FileInfo) { n += fi.Size() })
	return n, err
}

func walkFiles(dir string, f func(os.FileInfo)) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := dir + string(os.PathSeparator) + e.Name()
		if e.IsDir() {
			if err := walkFiles(path, f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, os.ErrNotExist) { // merged away meanwhile
				continue
			}
			return err
		}
		if fi.Mode().IsRegular() {
			f(fi)
		}
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
