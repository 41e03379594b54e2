// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlchan-contexts: a test module that calls nlchan_broadcast() the way a
 * board driver might, from every context a driver runs in:
 *
 *   "ctx timer"     a timer callback (softirq)
 *   "ctx tasklet"   a tasklet (softirq)
 *   "ctx hardirq"   an irq_work callback (hard-IRQ context)
 *   "ctx irqs-off"  process context with interrupts off
 *   "ctx process"   process context, GFP_KERNEL
 *
 * Loading it sends the five broadcasts (nlchan must be loaded first) and
 * fails with -EIO when a call failed or did not run in the context it
 * names; the kernel log line "nlchan-contexts: 5 broadcasts" says what each
 * call returned. Unload it with rmmod. The tests run it with an nlmon
 * interface up, whose tap is where netlink needs interrupts on.
 *
 * It links against nlchan_broadcast() as any other driver would: the
 * prototype from nlchan's in-kernel header, the symbol from nlchan's
 * Module.symvers (KBUILD_EXTRA_SYMBOLS), so that loading it holds nlchan
 * and fails with "Unknown symbol" while nlchan is not loaded. Not
 * symbol_get(): Allwinner's 5.4 kernel does not export __symbol_get().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/irq_work.h>
#include <linux/irqflags.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/timer.h>

#include "linux/nlchan.h"

/* Before 5.11, in_hardirq() was called in_irq(). */
#ifndef in_hardirq
#define in_hardirq() in_irq()
#endif

/* One call of nlchan_broadcast(): its return value and its context. */
struct nlchan_call {
	const char *msg;
	int err;
	bool in_context;	/* ran in the context it names */
	struct completion done;
};

static struct nlchan_call call_timer = { .msg = "ctx timer" };
static struct nlchan_call call_tasklet = { .msg = "ctx tasklet" };
static struct nlchan_call call_hardirq = { .msg = "ctx hardirq" };
static struct nlchan_call call_irqs_off = { .msg = "ctx irqs-off" };
static struct nlchan_call call_process = { .msg = "ctx process" };

static struct timer_list nlchan_timer;
static struct tasklet_struct nlchan_tasklet;
static struct irq_work nlchan_irq_work;

static void nlchan_call(struct nlchan_call *c, gfp_t gfp, bool in_context)
{
	c->err = nlchan_broadcast(c->msg, strlen(c->msg), gfp);
	c->in_context = in_context;
	complete(&c->done);
}

static void nlchan_timer_fn(struct timer_list *t)
{
	nlchan_call(&call_timer, GFP_ATOMIC, in_serving_softirq());
}

/* Before 4.15 a timer callback took an unsigned long (setup_timer()). */
#ifdef setup_timer
static void nlchan_timer_fn_ul(unsigned long data)
{
	nlchan_timer_fn((struct timer_list *)data);
}

static void nlchan_timer_setup(struct timer_list *t)
{
	setup_timer(t, nlchan_timer_fn_ul, (unsigned long)t);
}
#else
static void nlchan_timer_setup(struct timer_list *t)
{
	timer_setup(t, nlchan_timer_fn, 0);
}
#endif

/* tasklet_init(): tasklet_setup() only arrived in 5.9. */
static void nlchan_tasklet_fn(unsigned long data)
{
	nlchan_call(&call_tasklet, GFP_ATOMIC, in_serving_softirq());
}

static void nlchan_irq_work_fn(struct irq_work *w)
{
	nlchan_call(&call_hardirq, GFP_ATOMIC, in_hardirq() && irqs_disabled());
}

/* Waits for a call started elsewhere; -ETIMEDOUT when it never ran. */
static int nlchan_wait(struct nlchan_call *c)
{
	if (!wait_for_completion_timeout(&c->done, 10 * HZ)) {
		pr_err("\"%s\" never ran\n", c->msg);
		return -ETIMEDOUT;
	}
	return 0;
}

static int nlchan_run_calls(void)
{
	unsigned long flags;
	int err;

	mod_timer(&nlchan_timer, jiffies + 1);
	err = nlchan_wait(&call_timer);
	if (err)
		return err;

	tasklet_schedule(&nlchan_tasklet);
	err = nlchan_wait(&call_tasklet);
	if (err)
		return err;

	irq_work_queue(&nlchan_irq_work);
	err = nlchan_wait(&call_hardirq);
	if (err)
		return err;

	local_irq_save(flags);
	nlchan_call(&call_irqs_off, GFP_ATOMIC, irqs_disabled());
	local_irq_restore(flags);

	nlchan_call(&call_process, GFP_KERNEL, !in_interrupt());
	return 0;
}

/* 0 when every call returned 0 in its context; logs what each gave. */
static int nlchan_verdict(void)
{
	struct nlchan_call *all[] = {
		&call_timer, &call_tasklet, &call_hardirq, &call_irqs_off,
		&call_process,
	};
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		if (all[i]->err || !all[i]->in_context)
			err = -EIO;
	}
	pr_info("5 broadcasts: timer %d%s, tasklet %d%s, hardirq %d%s, irqs-off %d%s, process %d%s\n",
		call_timer.err, call_timer.in_context ? "" : " (not softirq)",
		call_tasklet.err, call_tasklet.in_context ? "" : " (not softirq)",
		call_hardirq.err, call_hardirq.in_context ? "" : " (not hard IRQ)",
		call_irqs_off.err, call_irqs_off.in_context ? "" : " (IRQs on)",
		call_process.err, call_process.in_context ? "" : " (in interrupt)");
	return err;
}

static int __init nlchan_contexts_init(void)
{
	int err;

	init_completion(&call_timer.done);
	init_completion(&call_tasklet.done);
	init_completion(&call_hardirq.done);
	init_completion(&call_irqs_off.done);
	init_completion(&call_process.done);
	nlchan_timer_setup(&nlchan_timer);
	tasklet_init(&nlchan_tasklet, nlchan_tasklet_fn, 0);
	init_irq_work(&nlchan_irq_work, nlchan_irq_work_fn);

	err = nlchan_run_calls();
	del_timer_sync(&nlchan_timer);
	tasklet_kill(&nlchan_tasklet);
	irq_work_sync(&nlchan_irq_work);
	if (!err)
		err = nlchan_verdict();
	return err;
}
module_init(nlchan_contexts_init);

static void __exit nlchan_contexts_exit(void)
{
}
module_exit(nlchan_contexts_exit);

MODULE_DESCRIPTION("Test module: nlchan_broadcast() from every context");
MODULE_LICENSE("GPL");
