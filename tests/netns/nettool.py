#!/usr/bin/env python3
"""Small socket tool for the netns self-test (tests/netns/selftest.sh).

Run inside a namespace with `netns_exec NS python3 nettool.py SUBCOMMAND ...`.
Every subcommand is bounded in time; none talks to anything but the address it
is given (always a documentation address inside the test namespaces).

Subcommands
  serve --tcp PORT --udp PORT
      "What is my address" + echo server.  TCP: on accept, sends
      "seen IP:PORT\\n", then echoes every line back.  UDP: answers every
      datagram with "seen IP:PORT <payload>".  Logs "tcp from IP:PORT" and
      "udp from IP:PORT <payload>" to stdout; prints "ready" once listening.
      Runs until killed (or --lifetime seconds, default 600).
  tcp-probe HOST PORT [--bind-port P] [--timeout S]
  udp-probe HOST PORT [--bind-port P] [--timeout S] [--payload TEXT]
      Connect / send, read the server's "seen" answer, print
      "local PORT seen IP:PORT" and exit 0; print the reason and exit 1 on
      failure (refused, unreachable, timeout).
  punch --bind-port P --peer IP:PORT --tag NAME [--duration S]
      UDP hole punch: send "punch NAME n" to the peer every 100 ms and listen.
      On the first datagram from the peer, keep sending for one more second
      (so the peer gets ours too), print "received from IP:PORT: MSG" and
      exit 0.  Exit 1 with "nothing received" after --duration seconds.
  stream HOST PORT [--interval S] [--lifetime S]
      One TCP connection to `serve`; sends "N\\n" every interval and prints
      "echo N" for every line echoed back (flushed at once).  Never
      reconnects: on any socket error prints "error ..." and exits 2.
"""
import argparse
import select
import socket
import sys
import threading
import time


def out(*a):
    print(*a, flush=True)


def cmd_serve(args):
    deadline = time.monotonic() + args.lifetime
    socks = []
    if args.tcp:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind(("0.0.0.0", args.tcp))
        t.listen(16)
        socks.append(t)
    if args.udp:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", args.udp))
        socks.append(u)
    out("ready")

    def handle(conn, peer):
        try:
            conn.sendall(("seen %s:%d\n" % peer).encode())
            f = conn.makefile("rb")
            for line in f:
                conn.sendall(line)
        except OSError:
            pass
        finally:
            conn.close()

    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 0.5)
        for s in r:
            if s.type == socket.SOCK_STREAM:
                conn, peer = s.accept()
                out("tcp from %s:%d" % peer)
                threading.Thread(target=handle, args=(conn, peer), daemon=True).start()
            else:
                data, peer = s.recvfrom(2048)
                text = data.decode(errors="replace").strip()
                out("udp from %s:%d %s" % (peer[0], peer[1], text))
                s.sendto(("seen %s:%d %s" % (peer[0], peer[1], text)).encode(), peer)
    return 0


def cmd_tcp_probe(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(args.timeout)
    if args.bind_port:
        s.bind(("0.0.0.0", args.bind_port))
    try:
        s.connect((args.host, args.port))
        local = s.getsockname()[1]
        line = s.makefile("rb").readline().decode().strip()
    except socket.timeout:
        out("failed: timeout after %ss" % args.timeout)
        return 1
    except OSError as e:
        out("failed: %s" % (e.strerror or e))
        return 1
    if not line.startswith("seen "):
        out("failed: unexpected answer %r" % line)
        return 1
    out("local %d %s" % (local, line))
    return 0


def cmd_udp_probe(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", args.bind_port or 0))
    local = s.getsockname()[1]
    deadline = time.monotonic() + args.timeout
    # A few tries: UDP may be lost; each try is the same flow (same ports).
    while time.monotonic() < deadline:
        try:
            s.sendto(args.payload.encode(), (args.host, args.port))
        except OSError as e:
            out("failed: %s" % (e.strerror or e))
            return 1
        r, _, _ = select.select([s], [], [], min(0.3, max(0.0, deadline - time.monotonic())))
        if r:
            try:
                data, peer = s.recvfrom(2048)
            except OSError as e:
                out("failed: %s" % (e.strerror or e))
                return 1
            text = data.decode(errors="replace").strip()
            if text.startswith("seen "):
                out("local %d %s" % (local, " ".join(text.split()[:2])))
                return 0
    out("failed: no answer within %ss" % args.timeout)
    return 1


def parse_addr(a):
    host, port = a.rsplit(":", 1)
    return host, int(port)


def cmd_punch(args):
    peer = parse_addr(args.peer)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", args.bind_port))
    start = time.monotonic()
    deadline = start + args.duration
    got = None
    n = 0
    next_send = start
    while True:
        now = time.monotonic()
        if got is None and now >= deadline:
            break
        if got is not None and now >= got[2] + 1.0:
            break
        if now >= next_send:
            n += 1
            try:
                s.sendto(("punch %s %d" % (args.tag, n)).encode(), peer)
            except OSError:
                pass  # e.g. ECONNREFUSED from an ICMP error: keep trying
            next_send = now + 0.1
        r, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
        if r:
            try:
                data, src = s.recvfrom(2048)
            except OSError:
                continue
            if got is None:
                got = (src, data.decode(errors="replace"), time.monotonic())
    if got is None:
        out("nothing received from %s:%d in %ss (sent %d)" % (peer[0], peer[1], args.duration, n))
        return 1
    out("received from %s:%d: %s (after %.2fs, sent %d)" % (got[0][0], got[0][1], got[1], got[2] - start, n))
    return 0


def cmd_stream(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((args.host, args.port))
    except OSError as e:
        out("error connect: %s" % e)
        return 2
    out("connected local %d" % s.getsockname()[1])
    s.setblocking(False)
    buf = b""
    n = 0
    deadline = time.monotonic() + args.lifetime
    next_send = time.monotonic()
    pending = b""
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_send:
            n += 1
            pending += b"%d\n" % n
            next_send = now + args.interval
        try:
            if pending:
                sent = s.send(pending)
                pending = pending[sent:]
        except BlockingIOError:
            pass
        except OSError as e:
            out("error send: %s" % e)
            return 2
        r, _, _ = select.select([s], [], [], max(0.0, next_send - time.monotonic()))
        if r:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                out("error recv: %s" % e)
                return 2
            if not data:
                out("error: connection closed by peer")
                return 2
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                if not text.startswith("seen "):
                    out("echo %s" % text)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("serve")
    a.add_argument("--tcp", type=int, default=0)
    a.add_argument("--udp", type=int, default=0)
    a.add_argument("--lifetime", type=float, default=600)
    for name in ("tcp-probe", "udp-probe"):
        a = sub.add_parser(name)
        a.add_argument("host")
        a.add_argument("port", type=int)
        a.add_argument("--bind-port", type=int, default=0)
        a.add_argument("--timeout", type=float, default=2)
        a.add_argument("--payload", default="probe")
    a = sub.add_parser("punch")
    a.add_argument("--bind-port", type=int, required=True)
    a.add_argument("--peer", required=True)
    a.add_argument("--tag", default="x")
    a.add_argument("--duration", type=float, default=3)
    a = sub.add_parser("stream")
    a.add_argument("host")
    a.add_argument("port", type=int)
    a.add_argument("--interval", type=float, default=0.1)
    a.add_argument("--lifetime", type=float, default=120)
    args = p.parse_args()
    fn = {
        "serve": cmd_serve,
        "tcp-probe": cmd_tcp_probe,
        "udp-probe": cmd_udp_probe,
        "punch": cmd_punch,
        "stream": cmd_stream,
    }[args.cmd]
    return fn(args)


if __name__ == "__main__":
    sys.exit(main())
