# ctid — common tasks. `make run` needs nothing but Go and the PostgreSQL
# server binaries; `make test` is what CI runs.
GO        ?= go
PKGS      ?= ./...
TESTFLAGS ?= -count=1 -timeout 30m

.PHONY: run build test test-asterisk bench bench-dialer lint fuzz clean

build:
	$(GO) build -o bin/ctid ./cmd/ctid

# Runs ctid. Without CTID_DSN a throwaway PostgreSQL cluster is started under
# ./tmp/pg; without CTID_ARI_URL ctid runs against its in-process Asterisk
# double (a demo: SIP phones need the real Asterisk, see README).
run: build
	./bin/ctid serve

test:
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

# Real-Asterisk tests only; fails (does not skip) when no Asterisk is found.
test-asterisk:
	CTID_REQUIRE_ASTERISK=1 $(GO) test $(TESTFLAGS) -run 'Asterisk' -v ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./... 2>&1 | grep -v '^ok\|^PASS\|no test files'

bench-dialer:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./dialer/...

lint:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeEvent -fuzztime 30s ./ari

clean:
	rm -rf bin tmp
