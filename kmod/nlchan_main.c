// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlchan: a netlink channel between user space and the kernel.
 *
 * Module parameters, init and exit (the unit parameter lives with the
 * classic unit, in nlchan_unit.c). The classic unit is created last: from then on a user socket
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
MODULE_VERSION(NLCHAN_VERSION);
/*
 * Looking the family up loads the module. There is no alias for a classic
 * unit: any user's socket() on it would load nlchan, and the unit may be
 * one a driver loaded later needs.
 */
MODULE_ALIAS_GENL_FAMILY(NLCHAN_GENL_NAME);
