#!/usr/bin/env python3
"""An L2 forwarder that reorders and repeats TCP segments, for tests/passive/tcp_test.py.

    reorder_fwd.py IF_A IF_B PORT STATS_FILE

Runs inside a network namespace that holds two veth ends, IF_A (towards the SRC) and IF_B
(towards the recorders), and copies every Ethernet frame between them with AF_PACKET sockets:
a hub with two ports. TCP segments with data towards PORT (the primary's SIP port) are not
passed in order: each second data segment overtakes the one before it (that one is held until
the next arrives, or for at most 40 ms), and every fifth is sent twice (a retransmission), so
what the recorders' side of the link carries is out of order and repeated, as a lossy WAN
would make it. The receiving TCP stack puts it right; a capture on that link must too.
Offloads (TSO/GSO/GRO, checksum) must be off on every interface on the path, so frames are
MTU-sized with real checksums (tcp_test.py switches them off). Counts go to STATS_FILE as JSON
every 0.5 s and at SIGTERM: {"frames", "data_segments", "reordered", "repeated"}.
"""
import json
import os
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tcp_data_to(frame, port):
    """True for an IPv4 TCP segment with payload to `port`."""
    if len(frame) < 14 + 20 + 20 or frame[12:14] != b"\x08\x00":
        return False
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[9] != 6:
        return False
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:]
    dport = struct.unpack("!H", tcp[2:4])[0]
    doff = (tcp[12] >> 4) * 4
    return dport == port and total - ihl - doff > 0


def main():
    if_a, if_b, port, stats_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    socks = {}
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks[name] = s
    other = {if_a: socks[if_b], if_b: socks[if_a]}
    stats = {"frames": 0, "data_segments": 0, "reordered": 0, "repeated": 0}
    held = None  # (frame, since)
    running = [True]

    def write_stats():
        with open(stats_path + ".tmp", "w") as f:
            json.dump(stats, f)
        os.replace(stats_path + ".tmp", stats_path)

    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    next_stats = time.time() + 0.5
    while running[0]:
        timeout = 0.04 if held else 0.5
        try:
            ready, _, _ = select.select(list(socks.values()), [], [], timeout)
        except InterruptedError:
            continue
        now = time.time()
        if held and now - held[1] >= 0.04:
            socks[if_b].send(held[0])
            held = None
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            stats["frames"] += 1
            out = other[addr[0]]
            if addr[0] == if_a and tcp_data_to(frame, port):
                stats["data_segments"] += 1
                if held is None and stats["data_segments"] % 2 == 1:
                    held = (frame, now)
                    continue
                out.send(frame)
                if held is not None:
                    out.send(held[0])  # the earlier segment after the later one
                    stats["reordered"] += 1
                    held = None
                if stats["data_segments"] % 5 == 0:
                    out.send(frame)
                    stats["repeated"] += 1
                continue
            out.send(frame)
        if now >= next_stats:
            write_stats()
            next_stats = now + 0.5
    if held:
        socks[if_b].send(held[0])
    write_stats()


if __name__ == "__main__":
    main()
