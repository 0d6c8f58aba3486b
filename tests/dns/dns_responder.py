#!/usr/bin/env python3
"""dns_responder.py - the test resolver in front of nsd (Python stdlib only).

usage: dns_responder.py LISTEN_ADDR UPSTREAM_ADDR

Answers on LISTEN_ADDR:53 (UDP and TCP) as a recursive resolver would:
a name under "timeout.example" gets no answer at all, a name under
"servfail.example" gets SERVFAIL, and every other question goes to nsd at
UPSTREAM_ADDR:53 and its answer comes back with RA set.  The checks'
resolv.conf points here, so tests never reach a real resolver.
"""
import socket
import socketserver
import struct
import sys
import threading

UPSTREAM = None
# Names (and their subdomains) answered with silence or SERVFAIL besides
# the two fixed ones: a test running the responder in its own threads
# makes a healthy name flap.
SILENT = set(["timeout.example"])
FAILING = set(["servfail.example"])


def under(name, names):
    """Whether name is one of names or below one."""
    return any(name == n or name.endswith("." + n) for n in names)


def qname(packet):
    """The question's name, lowercase, without the final dot."""
    labels, off = [], 12
    while off < len(packet):
        n = packet[off]
        off += 1
        if n == 0 or n >= 0xc0:
            break
        labels.append(packet[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels).lower()


def servfail(packet):
    """The question echoed with RCODE 2, QR and RA set."""
    flags = struct.unpack("!H", packet[2:4])[0]
    flags = (flags | 0x8000 | 0x0080) & 0xfff0 | 2
    return packet[:2] + struct.pack("!HHHHH", flags, 1, 0, 0, 0) + \
        packet[12:question_end(packet)]


def question_end(packet):
    off = 12
    while off < len(packet) and packet[off] != 0:
        off += packet[off] + 1
    return off + 5


def with_ra(answer):
    flags = struct.unpack("!H", answer[2:4])[0] | 0x0080
    return answer[:2] + struct.pack("!H", flags) + answer[4:]


def handle(packet, tcp):
    """The answer to send, or None for silence."""
    if len(packet) < 12:
        return None
    name = qname(packet)
    if under(name, SILENT):
        return None
    if under(name, FAILING):
        return servfail(packet)
    if tcp:
        with socket.create_connection((UPSTREAM, 53), timeout=5) as s:
            s.sendall(struct.pack("!H", len(packet)) + packet)
            n = struct.unpack("!H", recv_all(s, 2))[0]
            return with_ra(recv_all(s, n))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(packet, (UPSTREAM, 53))
        return with_ra(s.recv(65535))


def recv_all(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise OSError("short read")
        data += chunk
    return data


class UDP(socketserver.BaseRequestHandler):
    def handle(self):
        packet, sock = self.request
        try:
            answer = handle(packet, False)
        except OSError:
            return
        if answer is not None:
            sock.sendto(answer, self.client_address)


class TCP(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            n = struct.unpack("!H", recv_all(self.request, 2))[0]
            answer = handle(recv_all(self.request, n), True)
        except OSError:
            return
        if answer is not None:
            self.request.sendall(struct.pack("!H", len(answer)) + answer)


class ThreadedUDP(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True
    allow_reuse_address = True


class ThreadedTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global UPSTREAM
    listen, UPSTREAM = sys.argv[1], sys.argv[2]
    udp = ThreadedUDP((listen, 53), UDP)
    tcp = ThreadedTCP((listen, 53), TCP)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    print("ready", flush=True)
    udp.serve_forever()


if __name__ == "__main__":
    main()
