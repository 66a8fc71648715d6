# permd: two commands matter: `make run` and `make test`. See README.md.

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Test packages run with -race under cgo (mattn driver) and again without
# cgo (modernc driver): both SQLite drivers ship.
PKGS    := ./...

.PHONY: all build run test deps fmt-check vet test-cgo test-nocgo test-usb cross fuzz-smoke aosp-check bench android clean clean-run bench-clean test-java bench-java test-android-java check-android-java

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/permd ./cmd/permctl ./cmd/preinstall-check

## run: build, then start permd in host mode under ./run (socket, data,
## an editable copy of the default config, brought up to date with new
## defaults while keeping edited files), against this machine's /proc.
run: build
	./bin/permd --demo ./run

## test: everything CI checks. Installs the Debian tools the tests use
## when they are missing (as root; otherwise prints the command).
test: deps fmt-check vet test-cgo test-nocgo test-usb cross fuzz-smoke aosp-check test-java test-android-java
	@echo "make test: all checks passed"

deps:
	@bash .ci/deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)
	CGO_ENABLED=0 $(GO) vet $(PKGS)
	CGO_ENABLED=1 $(GO) vet -tags usb ./aosp/adb/... ./cmd/permctl

test-cgo:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 20m $(PKGS)

test-nocgo:
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 20m $(PKGS)

## test-usb: the ADB transport built with gousb (cgo + libusb-1.0-0-dev);
## host tools only, see docs/usb.md.
test-usb:
	CGO_ENABLED=1 $(GO) test -race -tags usb -count=1 ./aosp/adb/...

## cross: the device builds must keep compiling (make android builds the
## real artefacts).
cross:
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/permd
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags nosqlite -o /dev/null ./cmd/permctl
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/permd
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags nosqlite -o /dev/null ./cmd/permctl

## fuzz-smoke: each fuzz target briefly, on top of its seed corpus.
fuzz-smoke:
	@bash .ci/fuzz.sh 10s

## aosp-check: Android.bp format, sepolicy compile, arm64 smoke under qemu.
aosp-check:
	@for s in aosp/scripts/check-bp.sh aosp/scripts/check-sepolicy.sh aosp/scripts/qemu-smoke.sh; do \
		if [ -f $$s ]; then echo "== $$s"; bash $$s || exit 1; fi; \
	done

## test-android-java: the bridge app's Android-independent logic on the
## host JVM against a real permd (aosp/apps/PermdBridge/core).
## With AOSP_TREE=DIR (an AOSP/LineageOS checkout at the tag pinned in
## aosp/patches/UPSTREAM) it also checks that the patch series applies;
## with ANDROID_SOURCES or ANDROID_JAR, it runs check-android-java too.
test-android-java:
	@GO=$(GO) bash aosp/scripts/test-bridge-java.sh
	@if [ -n "$(AOSP_TREE)" ]; then bash aosp/scripts/check-patches.sh "$(AOSP_TREE)"; fi
	@if [ -n "$(ANDROID_SOURCES)$(ANDROID_JAR)" ]; then $(MAKE) --no-print-directory check-android-java; fi

## check-android-java: the Java that runs on Android compiled against the
## real Android API: ANDROID_SOURCES=$ANDROID_HOME/sources/android-35 (or
## ANDROID_JAR=...), [ANDROID_SHA256=...]. Not part of test: the SDK cannot
## be downloaded through the registries CI reaches (docs/android-integration.md).
check-android-java:
	@ANDROID_SOURCES="$(ANDROID_SOURCES)" ANDROID_JAR="$(ANDROID_JAR)" ANDROID_EXTRA_CP="$(ANDROID_EXTRA_CP)" ANDROID_SHA256="$(ANDROID_SHA256)" bash aosp/scripts/check-android-java.sh

## test-java: the Java client library (aosp/java) built with javac and
## tested with JUnit 4 against a real permd.
test-java:
	@GO=$(GO) bash aosp/java/run-tests.sh

## bench-java: the Java client's benchmarks next to the Go client's.
bench-java:
	@GO=$(GO) bash aosp/java/run-tests.sh bench

## bench: the benchmarks docs/performance.md reports. The first run
## generates a 10 M-row ledger (minutes) and caches it in the temp dir;
## bench-clean removes the cached files. PERMD_SOAK=10m runs BenchmarkSoak
## for ten minutes (default 20 s).
bench:
	@echo "bench: running every benchmark once; the first run also builds and caches a 10 M-row ledger ($${TMPDIR:-/tmp}/permd-bench-*.db)"
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m $(PKGS)
	@bash .ci/fuzz.sh 60s
	@$(MAKE) --no-print-directory bench-java

## android: device binaries into out/android/<arch>/.
android:
	@bash aosp/scripts/build-android.sh

clean:
	rm -rf bin out

## clean-run: remove the demo's ./run (socket, database, config and your
## edits to it).
clean-run:
	rm -rf run

## bench-clean: remove the ledgers make bench generated and cached.
bench-clean:
	rm -rf $${TMPDIR:-/tmp}/permd-bench-* $${TMPDIR:-/tmp}/permd-privacy-bench-*

## screenshots: rerun the Privacy Center browser test, writing its
## screenshots to docs/images/ (shown in the README).
.PHONY: screenshots
screenshots:
	PERMD_SCREENSHOTS=1 $(GO) test -count=1 -run '^TestPrivacyCenterInBrowser$$' ./cmd/permctl
