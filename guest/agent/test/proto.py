"""Minimal host side of the Basalt agent protocol for the agent's behaviour tests."""
import os
import select
import socket
import struct
import subprocess
import tempfile
import time

T = dict(HELLO=0x01, PING=0x02, WINDOW=0x03, CANCEL=0x04, EXEC=0x10, STDIN=0x11,
         STDIN_CLOSE=0x12, SIGNAL=0x13, RESIZE=0x14, FILE_WRITE=0x20, FILE_DATA=0x21,
         FILE_END=0x22, FILE_READ=0x23, STAT=0x24, LIST=0x25, MKDIR=0x26, REMOVE=0x27,
         RENAME=0x28, SHUTDOWN=0x30, IDENTITY=0x31, TUNNEL_ACCEPT=0x40, TUNNEL_DATA=0x41,
         TUNNEL_EOF=0x42, OK=0x80, HELLO_REPLY=0x81, PONG=0x82, ERROR=0x8F,
         EXEC_STARTED=0x90, STDOUT=0x91, STDERR=0x92, EXIT=0x93, STAT_RESULT=0xA1,
         DIR_ENTRIES=0xA2, TUNNEL_OPENED=0xB0)
NAMES = {v: k for k, v in T.items()}
ERR = dict(BAD_FRAME=1, FRAME_TOO_LARGE=2, UNKNOWN_TYPE=3, UNSUPPORTED_VERSION=4,
           STREAM_BUSY=5, INVALID_ARGUMENT=6, NOT_FOUND=7, PERMISSION=8, EXISTS=9,
           NOT_A_DIRECTORY=10, IS_A_DIRECTORY=11, NOT_EMPTY=12, NO_SPACE=13, IO=14,
           CANCELLED=15, RESOURCE_EXHAUSTED=16)
TERMINAL = {T[n] for n in ("OK", "ERROR", "EXIT", "PONG", "HELLO_REPLY", "FILE_END")}
WINDOW = 1 << 20


def u8(v): return struct.pack(">B", v)
def u16(v): return struct.pack(">H", v)
def u32(v): return struct.pack(">I", v)
def u64(v): return struct.pack(">Q", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def bts(b): return u32(len(b)) + b
def st(s): return bts(s.encode() if isinstance(s, str) else s)
def strs(l): return u32(len(l)) + b"".join(st(s) for s in l)


def frame(stream, typ, payload=b""):
    return u32(5 + len(payload)) + u32(stream) + u8(typ) + payload


class Reader:
    def __init__(self, p): self.p, self.i = p, 0
    def take(self, n):
        v = self.p[self.i:self.i + n]; self.i += n; return v
    def int(self, fmt, n): return struct.unpack(fmt, self.take(n))[0]
    def bytes(self): return self.take(self.int(">I", 4))
    def str(self): return self.bytes().decode()


def parse(typ, p):
    r = Reader(p)
    if typ == T["ERROR"]:
        return dict(code=r.int(">H", 2), message=r.str())
    if typ in (T["STDOUT"], T["STDERR"], T["FILE_DATA"], T["TUNNEL_DATA"]):
        return dict(data=r.bytes())
    if typ == T["EXIT"]:
        return dict(kind=r.int(">B", 1), value=r.int(">i", 4))
    if typ == T["EXEC_STARTED"]:
        return dict(pid=r.int(">i", 4))
    if typ == T["PONG"]:
        return dict(nonce=r.int(">Q", 8))
    if typ == T["WINDOW"]:
        return dict(increment=r.int(">I", 4))
    if typ == T["HELLO_REPLY"]:
        return dict(version=r.int(">I", 4), agent=r.str(), kernel=r.str())
    if typ == T["STAT_RESULT"]:
        return dict(type=r.int(">B", 1), mode=r.int(">I", 4), size=r.int(">Q", 8), mtime=r.int(">q", 8))
    if typ == T["DIR_ENTRIES"]:
        out = []
        for _ in range(r.int(">I", 4)):
            out.append(dict(name=r.str(), type=r.int(">B", 1), mode=r.int(">I", 4),
                            size=r.int(">Q", 8), mtime=r.int(">q", 8)))
        return dict(entries=out)
    return {}


class Msg:
    def __init__(self, stream, typ, payload):
        self.stream, self.type, self.payload = stream, typ, payload
        self.f = parse(typ, payload)
        self.name = NAMES.get(typ, hex(typ))

    def __getattr__(self, k):
        try:
            return self.__dict__["f"][k]
        except KeyError:
            raise AttributeError(k)

    def __repr__(self):
        f = {k: (v[:40] if isinstance(v, bytes) else v) for k, v in self.f.items()}
        return "%s(stream=%d %s)" % (self.name, self.stream, f)


class Agent:
    """Runs the agent with --connect against a socket of ours."""

    def __init__(self, binary, stdio=False):
        if stdio:  # fd 0 and 1 of the agent are one end of a socket pair
            self.sock, theirs = socket.socketpair()
            self.proc = subprocess.Popen([binary, "--stdio"], stdin=theirs, stdout=theirs,
                                         stderr=subprocess.DEVNULL)
            theirs.close()
        else:
            self.dir = tempfile.mkdtemp(prefix="basalt-agent-test-")
            path = os.path.join(self.dir, "agent.sock")
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(path)
            srv.listen(1)
            self.proc = subprocess.Popen([binary, "--connect", path], stderr=subprocess.DEVNULL)
            srv.settimeout(5)
            self.sock, _ = srv.accept()
            srv.close()
            os.unlink(path)
            os.rmdir(self.dir)
        self.buf = b""
        self.queues = {}
        self.next_id = 1

    @classmethod
    def attach(cls, path, timeout=30.0):
        """Connects to a listening socket (e.g. QEMU's chardev for the virtio port)."""
        self = cls.__new__(cls)
        end = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > end:
                    raise
                time.sleep(0.05)
        self.proc, self.buf, self.queues, self.next_id = None, b"", {}, 1
        return self

    def sid(self):
        self.next_id += 1
        return self.next_id

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, stream, typ, payload=b""):
        self.send_raw(frame(stream, T[typ] if isinstance(typ, str) else typ, payload))

    def _pump(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError("agent closed the connection")
        self.buf += data
        while len(self.buf) >= 4:
            n = struct.unpack(">I", self.buf[:4])[0]
            if len(self.buf) < 4 + n:
                break
            stream, typ = struct.unpack(">IB", self.buf[4:9])
            m = Msg(stream, typ, self.buf[9:4 + n])
            self.buf = self.buf[4 + n:]
            self.queues.setdefault(stream, []).append(m)
        return True

    def recv(self, stream, timeout=10.0):
        end = time.time() + timeout
        while not self.queues.get(stream):
            left = end - time.time()
            if left <= 0:
                raise TimeoutError("no frame on stream %d" % stream)
            self._pump(left)
        return self.queues[stream].pop(0)

    def pending(self, stream):
        self._pump(0)
        return list(self.queues.get(stream, []))

    def request(self, typ, payload=b"", stream=None, timeout=10.0):
        s = stream or self.sid()
        self.send(s, typ, payload)
        return self.recv(s, timeout)

    def identity(self, hostname, time_ns, seed, stream=None, timeout=10.0):
        return self.request("IDENTITY", st(hostname) + i64(time_ns) + bts(seed), stream=stream, timeout=timeout)

    def exec_(self, argv, env=(), cwd="", timeout_ms=0, flags=0, rows=0, cols=0, stream=None, uid=0, gid=0):
        s = stream or self.sid()
        self.send(s, "EXEC", strs(argv) + strs(list(env)) + st(cwd) + u32(timeout_ms) + u8(flags)
                  + u16(rows) + u16(cols) + u32(uid) + u32(gid))
        return s

    def collect(self, s, timeout=30.0, credit=True):
        """Reads an exec stream to its end: (started, stdout, stderr, terminal)."""
        out, err, started, got = [], [], None, 0
        while True:
            m = self.recv(s, timeout)
            if m.type == T["EXEC_STARTED"]:
                started = m
            elif m.type in (T["STDOUT"], T["STDERR"]):
                (out if m.type == T["STDOUT"] else err).append(m.data)
                got += len(m.data)
                if credit and got >= 256 * 1024:
                    self.send(s, "WINDOW", u32(got))
                    got = 0
            elif m.type in TERMINAL:
                return started, b"".join(out), b"".join(err), m
            elif m.type == T["WINDOW"]:
                pass
            else:
                raise AssertionError("unexpected %r" % m)

    def close(self):
        try:
            self.sock.close()
        finally:
            try:
                rc = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        return rc

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0
