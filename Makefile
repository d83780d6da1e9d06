# flowrun build, test and demo targets. `make run` runs the main demo on an
# embedded JetStream; `make test` runs every test.
GO ?= go
BIN := bin/flowrun
# Packages where concurrency lives run their tests under the race detector.
RACE_PKGS := ./executor/... ./server/...

.PHONY: build test test-race lint generate run bench fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/flowrun

test: build
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	$(GO) test -count=1 -race -timeout 15m $(RACE_PKGS)
	./$(BIN) validate pipelines/
	./$(BIN) test pipelines/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) test -count=1 -run '^(TestSchemaUpToDate|TestExamples)$$' ./spec >/dev/null || { echo "docs/schema or docs/job-file.md out of date (make generate) or an example job file invalid (flowrun validate pipelines/)"; exit 1; }

generate:
	$(GO) generate ./...

run: build
	./$(BIN) demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin .flowrun
