# askue — one non-recursive Makefile.
#
#   make          build every program and library (build/rel/)
#   make test     build with ASan+UBSan (build/asan/) and run every test
#   make deps     install the Debian packages the project needs (idempotent)
#   make bench    run the benchmarks (long; not part of `make test`)
#   make lint     clang-tidy and cppcheck over the tree
#
# Programs are found by folder, so adding a .c file to a folder is enough:
#   lib/*.c                  -> libaskue.a, linked by every program
#   tools/askue/*.c          -> askue (the admin command line)
#   tests/unit/test_*.c      -> one cmocka binary each

CC      ?= cc
PKGS    := sqlite3 inih libcsv libcjson libsodium libcurl libmosquitto ncursesw
PKG_CFLAGS := $(shell pkg-config --cflags $(filter-out libcsv,$(PKGS)) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(filter-out libcsv,$(PKGS)) 2>/dev/null) -lcsv -lpaho-mqtt3as -lpthread -lm

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla \
           -Wno-format-nonliteral -Wno-format-truncation
CSTD    := -std=c17 -D_GNU_SOURCE
CFLAGS_REL  := $(CSTD) $(WARN) -O2 -g
CFLAGS_ASAN := $(CSTD) $(WARN) -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all
CPPFLAGS := -Ilib $(PKG_CFLAGS) -MMD -MP

LIB_SRC   := $(wildcard lib/*.c)
ASKUE_SRC := $(wildcard tools/askue/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

# $(call objs,variant,sources)
objs = $(patsubst %.c,build/$(1)/%.o,$(2))

REL_PROGS  := build/rel/askue
ASAN_PROGS := build/asan/askue
UNIT_BINS  := $(patsubst tests/unit/%.c,build/asan/tests/%,$(UNIT_SRC))

.PHONY: all test unit cli deps bench lint clean
all: $(REL_PROGS)
	@mkdir -p bin && ln -sf ../build/rel/askue bin/askue

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS_REL) -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/asan $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS_ASAN) -c -o $@ $<

build/rel/libaskue.a: $(call objs,rel,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
build/asan/libaskue.a: $(call objs,asan,$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^

build/rel/askue: $(call objs,rel,$(ASKUE_SRC)) build/rel/libaskue.a
	$(CC) $(CFLAGS_REL) -o $@ $^ $(PKG_LIBS)
build/asan/askue: $(call objs,asan,$(ASKUE_SRC)) build/asan/libaskue.a
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS)

build/asan/tests/%: build/asan/tests/unit/%.o build/asan/libaskue.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -o $@ $^ $(PKG_LIBS) -lcmocka

# The test target: unit tests (cmocka) then the command-line tests, all
# against the sanitizer build. Servers the integration tests need are started
# by the tests themselves (tests/lib/servers.sh) on free loopback ports.
test: all unit cli

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

cli: $(ASAN_PROGS)
	@ASKUE_BIN=$(CURDIR)/build/asan/askue tests/cli/run

deps:
	@deploy/install-deps

bench: all
	@bench/registry/run

lint:
	clang-tidy $(LIB_SRC) $(ASKUE_SRC) -- $(CPPFLAGS) $(CSTD)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability -Ilib lib tools

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
