/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel version shims. Every kernel version test of nlchan lives here,
 * through NLCHAN_KERNEL_GE(), so the rest of the module reads like current
 * mainline. Oldest supported kernel: 4.9.
 *
 * checkpatch warns that LINUX_VERSION_CODE should be avoided: true in the
 * kernel tree, but an out-of-tree module needs it, once, here.
 */
#ifndef _NLCHAN_COMPAT_H
#define _NLCHAN_COMPAT_H

#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/netlink.h>
#include <linux/preempt.h>
#include <linux/sysfs.h>
#include <linux/version.h>
#include <net/genetlink.h>
#include <net/netlink.h>

/* True when building against kernel a.b.c or later. */
#define NLCHAN_KERNEL_GE(a, b, c)	(KERNEL_VERSION(a, b, c) <= LINUX_VERSION_CODE)

/* in_hardirq() took over from in_irq() in 5.11. */
#ifndef in_hardirq
#define in_hardirq()	in_irq()
#endif

/*
 * 4.12 added extended acks: netlink_ack() takes a struct netlink_ext_ack.
 * nlchan reports plain errnos.
 */
#if NLCHAN_KERNEL_GE(4, 12, 0)
static inline void nlchan_ack(struct sk_buff *skb, struct nlmsghdr *nlh,
			      int err)
{
	netlink_ack(skb, nlh, err, NULL);
}
#else
static inline void nlchan_ack(struct sk_buff *skb, struct nlmsghdr *nlh,
			      int err)
{
	netlink_ack(skb, nlh, err);
}
#endif

/*
 * Extended-ack messages for generic netlink requests: genl_info has had an
 * extack since 4.12, with NL_SET_ERR_MSG(); NL_SET_ERR_MSG_ATTR(), which
 * also points at the attribute, came in a later release. Before 4.12, the
 * errno alone is reported.
 */
#if NLCHAN_KERNEL_GE(4, 12, 0) && defined(NL_SET_ERR_MSG_ATTR)
#define nlchan_genl_err_msg(info, attr, msg) \
	NL_SET_ERR_MSG_ATTR((info)->extack, attr, msg)
#elif NLCHAN_KERNEL_GE(4, 12, 0)
#define nlchan_genl_err_msg(info, attr, msg) \
	NL_SET_ERR_MSG((info)->extack, msg)
#else
#define nlchan_genl_err_msg(info, attr, msg) do { } while (0)
#endif

/*
 * The same for a message chosen at run time (NL_SET_ERR_MSG() takes only
 * a literal): what the macro does, without its tracepoint.
 */
#if NLCHAN_KERNEL_GE(4, 12, 0)
static inline void nlchan_genl_set_msg(struct genl_info *info, const char *msg)
{
	if (info->extack)
		info->extack->_msg = msg;
}
#else
static inline void nlchan_genl_set_msg(struct genl_info *info, const char *msg)
{
}
#endif

/*
 * Generic netlink registration. 4.10 made the family static, with its
 * operations and groups in it (4.9 hands them to
 * genl_register_family_with_ops_groups()); 5.2 moved the attribute policy
 * from each operation to the family. Operations are written as struct
 * genl_ops, which every kernel since 4.9 takes (5.10 added small_ops as
 * an alternative, 6.1 resv_start_op, left at 0 as new families should).
 */
#if NLCHAN_KERNEL_GE(5, 2, 0)
#define NLCHAN_GENL_OP_POLICY(policy)
#define NLCHAN_GENL_FAMILY_POLICY(_policy)	.policy = (_policy),
#else
#define NLCHAN_GENL_OP_POLICY(_policy)		.policy = (_policy),
#define NLCHAN_GENL_FAMILY_POLICY(policy)
#endif

#define NLCHAN_HAVE_STATIC_GENL_FAMILY	NLCHAN_KERNEL_GE(4, 10, 0)

#if NLCHAN_HAVE_STATIC_GENL_FAMILY
#define nlchan_genl_register(family, ops, mcgrps) genl_register_family(family)
#else
#define nlchan_genl_register(family, ops, mcgrps) \
	genl_register_family_with_ops_groups(family, ops, mcgrps)
#endif

/* sysfs_emit() arrived in 5.10. */
#if NLCHAN_KERNEL_GE(5, 10, 0)
#define nlchan_sysfs_emit	sysfs_emit
#else
#define nlchan_sysfs_emit(buf, fmt, ...) \
	scnprintf(buf, PAGE_SIZE, fmt, ##__VA_ARGS__)
#endif

/*
 * From 5.4 the driver core adds a driver's .dev_groups to each device it
 * binds and removes them on unbind. Before 5.4, probe calls
 * nlchan_add_groups(), which does the same with devres. Either way the
 * driver needs no .remove, whose return type changed in 6.11.
 */
#define NLCHAN_HAVE_DEV_GROUPS	NLCHAN_KERNEL_GE(5, 4, 0)

#if NLCHAN_HAVE_DEV_GROUPS
static inline int nlchan_add_groups(struct device *dev,
				    const struct attribute_group **groups)
{
	return 0;
}
#else
static inline void nlchan_release_groups(struct device *dev, void *res)
{
	sysfs_remove_groups(&dev->kobj, *(const struct attribute_group ***)res);
}

static inline int nlchan_add_groups(struct device *dev,
				    const struct attribute_group **groups)
{
	const struct attribute_group ***res;
	int err;

	res = devres_alloc(nlchan_release_groups, sizeof(*res), GFP_KERNEL);
	if (!res)
		return -ENOMEM;

	err = sysfs_create_groups(&dev->kobj, groups);
	if (err) {
		devres_free(res);
		return err;
	}

	*res = groups;
	devres_add(dev, res);
	return 0;
}
#endif

#endif /* _NLCHAN_COMPAT_H */
