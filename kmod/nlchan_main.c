// SPDX-License-Identifier: GPL-2.0
/*
 * nlchan: a netlink channel between user space and the kernel.
 *
 * Module parameters, init and exit. The module takes no classic netlink
 * unit unless unit=N asks for one: on Allwinner BSP kernels 30 and 31
 * belong to Wi-Fi drivers that load late and fail silently when their unit
 * is taken. The classic unit is created last: from then on a user socket
 * of the unit may hold a reference on the module, so nothing may fail
 * after it. Until then broadcasts go to the generic netlink family alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/platform_device.h>
#include <linux/printk.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <net/genetlink.h>

#include "linux/nlchan.h"
#include "compat.h"
#include "nlchan.h"

/*
 * Before 5.x mainline and its stable backports (Tina's 4.9.118 has none)
 * module_init() and module_exit() declare their aliases without the
 * functions' attributes, which gcc 9 and later report (-Wmissing-
 * attributes). Silenced in this file only, where module_init() is, and in
 * such trees only.
 */
#if !defined(__copy) && !defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 9
#pragma GCC diagnostic ignored "-Wmissing-attributes"
#endif

unsigned int nlchan_unit_wanted = NLCHAN_UNIT_NONE;

/*
 * unit=N: the classic unit, which must then be free (the seed's clients use
 * NLCHAN_UNIT_SEED, 30). Units the kernel names itself (below
 * NLCHAN_UNIT_MIN: NETLINK_USERSOCK and the like) are refused: a module
 * socket there would not own the unit. unit=none, the default: no classic
 * unit, generic netlink only.
 */
static int nlchan_unit_set(const char *val, const struct kernel_param *kp)
{
	unsigned int unit;
	int err;

	if (sysfs_streq(val, "none")) {
		nlchan_unit_wanted = NLCHAN_UNIT_NONE;
		return 0;
	}

	err = kstrtouint(val, 0, &unit);
	if (err)
		return err;
	if (unit < NLCHAN_UNIT_MIN || unit >= NLCHAN_UNIT_LIMIT) {
		pr_err("unit=%u refused: units below %d are the kernel's own, and there are %d (a free unit from %d to %d is needed)\n",
		       unit, NLCHAN_UNIT_MIN, NLCHAN_UNIT_LIMIT,
		       NLCHAN_UNIT_MIN, NLCHAN_UNIT_LIMIT - 1);
		return -EINVAL;
	}
	nlchan_unit_wanted = unit;
	return 0;
}

/* Reads back the unit in use, or "none" (the generic netlink family only). */
static int nlchan_unit_get(char *buf, const struct kernel_param *kp)
{
	char text[12] = "none";
	char *p = text;
	const struct kernel_param text_kp = { .arg = &p };
	int unit = nlchan_unit_in_use();

	if (unit >= 0)
		snprintf(text, sizeof(text), "%d", unit);
	/* param_get_charp() ends the line as this kernel's sysfs expects. */
	return param_get_charp(buf, &text_kp);
}

static const struct kernel_param_ops nlchan_unit_ops = {
	.set = nlchan_unit_set,
	.get = nlchan_unit_get,
};

module_param_cb(unit, &nlchan_unit_ops, NULL, 0444);
MODULE_PARM_DESC(unit,
		 "Classic netlink unit for the seed's clients (they use "
		 __stringify(NLCHAN_UNIT_SEED) "), at least "
		 __stringify(NLCHAN_UNIT_MIN) " and below "
		 __stringify(NLCHAN_UNIT_LIMIT)
		 ", which must be free; reads back the unit in use (default: none, generic netlink only)");

bool nlchan_allow_unprivileged;
module_param_named(allow_unprivileged, nlchan_allow_unprivileged, bool, 0444);
MODULE_PARM_DESC(allow_unprivileged, "Accept requests from senders without CAP_NET_ADMIN (default: no)");

static bool nlchan_own_device;
module_param_named(own_device, nlchan_own_device, bool, 0444);
MODULE_PARM_DESC(own_device, "Register an \"nlchan\" platform device, for boards without the device-tree node (default: no)");

/* The device registered with own_device=1, else NULL. */
static struct platform_device *nlchan_pdev;

static int __init nlchan_init(void)
{
	struct platform_device *pdev;
	int err;

	nlchan_request_init();
	err = nlchan_genl_init();
	if (err)
		return err;

	err = platform_driver_register(&nlchan_driver);
	if (err) {
		pr_err("cannot register the platform driver: %d\n", err);
		goto err_genl_exit;
	}

	if (nlchan_own_device) {
		pdev = platform_device_register_simple(NLCHAN_DRIVER_NAME,
						       PLATFORM_DEVID_NONE,
						       NULL, 0);
		if (IS_ERR(pdev)) {
			err = PTR_ERR(pdev);
			pr_err("cannot register the platform device: %d\n",
			       err);
			goto err_unregister_driver;
		}
		nlchan_pdev = pdev;
	}

	err = nlchan_unit_init();
	if (err)
		goto err_unregister_device;

	if (nlchan_unit_in_use() >= 0)
		pr_info("netlink unit %d and generic netlink family %s ready\n",
			nlchan_unit_in_use(), NLCHAN_GENL_NAME);
	else
		pr_info("generic netlink family %s ready\n", NLCHAN_GENL_NAME);
	return 0;

err_unregister_device:
	platform_device_unregister(nlchan_pdev);	/* accepts NULL */
	nlchan_pdev = NULL;
err_unregister_driver:
	platform_driver_unregister(&nlchan_driver);
	nlchan_broadcast_exit();
err_genl_exit:
	nlchan_genl_exit();
	return err;
}
module_init(nlchan_init);

/*
 * Not init's reverse on purpose: the device and driver go first, so that
 * no send_msg write can start a broadcast while the transports go; then
 * the broadcasts queued from hard-IRQ context are sent, while both
 * transports still exist; then the classic unit (no user socket holds the
 * module any more, or rmmod would have been refused) and the family.
 */
static void __exit nlchan_exit(void)
{
	platform_device_unregister(nlchan_pdev);	/* accepts NULL */
	platform_driver_unregister(&nlchan_driver);
	nlchan_broadcast_exit();
	nlchan_unit_exit();
	nlchan_genl_exit();
}
module_exit(nlchan_exit);

MODULE_DESCRIPTION("Netlink channel between user space and the kernel");
MODULE_AUTHOR("nlchan developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
/*
 * Looking the family up loads the module. There is no alias for a classic
 * unit: any user's socket() on it would load nlchan, and the unit may be
 * one a driver loaded later needs.
 */
MODULE_ALIAS_GENL_FAMILY(NLCHAN_GENL_NAME);
