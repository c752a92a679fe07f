/* A root file system on a disk: mount it, grow it to the disk, and make it the root while
 * the agent stays PID 1 (what switch_root does, without exec'ing another init). */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define NEW_ROOT "/newroot"
#define DEVICE_WAIT_MS 5000
/* fs/ext4/ext4.h; not in the uapi headers */
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#define EXT4_SUPER_MAGIC 0xEF53

static dev_t initramfs_dev;

/* The block device DEV, waited for: a disk driver loaded as a module probes on its own time. */
static int wait_device(const char *dev)
{
    struct stat st;
    int64_t end = now_ms() + DEVICE_WAIT_MS;
    while (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode)) {
        if (now_ms() >= end) {
            logf_("root disk %s: no such block device after %d ms", dev, DEVICE_WAIT_MS);
            return -1;
        }
        usleep(1000);
    }
    return 0;
}

/* Grows the ext4 file system mounted at DIR to the size of DEV: an image holds a file system
 * just big enough for its files, the disk is as big as the sandbox asked for. */
static void grow_to_device(const char *dev, const char *dir)
{
    uint64_t bytes = 0;
    struct statfs sf;
    int bfd = open(dev, O_RDONLY | O_CLOEXEC);
    if (bfd < 0 || ioctl(bfd, BLKGETSIZE64, &bytes) < 0) {
        logf_("root disk %s: size: %s", dev, strerror(errno));
        if (bfd >= 0)
            close(bfd);
        return;
    }
    close(bfd);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fstatfs(dfd, &sf) < 0 || sf.f_type != EXT4_SUPER_MAGIC || sf.f_bsize <= 0) {
        if (dfd >= 0)
            close(dfd);
        return; /* not ext4: used as it is */
    }
    uint64_t blocks = bytes / (uint64_t)sf.f_bsize;
    /* f_blocks leaves out the file system's overhead, so it is always below the block count:
     * the kernel returns at once when the count does not change, and refuses to shrink */
    if (blocks > (uint64_t)sf.f_blocks && ioctl(dfd, EXT4_IOC_RESIZE_FS, &blocks) < 0)
        logf_("root disk %s: growing the file system to %llu blocks: %s", dev,
              (unsigned long long)blocks, strerror(errno));
    close(dfd);
}

/* nftw callback: deletes what the initramfs held (it is RAM nobody can reach once the disk is
 * the root), staying on the initramfs and off the new root. */
static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    if (st->st_dev != initramfs_dev || strcmp(path, "/") == 0 ||
        strncmp(path, NEW_ROOT, sizeof NEW_ROOT - 1) == 0)
        return 0;
    if ((S_ISDIR(st->st_mode) ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT && errno != ENOTEMPTY)
        logf_("removing %s from the initramfs: %s", path, strerror(errno));
    return 0;
}

/* Moves the mount at /NAME to the new root. */
static int move_to_new_root(const char *name)
{
    char to[64];
    snprintf(to, sizeof to, NEW_ROOT "/%s", name);
    mkdir(to, 0755);
    char from[64];
    snprintf(from, sizeof from, "/%s", name);
    if (mount(from, to, NULL, MS_MOVE, NULL) < 0) {
        logf_("moving %s to the root disk: %s", from, strerror(errno));
        return -1;
    }
    return 0;
}

int rootfs_switch(const char *dev)
{
    struct stat st;
    if (stat("/", &st) < 0)
        return -1;
    initramfs_dev = st.st_dev;
    if (wait_device(dev) < 0)
        return -1;
    mkdir(NEW_ROOT, 0755);
    /* noinit_itable: the image's inode tables are zeroed when it is made, so no kernel thread
     * writes them in every clone */
    if (mount(dev, NEW_ROOT, "ext4", MS_NOATIME, "noinit_itable") < 0) {
        logf_("mounting root disk %s (ext4): %s", dev, strerror(errno));
        return -1;
    }
    grow_to_device(dev, NEW_ROOT);
    if (move_to_new_root("dev") < 0 || move_to_new_root("proc") < 0 || move_to_new_root("sys") < 0)
        return -1;
    nftw("/", remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (chdir(NEW_ROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        logf_("switching to the root disk: %s", strerror(errno));
        return -1;
    }
    /* /tmp lives on the disk (a RAM /tmp filled up took the guest down with it) */
    if (mkdir("/tmp", 01777) == 0)
        chmod("/tmp", 01777); /* past the umask */
    return 0;
}
