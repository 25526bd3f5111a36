/*
 * The one transition function: tcb_set_state() refuses a transition that
 * is not in the table. A debug build (NDEBUG off, as the sanitizer build
 * that make check runs) aborts, so that no test can pass over an engine
 * bug; a release build counts it, keeps the state and tells the caller,
 * which gives up the event.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "sim.h"

static tcb *new_tcb(sim *sm)
{
	hsk_tuple tu = { .laddr = SIM_ADDR(0), .raddr = SIM_ADDR(7), .lport = 1234,
			 .rport = 80 };
	tcb *t = tcb_new(&sm->st[0]->tcp, &tu, NULL);
	assert_non_null(t);
	return t;
}

/* Legal transitions pass and are traced; staying put is not a transition. */
static void test_legal_transition(void **state)
{
	(void)state;
	sim sm;
	sim_init(&sm, 1, NULL, 400);
	hsk_stack *s = sm.st[0];
	tcb *t = new_tcb(&sm);
	assert_true(tcb_set_state(&s->tcp, t, HSK_SYN_SENT, "test"));
	assert_int_equal(t->state, HSK_SYN_SENT);
	assert_true(tcb_set_state(&s->tcp, t, HSK_SYN_SENT, "test"));
	expect_state(&sm, 0, HSK_CLOSED, HSK_SYN_SENT);
	assert_int_equal(sim_counter(&sm, 0, "IllegalTransitions"), 0);
	tcb_free(&s->tcp, t);
	sim_free(&sm);
}

/* CLOSED -> ESTABLISHED is not in the table. Runs in a child process:
 * returns which check failed (0: none), without cmocka's asserts. */
static int illegal(void)
{
	sim sm;
	sim_init(&sm, 1, NULL, 401);
	hsk_stack *s = sm.st[0];
	tcb *t = new_tcb(&sm);
	bool ok = tcb_set_state(&s->tcp, t, HSK_ESTABLISHED, "test");
	/* Only a release build gets here. */
	int bad = 0;
	if (ok)
		bad = 1;
	else if (t->state != HSK_CLOSED)
		bad = 2;
	else if (hsk_counter_by_name(s, "IllegalTransitions") != 1)
		bad = 3;
	for (size_t i = 0; i < sm.nlog; i++)
		if (sm.log[i].ev.kind == HSK_EV_STATE)
			bad = 4;
	tcb_free(&s->tcp, t);
	sim_free(&sm);
	return bad;
}

static void test_illegal_transition(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child: an abort (debug) or the release checks above. */
		signal(SIGABRT, SIG_DFL);
		_exit(illegal());
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
#ifdef NDEBUG
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
#else
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legal_transition),
		cmocka_unit_test(test_illegal_transition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
