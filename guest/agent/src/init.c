/* PID 1 duties: filesystems, kernel modules, hostname, loopback, the NIC, the port. */
#define _GNU_SOURCE
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PORT_NAME "basalt.agent"
#define PORT_WAIT_MS 10000

static void mnt(const char *src, const char *dir, const char *type, unsigned long flags, const char *opts)
{
    mkdir(dir, 0755);
    if (mount(src, dir, type, flags, opts) < 0 && errno != EBUSY)
        logf_("mount %s on %s: %s", type, dir, strerror(errno));
}

static void load_modules(void)
{
    FILE *f = fopen("/etc/basalt/modules", "re");
    char line[4096];
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *p = line + strspn(line, " \t");
        if (*p == 0 || *p == '#')
            continue;
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            logf_("module %s: %s", p, strerror(errno));
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
            logf_("finit_module %s: %s", p, strerror(errno));
        close(fd);
    }
    fclose(f);
}

static void set_addr(struct sockaddr *sa, in_addr_t a)
{
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = a;
}

/* basalt.ip=ADDR/PREFIX,GATEWAY: eth0 gets ADDR/PREFIX, the default route and the DNS server are
 * GATEWAY. Every clone of a template has the same values (the host's network slot makes them
 * distinct), so this runs once, at boot. */
static void configure_nic(const char *spec)
{
    char addr[32], gw[32];
    unsigned prefix;
    struct in_addr a, g;
    if (sscanf(spec, "%31[0-9.]/%u,%31[0-9.]", addr, &prefix, gw) != 3 || prefix < 1 || prefix > 30 ||
        inet_pton(AF_INET, addr, &a) != 1 || inet_pton(AF_INET, gw, &g) != 1) {
        logf_("basalt.ip=%s: expected ADDR/PREFIX,GATEWAY", spec);
        return;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "eth0");
    set_addr(&ifr.ifr_addr, a.s_addr);
    if (s < 0 || ioctl(s, SIOCSIFADDR, &ifr) < 0) {
        logf_("eth0 address %s: %s", addr, strerror(errno));
        goto out;
    }
    set_addr(&ifr.ifr_netmask, htonl(0xffffffffu << (32 - prefix)));
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
        logf_("eth0 netmask /%u: %s", prefix, strerror(errno));
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
        logf_("bringing eth0 up: %s", strerror(errno));
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    set_addr(&rt.rt_dst, INADDR_ANY);
    set_addr(&rt.rt_genmask, INADDR_ANY);
    set_addr(&rt.rt_gateway, g.s_addr);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = (char *)"eth0";
    if (ioctl(s, SIOCADDRT, &rt) < 0 && errno != EEXIST)
        logf_("default route via %s: %s", gw, strerror(errno));
    mkdir("/etc", 0755);
    int fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dprintf(fd, "nameserver %s\n", gw);
        close(fd);
    } else {
        logf_("/etc/resolv.conf: %s", strerror(errno));
    }
out:
    if (s >= 0)
        close(s);
}

/* The kernel command line into CMD (NUL-terminated); 0, or -1 if it cannot be read. */
static int read_cmdline(char *cmd, size_t len)
{
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, cmd, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    cmd[n] = 0;
    return 0;
}

/* The value of the kernel command-line word KEY=value in OUT ("" if absent). */
static void cmdline_value(const char *key, char *out, size_t len)
{
    char cmd[4096];
    size_t klen = strlen(key);
    out[0] = 0;
    if (read_cmdline(cmd, sizeof cmd) < 0)
        return;
    char *save = NULL;
    for (char *tok = strtok_r(cmd, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
        if (strncmp(tok, key, klen) == 0 && tok[klen] == '=')
            snprintf(out, len, "%s", tok + klen + 1);
}

/* The kernel command line's basalt.* parameters: hostname, NIC. */
static void apply_cmdline(void)
{
    char cmd[4096];
    if (read_cmdline(cmd, sizeof cmd) < 0)
        return;
    for (char *tok = strtok(cmd, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
        if (strncmp(tok, "basalt.hostname=", 16) == 0 && tok[16]) {
            if (sethostname(tok + 16, strlen(tok + 16)) < 0)
                logf_("sethostname %s: %s", tok + 16, strerror(errno));
        } else if (strncmp(tok, "basalt.ip=", 10) == 0) {
            configure_nic(tok + 10);
        }
    }
}

static void loopback_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
        logf_("bringing lo up: %s", strerror(errno));
    if (s >= 0)
        close(s);
}

void init_system(void)
{
    char root[256];
    mnt("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    log_open_console();
    mnt("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mnt("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    load_modules();
    /* basalt.root=/dev/vda: the root file system is on that disk. A sandbox must never run on
     * another root than the one it asked for, so a disk that cannot be used ends the VM (the
     * host reports the reason from the console). */
    cmdline_value("basalt.root", root, sizeof root);
    if (root[0] && rootfs_switch(root) < 0) {
        logf_("cannot use root disk %s: powering off", root);
        init_poweroff();
    }
    mnt("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620");
    struct stat st;
    if (lstat("/dev/ptmx", &st) < 0 && symlink("pts/ptmx", "/dev/ptmx") < 0)
        logf_("symlink /dev/ptmx: %s", strerror(errno));
    mnt("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    if (!root[0])
        mnt("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    mnt("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    loopback_up();
    apply_cmdline(); /* after the switch: /etc/resolv.conf is the root's */
}

/* Whether the virtio port PORT (e.g. "vport0p1") is named PORT_NAME. */
static int port_is_ours(const char *port)
{
    char path[512], name[64] = {0};
    snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", port);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    size_t len = strlen(PORT_NAME);
    return n > 0 && strncmp(name, PORT_NAME, len) == 0 && (name[len] == 0 || name[len] == '\n');
}

/* Name of the /dev node whose virtio-ports name is PORT_NAME, or -1. QEMU numbers the agent's
 * port 1 on the VM's only virtio-serial device, so vport0p1 is tried before reading the whole
 * directory (under TCG every kernel path run for the first time costs its translation). */
static int find_port(char *dev, size_t len)
{
    const char *port = NULL;
    DIR *d = NULL;
    struct dirent *de;
    if (port_is_ours("vport0p1")) {
        port = "vport0p1";
    } else if ((d = opendir("/sys/class/virtio-ports")) != NULL) {
        while (!port && (de = readdir(d)) != NULL)
            if (de->d_name[0] != '.' && port_is_ours(de->d_name))
                port = de->d_name;
    }
    if (port)
        snprintf(dev, len, "/dev/%s", port);
    if (d)
        closedir(d);
    return port ? 0 : -1;
}

int open_agent_port(void)
{
    char dev[300];
    int64_t end = now_ms() + PORT_WAIT_MS;
    do {
        if (find_port(dev, sizeof dev) == 0) {
            int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
            if (fd >= 0)
                return fd;
        }
        usleep(5000);
    } while (now_ms() < end);
    logf_("virtio port %s not found after %d ms", PORT_NAME, PORT_WAIT_MS);
    return -1;
}

void init_poweroff(void)
{
    kill(-1, SIGKILL);
    sync();
    reboot(RB_POWER_OFF);
    logf_("reboot: %s", strerror(errno));
}
