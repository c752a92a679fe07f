#!/usr/bin/env python3
"""Boots the agent as /init of a guest image under QEMU (TCG) with its root file system on a
virtio-blk disk (kernel command-line word basalt.root=/dev/vda): a small read-only ext4 base
image and a qcow2 copy-on-write overlay as big as the sandbox's disk. Checks that the agent
switches into the disk and stays PID 1 with every capability, that the file system was grown to
the disk, that /tmp is on the disk, that filling the disk gives ENOSPC and the guest lives on,
that the base image is never written and the overlay keeps what the guest wrote across a reboot,
and that a disk which cannot be mounted powers the guest off with the reason on the console.
Usage: vm_disk_test.py IMAGE_DIR...   (images built by guest/image/build.sh)"""
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from proto import Agent, T

DISK_MIB = 256


def sh(a, cmd, timeout=120):
    s = a.exec_(["sh", "-c", cmd])
    _, out, err, end = a.collect(s, timeout=timeout)
    assert end.type == T["EXIT"], end
    return out.decode(), err.decode(), end.value


def make_base(d):
    """A tiny root file system: busybox and a marker file, as ext4 in a raw file."""
    tree = os.path.join(d, "tree")
    for sub in ("bin", "etc", "root"):
        os.makedirs(os.path.join(tree, sub))
    shutil.copy("/bin/busybox", os.path.join(tree, "bin/busybox"))
    for c in ("sh", "df", "cat", "dd", "sync", "grep", "head", "rm", "stat", "ls", "readlink", "echo", "sleep"):
        os.symlink("busybox", os.path.join(tree, "bin", c))
    with open(os.path.join(tree, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(tree, "etc/marker"), "w") as f:
        f.write("from the base image\n")
    base = os.path.join(d, "base.raw")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", tree, "-b", "4096", "-I", "256", "-m", "0",
                    "-E", "lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0", base, "24M"], check=True, stdout=subprocess.DEVNULL)
    os.chmod(base, 0o444)
    return base


def overlay(d, base, name):
    top = os.path.join(d, name)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", top,
                    "%dM" % DISK_MIB], check=True)
    return top


def boot(image, d, disk, root="/dev/vda"):
    sock, log = d + "/agent.sock", d + "/console.log"
    for f in (sock, log):
        if os.path.exists(f):
            os.unlink(f)
    mhz = [l.split(":")[1] for l in open("/proc/cpuinfo") if l.startswith("cpu MHz")][0]
    manifest = json.load(open(image + "/image.json"))
    extra, acpi = manifest["cmdlineExtra"], "on" if manifest["acpi"] else "off"
    append = "console=ttyS0 quiet panic=-1 reboot=t tsc_early_khz=%d basalt.root=%s %s" % (
        float(mhz) * 1000, root, extra)
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-M", "microvm,rtc=on,acpi=" + acpi, "-accel", "tcg", "-cpu", "max", "-m", "256",
         "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-serial", "file:" + log,
         "-kernel", image + "/vmlinux", "-initrd", image + "/initrd.img", "-append", append,
         "-device", "virtio-serial-device,max_ports=2",
         "-chardev", "socket,id=agent,path=%s,server=on,wait=off" % sock,
         "-device", "virtserialport,chardev=agent,name=basalt.agent",
         "-blockdev", "driver=qcow2,node-name=root,file.driver=file,file.filename=%s" % disk,
         "-device", "virtio-blk-device,drive=root",
         "-no-reboot", "-display", "none"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return qemu, sock, log


@contextlib.contextmanager
def guest(image, d, disk):
    """A booted guest's agent, HELLO answered; powered off (SHUTDOWN) at the end, killed if need be."""
    qemu, sock, _ = boot(image, d, disk)
    try:
        a = Agent.attach(sock)
        m = a.request("HELLO", b"\0\0\0\1", timeout=90)
        assert m.type == T["HELLO_REPLY"], m
        yield a
        assert a.request("SHUTDOWN").type == T["OK"]
        qemu.wait(60)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()


def run_image(image, d):
    base = make_base(d)
    base_sum = hashlib.sha256(open(base, "rb").read()).hexdigest()
    top = overlay(d, base, "top.qcow2")
    with guest(image, d, top) as a:
        t0 = time.monotonic()
        out, _, _ = sh(a, "cat /etc/marker; grep ' / ' /proc/mounts; grep ' /tmp ' /proc/mounts || echo tmp-on-disk;"
                          " readlink /proc/1/exe; grep CapEff /proc/1/status; ls /init 2>&1 || true;"
                          " df -k / | grep -v Filesystem")
        lines = out.splitlines()
        assert lines[0] == "from the base image", out
        assert lines[1].startswith("/dev/vda / ext4 "), out
        assert lines[2] == "tmp-on-disk", out
        assert lines[3].startswith("/init"), out   # PID 1 is still the agent the kernel started
        assert lines[4].split()[1] == "000001ffffffffff", out
        assert "No such file" in lines[5], out    # the initramfs was emptied
        size_kib = int(lines[6].split()[1])
        assert DISK_MIB * 1024 * 0.9 < size_kib <= DISK_MIB * 1024, "file system not grown: " + out
        # fill the disk: ENOSPC, and the guest answers on
        out, err, code = sh(a, "dd if=/dev/zero of=/tmp/fill bs=1M count=%d 2>&1; echo dd=$?; sync;"
                               " rm -f /tmp/fill"
                               % (DISK_MIB + 16))
        assert "No space left on device" in out, out
        assert "dd=1" in out, out
        out, _, _ = sh(a, "echo survived > /root/kept; sync; cat /root/kept")
        assert out == "survived\n", out
        print("%s: disk root ok (%d KiB file system, ENOSPC at the disk's end, %.1f s)" % (
            os.path.basename(image), size_kib, time.monotonic() - t0))
    assert hashlib.sha256(open(base, "rb").read()).hexdigest() == base_sum, "the base image was written"
    # the overlay kept the guest's writes: boot it again and read them back
    with guest(image, d, top) as a:
        out, _, _ = sh(a, "cat /root/kept; ls /tmp")
        assert out == "survived\n", out
    # a disk without a file system: the guest powers off and says why
    junk = os.path.join(d, "junk.raw")
    with open(junk, "wb") as f:
        f.truncate(8 << 20)
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", junk, top], check=True)
    qemu, sock, log = boot(image, d, top)
    try:
        qemu.wait(90)
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
            raise AssertionError("a guest with an unusable root disk did not power off")
    console = open(log, errors="replace").read()
    assert "cannot use root disk /dev/vda" in console, console[-2000:]
    print("%s: unusable root disk powers the guest off with the reason" % os.path.basename(image))


def main():
    status = 0
    for image in sys.argv[1:]:
        d = tempfile.mkdtemp(prefix="basalt-vm-disk-test-")
        try:
            run_image(image, d)
        except Exception:
            status = 1
            log = d + "/console.log"
            if os.path.exists(log):
                print(open(log, errors="replace").read()[-3000:])
            import traceback
            traceback.print_exc()
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
