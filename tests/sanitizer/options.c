/*
 * The sanitizer options of make check-asan, compiled into the sanitized test
 * binaries, the test tools and the helper (never into the product build).
 * They cannot come from ASAN_OPTIONS: the module runs the helper with an
 * empty environment, and the runtimes read these hooks before main().
 *
 * Every report goes to a file under the build dir (SAN_LOG_DIR/asan.PID,
 * SAN_LOG_DIR/ubsan.PID), where tests/run.sh finds it whatever process
 * wrote it; the first error ends the process with abort(), so that a test
 * sees it as a crash, not as an ordinary exit status.
 *
 * The helper runs without the leak check: every mode makes itself
 * non-dumpable (prctl PR_SET_DUMPABLE 0) and then runs as helper_user, and
 * LSan's stop-the-world needs to ptrace the process, which the kernel then
 * refuses; LSan would fail every run with a fatal error.
 */
/* The Makefile passes SAN_LOG_DIR (absolute); without it reports go to stderr. */
#ifdef SAN_LOG_DIR
#define SAN_LOG(name) "log_path=" SAN_LOG_DIR "/" name ":"
#else
#define SAN_LOG(name) ""
#endif
#ifndef SAN_HELPER
#define SAN_HELPER 0 /* 1 in the helper's copy: no leak check, see above */
#endif

#define SAN_COMMON "halt_on_error=1:abort_on_error=1"
#define SAN_ASAN   ":detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
#if SAN_HELPER
/*
 * ASan also zeroes the soft core limit before main() (disable_coredump), so
 * the helper would save 0 as the caller's limit and `apitoken exec` would
 * hand its command 0: the helper sets the limit itself (helper/protect.c).
 */
#define SAN_LEAKS ":detect_leaks=0:disable_coredump=0"
#else
#define SAN_LEAKS ":detect_leaks=1"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
	return SAN_LOG("asan") SAN_COMMON SAN_ASAN SAN_LEAKS;
}

const char *__ubsan_default_options(void)
{
	return SAN_LOG("ubsan") SAN_COMMON ":print_stacktrace=1";
}
