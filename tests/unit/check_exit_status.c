/*
 * The client commands' exit statuses (apitoken(1), EXIT STATUS), each from
 * the one function that chooses it for its command. The numbers are
 * written out, not taken from commands.h: they are what scripts test.
 */
#include <check.h>

#include "commands.h"
#include "unit.h"

/* ssh-cert and token: 0, 3 settings/files/agent, 4 rejected, 5 unavailable, 6 bad certificate. */
START_TEST(test_cert_exit_status)
{
	ck_assert_int_eq(cert_exit_status(CERT_OK), 0);
	ck_assert_int_eq(cert_exit_status(CERT_LOCAL), 3);
	ck_assert_int_eq(cert_exit_status(CERT_NOMEM), 3);
	ck_assert_int_eq(cert_exit_status(CERT_REJECTED), 4);
	ck_assert_int_eq(cert_exit_status(CERT_UNAVAILABLE), 5);
	ck_assert_int_eq(cert_exit_status(CERT_BAD), 6);
	/* A value outside the enum fails closed, as a local error, never as success. */
	ck_assert_int_eq(cert_exit_status((enum cert_rc)99), 3);
}
END_TEST

/*
 * askpass: 0 when it printed the token, 1 for every reason it did not.
 * exec, before COMMAND runs: 3 for a missing token, bad settings, or the system.
 */
START_TEST(test_apt_exit_status)
{
	static const struct {
		enum apt_rc rc;
		int askpass, exec;
	} want[] = {
	    {APT_OK, 0, 0},	 {APT_DENY, 1, 3},  {APT_UNAVAIL, 1, 3},
	    {APT_SERVICE, 1, 3}, {APT_NOMEM, 1, 3},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_int_eq(askpass_exit_status(want[i].rc), want[i].askpass);
		ck_assert_int_eq(exec_exit_status(want[i].rc), want[i].exec);
	}
}
END_TEST

/* check --user: the decision's result= word as its exit status (DESIGN.md §8 ★2). */
START_TEST(test_check_exit_status)
{
	ck_assert_int_eq(check_exit_status(APT_OK), 0);
	ck_assert_int_eq(check_exit_status(APT_DENY), 4);
	ck_assert_int_eq(check_exit_status(APT_UNAVAIL), 5);
	ck_assert_int_eq(check_exit_status(APT_SERVICE), 3);
	ck_assert_int_eq(check_exit_status(APT_NOMEM), 3);
	/* Outside the enum: never success. */
	ck_assert_int_eq(check_exit_status((enum apt_rc)99), 3);
}
END_TEST

static Suite *exit_status_suite(void)
{
	Suite *s = suite_create("exit_status");
	TCase *tc = tcase_create("mapping");

	tcase_add_test(tc, test_cert_exit_status);
	tcase_add_test(tc, test_apt_exit_status);
	tcase_add_test(tc, test_check_exit_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(exit_status_suite());
}
