# Trove — the two commands a fresh machine needs are `make run` and `make test`.
SHELL := /bin/bash
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
TROVE_LIBRARY ?= $(HOME)/.local/share/trove/library
URLS ?= http://127.0.0.1:5080

.PHONY: run test readme-images build restore deps bench-index bench-import bench-dupes bench-search bench-api bench-ml bench-captions bench-upscale bench-vectors bench-faces clean

# Debian packages installed when missing (needs root or sudo; apt-get update runs only when something is missing).
APT_PACKAGES := libvips42
# Packages the UI tests and the API benchmark need.
TEST_APT_PACKAGES := chromium
BENCH_API_APT_PACKAGES := wrk
# The web UI's one JavaScript library, fetched from the npm registry (checked against its published SHA-1) — no Node needed.
HTMX_VERSION := 2.0.4
HTMX_SHA1 := 74fce66b177eb59c6d251ecf1052a2478743bec9
HTMX := .deps/npm/node_modules/htmx.org/dist/htmx.min.js
# ONNX Runtime (model inference) — the native library from the onnxruntime-node npm package (checked against its
# published SHA-1); only libonnxruntime.so.1 for this machine's architecture is kept. Trove works without it (no ML).
# ONNXRUNTIME_TGZ=path uses a local copy of the package instead of downloading it.
ONNXRUNTIME_VERSION := 1.30.0
ONNXRUNTIME_SHA1 := 8d4c4a75f31088ec846f08cccb62f3272a7bf44a
ONNXRUNTIME := .native/onnxruntime/libonnxruntime.so.1
ONNXRUNTIME_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
BENCH_APT_PACKAGES := libvips-tools

define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
		|| { echo "Could not install$$missing; install it with: apt-get install$$missing" >&2; exit 1; }; \
	fi
endef

## deps: the .NET SDK must be present; native packages (libvips) are installed when missing.
deps:
	@command -v $(DOTNET) >/dev/null || { echo "The .NET SDK (10.0) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }
	$(call apt_install,$(APT_PACKAGES))
	@$(MAKE) --no-print-directory $(HTMX)
	@$(MAKE) --no-print-directory $(ONNXRUNTIME) || echo "Continuing without ONNX Runtime: ML tag suggestions are unavailable until \`make deps\` succeeds (or TROVE_Onnx__LibraryPath names a libonnxruntime.so.1); everything else works." >&2

$(HTMX):
	@echo "Fetching htmx $(HTMX_VERSION) from the npm registry"
	@mkdir -p .deps/npm/node_modules/htmx.org .deps/tmp
	@curl -fsSL "https://registry.npmjs.org/htmx.org/-/htmx.org-$(HTMX_VERSION).tgz" -o .deps/tmp/htmx.tgz \
		|| { echo "Could not download htmx from registry.npmjs.org; the web UI needs it (the API works without)." >&2; exit 1; }
	@echo "$(HTMX_SHA1)  .deps/tmp/htmx.tgz" | sha1sum -c --quiet - || { echo "htmx download failed its checksum" >&2; exit 1; }
	@tar -xzf .deps/tmp/htmx.tgz -C .deps/npm/node_modules/htmx.org --strip-components=1
	@rm -f .deps/tmp/htmx.tgz

$(ONNXRUNTIME):
	@mkdir -p .native/onnxruntime .deps/tmp/onnxruntime
	@tgz="$(ONNXRUNTIME_TGZ)"; \
	if [ -z "$$tgz" ]; then \
		tgz=.deps/tmp/onnxruntime-node.tgz; \
		echo "Fetching ONNX Runtime $(ONNXRUNTIME_VERSION) (onnxruntime-node from the npm registry, 113 MB; only libonnxruntime.so.1 is kept)"; \
		curl -fSL --progress-bar "https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-$(ONNXRUNTIME_VERSION).tgz" -o "$$tgz" \
			|| { rm -f "$$tgz"; echo "Could not download onnxruntime-node $(ONNXRUNTIME_VERSION) from registry.npmjs.org; model inference needs it (the rest of Trove works without)." >&2; exit 1; }; \
	fi; \
	echo "$(ONNXRUNTIME_SHA1)  $$tgz" | sha1sum -c --quiet - \
		|| { [ -n "$(ONNXRUNTIME_TGZ)" ] || rm -f "$$tgz"; echo "onnxruntime-node $(ONNXRUNTIME_VERSION) failed its checksum ($$tgz)" >&2; exit 1; }; \
	member=package/bin/napi-v6/linux/$(ONNXRUNTIME_ARCH)/libonnxruntime.so.1; \
	tar -xzf "$$tgz" -C .deps/tmp/onnxruntime "$$member" \
		&& mv .deps/tmp/onnxruntime/$$member $@ \
		|| { echo "Could not extract $$member from $$tgz" >&2; status=1; }; \
	[ -n "$(ONNXRUNTIME_TGZ)" ] || rm -f "$$tgz"; \
	rm -rf .deps/tmp/onnxruntime; \
	exit $${status:-0}

restore: deps
	$(DOTNET) restore Trove.slnx

build: restore
	$(DOTNET) build Trove.slnx -c Release --no-restore -nologo

## run: build and serve the default library (created on first run) on $(URLS).
run: deps
	@./trove serve --init --library "$(TROVE_LIBRARY)" --urls "$(URLS)"

## test: every test suite (UI tests drive Debian's chromium). Prints one summary line per test project.
test: build
	$(call apt_install,$(TEST_APT_PACKAGES))
	$(DOTNET) test Trove.slnx -c Release --no-build -nologo --logger "console;verbosity=minimal"

## readme-images: regenerate the README's screenshots (docs/images/*.png) from the UI tests (ReadmeScreenshotTests).
readme-images: build
	$(call apt_install,$(TEST_APT_PACKAGES))
	TROVE_README_IMAGES=1 $(DOTNET) test tests/Trove.Server.Ui.Tests -c Release --no-build -nologo --filter "FullyQualifiedName~ReadmeScreenshotTests"

## bench-index: sidecar+index write throughput and rebuild speed on 100k synthetic media.
bench-index: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- index $(BENCH_ARGS)

## bench-import: trove import vs vipsthumbnail on generated 12/24 MP JPEGs (BENCH_ARGS="--count 2000" for the full run).
bench-import: deps
	$(call apt_install,$(BENCH_APT_PACKAGES))
	$(DOTNET) run -c Release --project bench/Trove.Bench -- import $(BENCH_ARGS)

## bench-dupes: near-duplicate index on 1M synthetic hashes vs brute force.
bench-dupes: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- dupes $(BENCH_ARGS)

## bench-search: search engine vs an SQLite FTS5 baseline on 1M synthetic media (generated into .data/bench-search once, then reused).
bench-search: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- search $(BENCH_ARGS)

## bench-api: the server under wrk on loopback (search pages, thumbnails, a 1:10 mix) vs a static-file baseline, 100k media (generated into .data/bench-api once, then reused).
bench-api: deps
	$(call apt_install,$(BENCH_API_APT_PACKAGES))
	$(DOTNET) run -c Release --project bench/Trove.Bench -- api $(BENCH_ARGS)

## bench-ml: end-to-end tag suggestion of 500 real JPEGs vs the bare ONNX Runtime Run time of the same model, batch 1 and 8, for a ~100 MFLOP and a WD14-class (~24 GFLOP) generated tagger (data in .data/bench-ml, reused; about 8 minutes).
bench-ml: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- ml $(BENCH_ARGS)

## bench-captions: caption generation against a local OpenAI-protocol server answering after 200 ms: throughput at concurrency 8 vs the ideal C/delay and bare HttpClient, and the observed rate under --rpm 120 over 60 s (about 2 minutes; BENCH_ARGS="--duration 20" for a quick run).
bench-captions: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- captions $(BENCH_ARGS)

## bench-upscale: tiled 2× upscale of a generated 12 MP JPEG (decode and encode through libvips) with a generated conv super-resolution model vs the bare ONNX Runtime Run of the same tiles, at tiles of 192 and 384: overhead % (target ≤ 15 %) and peak RSS, each tile size in its own process (data in .data/bench-upscale; about 2 minutes; BENCH_ARGS="--width 2000 --height 1500" for a quick run).
bench-upscale: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- upscale $(BENCH_ARGS)

## bench-vectors: the vector index on 1M synthetic clustered 512-d embeddings vs exact fp32 brute force in the same run: build time (≤ 60 s), memory (≤ 0.6 GB), unfiltered top-20 p50 (≤ 5 ms) with recall@20 (≥ 0.95), filtered 1 % exact top-20 p50 (≤ 5 ms), and a text query end to end (about 3 minutes and 3 GB of RAM; BENCH_ARGS="--count 100000" for a quick run).
bench-vectors: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- vectors $(BENCH_ARGS)

## bench-faces: the face pipeline over 500 real JPEGs with a detector of SCRFD-10G's cost vs the bare ONNX Runtime Run of the same models (overhead ≤ 15 %), clustering 100k synthetic clustered embeddings (≤ 30 s, purity and recall printed) and matching one face against 100k known faces (p50 ≤ 5 ms) (data in .data/bench-faces; about 5 minutes; BENCH_ARGS="--count 100 --faces 20000" for a quick run).
bench-faces: deps
	$(DOTNET) run -c Release --project bench/Trove.Bench -- faces $(BENCH_ARGS)

clean:
	rm -rf artifacts */*/bin */*/obj
