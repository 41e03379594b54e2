// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlchan-squatter: a test module that holds classic netlink units the way
 * Allwinner BSP drivers do (XRadio Wi-Fi's NL_FOR_XRADIO 30, the sunxi PCM
 * driver's NETLINK_PCM_SUNXI 31), so that the tests can show nlchan and its
 * app living next to them.
 *
 * For each unit it holds, it creates a kernel socket with one multicast
 * group (any user may join it). It answers every datagram it receives with
 * a foreign message, so a client that talks to it by mistake gets garbage
 * rather than silence, and it multicasts a foreign message to group 1 of
 * every unit when text is written to its "multicast" parameter:
 *
 *   insmod nlchan-squatter.ko [units=30,31]
 *   echo text >/sys/module/nlchan_squatter/parameters/multicast
 *   cat /sys/module/nlchan_squatter/parameters/received
 *
 * Its message types are nlchan's numbers on purpose (a BSP driver may use
 * any number): a client that mistook this module for nlchan would print
 * the squatter's messages as replies and broadcasts, which the tests catch.
 * It is a test tool, never installed by the product's packages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netlink.h>
#include <linux/printk.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

/* Message types: the numbers of nlchan's REPLY and BROADCAST, on purpose. */
#define SQUATTER_MSG_ANSWER	0x12
#define SQUATTER_MSG_EVENT	0x13

/* The multicast group of every unit. */
#define SQUATTER_GROUP		1

/* Longest text a message carries. */
#define SQUATTER_TEXT_MAX	96

#define SQUATTER_UNITS_MAX	4

static unsigned int squatter_units[SQUATTER_UNITS_MAX] = { 30, 31 };
static unsigned int squatter_nr_units = 2;
module_param_array_named(units, squatter_units, uint, &squatter_nr_units, 0444);
MODULE_PARM_DESC(units, "Netlink units to hold (default 30,31, as XRadio and sunxi PCM)");

/* Kernel sockets, one per unit; NULL when not (or no longer) held. */
static struct sock *squatter_socks[SQUATTER_UNITS_MAX];

/* Datagrams received on any unit. */
static atomic_t squatter_received = ATOMIC_INIT(0);

/* Messages multicast, per text written to "multicast". */
static atomic_t squatter_multicast_count = ATOMIC_INIT(0);

/* Builds a message of @type carrying "squatter unit N: @text". */
static struct sk_buff *squatter_message(unsigned int unit, u16 type, u32 seq,
					const char *text, size_t len)
{
	char buf[SQUATTER_TEXT_MAX + 32];
	struct nlmsghdr *nlh;
	struct sk_buff *skb;
	int n;

	n = scnprintf(buf, sizeof(buf), "squatter unit %u: %.*s", unit,
		      (int)min_t(size_t, len, SQUATTER_TEXT_MAX), text);
	skb = nlmsg_new(n, GFP_KERNEL);
	if (!skb)
		return NULL;
	nlh = nlmsg_put(skb, 0, seq, type, n, 0);
	if (!nlh) {
		nlmsg_free(skb);
		return NULL;
	}
	memcpy(nlmsg_data(nlh), buf, n);
	return skb;
}

/*
 * Answers any datagram with one foreign message, whatever it held. @skb
 * belongs to the receiving kernel socket, whose protocol is the unit.
 */
static void squatter_input(struct sk_buff *skb)
{
	static const char text[] = "not nlchan";
	unsigned int unit = skb->sk->sk_protocol;
	struct sk_buff *answer;
	u32 seq = 0;

	atomic_inc(&squatter_received);
	if (skb->len >= NLMSG_HDRLEN)
		seq = nlmsg_hdr(skb)->nlmsg_seq;

	answer = squatter_message(unit, SQUATTER_MSG_ANSWER, seq, text,
				  sizeof(text) - 1);
	if (answer)
		nlmsg_unicast(skb->sk, answer, NETLINK_CB(skb).portid);
}

/*
 * Writing to "multicast" sends the text (one trailing newline dropped) to
 * group 1 of every unit held. Runs under the module's parameter lock, which
 * squatter_exit() takes before it releases the sockets.
 */
static int squatter_multicast_set(const char *val, const struct kernel_param *kp)
{
	size_t len = strlen(val);
	unsigned int i;

	if (len && val[len - 1] == '\n')
		len--;
	if (!len)
		return -EINVAL;

	for (i = 0; i < squatter_nr_units; i++) {
		struct sk_buff *skb;
		int err;

		if (!squatter_socks[i])
			return -ENODEV;
		skb = squatter_message(squatter_units[i], SQUATTER_MSG_EVENT,
				       0, val, len);
		if (!skb)
			return -ENOMEM;
		/* -ESRCH: nobody listens, as usual for a BSP driver. */
		err = nlmsg_multicast(squatter_socks[i], skb, 0,
				      SQUATTER_GROUP, GFP_KERNEL);
		if (err && err != -ESRCH && err != -ENOBUFS)
			return err;
		atomic_inc(&squatter_multicast_count);
	}
	return 0;
}

static int squatter_multicast_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n", atomic_read(&squatter_multicast_count));
}

static const struct kernel_param_ops squatter_multicast_ops = {
	.set = squatter_multicast_set,
	.get = squatter_multicast_get,
};
module_param_cb(multicast, &squatter_multicast_ops, NULL, 0600);
MODULE_PARM_DESC(multicast, "Write: multicast the text to group 1 of every unit; read: messages multicast so far");

static int squatter_received_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%d\n", atomic_read(&squatter_received));
}

static const struct kernel_param_ops squatter_received_ops = {
	.get = squatter_received_get,
};
module_param_cb(received, &squatter_received_ops, NULL, 0444);
MODULE_PARM_DESC(received, "Datagrams received on any unit (read-only)");

static void squatter_release(void)
{
	unsigned int i;

	kernel_param_lock(THIS_MODULE);
	for (i = 0; i < SQUATTER_UNITS_MAX; i++) {
		netlink_kernel_release(squatter_socks[i]);	/* accepts NULL */
		squatter_socks[i] = NULL;
	}
	kernel_param_unlock(THIS_MODULE);
}

static int __init squatter_init(void)
{
	struct netlink_kernel_cfg cfg = {
		.groups	= SQUATTER_GROUP,
		.flags	= NL_CFG_F_NONROOT_RECV,
		.input	= squatter_input,
	};
	unsigned int i;
	int err;

	for (i = 0; i < squatter_nr_units; i++) {
		unsigned int unit = squatter_units[i];
		struct sock *sk;

		if (unit >= MAX_LINKS) {
			pr_err("netlink unit %u is out of range\n", unit);
			err = -EINVAL;
			goto err_release;
		}
		sk = netlink_kernel_create(&init_net, unit, &cfg);
		if (!sk) {
			pr_err("netlink unit %u is already in use\n", unit);
			err = -EBUSY;
			goto err_release;
		}
		kernel_param_lock(THIS_MODULE);
		squatter_socks[i] = sk;
		kernel_param_unlock(THIS_MODULE);
		pr_info("holding netlink unit %u\n", unit);
	}
	return 0;

err_release:
	squatter_release();
	return err;
}
module_init(squatter_init);

static void __exit squatter_exit(void)
{
	squatter_release();
}
module_exit(squatter_exit);

MODULE_DESCRIPTION("Test module holding netlink units as Allwinner BSP drivers do");
MODULE_LICENSE("GPL");
