/*
 * tasks.c - steps of vmtp-provision's cloud mode run side by side (SPEC
 * §6: the run waits for the cloud about as long as the cloud takes): each
 * worker thread has a connection of its own and takes the stage's next
 * step until none is left or one has failed.
 */
#include <pthread.h>

#include "libvmtp/err.h"
#include "libvmtp/os.h"

#include "cloud-int.h"

int
cancelled(const struct cloud *c, struct vmtp_err *err)
{
	if (c->o->cancel != NULL && *c->o->cancel)
		return err_set(err, VMTP_EXIT_FAIL, "interrupted");
	return 0;
}

/* Workers read `running` and their thread ids only after taking the lock
 * that run_tasks() held while it started them. */
struct os_session *
session(struct cloud *c)
{
	pthread_t self = pthread_self();
	int k;

	for (k = 0; k < c->running; k++)
		if (pthread_equal(c->workers[k].thread, self))
			return c->workers[k].s;
	return c->s;
}

/* The worker's loop: takes the stage's next task until none is left or
 * one has failed. */
static void *
work(void *arg)
{
	struct cloud *c = ((struct worker *)arg)->c;

	for (;;) {
		struct task *t = NULL;

		pthread_mutex_lock(&c->lock);
		if (!c->stage_failed && c->stage_next < c->stage_n)
			t = &c->stage[c->stage_next++];
		pthread_mutex_unlock(&c->lock);
		if (t == NULL)
			return NULL;
		t->rc = t->fn(c, t->i, &t->err);
		if (t->rc != 0) {
			pthread_mutex_lock(&c->lock);
			c->stage_failed = 1;
			pthread_mutex_unlock(&c->lock);
		}
	}
}

void
add_task(struct task *t, int *n,
    int (*fn)(struct cloud *c, int i, struct vmtp_err *err), int i)
{
	t[*n] = (struct task){fn, i, 0, {0}};
	(*n)++;
}

int
run_tasks(struct cloud *c, struct task *t, int n, struct vmtp_err *err)
{
	int want = n < MAX_WORKERS ? n : MAX_WORKERS;
	int k, i;

	for (k = 0; k < want; k++)
		if (c->workers[k].s == NULL &&
		    (c->workers[k].s = os_session_clone(c->s, err)) == NULL)
			return -1;
	for (i = 0; i < n; i++) {
		t[i].rc = 0;
		err_clear(&t[i].err);
	}
	pthread_mutex_lock(&c->lock);
	c->stage = t;
	c->stage_n = n;
	c->stage_next = 0;
	c->stage_failed = 0;
	for (k = 0; k < want; k++) {
		c->workers[k].c = c;
		if (pthread_create(
		        &c->workers[k].thread, NULL, work, &c->workers[k]) != 0)
			break;
	}
	c->running = k;
	pthread_mutex_unlock(&c->lock);
	if (c->running == 0) {
		/* no thread to be had: the main thread does it all */
		c->workers[0].c = c;
		work(&c->workers[0]);
	}
	for (k = 0; k < c->running; k++)
		pthread_join(c->workers[k].thread, NULL);
	c->running = 0;
	c->stage = NULL;
	for (i = 0; i < n; i++)
		if (t[i].rc != 0)
			return err_set(err,
			    t[i].err.exit != VMTP_EXIT_OK ? t[i].err.exit
			                                  : VMTP_EXIT_FAIL,
			    "%s",
			    t[i].err.msg[0] != '\0' ? t[i].err.msg
			                            : "a step failed");
	return 0;
}
