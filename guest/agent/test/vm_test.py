#!/usr/bin/env python3
"""Boots the agent as /init of a guest image under QEMU (TCG) and checks the
init-mode duties and the virtio-serial semantics: mounts, hostname, loopback,
PTY, orphan reaping, host disconnect (processes killed) and reconnect, IDENTITY
(hostname, clock, RNG; other streams aborted), SHUTDOWN.
Usage: vm_test.py IMAGE_DIR   (an image built by guest/image/build.sh)"""
import json
import os
import subprocess
import sys
import tempfile
import time

from proto import Agent, ERR, T, u32, u64

FLAG_PTY = 2


def sh(a, cmd, flags=0):
    s = a.exec_(["sh", "-c", cmd], flags=flags)
    _, out, err, end = a.collect(s, timeout=60)
    assert end.type == T["EXIT"], end
    return out.decode(), err.decode(), end


def main():
    image = sys.argv[1]
    d = tempfile.mkdtemp(prefix="basalt-vm-test-")
    sock, log = d + "/agent.sock", d + "/console.log"
    mhz = [l.split(":")[1] for l in open("/proc/cpuinfo") if l.startswith("cpu MHz")][0]
    manifest = json.load(open(image + "/image.json"))
    append = "console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=%d basalt.hostname=agent-vm-test " % (
        float(mhz) * 1000) + manifest["cmdlineExtra"]
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-M", "microvm,rtc=on,acpi=" + ("on" if manifest["acpi"] else "off"), "-accel", "tcg", "-cpu", "max", "-m", "256",
         "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-serial", "file:" + log,
         "-kernel", image + "/vmlinux", "-initrd", image + "/initrd.img", "-append", append,
         "-device", "virtio-serial-device,max_ports=2",
         "-chardev", "socket,id=agent,path=%s,server=on,wait=off" % sock,
         "-device", "virtserialport,chardev=agent,name=basalt.agent", "-no-reboot", "-display", "none"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = False
    try:
        a = Agent.attach(sock)
        m = a.request("HELLO", u32(1), timeout=60)
        assert m.type == T["HELLO_REPLY"], m
        print("hello:", m.agent, m.kernel)
        out, _, _ = sh(a, "hostname; cat /sys/class/net/lo/flags; echo $$; mount")
        lines = out.splitlines()
        assert lines[0] == "agent-vm-test", lines[0]
        assert int(lines[1], 16) & 1, "lo is not up"
        for fs in ("proc on /proc", "sysfs on /sys", "devpts on /dev/pts", "tmpfs on /tmp",
                   "tmpfs on /run", "tmpfs on /dev/shm", "on /dev type devtmpfs"):
            assert fs in out, "missing mount: " + fs
        out, _, _ = sh(a, "tty; ls -l /dev/ptmx", flags=FLAG_PTY)
        assert out.startswith("/dev/pts/"), out
        # orphans are reaped by PID 1
        sh(a, "sleep 0.2 & exit 0")
        time.sleep(1)
        out, _, _ = sh(a, "ps -o pid,stat,comm | grep ' Z' || true")
        assert out.strip() == "", "zombies: " + out
        # host disconnect kills the streams' processes; reconnect with HELLO
        s = a.exec_(["sleep", "1000"])
        pid = a.recv(s, 30).pid
        a.sock.close()
        time.sleep(0.5)
        a = Agent.attach(sock)
        m = a.request("HELLO", u32(1), timeout=30)
        assert m.type == T["HELLO_REPLY"], m
        out, _, _ = sh(a, "test -e /proc/%d && cat /proc/%d/stat || echo gone" % (pid, pid))
        assert out.strip() == "gone", "process survived the disconnect: " + out
        assert a.request("PING", u64(9)).nonce == 9
        # IDENTITY: other streams aborted; hostname, clock and RNG set
        s = a.exec_(["sleep", "1000"])
        pid = a.recv(s, 30).pid
        out, _, _ = sh(a, "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'")
        rnd_before = out.strip()
        m = a.identity("bad_name", time.time_ns(), os.urandom(32))
        assert m.type == T["ERROR"] and m.code == ERR["INVALID_ARGUMENT"], m
        target = time.time_ns() + 86400 * 10**9
        m = a.identity("vm-identity-1", target, os.urandom(256), timeout=30)
        assert m.type == T["OK"], m
        out, _, _ = sh(a, "hostname; date +%%s; head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; "
                          "test -e /proc/%d && echo alive || echo gone" % pid)
        host, secs, rnd_after, alive = out.split("\n")[:4]
        assert host == "vm-identity-1", host
        assert abs(int(secs) - target // 10**9) < 120, (secs, target // 10**9)
        assert len(rnd_after) == 32 and rnd_after != rnd_before, (rnd_before, rnd_after)
        assert alive == "gone", "exec survived IDENTITY"
        assert not a.pending(s), a.pending(s)
        print("identity: hostname %s, guest clock %+d s from host+1d, urandom %s -> %s" % (
            host, int(secs) - target // 10**9, rnd_before, rnd_after))
        assert a.request("SHUTDOWN").type == T["OK"]
        qemu.wait(30)
        print("vm test: ok (qemu exited %d)" % qemu.returncode)
        ok = True
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if not ok:
            print(open(log, errors="replace").read()[-3000:])
        for f in (sock, log):
            if os.path.exists(f):
                os.unlink(f)
        os.rmdir(d)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
