/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of the nlchan module.
 */
#ifndef _NLCHAN_H
#define _NLCHAN_H

#include <linux/atomic.h>
#include <linux/platform_device.h>
#include <linux/types.h>

/* Name of the platform driver, and of the device own_device=1 registers. */
#define NLCHAN_DRIVER_NAME	"nlchan"

/* Module parameters (nlchan_main.c); read-only once the module is loaded. */
extern unsigned int nlchan_unit;
extern bool nlchan_allow_unprivileged;

/*
 * Counters (nlchan_netlink.c), shown in sysfs. After any sequence of
 * requests: received == replied + errors + dropped replies.
 */
struct nlchan_stats {
	atomic_long_t received;		/* requests, counted before checks */
	atomic_long_t replied;		/* replies netlink_unicast() took */
	atomic_long_t broadcast;	/* broadcasts, listened to or not */
	atomic_long_t dropped;		/* lost replies; -ENOBUFS broadcasts */
	atomic_long_t errors;		/* requests answered with an errno */
};

extern struct nlchan_stats nlchan_stats;

int nlchan_netlink_init(void);
void nlchan_netlink_exit(void);

extern struct platform_driver nlchan_driver;

#endif /* _NLCHAN_H */
