# askue — one non-recursive Makefile.
#
#   make          build every program and library (build/rel/)
#   make test     install what is missing, build with ASan+UBSan (build/asan/)
#                 and run every test (unit, cli, integration, fuzz)
#   make demo     install what is missing, build, and run the local stack with
#                 demo data (deploy/demo)
#   make deps     install the Debian packages the project needs (idempotent)
#   make bench    run the benchmarks (long; not part of `make test`)
#   make lint     clang-tidy and cppcheck over the tree
#
# Programs are found by folder, so adding a .c file to a folder is enough:
#   lib/*.c                  -> libaskue.a, linked by every program
#   tools/askue/*.c jobs/*.c -> askue (the admin command line and the jobs)
#   ingestor/*.c             -> askue-ingestor
#   tools/sim/*.c            -> askue-sim (meter simulator / load generator)
#   tools/relay/*.c          -> askue-relay (journal -> askue/events/#)
#   tui/*.c                  -> askue-console
#   broker-plugins/*.c       -> askue_auth.so (Mosquitto plugin)
#   tests/unit/test_*.c      -> one cmocka binary each

CC      ?= cc
# libharu (-lhpdf, invoice PDFs) has no pkg-config file on Debian.
PKGS    := sqlite3 inih libcsv libcjson libsodium libcurl libmosquitto ncursesw libqrencode
PKG_CFLAGS := $(shell pkg-config --cflags $(filter-out libcsv,$(PKGS)) 2>/dev/null)
PKG_LIBS   := -Wl,--as-needed $(shell pkg-config --libs $(filter-out libcsv,$(PKGS)) 2>/dev/null) -lcsv -lpaho-mqtt3as -lhpdf -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla \
           -Wno-format-nonliteral -Wno-format-truncation
CSTD    := -std=c17 -D_GNU_SOURCE
CFLAGS_REL  := $(CSTD) $(WARN) -O2 -g
CFLAGS_ASAN := $(CSTD) $(WARN) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all
CPPFLAGS := -Ilib $(PKG_CFLAGS) -MMD -MP

LIB_SRC   := $(wildcard lib/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

# Programs: name -> the folders whose .c files make it (besides lib/).
# A program whose folders hold no .c file yet is skipped.
PROG_askue          := tools/askue jobs
PROG_askue-ingestor := ingestor
PROG_askue-sim      := tools/sim
PROG_askue-relay    := tools/relay
PROG_askue-console  := tui
PROGRAMS := $(foreach p,askue askue-ingestor askue-sim askue-relay askue-console,\
              $(if $(wildcard $(addsuffix /*.c,$(PROG_$(p)))),$(p)))
prog_src = $(wildcard $(addsuffix /*.c,$(PROG_$(1))))

# The Mosquitto plugin is a shared object: its sources and the library
# are compiled position-independent (build/pic/).
PLUGIN_SRC := $(wildcard broker-plugins/*.c)
PLUGIN     := $(if $(PLUGIN_SRC),askue_auth.so)

# Fuzz targets (tests/fuzz/fuzz_*.c) are built by clang with libFuzzer.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

# $(call objs,variant,sources)
objs = $(patsubst %.c,build/$(1)/%.o,$(2))

REL_PROGS  := $(addprefix build/rel/,$(PROGRAMS) $(PLUGIN))
ASAN_PROGS := $(addprefix build/asan/,$(PROGRAMS) $(PLUGIN))
UNIT_BINS  := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

.SECONDARY:
.DELETE_ON_ERROR:
.PHONY: all test check demo unit cli integration fuzz deps bench soak lint clean
all: $(REL_PROGS)
	@mkdir -p bin && for p in $(PROGRAMS) $(PLUGIN); do ln -sf ../build/rel/$$p bin/$$p; done

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS_REL) -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/asan $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS_ASAN) -c -o $@ $<

build/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/pic  $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS_REL) -fPIC -c -o $@ $<

build/picasan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/pic+asan $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS_ASAN) -fPIC -c -o $@ $<

build/rel/libaskue.a: $(call objs,rel,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/asan/libaskue.a: $(call objs,asan,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/pic/libaskue.a: $(call objs,pic,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/picasan/libaskue.a: $(call objs,picasan,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^

define program_rules
build/rel/$(1): $(call objs,rel,$(call prog_src,$(1))) build/rel/libaskue.a
	@echo "  LD      $$@"
	@$$(CC) $$(CFLAGS_REL) -o $$@ $$^ $$(PKG_LIBS)
build/asan/$(1): $(call objs,asan,$(call prog_src,$(1))) build/asan/libaskue.a
	@echo "  LD/asan $$@"
	@$$(CC) $$(CFLAGS_ASAN) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rules,$(p))))

build/rel/askue_auth.so: $(call objs,pic,$(PLUGIN_SRC)) build/pic/libaskue.a
	@echo "  LD      $@"
	@$(CC) $(CFLAGS_REL) -shared -o $@ $^ $(PKG_LIBS)
build/asan/askue_auth.so: $(call objs,picasan,$(PLUGIN_SRC)) build/picasan/libaskue.a
	@echo "  LD/asan $@"
	@$(CC) $(CFLAGS_ASAN) -shared -o $@ $^ $(PKG_LIBS)

build/asan/tests/%: build/asan/tests/unit/%.o build/asan/libaskue.a
	@mkdir -p $(dir $@)
	@echo "  LD/asan $@"
	@$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

# The test target: unit tests (cmocka) then the command-line tests, all
# against the sanitizer build. Servers the integration tests need are started
# by the tests themselves (tests/lib/servers.sh) on free loopback ports.
# `make test` and `make demo` are the README's two commands: they install
# what is missing first, then re-read this Makefile (pkg-config answers only
# once the -dev packages are there).
test: deps
	@$(MAKE) --no-print-directory check

check: all unit cli integration fuzz

demo: deps
	@$(MAKE) --no-print-directory all
	@deploy/demo

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

# Command-line and integration tests run the sanitizer build of every
# program (ASKUE_BUILD); the plugin needs the ASan runtime preloaded into
# the stock broker, which tests/lib/servers.sh does.
cli: $(ASAN_PROGS)
	@ASKUE_BUILD=$(CURDIR)/build/asan tests/cli/run

integration: $(ASAN_PROGS)
	@if [ -x tests/integration/run ]; then ASKUE_BUILD=$(CURDIR)/build/asan tests/integration/run; fi

fuzz:
	@if [ -x tests/fuzz/run ]; then tests/fuzz/run; fi

deps:
	@deploy/install-deps

# The long fault run (not in `make test`): t_fault's SIGKILLs and InfluxDB
# outage over 1,440,000 readings, about 7 minutes (SOAK_DAYS x 400; at most 3660).
soak: deps
	@$(MAKE) --no-print-directory $(ASAN_PROGS)
	@ASKUE_BUILD=$(CURDIR)/build/asan FAULT_DAYS=$${SOAK_DAYS:-3600} \
		TEST_FILTER=test_200k_readings tests/integration/run

# Every benchmark, one after another (long: about 40 minutes); each prints
# its figures for bench/RESULTS.md.
bench: all
	@for b in registry auth stale relay ingest rollup billing penalties anomalies forecast; do echo "== bench/$$b"; bench/$$b/run || exit 1; done

lint:
	clang-tidy --quiet $(LIB_SRC) $(call prog_src,askue) -- $(CPPFLAGS) $(CSTD)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Ilib \
		--suppress=unknownMacro --suppress=legacyUninitvar lib tools ingestor jobs broker-plugins

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
