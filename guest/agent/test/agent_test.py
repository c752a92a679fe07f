#!/usr/bin/env python3
"""Behaviour tests of the guest agent, run as a host process in --connect mode.
Usage: agent_test.py AGENT_BINARY [test-name-substring...]"""
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

from proto import (Agent, ERR, T, WINDOW, bts, frame, i32, i64, st, strs, u8, u16, u32, u64)

BIN = None
FLAG_STDIN, FLAG_PTY, FLAG_CLEAR_ENV = 1, 2, 4


def expect_error(m, code, contains=None):
    assert m.type == T["ERROR"], "expected ERROR %s, got %r" % (code, m)
    assert m.code == ERR[code], "expected %s, got %r" % (code, m)
    if contains:
        assert contains in m.message, "message %r lacks %r" % (m.message, contains)


def run(a, argv, **kw):
    s = a.exec_(argv, **kw)
    return a.collect(s)


def test_hello_ping(a):
    m = a.request("HELLO", u32(1))
    assert m.type == T["HELLO_REPLY"] and m.version == 1 and m.agent and m.kernel == os.uname().release, m
    expect_error(a.request("HELLO", u32(2)), "UNSUPPORTED_VERSION")
    m = a.request("PING", u64(0xdeadbeefcafe))
    assert m.type == T["PONG"] and m.nonce == 0xdeadbeefcafe


def test_exec_echo_and_exit_codes(a):
    started, out, err, end = run(a, ["echo", "hello", "world"])
    assert started.pid > 0 and out == b"hello world\n" and err == b"", (out, err)
    assert (end.type, end.kind, end.value) == (T["EXIT"], 0, 0), end
    _, out, err, end = run(a, ["sh", "-c", "echo out; echo err >&2; exit 42"])
    assert out == b"out\n" and err == b"err\n" and (end.kind, end.value) == (0, 42), (out, err, end)


def test_exec_env_cwd(a):
    _, out, _, _ = run(a, ["sh", "-c", 'echo "$PATH|$HOME|$TERM|$FOO|$(pwd)"'], env=["FOO=bar", "HOME=/tmp"], cwd="/usr")
    assert out == b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/tmp|dumb|bar|/usr\n", out
    _, out, _, _ = run(a, ["/usr/bin/env"], env=["ONLY=1"], flags=FLAG_CLEAR_ENV)
    assert out == b"ONLY=1\n", out
    _, out, _, _ = run(a, ["sh", "-c", "pwd; umask; cat"])
    assert out == b"/\n0022\n", out  # stdin is /dev/null without the STDIN flag


def test_exec_errors(a):
    s = a.exec_(["definitely-not-a-program"])
    expect_error(a.recv(s), "NOT_FOUND", "exec definitely-not-a-program: No such file or directory")
    s = a.exec_(["true"], cwd="/nonexistent/dir")
    expect_error(a.recv(s), "NOT_FOUND", "chdir /nonexistent/dir: No such file or directory")
    s = a.exec_(["/etc/passwd"])
    expect_error(a.recv(s), "PERMISSION")
    s = a.exec_([])
    expect_error(a.recv(s), "INVALID_ARGUMENT")
    s = a.exec_(["true"], flags=0x10)
    expect_error(a.recv(s), "INVALID_ARGUMENT")
    s = a.exec_(["true"], env=["NOEQUALS"])
    expect_error(a.recv(s), "INVALID_ARGUMENT")


def test_exec_path_search(a):
    """The agent searches the exec's own PATH, in order, like execvp: it skips missing files,
    passes over non-executable ones (EACCES if nothing else is found) and runs scripts without #!."""
    d = tempfile.mkdtemp(prefix="agent-path-")
    try:
        for sub in ("first", "second", "denied"):
            os.mkdir(os.path.join(d, sub))

        def put(rel, text, mode):
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
            os.chmod(os.path.join(d, rel), mode)

        put("second/tool", "#!/bin/sh\necho second $1\n", 0o755)
        put("denied/tool", "#!/bin/sh\necho denied\n", 0o644)
        put("first/plain", "echo no-shebang\n", 0o755)
        path = "PATH=%s/missing:%s/denied:%s/first:%s/second:/usr/bin:/bin" % (d, d, d, d)
        _, out, _, end = run(a, ["tool", "x"], env=[path])
        assert out == b"second x\n" and end.value == 0, (out, end)
        put("first/tool", "#!/bin/sh\necho first\n", 0o755)       # an earlier entry wins
        _, out, _, _ = run(a, ["tool"], env=[path])
        assert out == b"first\n", out
        _, out, _, _ = run(a, ["plain"], env=[path])                   # no #!: run by sh, as execvp does
        assert out == b"no-shebang\n", out
        s = a.exec_(["tool"], env=["PATH=%s/missing:%s/denied" % (d, d)])
        expect_error(a.recv(s), "PERMISSION", "exec tool: Permission denied")
        s = a.exec_(["tool"], env=["PATH=%s/missing" % d])
        expect_error(a.recv(s), "NOT_FOUND", "exec tool: No such file or directory")
    finally:
        shutil.rmtree(d)


def test_exec_many_arguments(a):
    """A child starts on the agent's own spawn stack: a script without #! and ~150,000 arguments
    (execvp's fallback to sh puts a pointer per argument on that stack) runs, and the agent
    goes on answering."""
    d = tempfile.mkdtemp(prefix="agent-args-")
    try:
        script = os.path.join(d, "count")
        with open(script, "w") as f:
            f.write('echo "$#"\n')
        os.chmod(script, 0o755)
        _, out, err, end = run(a, [script] + ["x"] * 150000)
        assert out == b"150000\n" and end.value == 0, (out[:100], err[:200], end)
        _, out, _, _ = run(a, ["echo", "still", "here"])
        assert out == b"still here\n", out
    finally:
        shutil.rmtree(d)


def test_signal_and_cancel(a):
    s = a.exec_(["sleep", "100"])
    assert a.recv(s).type == T["EXEC_STARTED"]
    a.send(s, "SIGNAL", i32(999))  # invalid: ignored
    a.send(s, "SIGNAL", i32(15))
    _, _, _, end = a.collect(s)
    assert (end.type, end.kind, end.value) == (T["EXIT"], 1, 15), end
    s = a.exec_(["sh", "-c", "sleep 100; echo never"])
    assert a.recv(s).type == T["EXEC_STARTED"]
    a.send(s, "CANCEL")
    _, out, _, end = a.collect(s)
    assert (end.kind, end.value) == (1, 9) and out == b"", end


def test_timeout(a):
    t = time.time()
    s = a.exec_(["sh", "-c", "sleep 30 & sleep 30"], timeout_ms=300)
    _, _, _, end = a.collect(s)
    took = time.time() - t
    assert (end.type, end.kind, end.value) == (T["EXIT"], 2, 9), end
    assert 0.25 < took < 3, took


def test_background_child_grace(a):
    t = time.time()
    _, out, _, end = run(a, ["sh", "-c", "sleep 5 & echo parent"])
    assert out == b"parent\n" and end.kind == 0 and time.time() - t < 2, (out, time.time() - t)


def test_stdin_streaming(a):
    s = a.exec_(["sha256sum"], flags=FLAG_STDIN)
    assert a.recv(s).type == T["EXEC_STARTED"]
    data = os.urandom(5 * 1024 * 1024 + 123)
    window, off, h = WINDOW, 0, hashlib.sha256(data).hexdigest()
    while off < len(data):
        while window == 0:  # wait for credit from the agent
            m = a.recv(s)
            assert m.type == T["WINDOW"], m
            window += m.increment
        for m in a.pending(s):
            if m.type == T["WINDOW"]:
                a.queues[s].remove(m)
                window += m.increment
        n = min(64 * 1024, window, len(data) - off)
        a.send(s, "STDIN", bts(data[off:off + n]))
        off, window = off + n, window - n
    a.send(s, "STDIN_CLOSE")
    _, out, _, end = a.collect(s)
    assert out.split()[0].decode() == h and end.kind == 0, (out, end)


def test_stdin_window_violation(a):
    s = a.exec_(["sleep", "10"], flags=FLAG_STDIN)
    assert a.recv(s).type == T["EXEC_STARTED"]
    chunk = b"x" * (64 * 1024)
    for _ in range(17):  # 1 MiB + 64 KiB, more than the window, nobody reads
        a.send(s, "STDIN", bts(chunk))
    _, _, _, end = a.collect(s)
    expect_error(end, "BAD_FRAME", "window")


def test_flood_with_slow_credit(a):
    s = a.exec_(["cat", "/dev/zero"])
    got, base = 0, a.rss_kib()
    while got < WINDOW:
        m = a.recv(s)
        if m.type == T["STDOUT"]:
            got += len(m.data)
    time.sleep(0.5)
    assert not a.pending(s), "agent sent beyond its window"
    rss1 = a.rss_kib()
    # Slow credit: 8 MiB in 64 KiB steps.
    for _ in range(128):
        a.send(s, "WINDOW", u32(64 * 1024))
        n = 0
        while n < 64 * 1024:
            m = a.recv(s)
            n += len(m.data)
        assert n == 64 * 1024
    time.sleep(0.2)
    rss2 = a.rss_kib()
    assert not a.pending(s)
    assert rss2 < 16 * 1024 and rss2 - rss1 < 2048, (base, rss1, rss2)
    a.send(s, "CANCEL")
    _, _, _, end = a.collect(s, credit=True)
    assert (end.kind, end.value) == (1, 9), end
    # Fast path: 50 MiB with generous credit.
    _, out, _, end = run(a, ["sh", "-c", "yes | head -c 50000000"])
    assert len(out) == 50000000 and end.kind == 0, len(out)
    print("    rss KiB: start %d, stalled %d, after 8 MiB slow credit %d" % (base, rss1, rss2))


def test_concurrent_execs(a):
    streams = [a.exec_(["sh", "-c", "sleep 0.3; echo n%d; exit %d" % (i, i)]) for i in range(10)]
    t = time.time()
    for i, s in enumerate(streams):
        _, out, _, end = a.collect(s)
        assert out == b"n%d\n" % i and end.value == i, (out, end)
    assert time.time() - t < 2.5, "execs did not run concurrently"


def test_stuck_stream_does_not_block_others(a):
    s = a.exec_(["cat", "/dev/zero"])  # fills its window, then stalls
    time.sleep(0.3)
    m = a.request("PING", u64(7))
    assert m.type == T["PONG"]
    _, out, _, _ = run(a, ["echo", "still"])
    assert out == b"still\n"
    a.send(s, "CANCEL")
    a.collect(s)


def file_write(a, path, data, mode=0o644, flags=0, uid=0, gid=0):
    s = a.sid()
    a.send(s, "FILE_WRITE", st(path) + u32(mode) + u8(flags) + u32(uid) + u32(gid))
    window, off = WINDOW, 0
    while off < len(data):
        for m in a.pending(s):
            a.queues[s].remove(m)
            if m.type != T["WINDOW"]:
                return m
            window += m.increment
        if window == 0:
            m = a.recv(s)
            if m.type != T["WINDOW"]:
                return m
            window += m.increment
            continue
        n = min(64 * 1024, window, len(data) - off)
        a.send(s, "FILE_DATA", bts(data[off:off + n]))
        off, window = off + n, window - n
    a.send(s, "FILE_END")
    while True:
        m = a.recv(s)
        if m.type != T["WINDOW"]:
            return m


def file_read(a, path):
    s = a.sid()
    a.send(s, "FILE_READ", st(path))
    first = a.recv(s)
    if first.type != T["STAT_RESULT"]:
        return first, None
    chunks, got = [], 0
    while True:
        m = a.recv(s)
        if m.type == T["FILE_END"]:
            return first, b"".join(chunks)
        assert m.type == T["FILE_DATA"] and len(m.data) <= 32 * 1024, m
        chunks.append(m.data)
        got += len(m.data)
        if got >= 256 * 1024:
            a.send(s, "WINDOW", u32(got))
            got = 0


def test_file_write_read_20mib(a):
    d = tempfile.mkdtemp()
    try:
        data = os.urandom(20 * 1024 * 1024)
        path = d + "/sub/dir/big.bin"
        m = file_write(a, path, data, mode=0o600, flags=1)
        assert m.type == T["OK"], m
        assert hashlib.sha256(open(path, "rb").read()).digest() == hashlib.sha256(data).digest()
        assert os.stat(path).st_mode & 0o7777 == 0o600
        assert sorted(os.listdir(d + "/sub/dir")) == ["big.bin"]
        stat, back = file_read(a, path)
        assert stat.type == T["STAT_RESULT"] and stat.size == len(data) and stat.type == T["STAT_RESULT"]
        assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
        assert file_write(a, path, b"abc", flags=2).type == T["OK"]
        assert open(path, "rb").read()[-3:] == b"abc" and os.path.getsize(path) == len(data) + 3
        assert file_write(a, path, b"replaced").type == T["OK"]
        assert open(path, "rb").read() == b"replaced"
        expect_error(file_write(a, d + "/missing/x", b"1"), "NOT_FOUND", "open %s/missing/x: No such file or directory" % d)
        expect_error(file_write(a, d + "/sub", b"1"), "IS_A_DIRECTORY")
        expect_error(file_write(a, "relative/x", b"1"), "INVALID_ARGUMENT")
        expect_error(file_read(a, d + "/nope")[0], "NOT_FOUND", "No such file or directory")
        expect_error(file_read(a, d)[0], "IS_A_DIRECTORY")
        stat, back = file_read(a, d + "/sub/dir/big.bin")
        assert back == b"replaced"
        # an interrupted upload leaves nothing behind
        s = a.sid()
        a.send(s, "FILE_WRITE", st(d + "/partial") + u32(0o644) + u8(0) + u32(0) + u32(0))
        a.send(s, "FILE_DATA", bts(b"half"))
        a.send(s, "CANCEL")
        expect_error(a.recv(s), "CANCELLED")
        assert os.listdir(d) == ["sub"], os.listdir(d)
    finally:
        shutil.rmtree(d)


def test_users(a):
    """EXEC, FILE_WRITE and MKDIR with USER run as that user: its ids, its permissions, its files."""
    nobody = 65534
    _, out, _, end = run(a, ["id", "-u"], flags=8, uid=nobody, gid=nobody)
    assert out == b"%d\n" % nobody, out
    _, out, _, _ = run(a, ["id", "-G"], flags=8, uid=nobody, gid=nobody)
    assert out.split() == [b"%d" % nobody], out
    d = tempfile.mkdtemp()
    try:
        os.chmod(d, 0o755)                      # root's: others may not write here
        mine = d + "/mine"
        os.mkdir(mine)
        os.chown(mine, nobody, nobody)
        m = file_write(a, mine + "/sub/f", b"data", flags=1 | 4, uid=nobody, gid=nobody)
        assert m.type == T["OK"], m
        for p in (mine + "/sub", mine + "/sub/f"):
            assert (os.stat(p).st_uid, os.stat(p).st_gid) == (nobody, nobody), p
        expect_error(file_write(a, d + "/f", b"x", flags=4, uid=nobody, gid=nobody), "PERMISSION")
        assert not os.path.exists(d + "/f")
        assert file_write(a, d + "/root-f", b"x").type == T["OK"]
        assert os.stat(d + "/root-f").st_uid == 0
        assert a.request("MKDIR", st(mine + "/m/n") + u32(0o700) + u8(1) + u32(nobody) + u32(nobody)).type == T["OK"]
        assert os.stat(mine + "/m/n").st_uid == nobody
        expect_error(a.request("MKDIR", st(d + "/no") + u32(0o700) + u8(1) + u32(nobody) + u32(nobody)), "PERMISSION")
        expect_error(a.request("MKDIR", st(d + "/no") + u32(0o700) + u8(2) + u32(0) + u32(0)), "INVALID_ARGUMENT")
        # the agent's own identity is back: root may still write where nobody may not
        assert a.request("MKDIR", st(d + "/yes") + u32(0o700) + u8(0) + u32(0) + u32(0)).type == T["OK"]
        _, _, _, end = run(a, ["true"], cwd=d + "/yes", flags=8, uid=nobody, gid=nobody)
        assert end.type == T["ERROR"] and "chdir" in end.message, end   # 0700 root's: the user may not enter
    finally:
        shutil.rmtree(d)


def test_file_ops(a):
    d = tempfile.mkdtemp()
    try:
        assert a.request("MKDIR", st(d + "/a/b/c") + u32(0o700) + u8(0) + u32(0) + u32(0)).type == T["OK"]
        assert os.stat(d + "/a/b/c").st_mode & 0o7777 == 0o700
        assert a.request("MKDIR", st(d + "/a/b/c") + u32(0o700) + u8(0) + u32(0) + u32(0)).type == T["OK"]
        open(d + "/a/f", "w").write("hello")
        expect_error(a.request("MKDIR", st(d + "/a/f") + u32(0o755) + u8(0) + u32(0) + u32(0)), "EXISTS")
        expect_error(a.request("MKDIR", st(d + "/a/f/x") + u32(0o755) + u8(0) + u32(0) + u32(0)), "NOT_A_DIRECTORY")
        os.symlink("/etc", d + "/a/link")
        m = a.request("STAT", st(d + "/a/f"))
        assert (m.type, m.f["type"], m.size, m.mode) == (T["STAT_RESULT"], 0, 5, 0o644), m
        assert abs(m.mtime - int(os.stat(d + "/a/f").st_mtime * 1000)) <= 1
        assert a.request("STAT", st(d + "/a/link")).f["type"] == 2
        assert a.request("STAT", st(d + "/a")).f["type"] == 1
        expect_error(a.request("STAT", st(d + "/zz")), "NOT_FOUND", "stat %s/zz: No such file or directory" % d)
        for bad in ("", "rel", d + "/../x", "/a/..", "/" + "x" * 4100):
            expect_error(a.request("STAT", st(bad)), "INVALID_ARGUMENT")
        assert a.request("STAT", st(d + "/a/..b")).type == T["ERROR"]  # allowed name, just missing
        s = a.sid()
        a.send(s, "LIST", st(d + "/a"))
        m = a.recv(s)
        names = {e["name"]: e for e in m.entries}
        assert set(names) == {"b", "f", "link"} and names["link"]["type"] == 2, names
        assert a.recv(s).type == T["OK"]
        expect_error(a.request("LIST", st(d + "/a/f")), "NOT_A_DIRECTORY")
        # big directory: split into several frames
        os.mkdir(d + "/many")
        for i in range(3000):
            open("%s/many/%s-%d" % (d, "n" * 100, i), "w").close()
        s = a.sid()
        a.send(s, "LIST", st(d + "/many"))
        total, frames = 0, 0
        while True:
            m = a.recv(s)
            if m.type == T["OK"]:
                break
            total, frames = total + len(m.entries), frames + 1
        assert total == 3000 and frames > 1, (total, frames)
        assert a.request("RENAME", st(d + "/a/f") + st(d + "/a/g")).type == T["OK"]
        assert os.path.exists(d + "/a/g") and not os.path.exists(d + "/a/f")
        expect_error(a.request("RENAME", st(d + "/a/f") + st(d + "/a/h")), "NOT_FOUND")
        expect_error(a.request("REMOVE", st(d + "/a") + u8(0)), "NOT_EMPTY")
        # recursive remove never follows symlinks
        keep = tempfile.mkdtemp()
        open(keep + "/precious", "w").write("x")
        os.symlink(keep, d + "/a/b/to-keep")
        assert a.request("REMOVE", st(d + "/a") + u8(1)).type == T["OK"]
        assert not os.path.exists(d + "/a") and os.path.exists(keep + "/precious")
        shutil.rmtree(keep)
        expect_error(a.request("REMOVE", st(d + "/a") + u8(0)), "NOT_FOUND")
        assert a.request("REMOVE", st(d + "/many") + u8(1)).type == T["OK"]
    finally:
        shutil.rmtree(d)


def test_bad_frames(a):
    # oversized 5 MiB frame on stream 9: discarded, error, channel stays in sync
    a.send_raw(u32(5 * 1024 * 1024 + 5) + u32(9) + u8(T["STDIN"]))
    chunk = b"\0" * (1024 * 1024)
    for _ in range(5):
        a.send_raw(chunk)
    expect_error(a.recv(9), "FRAME_TOO_LARGE")
    assert a.request("PING", u64(1)).type == T["PONG"]
    # short frame
    a.send_raw(u32(3) + b"abc")
    expect_error(a.recv(0), "BAD_FRAME")
    a.send_raw(u32(0))
    expect_error(a.recv(0), "BAD_FRAME")
    assert a.request("PING", u64(2)).type == T["PONG"]
    # garbage and guest->host types
    expect_error(a.request(0x7F, b"junk"), "UNKNOWN_TYPE")
    expect_error(a.request(T["OK"]), "UNKNOWN_TYPE")
    # truncated payload, trailing bytes, NUL in a str
    expect_error(a.request("PING", b"\0\0\0"), "BAD_FRAME")
    expect_error(a.request("HELLO", u32(1) + b"x"), "BAD_FRAME")
    expect_error(a.request("STAT", st(b"/a\0b")), "BAD_FRAME")
    expect_error(a.request("EXEC", strs(["ls"])), "BAD_FRAME")
    # stream 0 is reserved
    a.send(0, "PING", u64(3))
    expect_error(a.recv(0), "BAD_FRAME")
    # STREAM_BUSY leaves the open stream alone
    s = a.exec_(["sh", "-c", "sleep 0.3; echo done"])
    assert a.recv(s).type == T["EXEC_STARTED"]
    a.send(s, "PING", u64(4))
    expect_error(a.recv(s), "STREAM_BUSY")
    _, out, _, end = a.collect(s)
    assert out == b"done\n" and end.type == T["EXIT"]
    # malformed frame on an open stream aborts it
    s = a.exec_(["sleep", "100"])
    assert a.recv(s).type == T["EXEC_STARTED"]
    a.send(s, "SIGNAL", b"\0")
    expect_error(a.recv(s), "BAD_FRAME")
    # late frames for closed streams are dropped silently
    a.send(4242, "STDIN", bts(b"x"))
    a.send(4242, "WINDOW", u32(5))
    a.send(4242, "CANCEL")
    a.send(4242, "FILE_END")
    assert a.request("PING", u64(5), stream=4242).type == T["PONG"]
    # byte-at-a-time delivery
    for b in frame(77, T["PING"], u64(6)):
        a.send_raw(bytes([b]))
    assert a.recv(77).nonce == 6


def test_fuzz_frames(a):
    import random
    rnd = random.Random(1234)
    harmful = {T[n] for n in ("EXEC", "FILE_WRITE", "MKDIR", "REMOVE", "RENAME", "SHUTDOWN")}
    types = [t for t in range(256) if t not in harmful]
    blob = b""
    for _ in range(3000):
        payload = bytes(rnd.getrandbits(8) for _ in range(rnd.choice((0, 1, 3, 4, 8, 9, 17, 64))))
        blob += frame(rnd.randrange(1, 50), rnd.choice(types), payload)
    a.send_raw(blob)
    assert a.request("PING", u64(11), stream=999).nonce == 11
    assert a.proc.poll() is None


def test_stream_limit(a):
    d = tempfile.mkdtemp()
    try:
        ids = list(range(1000, 1000 + 1024))
        for i in ids:
            a.send(i, "FILE_WRITE", st("%s/f%d" % (d, i)) + u32(0o644) + u8(0) + u32(0) + u32(0))
        m = a.request("FILE_WRITE", st(d + "/over") + u32(0o644) + u8(0) + u32(0) + u32(0))
        expect_error(m, "RESOURCE_EXHAUSTED")
        for i in ids:
            assert not a.pending(i), a.pending(i)
            a.send(i, "CANCEL")
        for i in ids:
            expect_error(a.recv(i), "CANCELLED")
        assert os.listdir(d) == []
    finally:
        shutil.rmtree(d)


def test_pty(a):
    _, out, err, end = run(a, ["tty"], flags=FLAG_PTY)
    assert out.startswith(b"/dev/pts/") and err == b"" and end.kind == 0, (out, end)
    _, out, _, _ = run(a, ["stty", "size"], flags=FLAG_PTY, rows=30, cols=100)
    assert out.strip() == b"30 100", out
    _, out, _, _ = run(a, ["sh", "-c", 'echo "$TERM"'], flags=FLAG_PTY)
    assert out.strip() == b"xterm", out
    s = a.exec_(["sh", "-c", "read x; stty size; echo got $x"], flags=FLAG_PTY | FLAG_STDIN)
    assert a.recv(s).type == T["EXEC_STARTED"]
    a.send(s, "RESIZE", u16(40) + u16(132))
    a.send(s, "STDIN", bts(b"line\n"))
    _, out, _, end = a.collect(s)
    assert b"40 132" in out and b"got line" in out and end.kind == 0, out
    s = a.exec_(["cat"], flags=FLAG_PTY | FLAG_STDIN)
    a.send(s, "STDIN", bts(b"abc\n"))
    a.send(s, "STDIN_CLOSE")
    _, out, _, end = a.collect(s)
    assert out.count(b"abc") == 2 and end.kind == 0, (out, end)  # echo + cat


def test_peer_close_kills_processes(a):
    s = a.exec_(["sleep", "1000"])
    pid = a.recv(s).pid
    rc = a.close()
    assert rc == 0, rc
    time.sleep(0.2)
    try:
        os.kill(pid, 0)
        zombie = open("/proc/%d/stat" % pid).read().split()[2] == "Z"
        assert zombie, "process %d survived its agent" % pid
    except ProcessLookupError:
        pass


def pid_gone(pid, timeout=3.0):
    """True once pid no longer exists (the agent reaps its children)."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return not os.path.exists("/proc/%d" % pid)
        time.sleep(0.02)
    return False


def test_identity_aborts_other_streams(a):
    import socket
    host_before = socket.gethostname()
    d = tempfile.mkdtemp()
    try:
        s1 = a.exec_(["sleep", "1000"])
        pid = a.recv(s1).pid
        s2 = a.exec_(["sh", "-c", "echo x; exec sleep 1000"])
        pid2 = a.recv(s2).pid
        assert a.recv(s2).data == b"x\n"
        s3 = a.sid()  # a partial upload: its temporary file must go
        a.send(s3, "FILE_WRITE", st(d + "/partial") + u32(0o644) + u8(0) + u32(0) + u32(0))
        a.send(s3, "FILE_DATA", bts(b"half"))
        assert a.request("PING", u64(1)).type == T["PONG"]  # the upload is open
        assert len(os.listdir(d)) == 1, os.listdir(d)
        m = a.identity("clone-1", time.time_ns() + 86400 * 10**9, os.urandom(64))
        assert m.type == T["OK"], m
        assert pid_gone(pid) and pid_gone(pid2), "exec processes survived IDENTITY"
        assert os.listdir(d) == [], os.listdir(d)
        time.sleep(0.2)
        for s in (s1, s2, s3):
            assert not a.pending(s), "frame after IDENTITY on stream %d: %r" % (s, a.pending(s))
        # the agent keeps serving, the aborted ids are free again
        _, out, _, end = run(a, ["echo", "after"], stream=s1)
        assert out == b"after\n" and end.type == T["EXIT"] and end.kind == 0, (out, end)
        assert a.request("PING", u64(2), stream=s3).type == T["PONG"]
        # outside init mode the host's identity is left alone
        assert socket.gethostname() == host_before
        # IDENTITY is one-shot: a second one (nothing open) is fine too
        assert a.identity("clone-2", 1, os.urandom(32)).type == T["OK"]
    finally:
        shutil.rmtree(d)


def test_identity_invalid_arguments(a):
    s = a.exec_(["sleep", "1000"])
    pid = a.recv(s).pid
    seed, now = os.urandom(32), time.time_ns()
    for host in ("", "h" * 65, "a_b", "a.b", "caf\u00e9", "a b"):
        expect_error(a.identity(host, now, seed), "INVALID_ARGUMENT", "hostname")
    for t in (0, -1, -(2**63)):
        expect_error(a.identity("vm", t, seed), "INVALID_ARGUMENT", "time_ns")
    for n in (0, 31, 513):
        expect_error(a.identity("vm", now, os.urandom(n)), "INVALID_ARGUMENT", "seed")
    expect_error(a.request("IDENTITY", st("vm") + i64(now)), "BAD_FRAME")
    # an invalid IDENTITY changes nothing: the exec is still running
    assert not a.pending(s) and not pid_gone(pid, 0.1)
    a.send(s, "CANCEL")
    _, _, _, end = a.collect(s)
    assert (end.type, end.kind, end.value) == (T["EXIT"], 1, 9), end
    # the edges of the valid ranges
    assert a.identity("h" * 64, 1, os.urandom(512)).type == T["OK"]
    assert a.identity("A-z-0", 2**63 - 1, os.urandom(32)).type == T["OK"]


def test_identity_stdio_mode(a):
    a.close()
    b = Agent(BIN, stdio=True)
    s = b.exec_(["sleep", "1000"])
    pid = b.recv(s).pid
    assert b.identity("stdio-vm", time.time_ns(), os.urandom(32)).type == T["OK"]
    assert pid_gone(pid)
    _, out, _, _ = run(b, ["echo", "ok"])
    assert out == b"ok\n"
    assert b.close() == 0


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tunnels(a):
    import socket
    port = free_port()
    t1, t2 = a.sid(), a.sid()
    a.send(t1, "TUNNEL_ACCEPT", u16(port))
    a.send(t2, "TUNNEL_ACCEPT", u16(port))
    m = a.request("PING", u64(1))  # both accepts are processed: the agent listens
    assert m.type == T["PONG"], m
    c1 = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert a.recv(t1).type == T["TUNNEL_OPENED"]
    c2 = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert a.recv(t2).type == T["TUNNEL_OPENED"]
    # guest program -> host, with a half-close
    data = os.urandom(3 * 1024 * 1024 + 7)  # more than the window: the host must return credit
    import threading
    threading.Thread(target=lambda: (c1.sendall(data), c1.shutdown(socket.SHUT_WR)), daemon=True).start()
    got, unacked = bytearray(), 0
    while True:
        m = a.recv(t1, timeout=20)
        if m.type == T["TUNNEL_EOF"]:
            break
        assert m.type == T["TUNNEL_DATA"], m
        got += m.data
        unacked += len(m.data)
        if unacked >= 256 * 1024:
            a.send(t1, "WINDOW", u32(unacked))
            unacked = 0
    assert bytes(got) == data
    # host -> guest program, then the host's half-close ends the tunnel
    a.send(t1, "TUNNEL_DATA", bts(b"reply"))
    a.send(t1, "TUNNEL_EOF")
    buf = b""
    while True:
        chunk = c1.recv(65536)
        if not chunk:
            break
        buf += chunk
    assert buf == b"reply", buf
    assert a.recv(t1).type == T["OK"]
    # the host cancels an open tunnel: the guest program sees the connection end
    a.send(t2, "CANCEL")
    expect_error(a.recv(t2), "CANCELLED")
    c2.settimeout(5)
    assert c2.recv(10) == b""
    c1.close()
    c2.close()
    # bad requests
    expect_error(a.request("TUNNEL_ACCEPT", u16(0)), "INVALID_ARGUMENT")
    t3 = a.sid()
    a.send(t3, "TUNNEL_ACCEPT", u16(port))
    a.send(t3, "TUNNEL_DATA", bts(b"too early"))
    expect_error(a.recv(t3), "INVALID_ARGUMENT", "before the tunnel opened")
    t4 = a.sid()
    a.send(t4, "TUNNEL_ACCEPT", u16(port))
    a.send(t4, "CANCEL")
    expect_error(a.recv(t4), "CANCELLED")
    # a connection made while no tunnel waits is served by the next one
    c3 = socket.create_connection(("127.0.0.1", port), timeout=5)
    t5 = a.sid()
    a.send(t5, "TUNNEL_ACCEPT", u16(port))
    assert a.recv(t5).type == T["TUNNEL_OPENED"]
    c3.sendall(b"late")
    m = a.recv(t5)
    assert m.type == T["TUNNEL_DATA"] and m.data == b"late", m
    c3.close()
    assert a.recv(t5).type == T["TUNNEL_EOF"]
    a.send(t5, "TUNNEL_EOF")
    assert a.recv(t5).type == T["OK"]


def test_shutdown(a):
    assert a.request("SHUTDOWN").type == T["OK"]
    assert a.proc.wait(5) == 0


def test_stdio_mode(a):
    a.close()
    b = Agent(BIN, stdio=True)
    assert b.request("HELLO", u32(1)).type == T["HELLO_REPLY"]
    _, out, _, end = run(b, ["echo", "via stdio"])
    assert out == b"via stdio\n" and end.kind == 0
    assert b.close() == 0  # EOF on fd 0 ends the agent


def test_usage(a):
    import subprocess
    assert subprocess.run([BIN, "--bogus"], stderr=subprocess.DEVNULL).returncode == 2


def test_run_as(a):
    """--run-as: the helper the host runs as /proc/1/exe for an image's USER."""
    import subprocess
    r = subprocess.run([BIN, "--run-as", "nobody", "--", "sh", "-c", "id -u; id -g; echo $HOME"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r
    uid, gid, home = r.stdout.split()
    assert uid == "65534" and home == "/nonexistent", r.stdout
    r = subprocess.run([BIN, "--run-as", "4321:8765", "--", "id", "-G"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.split() == ["8765"], r
    r = subprocess.run([BIN, "--run-as", "no-such-user", "--", "true"], capture_output=True, text=True)
    assert r.returncode == 126 and "no user 'no-such-user'" in r.stderr, r
    r = subprocess.run([BIN, "--run-as", "nobody", "--", "/no/such/program"], capture_output=True, text=True)
    assert r.returncode == 127, r
    assert subprocess.run([BIN, "--sync"]).returncode == 0


def main():
    global BIN
    BIN = os.path.abspath(sys.argv[1])
    only = sys.argv[2:]
    failed = 0
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_")]
    for name, fn in tests:
        if only and not any(o in name for o in only):
            continue
        a = Agent(BIN)
        t = time.time()
        try:
            fn(a)
            print("ok   %s (%.2fs)" % (name, time.time() - t))
        except Exception:
            failed += 1
            print("FAIL %s" % name)
            traceback.print_exc()
        finally:
            if a.proc.poll() is None:
                a.close()
    print("%d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
