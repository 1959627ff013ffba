# The two commands that matter: `make dev` (run the desk locally) and `make test` (every test).
# Both install what they need on a fresh machine; everything lands inside the project (.tools/,
# node_modules/), and a second run skips what is already there. Nothing is fetched from outside
# crates.io, npm and apt (see ../shared/TOOLCHAIN.md for why each pin is what it is).

SHELL := /bin/bash
.SHELLFLAGS := -e -o pipefail -c
.DEFAULT_GOAL := help

TOOLS            := $(CURDIR)/.tools
WORKER_BUILD_VER := 0.8.7
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VER := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)

# worker-build would download wasm-bindgen, wasm-opt and esbuild from GitHub; point it at local ones.
export WASM_BINDGEN_BIN := $(TOOLS)/bin/wasm-bindgen
export WASM_OPT_BIN     := $(CURDIR)/node_modules/.bin/wasm-opt
export ESBUILD_BIN      := $(CURDIR)/node_modules/.bin/esbuild
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false
export PATH := $(TOOLS)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

PORT    ?= 8787
DESK    ?= demo
ASSETS  := build/assets

.PHONY: help deps dev dev-vars build worker worker-if-needed assets test lint test-rust test-integration test-chaos chaos test-browser browser-deps clean bench bench-full

help:
	@echo "make dev     install what is missing, build, run the desk locally (wrangler dev, persisted)"
	@echo "make test    install what is missing, build, run every test"
	@echo "make build   build the worker (wasm) and the static assets into build/"

## ---- installs (each skipped when already satisfied) ---------------------------------------
deps: .tools/.rust-target .tools/.worker-build-$(WORKER_BUILD_VER) .tools/.wasm-bindgen-$(WASM_BINDGEN_VER) node_modules/.installed

.tools/.rust-target:
	@mkdir -p .tools
	rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@touch $@

.tools/.worker-build-$(WORKER_BUILD_VER):
	@if [ "$$($(TOOLS)/bin/worker-build --version 2>/dev/null)" != "$(WORKER_BUILD_VER)" ]; then \
	  cargo install --root $(TOOLS) worker-build --version $(WORKER_BUILD_VER) --locked --force; fi
	@touch $@

# No --locked: wasm-bindgen-cli's own lockfile names a crate version the registry lacks.
.tools/.wasm-bindgen-$(WASM_BINDGEN_VER):
	@if [ "$$($(WASM_BINDGEN_BIN) --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VER)" ]; then \
	  cargo install --root $(TOOLS) wasm-bindgen-cli --version $(WASM_BINDGEN_VER) --force; fi
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## ---- build ----------------------------------------------------------------------------------
build: deps build/index_bg.wasm assets

# The function-name section is stripped after wasm-bindgen has read the features it needs
# (`strip = true` in Cargo.toml would hide them from it): ~30 KB less gzipped.
worker:
	worker-build --release
	wasm-opt --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm

# The wasm is rebuilt only when a Rust source or the manifest changed since the last build.
build/index_bg.wasm: $(shell find src -name '*.rs') Cargo.toml Cargo.lock
	@$(MAKE) --no-print-directory worker

# wrangler's [build] command, run on start and on every edit under its watch_dir (so `make dev`
# picks up edits): the wasm when Rust changed, the static files always (a copy). A no-op when a
# harness has already built and runs a snapshot (DESK_SKIP_BUILD=1).
worker-if-needed:
	@if [ -z "$${DESK_SKIP_BUILD:-}" ]; then $(MAKE) --no-print-directory build/index_bg.wasm assets; fi

# Static assets: widget, admin inbox, the client modules they share and demo site, laid out as they are
# served. The widget is its readable source bundled with client/ (and its CSS as text) and minified by
# esbuild into two files, the loader and the chat; each must stay within its budget in bytes gzipped (gzip -9).
# The loader (/widget.js) is what every page view pays for; the chat (/widget-chat.js) loads only when
# a visitor opens it or has a recent conversation: each has its budget.
WIDGET_BUDGET := 10240
WIDGET_CHAT_BUDGET := 12288
export define WIDGET_BUDGET_CHECK
const [file, budget] = process.argv.slice(1);
const size = require('zlib').gzipSync(require('fs').readFileSync(file), { level: 9 }).length;
if (size > Number(budget)) { console.error(`$${file}: $${size} B gzipped, over its budget of $${budget} B`); process.exit(1); }
console.log(`$${file}: $${size} B gzipped (budget $${budget} B)`);
endef
assets:
	@rm -rf $(ASSETS) && mkdir -p $(ASSETS)/admin $(ASSETS)/client
	@esbuild widget/widget.js --bundle --minify --format=iife --target=es2019 --loader:.css=text \
	  --banner:js='// The support desk visitor widget, built by make assets from widget/ and client/ (the readable source).' \
	  --log-level=warning --outfile=$(ASSETS)/widget.js
	@node -e "$$WIDGET_BUDGET_CHECK" $(ASSETS)/widget.js $(WIDGET_BUDGET)
	@esbuild widget/widget-chat.js --bundle --minify --format=iife --target=es2019 --loader:.css=text \
	  --banner:js='// The support desk widget'"'"'s chat, loaded by /widget.js when needed; built by make assets from widget/ and client/.' \
	  --log-level=warning --outfile=$(ASSETS)/widget-chat.js
	@node -e "$$WIDGET_BUDGET_CHECK" $(ASSETS)/widget-chat.js $(WIDGET_CHAT_BUDGET)
	@cp client/*.js $(ASSETS)/client/
	@cp widget/demo.html $(ASSETS)/index.html
	@cp widget/demo.css widget/demo.js $(ASSETS)/
	@cp admin/index.html $(ASSETS)/admin/chat.html
	@cp admin/*.js admin/*.css $(ASSETS)/admin/
	@if [ -f widget/_headers ]; then cp widget/_headers $(ASSETS)/_headers; fi

## ---- run --------------------------------------------------------------------------------------
# Local secrets and settings for `make dev` (never deployed). Lines an older .dev.vars lacks are
# added: any site may embed the widget locally (production lists its sites in ALLOWED_ORIGINS), and
# any desk name exists locally (production lists its desks in DESKS or creates them).
.dev.vars:
	@echo "ADMIN_TOKEN=$$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')" > $@
	@echo "created .dev.vars with a random ADMIN_TOKEN"
dev-vars: .dev.vars
	@grep -q '^ALLOWED_ORIGINS=' .dev.vars || echo 'ALLOWED_ORIGINS=*' >> .dev.vars
	@grep -q '^DESKS=' .dev.vars || echo 'DESKS=*' >> .dev.vars
	@grep -q '^WEBHOOKS_ALLOW_LOOPBACK=' .dev.vars || echo 'WEBHOOKS_ALLOW_LOOPBACK=true' >> .dev.vars
	@grep -q '^IDENTITY_SECRET=' .dev.vars || \
	  echo "IDENTITY_SECRET=$$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')" >> .dev.vars
	@grep -q '^ATTACHMENT_SECRET=' .dev.vars || \
	  echo "ATTACHMENT_SECRET=$$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')" >> .dev.vars
	@grep -q '^VAPID_PUBLIC_KEY=' .dev.vars || node scripts/vapid-keys.js >> .dev.vars
	@grep -q '^VAPID_SUBJECT=' .dev.vars || echo 'VAPID_SUBJECT=mailto:support@localhost.example' >> .dev.vars

dev: build dev-vars
	@token=$$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars); \
	echo ""; \
	echo "  demo site   http://localhost:$(PORT)/"; \
	echo "  admin inbox http://localhost:$(PORT)/admin/chat?desk=$(DESK)"; \
	echo "  admin token $$token   (from .dev.vars)"; \
	echo ""
	wrangler dev --port $(PORT) --persist-to .wrangler/state

## ---- test -------------------------------------------------------------------------------------
test: build lint test-rust test-integration test-chaos test-browser

# Formatting and lints, warnings as errors, for the host (core and tests) and for wasm32 (the glue).
lint:
	cargo fmt --check
	cargo clippy --all-targets --quiet -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --quiet -- -D warnings

test-rust:
	cargo test --quiet

test-integration:
	node --test --test-concurrency=1 tests/integration/

# Nothing lost, nothing doubled across SIGKILL restarts and dropped sockets (short profile).
test-chaos:
	node --test --test-concurrency=1 tests/chaos/

# The long chaos profile (several minutes).
chaos: build
	CHAOS_PROFILE=long node --test --test-concurrency=1 tests/chaos/

browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test-browser: browser-deps
	@if ls tests/browser/*.test.js >/dev/null 2>&1; then node --test --test-concurrency=1 tests/browser/; fi

clean:
	rm -rf build target/wasm32-unknown-unknown

## ---- bench (issue 6): ours against the TypeScript peer, see docs/performance.md ---------------
bench: build
	ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn); node bench/run.js --profile quick $(BENCH_FLAGS)

bench-full: build
	ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn); node bench/run.js --profile full $(BENCH_FLAGS)
