# Trove — the two commands a fresh machine needs are `make run` and `make test`.
SHELL := /bin/bash
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
TROVE_LIBRARY ?= $(HOME)/.local/share/trove/library
URLS ?= http://127.0.0.1:5080

.PHONY: run test build restore deps bench-index clean

## deps: native packages Trove uses (none yet beyond the .NET SDK; libvips arrives with imaging).
deps:
	@command -v $(DOTNET) >/dev/null || { echo "The .NET SDK (10.0) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }

restore: deps
	$(DOTNET) restore Trove.slnx

build: restore
	$(DOTNET) build Trove.slnx -c Release --no-restore -nologo

## run: build and serve the default library (created on first run) on $(URLS).
run: deps
	@./trove serve --init --library "$(TROVE_LIBRARY)" --urls "$(URLS)"

## test: every test suite. Prints one summary line per test project.
test: build
	$(DOTNET) test Trove.slnx -c Release --no-build -nologo --logger "console;verbosity=minimal"

## bench-index: sidecar+index write throughput and rebuild speed on 100k synthetic media.
bench-index: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- index $(BENCH_ARGS)

clean:
	rm -rf artifacts */*/bin */*/obj
