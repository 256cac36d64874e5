SHELL := /bin/bash
# Thin wrapper around CMake; `make help` lists the targets.
BUILD ?= build
LUA ?= lua5.4
# On a terminal one mark per spec; in a log (CI) each spec's name as it
# starts and its time as it ends, so a slow or hung one is named.
BUSTED_OUT := $(if $(shell test -t 2 && echo tty),,-o gtest)
BUSTED ?= busted --lua=$(LUA) $(BUSTED_OUT)
# A hung spec fails the run in minutes, with its name, instead of stalling CI.
GUARD ?= timeout -k 10

.PHONY: test-browser test-unit test-integration test-oracle all deps test test-c test-lua test-asan test-slow test-valgrind lint \
	bench install clean help fuzz fuzz-ci fuzz-build fuzz-play

all: luasible/core.so

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

luasible/core.so: $(BUILD)/Makefile $(wildcard core/*.c core/*.h core/test/*.c core/test/*.h)
	cmake --build $(BUILD) -j2
	@# a new file, renamed: processes that mapped the old one keep it intact
	mkdir -p luasible && cp $(BUILD)/luasible/core.so luasible/.core.so.tmp && mv -f luasible/.core.so.tmp luasible/core.so

# Installs what is missing on Debian (needs root, or sudo).
deps:
	./scripts/deps

test: all test-c lint test-lua

C_TESTS := test_splitter test_sha256 test_queue test_util
# The shared object exports the module's entry point and nothing else.
CHECK_EXPORTS = test "$$(nm -D --defined-only $(1) | awk '{ print $$3 }')" = luaopen_luasible_core \
	|| { echo "$(1) exports more than luaopen_luasible_core:"; nm -D --defined-only $(1); exit 1; }

# (and the corpus of the C fuzz targets replayed: fuzz/replay.c)
REPLAY = for t in splitter queue; do $(1)/replay_$$t fuzz/corpus/$$t >/dev/null || exit 1; done

test-c: all
	@for t in $(C_TESTS); do $(BUILD)/$$t || exit 1; done
	@$(call REPLAY,$(BUILD))
	@$(call CHECK_EXPORTS,$(BUILD)/luasible/core.so)

# The #slow specs (bulk data, the soak) are `make test-slow`'s.
test-lua: all
	$(GUARD) 1500 $(BUSTED) --exclude-tags=slow,oracle,browser
	@# the local specs again on the SIGCHLD path, where pidfd_open fails (a
	@# seccomp filter makes it fail with ENOSYS, as on Linux < 5.3)
	$(GUARD) 300 $(BUILD)/no_pidfd $(BUSTED) --exclude-tags=slow spec/integration/local_spec.lua

# One half of the specs: pure parts (spec/unit), or real processes, servers
# and test hosts (spec/integration).
test-unit: all
	$(GUARD) 300 $(BUSTED) --run=unit

test-integration: all
	$(GUARD) 900 $(BUSTED) --run=integration --exclude-tags=slow,oracle,browser

# The specs that ask Ansible itself (#oracle: Debian's ansible-core, from
# scripts/deps): inventories loaded as ansible-inventory --list loads them
# (its answers cached in build/oracle-cache), `luasible inventory` against
# ansible-inventory, host patterns against ansible --list-hosts and its
# InventoryManager, on the spec fixtures and the real-world corpus of
# ../shared/realworld/inventories (skipped, with a message, when absent).
test-oracle: all
	$(GUARD) 1500 $(BUSTED) --run=integration --tags=oracle

# The dashboard page in headless Chromium during a real play on the test
# hosts (#browser: spec/integration/browser_spec.lua driving spec/browser/
# live.mjs; chromium, node and `npm ci` from scripts/deps).
# LUASIBLE_SCREENSHOTS=docs/img refreshes the README's screenshots.
test-browser: all
	$(GUARD) 600 $(BUSTED) --tags=browser

lint:
	luacheck -q lua modules bin spec bench examples fuzz

# The specs again, against a core built with AddressSanitizer + UBSan (and
# leak detection), run by a Lua interpreter that has the sanitizers linked in
# (build-asan/lua_host): the processes the specs start stay uninstrumented.
test-asan:
	cmake -S . -B build-asan -DLUASIBLE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-asan -j2
	@for t in $(C_TESTS); do build-asan/$$t || exit 1; done
	@$(call REPLAY,build-asan)
	LUASIBLE_CPATH=$(CURDIR)/build-asan/?.so LUASIBLE_LUA=$(CURDIR)/build-asan/lua_host \
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(GUARD) 1800 build-asan/lua_host /usr/bin/busted $(BUSTED_OUT) --exclude-tags=soak,oracle,browser spec

# The #slow specs alone: the bulk-data ones and the soak (1 GB over SSH and
# locally, 1 GB put/get: spec/integration/soak_spec.lua), bounded in time.
test-slow: all
	$(GUARD) 1500 $(BUSTED) --tags=slow --exclude-tags=oracle

# The local specs under valgrind (memcheck), on a private copy of the core.
# posix_spawn reports exec failures differently under valgrind (#novalgrind),
# and the bulk-data specs (#slow) would take many minutes there.
test-valgrind: all
	rm -rf build-vg && mkdir -p build-vg/luasible && cp $(BUILD)/luasible/core.so build-vg/luasible/
	LUASIBLE_CPATH=$(CURDIR)/build-vg/?.so valgrind -q --error-exitcode=9 --leak-check=full \
	  --show-possibly-lost=no --errors-for-leak-kinds=definite \
	  $(LUA) /usr/bin/busted --exclude-tags=novalgrind,slow spec/integration/local_spec.lua 2>&1 | \
	  grep -v -e 'unhandled amd64-linux syscall' -e 'You may be able' -e 'README_MISSING' \
	    -e 'Nevertheless we' -e 'it at http'; exit $${PIPESTATUS[0]}

# Fuzzing (fuzz/README.md): the libFuzzer targets, built with clang into
# build-fuzz/ and run FUZZ_TIME seconds each from fuzz/corpus/<target>/, and
# the play-table fuzzer (fuzz/play.lua: FUZZ_PLAY_COUNT plays, seed
# FUZZ_SEED). `make fuzz-ci` is CI's bounded run (about 4 minutes).
FUZZ_TARGETS := splitter queue inventory_ini inventory_yaml template kv
FUZZ_TARGETS += inventory_dynamic
FUZZ_TIME ?= 300
FUZZ_CI_TIME ?= 25
FUZZ_PLAY_COUNT ?= 20000
FUZZ_SEED ?= 8

fuzz-build: all
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DLUASIBLE_FUZZ=ON -DLUASIBLE_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build-fuzz -j2 --target $(addprefix fuzz_,$(FUZZ_TARGETS))

fuzz-play: all
	$(GUARD) 1800 $(LUA) fuzz/play.lua --count $(FUZZ_PLAY_COUNT) --seed $(FUZZ_SEED)

fuzz-ci: fuzz-build
	fuzz/run.sh $(FUZZ_CI_TIME) $(FUZZ_TARGETS)
	$(MAKE) fuzz-play FUZZ_PLAY_COUNT=20000 FUZZ_SEED=8

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)
	$(MAKE) fuzz-play

bench: all
	$(MAKE) -C bench

install:
	luarocks --lua-version 5.4 make rockspec/luasible-scm-1.rockspec

clean:
	rm -rf $(BUILD) build-asan build-vg build-fuzz build.luarocks luasible bench/out

help:
	@echo "make deps      install the Debian packages that are missing (apt-get)"
	@echo "make           build the C core into luasible/core.so"
	@echo "make test      C unit tests, luacheck and the busted specs (without #slow)"
	@echo "make test-unit the specs of spec/unit (no process, no server)"
	@echo "make test-integration  the specs of spec/integration (processes, sshd, test hosts)"
	@echo "make test-asan the specs against an ASan+UBSan build (all but the soak)"
	@echo "make test-slow the #slow specs: bulk data and the 1 GB soak (not in make test)"
	@echo "make test-browser the dashboard page in headless Chromium, on the test hosts (#browser)"
	@echo "make test-oracle  the specs against Ansible itself (ansible-core; the corpus in ../shared)"
	@echo "make fuzz-ci   every fuzz target for FUZZ_CI_TIME s (25) and 20,000 generated plays (CI)"
	@echo "make fuzz      every fuzz target for FUZZ_TIME s (300), FUZZ_PLAY_COUNT plays (fuzz/README.md)"
	@echo "make bench     build the benchmark baselines (see bench/README.md)"
