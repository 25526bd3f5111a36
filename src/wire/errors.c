/* Names of the wire errors: the keys drops are counted and traced under. */
#include "wire.h"

static const char *const wire_err_names[WIRE_ERR_COUNT] = {
	[0] = "ok",
	[-WIRE_ERR_SHORT] = "short",
	[-WIRE_ERR_VERSION] = "ip_version",
	[-WIRE_ERR_IHL] = "ip_bad_ihl",
	[-WIRE_ERR_TOTLEN] = "ip_bad_totlen",
	[-WIRE_ERR_IP_CSUM] = "ip_bad_csum",
	[-WIRE_ERR_FRAGMENT] = "ip_fragment",
	[-WIRE_ERR_DOFF] = "tcp_bad_doff",
	[-WIRE_ERR_OPTLEN] = "tcp_bad_optlen",
	[-WIRE_ERR_MSS_ZERO] = "tcp_mss_zero",
	[-WIRE_ERR_TCP_CSUM] = "tcp_bad_csum",
	[-WIRE_ERR_SYN_FIN] = "tcp_syn_fin",
	[-WIRE_ERR_SPACE] = "no_space",
	[-WIRE_ERR_PROTO] = "wrong_proto",
	[-WIRE_ERR_ADDR] = "bad_src_addr",
	[-WIRE_ERR_ICMP_CSUM] = "icmp_bad_csum",
	[-WIRE_ERR_EXTHDR] = "bad_exthdr",
	[-WIRE_ERR_EXT_LIMIT] = "exthdr_limit",
	[-WIRE_ERR_PARAMPROB] = "param_problem",
	[-WIRE_ERR_ND] = "nd_invalid",
};

const char *wire_err_name(int err)
{
	if (err > 0 || err <= -WIRE_ERR_COUNT)
		return "unknown";
	return wire_err_names[-err];
}
