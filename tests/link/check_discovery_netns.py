#!/usr/bin/env python3
"""DNS-SD discovery, the Thunderbolt path and the server cache, end to end.

Two network namespaces, "server" and "client", joined by two veth pairs: one
plays an Ethernet, the other a Thunderbolt/USB4 link (a fake sysfs tree in
TETHER_SYSFS_ROOT makes the client's end thunderbolt-net's interface of an
XDomain peer). Each namespace runs its own D-Bus system bus and avahi-daemon;
tetherd (on lavapipe) runs in the server namespace, `tether` and the ICD in
the client namespace with TETHER_SERVER unset. Checked:

  A  tetherd on one address is advertised there only; `tether discover`
     lists it with its TXT fields; the ICD finds it and a compute program
     gives the same bytes as natively; the cache file names it.
  B  tetherd on 0.0.0.0 is reachable both ways: discover marks the cable
     address, the ICD takes it (tetherd sees the client's cable address),
     `tether status` reports the path and the link, `tether bench-link`
     compares what it measures with the link's nominal speed.
  C  the cached server is preferred among those discovered.
  D  without avahi-daemon the ICD uses the cached server.
  E  with neither, it fails with a clear message.
  F  tetherd started without avahi-daemon logs one warning, serves on, and
     is advertised once avahi-daemon starts; one that was advertised when the
     daemon went away is advertised again when it is back.

Needs root (namespaces); exits 77 (skipped) only when not root.

avahi-daemon keeps its pid file and socket in /run/avahi-daemon (fixed at
build time): each instance runs under `ip netns exec`, which gives it a
mount namespace of its own, with a tmpfs mounted over /run there. Its D-Bus
system bus is a private dbus-daemon, named by DBUS_SYSTEM_BUS_ADDRESS (which
libdbus honours for avahi-daemon, tetherd's advertiser and the clients).
"""
import argparse
import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def protocol_version():
    """MAJOR.MINOR as protocol/handshake.h defines them (what TXT proto says)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "protocol", "handshake.h")
    with open(path) as f:
        text = f.read()
    major = re.search(r"#define TETHER_PROTOCOL_MAJOR (\d+)", text).group(1)
    minor = re.search(r"#define TETHER_PROTOCOL_MINOR (\d+)", text).group(1)
    return "%s.%s" % (major, minor)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tetherd_harness as th  # noqa: E402

SKIP = 77
NS_PREFIX = "tether-t-"
SRV_ETH, CLI_ETH, SRV_TB, CLI_TB = "srv-eth", "cli-eth", "srv-tb", "cli-tb"
NET_ETH, NET_TB = "10.231.1", "10.231.2"
PEER_NAME, PEER_VENDOR = "tether-peer", "tether test"

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

AVAHI_CONF = """[server]
host-name=%s
use-ipv4=yes
use-ipv6=yes
allow-interfaces=%s
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


class Namespace:
    def __init__(self, name):
        self.name = name
        sh(["ip", "netns", "add", name])
        sh(["ip", "-n", name, "link", "set", "lo", "up"])

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name] + argv

    def kill_all(self):
        """Ends what still runs in the namespace: only what this test started there."""
        for _ in range(50):
            out = subprocess.run(["ip", "netns", "pids", self.name], capture_output=True, text=True).stdout
            pids = [int(p) for p in out.split()]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)

    def delete(self):
        self.kill_all()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def remove_stale_namespaces():
    """Namespaces left by a run of this test that was killed (its pid is gone)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(r"^%s(\d+)-(srv|cli)$" % re.escape(NS_PREFIX), name)
        if m and not pid_alive(int(m.group(1))):
            th.log("removing stale namespace %s" % name)
            ns = Namespace.__new__(Namespace)
            ns.name = name
            ns.delete()


class Daemon:
    """A process started in a namespace, its output in a log file."""

    def __init__(self, ns, argv, env, log_path):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(ns.cmd(argv), env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, needle, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                raise Failure("%s exited (%d) before '%s':\n%s" % (self.log_path, self.proc.returncode, needle,
                                                                     th.indent(self.text(), "  | ")))
            time.sleep(0.05)
        raise Failure("no '%s' in %s after %d s:\n%s" % (needle, self.log_path, timeout,
                                                         th.indent(self.text(), "  | ")))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Side:
    """One namespace with its D-Bus system bus and avahi-daemon."""

    def __init__(self, work, pid, role, ifaces):
        self.role = role
        self.work = work
        self.ns_name = "%s%d-%s" % (NS_PREFIX, pid, role)
        self.ns = None
        self.bus_path = os.path.join(work, "%s-bus" % role)
        self.bus_addr = "unix:path=" + self.bus_path
        self.ifaces = ifaces
        self.host = "tether-%s-%d" % (role, pid)
        with open(os.path.join(work, "%s-bus.conf" % role), "w") as f:
            f.write(BUS_CONF % self.bus_path)
        with open(os.path.join(work, "%s-avahi.conf" % role), "w") as f:
            f.write(AVAHI_CONF % (self.host, ",".join(ifaces)))
        self.dbus = None
        self.avahi = None
        self.avahi_starts = 0

    def create(self):
        self.ns = Namespace(self.ns_name)

    def env(self, extra=None):
        env = th.base_env()
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_addr
        env.update(extra or {})
        return env

    def start_bus(self):
        self.dbus = Daemon(self.ns, ["dbus-daemon", "--config-file=%s" % os.path.join(self.work, "%s-bus.conf"
                                                                                       % self.role),
                                     "--nofork", "--nopidfile"], self.env(),
                           os.path.join(self.work, "%s-dbus.log" % self.role))
        deadline = time.monotonic() + 10
        while not os.path.exists(self.bus_path):
            check(time.monotonic() < deadline and self.dbus.proc.poll() is None,
                  "dbus-daemon (%s) did not start:\n%s" % (self.role, self.dbus.text()))
            time.sleep(0.05)

    def start_avahi(self):
        conf = os.path.join(self.work, "%s-avahi.conf" % self.role)
        # A tmpfs over /run in this process's own mount namespace (ip netns
        # exec makes one): avahi-daemon's /run/avahi-daemon is its own.
        script = "mount -t tmpfs tmpfs /run && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f %s" % conf
        self.avahi_starts += 1
        self.avahi = Daemon(self.ns, ["sh", "-c", script], self.env(),
                            os.path.join(self.work, "%s-avahi-%d.log" % (self.role, self.avahi_starts)))
        self.avahi.wait_for("Server startup complete")

    def stop_avahi(self):
        self.avahi.stop()
        self.avahi = None


def make_veths(srv, cli):
    for s_if, c_if, net in ((SRV_ETH, CLI_ETH, NET_ETH), (SRV_TB, CLI_TB, NET_TB)):
        sh(["ip", "link", "add", "name", s_if, "netns", srv.ns.name, "type", "veth", "peer", "name", c_if,
            "netns", cli.ns.name])
        sh(["ip", "-n", srv.ns.name, "addr", "add", net + ".1/24", "dev", s_if])
        sh(["ip", "-n", cli.ns.name, "addr", "add", net + ".2/24", "dev", c_if])
        sh(["ip", "-n", srv.ns.name, "link", "set", s_if, "up"])
        sh(["ip", "-n", cli.ns.name, "link", "set", c_if, "up"])


def make_fake_sysfs(root):
    """The client's sysfs: a USB4 host router and an XDomain peer whose
    network service has thunderbolt-net's interface CLI_TB under it."""
    domain = os.path.join(root, "devices/pci0000:00/0000:00:0d.2/domain0")
    bus = os.path.join(root, "bus/thunderbolt/devices")
    host = os.path.join(domain, "0-0")
    xd = os.path.join(host, "0-1")
    svc = os.path.join(xd, "0-1.0")
    for d in (bus, os.path.join(svc, "net", CLI_TB)):
        os.makedirs(d)

    def put(d, name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text + "\n")
    put(domain, "uevent", "DEVTYPE=thunderbolt_domain")
    put(host, "uevent", "DEVTYPE=thunderbolt_device")
    put(host, "generation", "4")
    put(xd, "uevent", "DEVTYPE=thunderbolt_xdomain")
    put(xd, "device_name", PEER_NAME)
    put(xd, "vendor_name", PEER_VENDOR)
    for attr, value in (("rx_speed", "20.0 Gb/s"), ("tx_speed", "20.0 Gb/s"), ("rx_lanes", "2"), ("tx_lanes", "2")):
        put(xd, attr, value)
    put(svc, "uevent", "DEVTYPE=thunderbolt_service")
    put(svc, "key", "network")
    for name, target in (("domain0", domain), ("0-0", host), ("0-1", xd), ("0-1.0", svc)):
        os.symlink(target, os.path.join(bus, name))


class Test:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.native = os.environ.get("TETHER_NATIVE_ICD", args.native_icd)
        self.cache_home = os.path.join(work, "cache")
        self.cache_file = os.path.join(self.cache_home, "tether", "last-server")
        self.sysfs = os.path.join(work, "sysfs")
        self.servers = {}
        pid = os.getpid()
        self.srv = Side(work, pid, "srv", [SRV_ETH, SRV_TB])
        self.cli = Side(work, pid, "cli", [CLI_ETH, CLI_TB])
        self.runs = 0
        self.client_config = os.path.join(work, "client-config")

    # ---- processes ----

    def start_tetherd(self, name, listen):
        """A tetherd with an identity of its own, which the client pairs with
        once, at its Ethernet address: found later at any of its addresses,
        it is recognised by its certificate (docs/SECURITY.md)."""
        env = self.srv.env({"VK_DRIVER_FILES": self.native, "TETHER_LOG": "info"})
        pin_file = os.path.join(self.work, "pin-%s" % name)
        d = Daemon(self.srv.ns, [self.args.tetherd, "--listen", listen, "--name", name, "--state-dir",
                                 os.path.join(self.work, "state-%s" % name), "--pairing-pin-file", pin_file], env,
                   os.path.join(self.work, "tetherd-%s.log" % name))
        d.wait_for("listening on")
        self.servers[name] = d
        addr = "%s.1:%s" % (NET_ETH, listen.rsplit(":", 1)[1])
        rc, out = th.pair_client(self.args.tether, addr, pin_file, self.client_config, env=self.client_env(),
                                 prefix=self.cli.ns.cmd([]))
        check(rc == 0, "tether pair %s failed (%d):\n%s" % (addr, rc, out))
        return d

    def client_env(self, extra=None):
        env = self.cli.env({"XDG_CACHE_HOME": self.cache_home, "TETHER_SYSFS_ROOT": self.sysfs,
                            "HOME": self.work, "TETHER_CONFIG_DIR": self.client_config})
        env.update(extra or {})
        return env

    def tether(self, *argv, env=None, timeout=60):
        cmd = self.cli.ns.cmd([self.args.tether] + list(argv))
        run = subprocess.run(cmd, env=env or self.client_env(), capture_output=True, text=True, timeout=timeout)
        th.log("tether %s: exit %d\n%s%s" % (" ".join(argv), run.returncode, th.indent(run.stdout, "  out| "),
                                            th.indent(run.stderr, "  err| ")))
        return run

    def discover_until(self, want, timeout=40):
        """`tether discover` until each (instance, lines) of @want shows up; returns the blocks."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.tether("discover", "--timeout", "3000")
            blocks = {}
            for block in run.stdout.split("\n\n"):
                m = re.match(r'tetherd "([^"]+)"', block)
                if m:
                    blocks[m.group(1)] = block
            if all(name in blocks and all(line in blocks[name] for line in lines) for name, lines in want.items()):
                return run, blocks
            check(time.monotonic() < deadline, "discover never showed %s" % want)
            time.sleep(1)

    def icd_env(self, extra=None):
        env = self.client_env(dict({"VK_DRIVER_FILES": self.args.icd_manifest, "TETHER_LOG": "info"},
                                   **(extra or {})))
        # Sanitizer builds: the ICD is instrumented, vulkaninfo is not.
        preload = os.environ.get("TETHER_TEST_CLIENT_PRELOAD")
        if preload:
            env["LD_PRELOAD"] = preload
            env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        return env

    def run_app_via_icd(self, label):
        """The compute program through the ICD, its bytes against the native run's."""
        out = os.path.join(self.work, "out.%s" % label)
        rc, text = th.run_program(self.cli.ns.cmd([self.args.app, out]), self.icd_env(),
                                  os.path.join(self.work, "app.%s.log" % label), 300)
        th.log("%s through tether: exit %d\n%s" % (label, rc, th.indent(text, "  app| ")))
        check(rc == 0, "%s: the program failed through tether" % label)
        check(self.device_line(text) == self.native_device, "%s: device line %r, natively %r"
              % (label, self.device_line(text), self.native_device))
        check(filecmp.cmp(out, self.native_out, shallow=False), "%s: output differs from the native run" % label)
        return text

    def vulkaninfo_via_icd(self, extra=None):
        cmd = self.cli.ns.cmd([self.args.vulkaninfo, "--summary"])
        run = subprocess.run(cmd, env=self.icd_env(extra), capture_output=True, text=True, timeout=120)
        th.log("vulkaninfo through tether: exit %d\n%s" % (run.returncode, th.indent(run.stderr, "  err| ", 25)))
        return run

    @staticmethod
    def device_line(text):
        for line in text.splitlines():
            if line.startswith("device: "):
                return line
        return None

    def cache(self):
        with open(self.cache_file) as f:
            return dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)

    def write_cache(self, **kv):
        os.makedirs(os.path.dirname(self.cache_file), exist_ok=True)
        with open(self.cache_file, "w") as f:
            f.write("".join("%s=%s\n" % item for item in kv.items()))

    def sessions_from(self, name, client_ip):
        return len(re.findall(r'client "[^"]*" from %s:' % re.escape(client_ip), self.servers[name].text()))

    # ---- scenarios ----

    def setup(self):
        self.srv.create()
        self.cli.create()
        make_veths(self.srv, self.cli)
        make_fake_sysfs(self.sysfs)
        for side in (self.srv, self.cli):
            side.start_bus()
            side.start_avahi()
        self.native_out = os.path.join(self.work, "out.native")
        rc, text = th.run_program([self.args.app, self.native_out], th.native_env(self.native),
                                  os.path.join(self.work, "app.native.log"), 300)
        check(rc == 0, "the program failed natively:\n" + text)
        self.native_device = self.device_line(text)
        self.gpu = self.native_device[len("device: "):]

    def scenario_a(self):
        th.log("A: tetherd on %s.1 only: advertised there, found, used, cached" % NET_ETH)
        self.start_tetherd("alpha", NET_ETH + ".1:7380")
        _, blocks = self.discover_until({"alpha": ["address   %s.1 on %s" % (NET_ETH, CLI_ETH)]})
        want = ["host      %s.local port 7380" % self.srv.host, "gpu       " + self.gpu, "protocol  %s" % protocol_version(),
                "name      alpha", "pairing   required"]
        for line in want:
            check(line + "\n" in blocks["alpha"] + "\n", "discover: no '%s' in\n%s" % (line, blocks["alpha"]))
        check(blocks["alpha"].count("address") == 1, "alpha advertised beyond its interface:\n" + blocks["alpha"])
        check("Thunderbolt" not in blocks["alpha"], "alpha's Ethernet address marked as the cable")
        text = self.run_app_via_icd("A")
        check("DNS-SD: 1 server(s)" in text, "the ICD did not browse")
        check(self.cache() == {"address": NET_ETH + ".1:7380", "instance": "alpha", "link": ""},
              "cache after A: %s" % self.cache())

    def scenario_b(self):
        th.log("B: tetherd on 0.0.0.0: the cable address is marked and taken")
        self.start_tetherd("beta", "0.0.0.0:7381")
        run, blocks = self.discover_until({"beta": ["address   %s.1 on %s" % (NET_TB, CLI_TB),
                                                    "address   %s.1 on %s" % (NET_ETH, CLI_ETH)]})
        beta = blocks["beta"].splitlines()
        addrs = [line for line in beta if line.startswith("  address")]
        check(addrs == ["  address   %s.1 on %s [Thunderbolt/USB4 link 0-1, preferred]" % (NET_TB, CLI_TB),
                        "  address   %s.1 on %s" % (NET_ETH, CLI_ETH)], "beta's addresses: %s" % addrs)
        check("(used last)" in blocks["alpha"], "the cached server is not marked")
        os.unlink(self.cache_file)
        before = self.sessions_from("beta", NET_TB + ".2")
        self.run_app_via_icd("B")
        check(self.sessions_from("beta", NET_TB + ".2") > before, "tetherd beta saw no session over the cable")
        check(self.cache() == {"address": NET_TB + ".1:7381", "instance": "beta", "link": CLI_TB},
              "cache after B: %s" % self.cache())
        run = self.tether("status")
        check(run.returncode == 0, "tether status failed")
        check("path:    %s.1:7381 over the Thunderbolt/USB4 link 0-1 (%s, USB4)" % (NET_TB, CLI_TB) in run.stdout,
              "status: no cable path")
        check('link:    0-1 "%s" (%s), USB4, 2 x 20 Gbit/s each way, %s %s.2/24' % (PEER_NAME, PEER_VENDOR, CLI_TB,
                                                                              NET_TB) in run.stdout,
              "status: no link line")
        run = self.tether("bench-link", "--seconds", "1", "--size", "4M")
        check(run.returncode == 0, "bench-link failed")
        check("path:       Thunderbolt/USB4 link 0-1 (%s, USB4, nominal 40 Gbit/s out, 40 in)" % CLI_TB in run.stdout,
              "bench-link: no cable path")
        for way in ("upload", "download"):
            check(re.search(r"^%s: +[0-9.]+ Gbit/s .*, [0-9]+%% of the link's nominal 40 Gbit/s$" % way, run.stdout,
                            re.M), "bench-link: %s not compared with the link" % way)

    def scenario_c(self):
        th.log("C: the cached server wins among those discovered")
        self.write_cache(address=NET_ETH + ".1:7380", instance="alpha")
        run = self.vulkaninfo_via_icd()
        check(run.returncode == 0 and self.gpu in run.stdout, "vulkaninfo through tether failed")
        check("DNS-SD: 2 server(s)" in run.stderr, "the ICD did not see both servers")
        check(self.cache()["instance"] == "alpha", "the ICD left the cached server: %s" % self.cache())

    def scenario_d(self):
        th.log("D: no avahi-daemon: the cached server")
        self.cli.stop_avahi()
        self.write_cache(address=NET_TB + ".1:7381", instance="beta")
        run = self.vulkaninfo_via_icd()
        check(run.returncode == 0 and self.gpu in run.stdout, "vulkaninfo through tether failed without avahi")
        check("avahi-daemon is not running" in run.stderr, "the ICD did not say why DNS-SD gave nothing")
        check("trying cached tetherd %s.1:7381" % NET_TB in run.stderr, "the ICD did not try the cache")

    def scenario_e(self):
        th.log("E: neither avahi-daemon nor a cache: a clear failure")
        os.unlink(self.cache_file)
        run = self.vulkaninfo_via_icd()
        check(run.returncode != 0, "vulkaninfo succeeded with no server to find")
        check("no tetherd found" in run.stderr, "no clear message when nothing is found")
        check(not os.path.exists(self.cache_file), "a failed run wrote the cache")

    def scenario_f(self):
        th.log("F: tetherd without avahi-daemon: one warning, serves on, advertised once it starts")
        self.cli.start_avahi()
        self.servers.pop("alpha").stop()
        self.srv.stop_avahi()
        gamma = self.start_tetherd("gamma", "0.0.0.0:7382")
        time.sleep(2)
        warnings = [line for line in gamma.text().splitlines() if "avahi-daemon is not running" in line]
        check(len(warnings) == 1, "tetherd without avahi-daemon: %d warnings" % len(warnings))
        run = self.tether("status", "--server", NET_ETH + ".1:7382")
        check(run.returncode == 0, "tetherd does not serve without avahi-daemon")
        self.srv.start_avahi()
        self.discover_until({"gamma": ["address   %s.1 on %s" % (NET_TB, CLI_TB)],
                             "beta": ["address   %s.1 on %s" % (NET_TB, CLI_TB)]})
        check(gamma.proc.poll() is None and self.servers["beta"].proc.poll() is None, "a tetherd died")
        for d in (gamma, self.servers["beta"]):
            check("avahi-daemon is running now: advertising" in d.text(), "%s: not advertised again" % d.log_path)

    def cleanup(self):
        for d in self.servers.values():
            d.stop()
        for side in (self.cli, self.srv):
            if side.avahi:
                side.avahi.stop()
            if side.dbus:
                side.dbus.stop()
            if side.ns:
                side.ns.delete()


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--tetherd", "--tether", "--icd-manifest", "--native-icd", "--app", "--vulkaninfo"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.geteuid() != 0:
        th.log("SKIP: needs root for network namespaces")
        return SKIP
    for tool in ("ip", "dbus-daemon", "avahi-daemon"):
        check(shutil.which(tool), "%s is not installed (tools/deps.sh installs it)" % tool)
    remove_stale_namespaces()
    work = tempfile.mkdtemp(prefix="tether-discovery-")
    test = Test(args, work)
    # SIGTERM (a CTest timeout, a user) still cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    try:
        test.setup()
        test.scenario_a()
        test.scenario_b()
        test.scenario_c()
        test.scenario_d()
        test.scenario_e()
        test.scenario_f()
        th.log("PASS")
        return 0
    except (Failure, subprocess.CalledProcessError) as e:
        if isinstance(e, subprocess.CalledProcessError):
            e = "%s: exit %d: %s" % (" ".join(e.cmd), e.returncode, (e.stderr or "").strip())
        th.log("FAIL: %s" % e)
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                with open(os.path.join(work, name), "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                th.log("--- %s\n%s" % (name, th.indent(text, "  | ", 40)))
        return 1
    finally:
        test.cleanup()
        if args.keep:
            th.log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
