#!/usr/bin/python3
# delaylink.py: a delaying Ethernet wire between two interfaces in two namespaces (minicloud, SPEC §9).
"""usage: delaylink.py NS_A DEV_A NS_B DEV_B DELAY_MS

Forwards every frame received on DEV_A (in namespace NS_A) to DEV_B (in NS_B) and back, each DELAY_MS
later, in order: what `tc qdisc ... netem delay` does, for kernels built without sch_netem (the machine
minicloud was written on has none). Frames keep their GSO and checksum state (PACKET_VNET_HDR), so a TCP
stream is not cut into MTU-sized writes here. Runs until killed."""
import collections
import select
import sys
import time

from netns import PACKET_OUTGOING, packet_socket


def main():
    if len(sys.argv) != 6:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    a = packet_socket(sys.argv[1], sys.argv[2], vnet_hdr=True)
    b = packet_socket(sys.argv[3], sys.argv[4], vnet_hdr=True)
    delay = float(sys.argv[5]) / 1000.0
    peer = {a: b, b: a}
    queue = collections.deque()  # (due, socket to send on, frame): one delay, so due times stay ordered
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        ready, _, _ = select.select([a, b], [], [], timeout)
        now = time.monotonic()
        for s in ready:
            for _ in range(256):
                try:
                    frame, addr = s.recvfrom(70000)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:
                    queue.append((now + delay, peer[s], frame))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, s, frame = queue.popleft()
            try:
                s.send(frame)
            except OSError:
                pass  # a full or vanished link drops the frame, as a wire would


if __name__ == "__main__":
    sys.exit(main())
