// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlchan platform driver. The device bound to an "nlchan,netlink-channel"
 * DT node (or one with the seed's "test-netlink"), or registered by the
 * module with own_device=1, carries the send_msg trigger and the counters
 * in sysfs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/stringify.h>
#include <linux/sysfs.h>

#include "linux/nlchan.h"
#include "compat.h"
#include "nlchan.h"

/*
 * Broadcasts what is written, less one trailing newline. nlchan_broadcast()
 * refuses an empty or too long message. Root only: DEVICE_ATTR_WO is 0200.
 */
static ssize_t send_msg_store(struct device *dev,
			      struct device_attribute *attr,
			      const char *buf, size_t count)
{
	size_t len = count;
	int err;

	if (len && buf[len - 1] == '\n')
		len--;

	err = nlchan_broadcast(buf, len, GFP_KERNEL);
	if (err)
		return err;
	return count;
}
static DEVICE_ATTR_WO(send_msg);

/* The classic netlink unit in use, or "none" (generic netlink only). */
static ssize_t unit_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	int unit = nlchan_unit_in_use();

	if (unit < 0)
		return nlchan_sysfs_emit(buf, "none\n");
	return nlchan_sysfs_emit(buf, "%d\n", unit);
}
static DEVICE_ATTR_RO(unit);

/* Shows the counter of nlchan_stats a counter attribute points at. */
static ssize_t nlchan_counter_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct dev_ext_attribute *ea;

	ea = container_of(attr, struct dev_ext_attribute, attr);
	return nlchan_sysfs_emit(buf, "%lu\n",
				 (unsigned long)atomic_long_read(ea->var));
}

/* A read-only attribute named after, and showing, nlchan_stats.@_name. */
#define NLCHAN_COUNTER_ATTR(_name)					\
	struct dev_ext_attribute dev_attr_##_name = {			\
		.attr.attr.name = __stringify(_name),			\
		.attr.attr.mode = 0444,					\
		.attr.show = nlchan_counter_show,			\
		.var = &nlchan_stats._name,				\
	}

static NLCHAN_COUNTER_ATTR(received);
static NLCHAN_COUNTER_ATTR(replied);
static NLCHAN_COUNTER_ATTR(errors);
static NLCHAN_COUNTER_ATTR(dropped);
static NLCHAN_COUNTER_ATTR(broadcast);
static NLCHAN_COUNTER_ATTR(broadcast_lost);
static NLCHAN_COUNTER_ATTR(broadcast_dropped);
static NLCHAN_COUNTER_ATTR(log_suppressed);

static struct attribute *nlchan_attrs[] = {
	&dev_attr_send_msg.attr,
	&dev_attr_unit.attr,
	&dev_attr_received.attr.attr,
	&dev_attr_replied.attr.attr,
	&dev_attr_errors.attr.attr,
	&dev_attr_dropped.attr.attr,
	&dev_attr_broadcast.attr.attr,
	&dev_attr_broadcast_lost.attr.attr,
	&dev_attr_broadcast_dropped.attr.attr,
	&dev_attr_log_suppressed.attr.attr,
	NULL
};
ATTRIBUTE_GROUPS(nlchan);

static int nlchan_probe(struct platform_device *pdev)
{
	return nlchan_add_groups(&pdev->dev, nlchan_groups);
}

static const struct of_device_id nlchan_of_match[] = {
	{ .compatible = "nlchan,netlink-channel" },
	{ .compatible = "test-netlink" },	/* the seed's */
	{ }
};
MODULE_DEVICE_TABLE(of, nlchan_of_match);

struct platform_driver nlchan_driver = {
	.probe = nlchan_probe,
	.driver = {
		.name = NLCHAN_DRIVER_NAME,
		.of_match_table = nlchan_of_match,
#if NLCHAN_HAVE_DEV_GROUPS
		.dev_groups = nlchan_groups,
#endif
	},
};
