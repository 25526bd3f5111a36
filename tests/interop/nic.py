#!/usr/bin/env python3
"""Interface settings the device tests need, through the SIOCETHTOOL ioctl
(no ethtool program needed). Run inside the test's namespace.

  nic.py IFNAME tx-csum off       turn off checksum offload on sending (and
                                  so TSO): a veth peer then sends whole
                                  checksums, which AF_XDP needs (XDP sees
                                  the bytes, not the skb's partial state)
  nic.py IFNAME channels N        N rx and tx queues (veth: real queues)
"""
import array
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
ETHTOOL_GTXCSUM, ETHTOOL_STXCSUM = 0x16, 0x17
ETHTOOL_GCHANNELS, ETHTOOL_SCHANNELS = 0x3c, 0x3d


def ethtool(ifname, fmt, *vals):
    buf = array.array("B", struct.pack(fmt, *vals))
    addr, _ = buf.buffer_info()
    ifr = struct.pack("16sP", ifname.encode(), addr) + b"\0" * 16
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s, SIOCETHTOOL, ifr)
    return struct.unpack(fmt, buf.tobytes())


def main(argv):
    dev, what = argv[1], argv[2]
    if what == "tx-csum" and argv[3] == "off":
        ethtool(dev, "II", ETHTOOL_STXCSUM, 0)
        if ethtool(dev, "II", ETHTOOL_GTXCSUM, 0)[1] != 0:
            sys.exit("%s: tx checksum offload still on" % dev)
    elif what == "channels":
        n = int(argv[3])
        ch = list(ethtool(dev, "9I", ETHTOOL_GCHANNELS, *([0] * 8)))
        ch[0], ch[5], ch[6] = ETHTOOL_SCHANNELS, n, n
        ethtool(dev, "9I", *ch)
        got = ethtool(dev, "9I", ETHTOOL_GCHANNELS, *([0] * 8))[5:7]
        if got != (n, n):
            sys.exit("%s: channels %s, not %d" % (dev, got, n))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
