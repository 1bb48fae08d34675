# Kiln -- build, test and run. See README.md.
#
#   make            build/kiln (the command) and build/libkiln.a (linked into apps)
#   make run        install missing Debian packages, build, serve examples/blog on :3000
#   make test       install what tests need, build, run every test (unit, fuzz,
#                   integration; then again under ASan+UBSan and with clang)
#   make install PREFIX=/usr/local
#
# Variants build into their own folder: make BUILD=build/asan SAN=1
#
# Source layout: one folder per layer under src/ (core, http, json, router,
# runtime, api), the CLI in src/cli/. Every src/**/*.c except src/cli/ goes
# into libkiln.a: adding a file needs no edit here.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
SAN     ?=
OPT     ?= -O2

PQ_CFLAGS := -I/usr/include/postgresql
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  := -std=c17 $(OPT) -g $(WARN) -D_GNU_SOURCE -Iinclude -Isrc $(PQ_CFLAGS) -fno-strict-aliasing $(EXTRA_CFLAGS)
LDLIBS  := -lsqlite3 -lpq -lsodium -lcurl -lhiredis -lpthread -lm -lnettle -lz
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DKILN_SANITIZE=1
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*'))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(shell find tests/unit -name 'test_*.c'))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test unit install clean deps test-deps fuzz integration sanitize bench
all: $(BUILD)/kiln $(BUILD)/libkiln.a

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h) $(shell find src -name '*.h')
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libkiln.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The CLI records the flags apps must be built with (sanitizers, compiler).
$(BUILD)/kiln: $(CLI_OBJ) $(BUILD)/libkiln.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libkiln.a $(LDLIBS)
	@printf '%s\n' '$(CC)' > $(BUILD)/kiln.cc
	@printf '%s\n' '$(filter -fsanitize=% -fno-omit-frame-pointer -fno-sanitize-recover=%,$(CFLAGS))' > $(BUILD)/kiln.sanflags

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkiln.a tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libkiln.a $(LDLIBS)

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(BUILD) $(UNIT_BIN)

deps:
	@scripts/deps.sh run
test-deps:
	@scripts/deps.sh test

run: deps all
	$(BUILD)/kiln build examples/blog
	$(BUILD)/kiln start examples/blog --port $${PORT:-3000}

test: test-deps
	@tests/run-all.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/kiln $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/kiln $(DESTDIR)$(PREFIX)/bin/kiln
	install -m 644 $(BUILD)/libkiln.a $(BUILD)/kiln.cc $(BUILD)/kiln.sanflags $(DESTDIR)$(PREFIX)/lib/kiln/
	install -m 644 include/kiln.h $(DESTDIR)$(PREFIX)/include/kiln.h
	sed 's|@PREFIX@|$(PREFIX)|; s|@VERSION@|0.1.0|' scripts/kiln.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/kiln.pc

fuzz:
	@tests/run-fuzz.sh
integration: all
	@tests/run-integration.sh $(BUILD)
sanitize:
	@$(MAKE) BUILD=build/asan CC=clang SAN=1 all unit
bench:
	@bench/run.sh

clean:
	rm -rf build
