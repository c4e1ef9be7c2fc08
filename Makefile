# Makefile - build, test and install vmtp (SPEC §2, §3, §10).
#
#   make              programs into bin/ (PATH=$PWD/bin:$PATH gives the toolset)
#   make check        deps, lint, the bats suite, and the pipeline under ASan/UBSan
#   make asan         the whole suite on a -fsanitize=address,undefined build
#   make fuzz         every libFuzzer harness for FUZZ_SECONDS each
#   make install      PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
CFLAGS ?= -O2 -g
BUILD ?= build
BINDIR ?= bin
FUZZ_SECONDS ?= 30
BATS ?= bats
BATS_JOBS ?=

PKGS := libcurl jansson libssh2 libxml-2.0 yaml-0.1 libmongoc-1.0

# A build on a machine without the build packages stops with one line that
# names them, not with a screen of pkg-config and compiler errors.
NO_BUILD_GOALS := deps deps-test check check-isolated demo clean format-check man-check
ifneq ($(MAKECMDGOALS),)
ifeq ($(filter-out $(NO_BUILD_GOALS),$(MAKECMDGOALS)),)
SKIP_BUILD_CHECK := 1
endif
endif
ifndef SKIP_BUILD_CHECK
BUILD_MISSING := $(strip $(shell command -v dpkg-query >/dev/null && mk/deps.sh --check deps/build.txt))
ifneq ($(BUILD_MISSING),)
$(error missing Debian packages: $(BUILD_MISSING); install them with 'make deps' (as root))
endif
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isrc \
	$(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -Wl,--as-needed $(LDFLAGS)

PROGRAMS := $(notdir $(wildcard src/vmtp-*))
LIB_SRC := $(wildcard src/libvmtp/*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/%.o) $(BUILD)/libvmtp/defaults.o
LIB := $(BUILD)/libvmtp.a
TOOLS := $(notdir $(basename $(wildcard tests/tools/*.c)))
SOURCES := $(wildcard src/*/*.c src/*/*.h tests/tools/*.[ch] tests/fuzz/*.c bench/*.c)
MANPAGES := $(wildcard man/*.[1-8])

all: $(PROGRAMS:%=$(BINDIR)/%) $(TOOLS:%=$(BUILD)/tests/%)

$(BUILD)/%.o: src/%.c $(wildcard src/libvmtp/*.h) $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

# The default configuration is compiled into libvmtp (cfg.c).
$(BUILD)/libvmtp/defaults.c: share/vmtp/vmtp.yaml mk/embed.sh
	@mkdir -p $(dir $@)
	mk/embed.sh share/vmtp/vmtp.yaml > $@.tmp
	mv $@.tmp $@

$(BUILD)/libvmtp/defaults.o: $(BUILD)/libvmtp/defaults.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# One link rule per program: src/<program>/*.c plus libvmtp.
define program_rule
$(BINDIR)/$(1): $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c)) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) -lm
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

# share/html is compiled into vmtp-chart, so a report never depends on
# where (or whether) the data files were installed.
$(BUILD)/vmtp-chart/assets.c: $(wildcard share/html/*) mk/embed.sh
	@mkdir -p $(dir $@)
	mk/embed.sh share/html/report.html share/html/report.css > $@.tmp
	mv $@.tmp $@

$(BUILD)/vmtp-chart/assets.o: $(BUILD)/vmtp-chart/assets.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BINDIR)/vmtp-chart: $(BUILD)/vmtp-chart/assets.o

$(BUILD)/tests/%: tests/tools/%.c $(LIB) $(wildcard tests/tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lm

deps:
	@mk/deps.sh deps/build.txt deps/runtime.txt

deps-test: deps
	@mk/deps.sh deps/test.txt

format-check:
	@clang-format --dry-run --Werror $(SOURCES)

man-check:
	@for m in $(MANPAGES); do \
		out=$$(groff -mdoc -ww -z $$m 2>&1); \
		if [ -n "$$out" ]; then echo "$$m: $$out"; exit 1; fi; \
	done

# The suite runs against the programs in $(BINDIR) via VMTP_BIN, in two
# lanes side by side: the cloud suites, and the rest (mk/test-lanes.sh;
# TEST_LANES=1 for one lane).
test: all
	VMTP_BIN=$(CURDIR)/$(BINDIR) VMTP_TOOLS=$(CURDIR)/$(BUILD)/tests \
		BATS="$(BATS)" mk/test-lanes.sh $(BATS_JOBS)

# Each stage's time goes to $(CHECK_TIMES), which .ci/run prints at its end.
# The sanitizer pipeline runs in the bats suite's second lane, beside the
# cloud suites (mk/test-lanes.sh): its time is inside the bats stage's.
CHECK_TIMES ?= $(BUILD)/check-times
STAGE = mk/stage.sh $(CHECK_TIMES)
check:
	@mkdir -p $(BUILD) && rm -f $(CHECK_TIMES)
	@$(STAGE) deps $(MAKE) deps-test
	@$(STAGE) build $(MAKE) all
	@$(STAGE) lint $(MAKE) format-check man-check
	@$(STAGE) bats env LANE2_THEN="$(STAGE) asan-pipeline $(MAKE) asan-pipeline" \
		$(MAKE) test
	@$(STAGE) fuzz-smoke $(MAKE) fuzz-smoke

# vmtp on the test cloud from a fresh machine: packages, build, cloud up,
# bin/vmtp, report, cloud down (root).
demo:
	@mk/demo.sh

# Every benchmark under bench/, then one table: figure, value, ratio, goal
# (root; BENCHES="a b" runs only those).
bench: all
	@mk/bench.sh $(BENCHES)

# Every bats file alone on a machine as after boot (what our code leaves
# outside the tree removed first), then the whole suite in reverse order;
# not part of `make check` (mk/check-isolated.sh says what it removes).
check-isolated: deps-test
	$(MAKE) all
	VMTP_BIN=$(CURDIR)/$(BINDIR) VMTP_TOOLS=$(CURDIR)/$(BUILD)/tests \
		BATS="$(BATS)" mk/check-isolated.sh

ASAN_MAKE = $(MAKE) BUILD=build-asan BINDIR=build-asan/bin \
	CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined"
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99

asan:
	$(ASAN_MAKE) all
	$(ASAN_ENV) VMTP_BIN=$(CURDIR)/build-asan/bin \
		VMTP_TOOLS=$(CURDIR)/build-asan/tests $(BATS) tests/bats

# The pipeline end to end under the sanitizers: the suites that need no cloud.
ASAN_SUITES := $(wildcard $(addprefix tests/bats/,records.bats \
	documents.bats config.bats creds.bats parse.bats vmtp-chart.bats \
	vmtp-collect.bats vmtp-pipeline-native.bats))
asan-pipeline:
	$(ASAN_MAKE) all
	$(ASAN_ENV) VMTP_BIN=$(CURDIR)/build-asan/bin \
		VMTP_TOOLS=$(CURDIR)/build-asan/tests \
		$(BATS) $(ASAN_SUITES)

fuzz:
	@tests/fuzz/run $(FUZZ_SECONDS)

# Every harness over its seed corpus once: keeps them building and passing.
fuzz-smoke:
	@tests/fuzz/run smoke

# bin/vmtp is a script kept in the tree; it runs the programs installed
# beside it.
COMPLETIONS := $(wildcard share/bash-completion/completions/*)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vmtp \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(PROGRAMS:%=$(BINDIR)/%) bin/vmtp $(DESTDIR)$(PREFIX)/bin
	cp -R share/html share/vmtp/. $(DESTDIR)$(PREFIX)/share/vmtp/
	install -m 644 $(COMPLETIONS) \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5

clean:
	rm -rf build build-asan build-fuzz $(PROGRAMS:%=bin/%)

.PHONY: all deps deps-test demo bench format-check man-check test check check-isolated asan \
	asan-pipeline fuzz fuzz-smoke install clean
