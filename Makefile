# ctid — common tasks. `make run` needs nothing but Go and the PostgreSQL
# server binaries; `make test` is what CI runs.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?= -count=1 -timeout 30m

.PHONY: run build test test-race test-asterisk bench bench-load bench-dialer bench-supervisor lint fuzz clean

build:
	$(GO) build -o bin/ctid ./cmd/ctid

# Runs ctid. Without CTID_DSN a throwaway PostgreSQL cluster is started under
# ./tmp/pg; without CTID_ARI_URL ctid runs against its in-process Asterisk
# double (a demo: SIP phones need the real Asterisk, see README).
run: build
	./bin/ctid serve

test:
	$(GO) vet $(PKGS)
	@# Say which tests will skip for a missing program and why (plain go
	@# test hides skip reasons), with the tests' own finders; never fails.
	@$(GO) run ./cti/ctitest/testenv/cmd/testskips || true
	@# The full run comes last so its summary closes the output.
	$(GO) test $(TESTFLAGS) $(PKGS)

# The concurrent code under the race detector: card capture, the ARI client
# and its double, the engine (record writer, request pipeline, agent feed).
# Real-Asterisk tests are left to test-asterisk.
RACEPKGS ?= ./cti/payment/... ./ari/... ./cti/
test-race:
	$(GO) test -race $(TESTFLAGS) -skip Asterisk $(RACEPKGS)

# Real-Asterisk tests only; fails (does not skip) when no Asterisk is found.
test-asterisk:
	CTID_REQUIRE_ASTERISK=1 $(GO) test $(TESTFLAGS) -run 'Asterisk' -v ./...

# Micro-benchmarks run long enough for stable rates; the whole-system ones
# (load, pacing day, real-Asterisk capacity when ASTERISK_BIN is set) once.
# BenchmarkLoad runs here with a short call phase (CTID_LOAD_SECONDS=10);
# `make bench-load` runs the full 60 s.
bench:
	$(GO) test -run '^$$' -bench 'DecodeEvent$$|RESTRoundTrip|EventStream|OriginateHangup' -benchmem ./ari/...
	CTID_LOAD_SECONDS=$${CTID_LOAD_SECONDS:-10} $(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 1x -timeout 60m ./api/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./dialer/...
	$(GO) test -run '^$$' -bench AsteriskCapacity -benchtime 1x -timeout 30m ./cti/

# The whole stack under load with the Asterisk double (issues 3 and 7).
# CTID_LOAD_AGENTS (1000), CTID_LOAD_CPS (100), CTID_LOAD_SECONDS (60), e.g.
# make bench-load CTID_LOAD_AGENTS=5000 CTID_LOAD_CPS=500
bench-load:
	CTID_LOAD_AGENTS=$(CTID_LOAD_AGENTS) CTID_LOAD_CPS=$(CTID_LOAD_CPS) CTID_LOAD_SECONDS=$(CTID_LOAD_SECONDS) \
		$(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 1x -timeout 60m ./api/

bench-dialer:
	$(GO) test -run '^$$' -bench Pacing -benchtime 1x -timeout 60m ./dialer/sim

# Supervision (issue 13): history search over CTID_HISTORY_ROWS (1,000,000)
# generated calls per filter kind with plans, a month's reports at 200
# agents, and the floor feed at CTID_FLOOR_AGENTS (1000) / CTID_FLOOR_CPS (100).
bench-supervisor:
	$(GO) test -run '^$$' -bench '^BenchmarkHistory$$' -benchtime 1x -timeout 60m ./cti/postgres/
	$(GO) test -run '^$$' -bench '^BenchmarkFloorFeed$$' -benchtime 1x -timeout 60m ./api/

lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeEvent -fuzztime 200000x ./ari

clean:
	rm -rf bin tmp
