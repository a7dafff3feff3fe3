package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/idlog/idlog/internal/api"
	"github.com/idlog/idlog/internal/audit"
	"github.com/idlog/idlog/internal/auth"
	"github.com/idlog/idlog/internal/bytesize"
	"github.com/idlog/idlog/internal/collect"
	"github.com/idlog/idlog/internal/cursor"
	"github.com/idlog/idlog/internal/ingest"
	"github.com/idlog/idlog/internal/saved"
	"github.com/idlog/idlog/internal/scenario"
	"github.com/idlog/idlog/internal/simulate"
	"github.com/idlog/idlog/internal/store"
	"github.com/idlog/idlog/internal/storeurl"
	"github.com/idlog/idlog/internal/ui"
)

func init() {
	register(&command{name: "serve", summary: "serve Okta's System Log API (and the web page) over a store", run: runServe})
}

// serveConfig is every setting of idlog serve; each has a flag and an
// IDLOG_* environment variable (the flag wins).
type serveConfig struct {
	addr, storeURL, dataDir   string
	tlsCert, tlsKey           string
	bodyLimit                 byteSizeFlag
	queryTimeout, retention   time.Duration
	shutdownTimeout           time.Duration
	rateLimit                 int
	trustProxy, demo, logJSON bool
	gzip                      bool
	// pull is the background collector's settings (--pull-org …); nil or
	// without an org, no collector runs.
	pull *pullFlags
	// detect is the detection settings (--detect, --rules, --alert-webhook).
	detect *serveDetectFlags
	// headerTimeout and bodyIdle bound slow clients (the hostile-clients
	// test shortens them); zero means 10 s and 30 s.
	headerTimeout, bodyIdle time.Duration
	// sign-in: the identity provider (serve_oidc.go) and sessions.
	oidc oidcFlags
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c serveConfig
	c.bodyLimit = 256 << 20
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen `address` (host:port; :0 picks a free port)")
	fs.StringVar(&c.storeURL, "store", storeurl.Default, "the store `URL`: "+strings.Join(storeurl.Schemes(), " or "))
	fs.StringVar(&c.dataDir, "data-dir", "", "`directory` for tokens, the cursor key and stored long queries (default: the DuckDB file's directory, else ./idlog-data)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM; needs --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "the TLS private key `file` (PEM)")
	fs.Var(&c.bodyLimit, "body-limit", "largest POST /api/v1/logs body, after gunzip too (e.g. 256MiB, 1GiB)")
	fs.DurationVar(&c.queryTimeout, "query-timeout", 30*time.Second, "give up on a store query after this long (answers 500 E0000009, as Okta does)")
	fs.IntVar(&c.rateLimit, "rate-limit", 600, "requests per token and minute (0: no limit)")
	fs.Var((*daysDuration)(&c.retention), "retention", "delete events published longer ago than this `duration`, checked hourly (e.g. 90d, 26w, 2160h; 0 keeps everything)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, wait this long for requests and ingests to finish")
	fs.BoolVar(&c.trustProxy, "trust-proxy", false, "build links from X-Forwarded-Proto/-Host (only behind a reverse proxy you run)")
	fs.BoolVar(&c.demo, "demo", false, "fill an empty store with a month of a generated 200-user org (with attacks) and print a read token")
	fs.BoolVar(&c.logJSON, "log-json", false, "write request logs as JSON lines instead of text")
	fs.BoolVar(&c.gzip, "gzip", false, "gzip GET /api/v1/logs pages over 4 KB for clients that accept it (about tenfold smaller)")
	c.pull = addPullFlags(fs, "pull-")
	c.detect = addServeDetectFlags(fs)
	addOIDCFlags(fs, &c.oidc)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: idlog serve [flags]

Serves Okta's System Log API (GET /api/v1/logs) over the store, so Okta's
SDKs and collectors work against it unchanged, plus POST /api/v1/logs to
ingest and the idlog endpoints under /api/idlog/v1/, and the System Log page.
Every request needs an API token ('idlog token create'; send it as
"Authorization: SSWS <token>") or a page session. People sign in to the page
with the team's identity provider (--oidc-*; roles from their groups) or a
token. Roles: viewer (read), analyst (+ saved searches, exports), admin (+
prune, tokens, the audit trail). Sessions are kept in the data directory;
every sign-in, search, export and prune is recorded there ('idlog audit').

Examples:
  idlog serve --demo                      # try it: generated data and a token
  idlog serve --addr :8443 --tls-cert cert.pem --tls-key key.pem
  IDLOG_STORE=duckdb:/var/lib/idlog/events.duckdb idlog serve --retention 90d
  idlog serve --store 'duckdb:/var/lib/idlog/events.duckdb?row_cache=1GiB&memory_limit=4GiB&index_cache=256MiB'
                                          # more memory for a big store: see "Memory" below
  OKTA_API_TOKEN=… idlog serve --pull-org https://ORG.okta.com   # and mirror an org (docs/collector.md)
  IDLOG_OIDC_SECRET=… idlog serve --oidc-issuer https://ORG.okta.com --oidc-client-id 0oa… \
      --oidc-client-secret-env IDLOG_OIDC_SECRET --oidc-role-map 'SecOps=analyst,IdentityAdmins=admin'
                                          # people sign in with Okta (docs/sso.md)

Memory: the embedded store's memory is bounded by three settings in its URL
(duckdb:PATH?memory_limit=…&row_cache=…&index_cache=…), whatever the number of
events stored:
  memory_limit  DuckDB's own memory: blocks of the file, the seq index, query
                state (default for serve 256MiB, for other commands 1GiB;
                "default" gives DuckDB's own, 80% of RAM). Blocks it evicts
                are read again from the OS page cache.
  row_cache     events of rows already read, in Go's heap (default 128MiB;
                0 turns it off)
  index_cache   block cache of the postings in PATH.idx/ (default 64MiB)
Beside them the process takes about 100-150 MB (Go's heap, the program). The
funnel index is built on the first funnel asked and then holds every flow
instance in memory (docs/api.md). More on each: docs/api.md, "Settings".

Every flag can also be set as IDLOG_<FLAG> (IDLOG_ADDR, IDLOG_RATE_LIMIT, …).

Flags:
`)
		fs.PrintDefaults()
	}
	if _, help, err := parseFlags(fs, e, args, false); help || err != nil {
		return err
	}
	if err := flagsFromEnv(fs, e.getenv); err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return &exitError{code: 2, msg: "serve: --tls-cert and --tls-key go together"}
	}
	if c.tlsCert != "" {
		// Load the pair now: a typo should stop the start, not follow a
		// "serving https://…" line.
		if _, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey); err != nil {
			return &exitError{code: 2, msg: "serve: --tls-cert/--tls-key: " + err.Error()}
		}
	}
	if c.dataDir == "" {
		c.dataDir = defaultDataDir(c.storeURL)
	}
	if err := c.oidc.check(e.getenv); err != nil {
		return &exitError{code: 2, msg: "serve: " + err.Error()}
	}
	return serve(ctx, e, c, nil)
}

// flagsFromEnv sets every flag not given on the command line from
// IDLOG_<NAME>, with dashes as underscores.
func flagsFromEnv(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "IDLOG_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// defaultDataDir keeps tokens and keys beside an embedded store's file.
func defaultDataDir(storeURL string) string {
	if p, ok := strings.CutPrefix(storeURL, "duckdb:"); ok && p != "" && !strings.HasPrefix(p, ":memory:") {
		return filepath.Dir(p)
	}
	return "idlog-data"
}

// serve runs the server until ctx ends. ready, if not nil, gets the base
// URL once the server listens (tests use it).
func serve(ctx context.Context, e *env, c serveConfig, ready func(url string)) error {
	var handler slog.Handler = slog.NewTextHandler(e.stderr, nil)
	if c.logJSON {
		handler = slog.NewJSONHandler(e.stderr, nil)
	}
	log := slog.New(handler)

	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return err
	}
	// The store reports damage it finds and repairs (at open, after an
	// unclean shutdown, or on a read) in the server's log.
	// A server's embedded store keeps a smaller DuckDB memory_limit than
	// other commands, unless the URL sets one (--help, docs/api.md).
	st, err := storeurl.Open(store.WithLogger(ctx, log), storeurl.ServerDefaults(c.storeURL))
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("the store %s is in use by another idlog process (another 'idlog serve'?): stop it, or give this server its own --store", c.storeURL)
	}
	if err != nil {
		return err
	}
	defer st.Close()

	codec, err := cursor.Open(c.dataDir)
	if err != nil {
		return err
	}
	tokens := auth.OpenTokens(c.dataDir)
	// Detection rules run on every batch stored through ingestStore (push,
	// hooks, pull, the demo); reads use st directly.
	runner, err := c.detect.start(c.dataDir, log)
	if err != nil {
		return err
	}
	ingestStore := st
	if runner != nil {
		ingestStore = runner.Wrap(st)
		defer runner.Close(context.Background()) // before the store closes
	}
	pipeline := ingest.New(ingestStore, ingest.Options{})

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	base := scheme + "://" + displayAddr(ln.Addr().String())

	var demoToken string
	if c.demo {
		if demoToken, err = runDemo(ctx, e, st, pipeline, tokens, c.dataDir); err != nil {
			ln.Close()
			return err
		}
	}

	// The web page signs people in (with the identity provider, or a
	// token) and keeps a cookie session stored in the data directory; its
	// authenticator goes first so the page's own API calls are authorized
	// by the cookie, and tokens work as before.
	sessions := auth.OpenSessions(c.dataDir, tokens)
	trail := audit.Open(c.dataDir)
	sessions.TrustForwarded = c.trustProxy
	sessions.Idle, sessions.Max = c.oidc.idle, c.oidc.maxAge
	var sso *ui.OIDC
	if c.oidc.issuer != "" {
		if sso, err = c.oidc.provider(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	srv, err := api.New(st, api.Options{
		Authenticator:  auth.Chain{sessions, tokens},
		Cursors:        codec,
		RateLimit:      c.rateLimit,
		BodyLimit:      int64(c.bodyLimit),
		QueryTimeout:   c.queryTimeout,
		BodyIdle:       c.bodyIdle,
		TrustForwarded: c.trustProxy,
		Gzip:           c.gzip,
		Ingest:         api.PipelineIngest(pipeline),
		Scenarios:      scenarioList(),
		ExtraMetrics: func(w io.Writer) {
			collect.WriteMetrics(w)
			if runner != nil {
				runner.WriteMetrics(w)
			}
		},
		Alerts:   runnerAlerts(runner),
		Audit:    trail,
		Searches: saved.Open(c.dataDir),
		Logger:   log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	// Okta event hooks, when 'idlog pull hook-secret' made a secret.
	if ok, err := api.MountOktaHook(srv, c.dataDir, pipeline); err != nil {
		ln.Close()
		return err
	} else if ok {
		log.Info("accepting Okta event hooks", "path", api.OktaHookPath)
	}
	mountBackup(srv, c) // backup.go
	// The funnel index is built when the first funnel is asked, not now
	// (its memory grows with the events stored).
	api.MountFunnelIndex(srv)
	// The background collector (--pull-org) writes through the same store.
	waitPull, err := startPull(ctx, e, c.pull, ingestStore, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer waitPull() // before the store closes (deferred earlier)
	page := ui.New(sessions, log)
	// Failed sign-ins are counted in the data directory, so a restart does
	// not give a guesser a fresh allowance.
	if err := page.Throttle.Persist(filepath.Join(c.dataDir, auth.ThrottleFile)); err != nil {
		ln.Close()
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	page.Secure = c.trustProxy
	page.TrustForwarded = c.trustProxy
	page.OIDC = sso
	page.NoTokenSignIn = c.oidc.noTokenSignIn
	page.Audit = trail
	page.Mount(srv)
	if c.headerTimeout <= 0 {
		c.headerTimeout = 10 * time.Second
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: c.headerTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	if c.tlsCert != "" {
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}

	if c.retention > 0 {
		go pruneLoop(ctx, log, st, c.retention, trail)
	}

	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- hs.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	fmt.Fprintf(e.stdout, "idlog: serving %s/ (store %s, data %s)\n", base, c.storeURL, c.dataDir)
	if sso != nil {
		fmt.Fprintf(e.stdout, "idlog: people sign in with %s (%s); callback %s\n", sso.DisplayName, c.oidc.issuer,
			firstNonEmpty(c.oidc.redirectURL, base+"/signin/callback"))
	}
	if c.demo {
		fmt.Fprintf(e.stdout, "\nOpen the System Log:  %s/report/system_log_2\nSign in there with the demo token (viewer role): paste it into the form.\nAPI token (viewer):   %s\nTry:\n  curl -H 'Authorization: SSWS %s' '%s/api/v1/logs?limit=2&filter=eventType+eq+%%22user.session.start%%22'\n\n",
			base, demoToken, demoToken, base)
	}
	if list, err := tokens.List(); err == nil && len(list) == 0 {
		fmt.Fprintf(e.stdout, "idlog: no API tokens yet; make one with: idlog token create --data-dir %s --name NAME --role viewer\n", c.dataDir)
	}
	if ready != nil {
		ready(base)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", c.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	if werr := srv.WaitIngests(sctx); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		log.Warn("shutdown did not finish cleanly", "err", err)
	}
	if err := page.Throttle.Flush(); err != nil {
		log.Warn("could not keep the sign-in failure counts", "err", err)
	}
	return nil
}

// maxHeaderBytes bounds a request's headers (431 past it): tokens,
// cookies and Okta's links fit many times over.
const maxHeaderBytes = 64 << 10

// displayAddr turns a listen address into one a browser can open.
func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// pruneLoop deletes events older than keep, now and then every hour.
func pruneLoop(ctx context.Context, log *slog.Logger, st store.Store, keep time.Duration, trail *audit.Log) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		before := time.Now().Add(-keep)
		n, err := st.DeleteBefore(ctx, before)
		if err != nil && ctx.Err() == nil {
			log.Error("retention: prune failed", "err", err)
		} else if n > 0 {
			log.Info("retention: pruned", "before", before.UTC().Format(time.RFC3339), "deleted", n)
		}
		if ctx.Err() == nil && (err != nil || n > 0) {
			// Deletions by retention are in the audit trail; hours with
			// nothing to delete are not.
			e := audit.Entry{EventType: audit.Retention, Debug: map[string]any{"before": before.UTC().Format(time.RFC3339), "deleted": n, "retention": keep.String()}}
			if err != nil {
				e.Outcome, e.Reason = audit.Failure, err.Error()
			}
			if rerr := trail.Record(e); rerr != nil {
				log.Error("audit trail: could not record", "err", rerr)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// byteSizeFlag is a size such as 256MiB, 1GiB, 500MB or a plain number of
// bytes.
type byteSizeFlag int64

func (b *byteSizeFlag) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSizeFlag) Set(s string) error {
	n, err := bytesize.Parse(s)
	if err != nil || n == 0 {
		return errors.New("want a positive size such as 256MiB")
	}
	*b = byteSizeFlag(n)
	return nil
}

// demoTokenFile keeps the demo's read token in the clear, so that running
// --demo again prints the same token. It is a read-only token made for a
// demo; real tokens are only ever stored hashed.
const demoTokenFile = "demo-token"

// runDemo fills an empty store with generated events and returns a read
// token for them (the same one on every run while it exists).
func runDemo(ctx context.Context, e *env, st store.Store, p *ingest.Pipeline, tokens *auth.Tokens, dataDir string) (string, error) {
	stats, err := st.Stats(ctx)
	if err != nil {
		return "", err
	}
	if stats.Events == 0 {
		if err := generateDemo(ctx, e, p); err != nil {
			return "", err
		}
	} else {
		fmt.Fprintf(e.stdout, "idlog: the store already holds %d events; not generating demo data\n", stats.Events)
	}
	path := filepath.Join(dataDir, demoTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		if pr, err := tokens.Lookup(secret); err == nil && pr.Has(auth.ScopeRead) {
			return secret, nil
		}
	}
	// The saved token is gone or was revoked: make a new one.
	name := "demo"
	list, err := tokens.List()
	if err != nil {
		return "", err
	}
	for _, t := range list {
		if t.Name == name {
			if _, err := tokens.Revoke(t.ID); err != nil {
				return "", err
			}
		}
	}
	secret, _, err := tokens.Create(name, []auth.Scope{auth.ScopeRead})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, nil
}

// generateDemo streams a month of a simulated 200-user org, attacks
// included, through the ingest pipeline, reporting progress on stderr.
func generateDemo(ctx context.Context, e *env, p *ingest.Pipeline) error {
	g := simulate.New(simulate.Config{Users: 200, Days: 30, Seed: 1, Attacks: true})
	start, end := g.Window()
	fmt.Fprintf(e.stderr, "idlog: generating a demo org: 200 users, %s to %s, with attacks\n",
		start.Format("2006-01-02"), end.Format("2006-01-02"))
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 256<<10)
		err := g.Run(func(raw []byte) error {
			if _, err := w.Write(raw); err != nil {
				return err
			}
			return w.WriteByte('\n')
		})
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
	}()
	began := time.Now()
	res, err := p.Ingest(ctx, pr, func(pg ingest.Progress) {
		fmt.Fprintf(e.stderr, "\ridlog: stored %d events (%s)…", pg.Accepted, g.Position().Format("2006-01-02"))
	})
	pr.CloseWithError(err) // stops the generator if ingest gave up
	fmt.Fprintln(e.stderr)
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	fmt.Fprintf(e.stderr, "idlog: stored %d demo events in %s\n", res.Accepted, time.Since(began).Round(time.Second/10))
	return nil
}

// scenarioList is the catalog of saved investigations, for the web page.
func scenarioList() []api.Scenario {
	all := scenario.All()
	out := make([]api.Scenario, len(all))
	for i, s := range all {
		out[i] = api.Scenario{Name: s.Name, Title: s.Title, Description: s.Description, Param: s.Param, Flow: s.Flow, Template: s.Template}
	}
	return out
}

// daysDuration is a time.Duration flag that also takes days and weeks
// ("90d", "26w"), the units retention is thought of in; Go's own parser
// stops at hours.
type daysDuration time.Duration

func (d *daysDuration) String() string { return time.Duration(*d).String() }

func (d *daysDuration) Set(s string) error {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return fmt.Errorf("%q is not a duration (e.g. 90d, 26w, 2160h)", s)
			}
			*d = daysDuration(v * float64(unit))
			return nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration (e.g. 90d, 26w, 2160h)", s)
	}
	*d = daysDuration(v)
	return nil
}
