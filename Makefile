# pam_apitoken — build, test, install.
#
#   make            build/pam_apitoken.so and build/apitoken
#   make check      every test (installs missing test dependencies first when root)
#   make check-asan      the same tests, all built with ASan + UBSan (build/asan)
#   make check-valgrind  the test binaries under valgrind memcheck
#   make install    DESTDIR=, PREFIX= (default /usr/local); as root without
#                   DESTDIR it also creates the helper's system user _apitoken

PREFIX     ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec/apitoken
MANDIR     ?= $(PREFIX)/share/man
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
PKG_CONFIG ?= pkg-config
PAMDIR     ?= $(shell $(PKG_CONFIG) --variable=libdir pam)/security

CC      ?= cc
Q       := $(if $(V),,@)
VERSION := 0.1.0
B       := build

WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wvla
HARDEN   := -fstack-protector-strong -fstack-clash-protection -fcf-protection \
            -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fPIC
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Iinclude \
             -DAPITOKEN_VERSION='"$(VERSION)"' \
             -DAPITOKEN_HELPER_PATH='"$(LIBEXECDIR)/apitoken"' \
             -DAPITOKEN_CONFIG_PATH='"$(SYSCONFDIR)/security/pam_apitoken.conf"'
ALL_LDFLAGS = -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)

PAM_LIBS    := $(shell $(PKG_CONFIG) --libs pam 2>/dev/null || echo -lpam)
# The helper loads libcurl with dlopen at its first request (helper/http.c);
# the tests link it for their own HTTP.
HELPER_LIBS := $(shell $(PKG_CONFIG) --libs jansson libcrypto 2>/dev/null) -ldl -lm
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null) $(HELPER_LIBS)
CHECK_LIBS  := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

LIB_SRC    := $(sort $(wildcard lib/*.c))
HELPER_SRC := $(sort $(wildcard helper/*.c helper/ssh/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/check_*.c))
INTEG_SRC  := $(sort $(wildcard tests/integration/check_*.c))
TSUP_SRC   := $(sort $(wildcard tests/support/*.c))

LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o)
HELPER_OBJ := $(HELPER_SRC:%.c=$(B)/%.o)
# The helper's code but main(), for the tests of its parts (helper/ssh/...).
HLIB_OBJ   := $(filter-out $(B)/helper/main.o,$(HELPER_OBJ))
TSUP_OBJ   := $(TSUP_SRC:%.c=$(B)/%.o)
TESTS      := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%) $(INTEG_SRC:tests/integration/%.c=$(B)/tests/%)
# The tests find the module, the helper and the tools in the build dir they were built for.
TEST_DEFS  := -DTEST_BUILD='"$(B)"'
$(TSUP_OBJ): EXTRA_CFLAGS = $(TEST_DEFS)

# Set by check-asan's inner make: the sanitized executables (tests, tools, the
# helper) link the compiled-in sanitizer options (tests/sanitizer/options.c);
# the product build never does.
SANITIZE       ?=
SAN_TEST_OBJ   := $(if $(SANITIZE),$(B)/sanitizer/options-test.o)
SAN_HELPER_OBJ := $(if $(SANITIZE),$(B)/sanitizer/options-helper.o)

.DEFAULT_GOAL := all

# Paths compiled into the code: a build for another PREFIX must rebuild what uses them.
PATHS_STAMP := $(B)/paths.stamp
PATHS_NOW   := $(LIBEXECDIR) $(SYSCONFDIR)
$(shell mkdir -p $(B) && (echo '$(PATHS_NOW)' | cmp -s - $(PATHS_STAMP) || \
	echo '$(PATHS_NOW)' > $(PATHS_STAMP)))
$(B)/lib/config.o $(B)/helper/cmd_cache.o $(B)/helper/cmd_check.o: $(PATHS_STAMP)

.PHONY: all check deps demo install clean format format-check
all: $(B)/pam_apitoken.so $(B)/apitoken $(B)/apitoken-askpass

# Each directory sees only the headers of its own layer and those below it:
# the core (lib/, the module) only include/; helper/ssh/ the core and itself;
# helper/ all of those; the tests everything. An upward include fails to build.
LAYER_INC = $(if $(filter helper/ssh/%,$<),-Ihelper/ssh,$(if $(filter helper/%,$<),-Ihelper -Ihelper/ssh,$(if $(filter tests/%,$<),-Ihelper -Ihelper/ssh -Itests/support)))

$(B)/%.o: %.c $(wildcard include/*.h helper/*.h helper/ssh/*.h tests/support/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) $(LAYER_INC) -c -o $@ $<

$(B)/libapitoken.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libhelper.a: $(HLIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# The module links only libpam and libc: no libcurl, jansson or libcrypto in
# the PAM host (DESIGN.md §3). The version script exports only pam_sm_*.
$(B)/pam_apitoken.so: $(B)/pam_apitoken.o $(B)/libapitoken.a pam_apitoken.map
	$(CC) -shared $(ALL_LDFLAGS) -Wl,--version-script=pam_apitoken.map -Wl,-z,defs \
	    -o $@ $(B)/pam_apitoken.o $(B)/libapitoken.a $(PAM_LIBS)

# ssh runs SSH_ASKPASS with the prompt alone: the name tells the binary what it is.
$(B)/apitoken-askpass: $(B)/apitoken
	ln -sf apitoken $@

$(B)/apitoken: $(HELPER_OBJ) $(B)/libapitoken.a $(SAN_HELPER_OBJ)
	$(CC) -pie $(ALL_LDFLAGS) -o $@ $(HELPER_OBJ) $(SAN_HELPER_OBJ) $(B)/libapitoken.a \
	    $(HELPER_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libhelper.a $(B)/libapitoken.a $(TSUP_OBJ) $(SAN_TEST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TEST_DEFS) -Itests/support -Ihelper -Ihelper/ssh $(ALL_LDFLAGS) -o $@ $< \
	    $(TSUP_OBJ) $(SAN_TEST_OBJ) \
	    $(B)/libhelper.a $(B)/libapitoken.a \
	    $(CHECK_LIBS) $(TEST_LIBS) $(PAM_LIBS)

# Every allocation of the core goes through the test's wrappers, which fail the Nth.
$(B)/tests/check_nomem: TEST_LDFLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
    -Wl,--wrap=strdup,--wrap=strndup,--wrap=free

$(B)/tests/%: tests/integration/%.c $(B)/libapitoken.a $(TSUP_OBJ) $(SAN_TEST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TEST_DEFS) -Itests/support $(ALL_LDFLAGS) $(TEST_LDFLAGS) -o $@ $< \
	    $(TSUP_OBJ) $(SAN_TEST_OBJ) \
	    $(B)/libapitoken.a \
	    $(CHECK_LIBS) $(TEST_LIBS) $(PAM_LIBS) -ldl

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory all $(TESTS) $(B)/tools/ptrace-race
	@sh tests/run.sh $(TESTS)

# The main job, end to end on loopback: issuer, sshd, ssh, git, rsync (tests/demo.sh).
# No deps or build here: demo.sh does both itself, into build/demo.log, so
# that its first heading is the first thing on the screen.
demo:
	@bash tests/demo.sh

# A stand-in syslog daemon for the demo and the sshd tests (tests/tools/syslog-sink.c).
$(B)/tools/syslog-sink: tests/tools/syslog-sink.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# The attacker of the helper-isolation test (tests/integration/check_helper.c).
$(B)/tools/ptrace-race: tests/tools/ptrace-race.c $(SAN_TEST_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(SAN_TEST_OBJ)

# Minutes of logins under faults (tests/soak/soak.c): prints counts, fails on a bad yes.
.PHONY: soak
soak: deps
	@$(MAKE) --no-print-directory all $(B)/soak/soak
	@$(B)/soak/soak

$(B)/soak/soak: tests/soak/soak.c $(B)/libapitoken.a $(TSUP_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/support $(ALL_LDFLAGS) -o $@ $< $(TSUP_OBJ) $(B)/libapitoken.a \
	    $(TEST_LIBS) $(PAM_LIBS)

# A benchmark, not a test (tests/bench/bench.c): prints a table, writes build/bench.json.
.PHONY: bench
bench: deps
	@$(MAKE) --no-print-directory all $(B)/bench/bench $(B)/bench/pamrun
	@$(B)/bench/bench

$(B)/bench/bench: tests/bench/bench.c $(B)/libapitoken.a $(TSUP_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/support $(ALL_LDFLAGS) -o $@ $< $(TSUP_OBJ) $(B)/libapitoken.a \
	    $(TEST_LIBS) $(PAM_LIBS)

# One authentication per process: links libpam only, like a PAM host.
$(B)/bench/pamrun: tests/bench/pamrun.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PAM_LIBS)

install: all
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/security
	install -m 0644 $(B)/pam_apitoken.so $(DESTDIR)$(PAMDIR)/pam_apitoken.so
	@# 0711: helper_user may run it but not read it (defence in depth; the
	@# module already execs it out of helper_user's reach, lib/child.c).
	install -m 0711 $(B)/apitoken $(DESTDIR)$(LIBEXECDIR)/apitoken
	ln -sf apitoken $(DESTDIR)$(LIBEXECDIR)/apitoken-askpass
	install -d $(DESTDIR)$(BINDIR)
	ln -sf $(LIBEXECDIR)/apitoken $(DESTDIR)$(BINDIR)/apitoken
	install -m 0644 man/apitoken.1 $(DESTDIR)$(MANDIR)/man1/apitoken.1
	install -m 0644 man/pam_apitoken.8 $(DESTDIR)$(MANDIR)/man8/pam_apitoken.8
	install -m 0644 man/pam_apitoken.conf.5 $(DESTDIR)$(MANDIR)/man5/pam_apitoken.conf.5
	@# Never overwrite a sysadmin's configuration.
	@if [ ! -e $(DESTDIR)$(SYSCONFDIR)/security/pam_apitoken.conf ]; then \
	    install -m 0644 conf/pam_apitoken.conf $(DESTDIR)$(SYSCONFDIR)/security/pam_apitoken.conf; \
	else echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/security/pam_apitoken.conf"; fi
	@# The helper's own system user (helper_user's default). Into a DESTDIR
	@# (packaging) it is left to the package's maintainer scripts.
	@if [ -z "$(DESTDIR)" ] && ! getent passwd _apitoken >/dev/null; then \
	    echo "useradd --system _apitoken"; \
	    useradd --system --no-create-home --home-dir /nonexistent \
	        --shell /usr/sbin/nologin _apitoken; \
	fi

# Every C file in the tree: product, tests, fuzzers, tools, bench, soak.
C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')

format:
	clang-format -i $(C_FILES)

format-check:
	clang-format --dry-run -Werror $(C_FILES)

# Static analysis (issue 9): cppcheck over everything, clang-tidy (.clang-tidy)
# and the clang static analyzer over the product code. Any finding fails.
LINT_SRC   := pam_apitoken.c $(LIB_SRC) $(HELPER_SRC)
LINT_FLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Ihelper -Ihelper/ssh -Itests/support \
              -DAPITOKEN_VERSION='"$(VERSION)"'
.PHONY: lint
lint:
	@sh tests/deps.sh clang-format cppcheck clang-tidy clang clang-tools-14
	@$(MAKE) --no-print-directory format-check
	@# Style checks on the product code; on tests, warnings only. variableScope is
	@# off: declaring at the top of a block is this code base's style.
	cppcheck --quiet --std=c11 --enable=warning,style,performance,portability \
	    --inline-suppr --error-exitcode=1 -D_GNU_SOURCE -Iinclude -Ihelper -Ihelper/ssh \
	    --suppress=missingIncludeSystem --suppress=unusedFunction --suppress=variableScope \
	    pam_apitoken.c lib helper
	cppcheck --quiet --std=c11 --enable=warning --inline-suppr --error-exitcode=1 \
	    -D_GNU_SOURCE -Iinclude -Ihelper -Ihelper/ssh -Itests/support \
	    --suppress=missingIncludeSystem tests
	clang-tidy --quiet $(LINT_SRC) -- $(LINT_FLAGS)
	scan-build --status-bugs -o $(B)/scan-build --use-cc=clang \
	    $(MAKE) --no-print-directory -B B=$(B)/scan CC=clang $(B)/scan/pam_apitoken.so \
	    $(B)/scan/apitoken

clean:
	rm -rf $(B)

# --- make check-asan: the whole suite under ASan and UBSan (issue 9) -------------
# Everything is rebuilt sanitized in $(ASAN_B) with gcc, whose runtimes are
# shared by default (libasan.so.8, libubsan.so.1, from libgcc-12-dev, which
# gcc pulls in) and sit on the default library path: the module, dlopened by
# libpam, and the helper, run by the module with an empty environment and
# AT_SECURE, find them without LD_LIBRARY_PATH. The options cannot come from
# the environment either: they are compiled in (tests/sanitizer/options.c).
# sshd is not sanitized but loads the module: tests/support/sshd.c preloads
# the runtime into it when APITOKEN_SANITIZER_PRELOAD is set, with
# APITOKEN_SANITIZER_OPTIONS as its ASAN_OPTIONS (no leak check: sshd's
# seccomp sandbox kills LSan's exit-time check). Any report file fails the run
# (tests/run.sh, APITOKEN_SANITIZER_REPORTS).
ASAN_B      := build/asan
ASAN_CC     := gcc
# FORTIFY off: its checked copies bypass ASan's interceptors. The instrumented
# code defeats gcc's range analysis, which then reports -Wformat-truncation
# on snprintf calls whose arguments are bounded (lib/cache.c's "t%d" keys).
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -U_FORTIFY_SOURCE -Wno-format-truncation
ASAN_TESTS  := $(patsubst $(B)/%,$(ASAN_B)/%,$(TESTS))
ASAN_REPORTS = $(abspath $(ASAN_B))/reports

$(B)/sanitizer/options-%.o: tests/sanitizer/options.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DSAN_LOG_DIR='"$(abspath $(B))/reports"' \
	    -DSAN_HELPER=$(if $(filter helper,$*),1,0) -c -o $@ $<

.PHONY: check-asan
check-asan:
	@# gcc brings these (libgcc-12-dev): named so that a missing one is installed.
	@sh tests/deps.sh libasan8 libubsan1
	@$(MAKE) --no-print-directory B=$(ASAN_B) CC=$(ASAN_CC) SANITIZE=1 \
	    CFLAGS='$(ASAN_CFLAGS)' LDFLAGS='-fsanitize=address,undefined' \
	    $(ASAN_B)/pam_apitoken.so $(ASAN_B)/apitoken $(ASAN_B)/apitoken-askpass \
	    $(ASAN_TESTS) $(ASAN_B)/tools/ptrace-race
	@# The helper writes its reports as helper_user: a sticky, world-writable dir.
	@rm -rf $(ASAN_REPORTS) && mkdir -p $(ASAN_REPORTS) && chmod 1777 $(ASAN_REPORTS)
	@APITOKEN_SANITIZER=asan APITOKEN_SANITIZER_REPORTS=$(ASAN_REPORTS) \
	    APITOKEN_SANITIZER_PRELOAD=$$(realpath $$($(ASAN_CC) -print-file-name=libasan.so)) \
	    APITOKEN_SANITIZER_OPTIONS=log_path=$(ASAN_REPORTS)/sshd:detect_leaks=0:halt_on_error=1:abort_on_error=1 \
	    sh tests/run.sh $(ASAN_TESTS)

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c) for the parsers of outside data,
# with ASan and UBSan; not part of `make check`. Each has a small committed seed
# corpus (tests/fuzz/corpus/NAME/) and may have a dictionary (tests/fuzz/NAME.dict).
#   make fuzz                       builds build/fuzz/fuzz_NAME for every harness
#   make fuzz-run FUZZ_SECONDS=30   runs each in turn, new inputs to build/fuzz/scratch/NAME
#   make fuzz-corpus-check          every committed corpus once (-runs=0): a regression pass
# One by hand: build/fuzz/fuzz_proto -max_total_time=60 build/fuzz/scratch/proto tests/fuzz/corpus/proto
# Needs clang and libclang-rt-14-dev: `make fuzz-deps` installs them when missing.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
# The whole core and the helper but main(), built once with the fuzz flags into
# an archive: each harness takes what it needs from it.
FUZZ_SRC     := $(LIB_SRC) $(filter-out helper/main.c,$(HELPER_SRC))
FUZZ_OBJ     := $(FUZZ_SRC:%.c=$(B)/fuzz/obj/%.o)
FUZZ_NAMES   := $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%)
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -Iinclude -Ihelper -Ihelper/ssh -DAPITOKEN_VERSION='"$(VERSION)"'
FUZZ_LIBS    := $(HELPER_LIBS)
# fuzz_askpass compiles helper/cmd_askpass.c in (its prompt tests are static).
$(B)/fuzz/fuzz_askpass: helper/cmd_askpass.c
# certissue answers come from a stand-in for http_send (tests/fuzz/fuzz_certissue.c).
FUZZ_LDFLAGS_certissue := -Wl,--wrap=http_send

.PHONY: fuzz fuzz-deps fuzz-run fuzz-corpus-check
fuzz: $(FUZZ_BINS)

fuzz-deps:
	@sh tests/deps.sh clang libclang-rt-14-dev

$(B)/fuzz/obj/%.o: %.c $(wildcard include/*.h helper/*.h helper/ssh/*.h)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/fuzz/libfuzzcore.a: $(FUZZ_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/oracle.h $(B)/fuzz/libfuzzcore.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_LDFLAGS_$*) -o $@ $< \
	    $(B)/fuzz/libfuzzcore.a $(FUZZ_LIBS)

# One harness after another (the machine may be shared): scratch corpus first,
# so new inputs land there and the committed corpus stays as it is.
fuzz-run: fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
	    mkdir -p $(B)/fuzz/scratch/$$n; \
	    d=; [ -f tests/fuzz/$$n.dict ] && d=-dict=tests/fuzz/$$n.dict; \
	    echo "fuzz-run: $$n for $(FUZZ_SECONDS) s"; \
	    $(B)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$d \
	        -artifact_prefix=$(B)/fuzz/crash-$$n- $(B)/fuzz/scratch/$$n tests/fuzz/corpus/$$n; \
	done

fuzz-corpus-check: fuzz
	@set -e; for n in $(FUZZ_NAMES); do \
	    echo "fuzz-corpus-check: $$n"; \
	    $(B)/fuzz/fuzz_$$n -runs=0 -artifact_prefix=$(B)/fuzz/crash-$$n- tests/fuzz/corpus/$$n; \
	done

# --- make check-valgrind: the test binaries under memcheck (issue 9) -------------
# CK_FORK=no: Check runs the tests in the binary's own process, under
# valgrind, instead of in forks of it. Definite leaks are errors; the
# suppressions (tests/valgrind.supp) are third-party noise only. The helper
# children and the servers are not traced (no --trace-children): they run
# natively. Left out: VG_SKIP, see below.
VALGRIND := valgrind --quiet --tool=memcheck --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite \
            --child-silent-after-fork=yes --num-callers=30 \
            --suppressions=$(abspath tests/valgrind.supp)
VG_SKIP  :=
VG_TESTS := $(filter-out $(addprefix $(B)/tests/,$(VG_SKIP)),$(TESTS))

.PHONY: check-valgrind
check-valgrind: deps
	@sh tests/deps.sh valgrind
	@$(MAKE) --no-print-directory all $(VG_TESTS) $(B)/tools/ptrace-race
	@$(if $(VG_SKIP),echo "check-valgrind: skipped $(VG_SKIP) (see the Makefile)")
	@CK_FORK=no APITOKEN_TEST_WRAPPER='$(VALGRIND)' sh tests/run.sh $(VG_TESTS)
