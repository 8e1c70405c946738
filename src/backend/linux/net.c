/*
 * Networking of a jail with its own network namespace: the loopback
 * interface, and Vnet_nic interfaces moved in (and back out) with
 * rtnetlink.
 */
#define _GNU_SOURCE
#include "backend/linux/lx.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/io.h"

int
lx_net_lo_up(struct lx_fail *f)
{
	struct ifreq ifr;
	int s, rc = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return lx_fail(f, errno, "loopback: socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
		rc = lx_fail(f, errno, "loopback: get flags");
	else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
			rc = lx_fail(f, errno, "loopback: bring up");
	}
	jtd_close(s);
	return rc;
}

struct nlreq {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[64];
};

static void
add_attr_u32(struct nlreq *r, unsigned short type, uint32_t v)
{
	struct rtattr *rta = (struct rtattr *)((char *)r +
	    NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(rta), &v, sizeof(v));
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) +
	    RTA_ALIGN(rta->rta_len);
}

/* Send one request and read its acknowledgement; 0 or an errno. */
static int
nl_talk(struct nlreq *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[1024];
	ssize_t n;
	int s, e = 0;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return errno;
	JTD_RETRY(n, sendto(s, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)));
	if (n < 0)
		e = errno;
	else {
		JTD_RETRY(n, recv(s, buf, sizeof(buf), 0));
		if (n < 0)
			e = errno;
		else if ((size_t)n >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			if (h->nlmsg_type == NLMSG_ERROR)
				e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
		} else
			e = EPROTO;
	}
	jtd_close(s);
	return e;
}

int
lx_net_move(const char *ifname, pid_t pid, int ns_fd, int *err_out)
{
	struct nlreq r;
	unsigned idx = if_nametoindex(ifname);

	if (idx == 0) {
		*err_out = errno != 0 ? errno : ENODEV;
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = (int)idx;
	if (ns_fd >= 0)
		add_attr_u32(&r, IFLA_NET_NS_FD, (uint32_t)ns_fd);
	else
		add_attr_u32(&r, IFLA_NET_NS_PID, (uint32_t)pid);
	*err_out = nl_talk(&r);
	return *err_out == 0 ? 0 : -1;
}
