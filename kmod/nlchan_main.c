// SPDX-License-Identifier: GPL-2.0
/*
 * nlchan: a netlink channel between user space and the kernel.
 *
 * Module parameters, init and exit. The netlink socket is created first
 * and released last, so the sysfs trigger and nlchan_broadcast() always
 * have a socket to send on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/platform_device.h>
#include <linux/printk.h>
#include <linux/socket.h>
#include <linux/stringify.h>

#include "linux/nlchan.h"
#include "nlchan.h"

unsigned int nlchan_unit = NLCHAN_UNIT_DEFAULT;
module_param_named(unit, nlchan_unit, uint, 0444);
MODULE_PARM_DESC(unit, "Netlink unit, below 32 (default " __stringify(NLCHAN_UNIT_DEFAULT) ")");

bool nlchan_allow_unprivileged;
module_param_named(allow_unprivileged, nlchan_allow_unprivileged, bool, 0444);
MODULE_PARM_DESC(allow_unprivileged, "Accept requests from senders without CAP_NET_ADMIN (default: no)");

static bool nlchan_own_device;
module_param_named(own_device, nlchan_own_device, bool, 0444);
MODULE_PARM_DESC(own_device, "Register an \"nlchan\" platform device, for boards without a test-netlink DT node (default: no)");

/* The device registered with own_device=1, else NULL. */
static struct platform_device *nlchan_pdev;

static int __init nlchan_init(void)
{
	struct platform_device *pdev;
	int err;

	err = nlchan_netlink_init();
	if (err)
		return err;

	err = platform_driver_register(&nlchan_driver);
	if (err) {
		pr_err("cannot register the platform driver: %d\n", err);
		goto err_netlink_exit;
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

	pr_info("netlink unit %u ready\n", nlchan_unit);
	return 0;

err_unregister_driver:
	platform_driver_unregister(&nlchan_driver);
err_netlink_exit:
	nlchan_netlink_exit();
	return err;
}
module_init(nlchan_init);

static void __exit nlchan_exit(void)
{
	platform_device_unregister(nlchan_pdev);	/* accepts NULL */
	platform_driver_unregister(&nlchan_driver);
	nlchan_netlink_exit();
}
module_exit(nlchan_exit);

MODULE_DESCRIPTION("Netlink channel between user space and the kernel");
MODULE_AUTHOR("nlchan developers");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
/* Opening a socket of the default unit loads the module. */
MODULE_ALIAS_NET_PF_PROTO(PF_NETLINK, NLCHAN_UNIT_DEFAULT);
