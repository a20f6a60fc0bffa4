#!/usr/bin/env python3
"""Key-to-screen latency of a terminal program, measured without a meter's own delay.

Runs PROGRAM in a pseudo-terminal of COLSxROWS, waits for --ready TEXT, then for each
--press KEY=TEXT pair (in order, --rounds times): sends KEY and records every chunk the program
writes, with the time it was read, for --window ms, reading as fast as it arrives and parsing
nothing meanwhile. Only afterwards are the chunks fed to a terminal emulator (pyte), one by one:
the latency of the press is the read time of the last chunk of the frame that puts TEXT on the
screen. A
meter that parses while it reads (tuimeter) adds its parsing and its read windows (~20 ms) to
every figure; here what is left is the program and the kernel.

Prints one JSON object: {"latencies_ms": [...], "median_ms": M, "missed": N}.

  keylat.py --cols 120 --rows 40 --ready 'Customers (' --prepare 'Enter=Audit log' \
      --prepare '3=Logs ·' --settle 3000 --press '4=Health ·' --press '3=Logs ·' --rounds 5 -- nbmsp
"""
import argparse
import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import time

try:
    import pyte
except ImportError:  # pragma: no cover
    sys.exit("keylat needs pyte: pip install pyte")

# Chunks closer than this (seconds) belong to one frame: a frame bigger than the pty's buffer
# arrives in pieces microseconds apart.
FRAME_GAP = 0.002

NAMED = {"Enter": b"\r", "Esc": b"\x1b", "Tab": b"\t", "Up": b"\x1b[A", "Down": b"\x1b[B"}


def key_bytes(name):
    """A named key, `text:STRING` (typed as is), or the characters given."""
    if name.startswith("text:"):
        return name[len("text:"):].encode()
    return NAMED.get(name, name.encode())


class Term:
    """The program in its pty and the screen it has drawn so far."""

    def __init__(self, cols, rows, argv):
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        pid, fd = pty.fork()
        if pid == 0:
            os.execvp(argv[0], argv)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.pid, self.fd = pid, fd

    def read_for(self, seconds):
        """Every chunk written within `seconds`, with its read time; nothing parsed."""
        chunks, end = [], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                chunks.append((time.monotonic(), data))
        return chunks

    def shows(self, text):
        return any(text in line for line in self.screen.display)

    def feed_until(self, chunks, text):
        """Feeds chunks in order; the read time of the last chunk of the burst (chunks less than
        FRAME_GAP apart) in which `text` came to show: the frame that shows it, written whole."""
        seen, last = None, None
        for t, data in chunks:
            if seen is not None and t - last > FRAME_GAP:
                break
            self.stream.feed(data)
            if seen is None and self.shows(text):
                seen = t
            last = t
        if seen is not None:
            # What came after the frame still reaches the screen, for the next press.
            for t, data in chunks:
                if t > last:
                    self.stream.feed(data)
            return last
        return None

    def wait_for(self, text, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for _, data in self.read_for(0.05):
                self.stream.feed(data)
            if self.shows(text):
                return True
        return False

    def send(self, name):
        os.write(self.fd, key_bytes(name))
        return time.monotonic()

    def close(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def pair(s):
    key, _, text = s.partition("=")
    return key, text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--prepare", action="append", default=[], type=pair, help="KEY=TEXT before measuring")
    ap.add_argument("--settle", type=int, default=0, help="ms to let the program run after preparing")
    ap.add_argument("--press", action="append", default=[], type=pair, help="KEY=TEXT to time")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--window", type=int, default=500, help="ms recorded after each press")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("argv", nargs="+")
    a = ap.parse_args()
    term = Term(a.cols, a.rows, a.argv)
    try:
        if not term.wait_for(a.ready, a.timeout):
            sys.exit(f"keylat: {a.ready!r} never showed")
        for key, text in a.prepare:
            term.send(key)
            if not term.wait_for(text, a.timeout):
                sys.exit(f"keylat: {text!r} never showed after {key}")
        for _, data in term.read_for(a.settle / 1000):
            term.stream.feed(data)
        latencies, missed = [], 0
        for _ in range(a.rounds):
            for key, text in a.press:
                if term.shows(text):
                    sys.exit(f"keylat: {text!r} is on the screen before {key}: it cannot time {key}")
                sent = term.send(key)
                seen = term.feed_until(term.read_for(a.window / 1000), text)
                if seen is None:
                    missed += 1
                    term.wait_for(text, a.timeout)
                else:
                    latencies.append(round((seen - sent) * 1000, 2))
        median = statistics.median(latencies) if latencies else None
        print(json.dumps({"latencies_ms": latencies, "median_ms": median, "missed": missed}))
    finally:
        term.close()


if __name__ == "__main__":
    main()
