# idlog: `make test` is the one command that runs every test (CI runs it too).
GO        ?= go
FUZZTIME  ?= 30s
STATICCHECK = $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)

.PHONY: test deps lint unit fuzz bench build demo dist

## test: install missing test dependencies, lint, run every test and each fuzz target for $(FUZZTIME)
test: deps lint unit fuzz

deps:
	./scripts/test-deps.sh

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(STATICCHECK) ./...

unit:
	IDLOG_REQUIRE_CLICKHOUSE=1 IDLOG_DEB_INSTALL=1 $(GO) test -count=1 -timeout 20m ./...

# Each fuzz target runs on its own: go test allows one -fuzz target per package run.
# Go's fuzzer sometimes ends a clean run with "context deadline exceeded" when
# fuzztime runs out while a worker is busy; such a run, with no failing input
# written, is run once more. A real failure always writes its input.
fuzz:
	@set -e; for t in $$(./scripts/fuzz-targets.sh); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
	  if ! $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg > fuzz.out 2>&1; then \
	    cat fuzz.out; \
	    if grep -q 'context deadline exceeded' fuzz.out && ! grep -q 'Failing input written' fuzz.out; then \
	      echo "fuzz $$pkg $$name: the fuzzer's own time-out, no failing input; once more"; \
	      $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	    else rm -f fuzz.out; exit 1; fi; \
	  else tail -n 3 fuzz.out; fi; \
	  rm -f fuzz.out; \
	done

## build: the idlog binary in ./idlog
build:
	$(GO) build -o idlog ./cmd/idlog

## demo: the main job, a server on a month of generated events
demo:
	$(GO) run ./cmd/idlog serve --demo

## bench: regenerate the benchmark dataset and the tables in docs/benchmarks.md
bench:
	$(GO) run ./cmd/idlog bench

## dist: release archives, .debs and SHA256SUMS in dist/ (linux amd64, and arm64
## with Debian's gcc-aarch64-linux-gnu g++-aarch64-linux-gnu); VERSION=v1.2.0 names it
dist:
	./scripts/dist.sh
