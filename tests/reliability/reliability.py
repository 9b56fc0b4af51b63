#!/usr/bin/env python3
"""tetherd under stress: limits, many clients with one killed, a soak loop, and
a link cut in network namespaces.

  reliability.py limits      --tetherd T --icd-manifest M --native-icd N --limits-client P
  reliability.py many        --tetherd T --icd-manifest M --native-icd N --apps-dir D --loss-client P
  reliability.py soak        --tetherd T --icd-manifest M --native-icd N --apps-dir D --loss-client P [--seconds S]
  reliability.py link-cut    --tetherd T --icd-manifest M --native-icd N --loss-client P
  reliability.py gpu-memory  --tetherd T --icd-manifest M --native-icd N --loss-client P  (NVIDIA)

Exit 0 when every check holds, 1 when one fails, 2 on a harness error.
python3 stdlib only.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import tetherd_harness as th  # noqa: E402

# The compute programs of tests/apps and the argument each takes.
COMPUTE_APPS = ["compute_prefix_sum", "compute_reduction_timeline", "compute_timestamps_fences"]


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# ---- what tetherd holds ---------------------------------------------------

def children(pid):
    """Pids of pid's child processes (its sessions)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def wait_for(cond, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def session_ends(log_text):
    return len(re.findall(r"session ended", log_text))


# ---- programs ---------------------------------------------------------------

class Program:
    """A program with its output in a file, readable while it runs."""

    def __init__(self, cmd, env, log_path, netns=None):
        self.log_path = log_path
        self._out = open(log_path, "wb")
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_line(self, pattern, timeout):
        rx = re.compile(pattern, re.M)
        return wait_for(lambda: rx.search(self.text()) or self.proc.poll() is not None and
                        rx.search(self.text()), timeout, 0.05) and rx.search(self.text())

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9
        finally:
            self._out.close()


def reference_outputs(args, workdir):
    """Each compute app run natively once: its output bytes."""
    refs = {}
    for app in COMPUTE_APPS:
        out = os.path.join(workdir, "native." + app)
        rc, text = th.run_program([os.path.join(args.apps_dir, app), out], th.native_env(args.native_icd),
                                  out + ".log", 300)
        if rc != 0:
            th.die("native %s failed (%d):\n%s" % (app, rc, th.indent(text, "  | ")))
        with open(out, "rb") as f:
            refs[app] = f.read()
    return refs


def run_app_through(args, server, app, workdir, tag):
    out = os.path.join(workdir, "%s.%s" % (tag, app))
    prog = Program([os.path.join(args.apps_dir, app), out], th.tether_env(args.icd_manifest, server),
                   out + ".log")
    return prog, out


# ---- tests ------------------------------------------------------------------

def test_limits(args, workdir):
    objects, memory_mib = 256, 12
    with th.Tetherd(args.tetherd, args.native_icd, workdir, "tcp",
                    extra_args=["--max-objects", str(objects), "--max-memory", "%dM" % memory_mib]) as server:
        rc, text = th.run_program([args.limits_client, str(objects), str(memory_mib)],
                                  th.tether_env(args.icd_manifest, server),
                                  os.path.join(workdir, "limits.log"), 300)
        th.log("limits_client exit %d:\n%s" % (rc, th.indent(text, "  | ", 12)))
        check(rc == 0, "limits_client failed")
        check(wait_for(lambda: session_ends(server.log_text()) >= 1, 5), "the session did not end")
        log = server.log_text()
        check("vkAllocateMemory of 1048576 bytes refused" in log,
              "tetherd did not log the refused allocation:\n" + server.log_tail())
        check("rejected" not in log, "tetherd rejected a command of a client within its limits:\n"
              + server.log_tail())
        check(server.alive(), "tetherd died")


def test_many(args, workdir):
    """8 clients at once, each a compute program compared with native, one of
    them killed in the middle of its submits."""
    refs = reference_outputs(args, workdir)
    with th.Tetherd(args.tetherd, args.native_icd, workdir, "tcp") as server:
        victim = Program([args.loss_client], th.tether_env(args.icd_manifest, server),
                         os.path.join(workdir, "victim.log"))
        check(victim.wait_line(r"^iteration 3$", 60), "the victim never got going:\n" + victim.text())
        clients = []
        for i in range(7):
            app = COMPUTE_APPS[i % len(COMPUTE_APPS)]
            clients.append((app,) + run_app_through(args, server, app, workdir, "c%d" % i))
        check(victim.wait_line(r"^iteration 10$", 60), "the victim stalled:\n" + victim.text())
        before = session_ends(server.log_text())
        killed_at = time.monotonic()
        victim.kill()
        th.log("killed the victim (submitting in a loop) with 7 clients running")
        check(wait_for(lambda: session_ends(server.log_text()) > before, 2.0),
              "the killed client's session did not end within 2 s:\n" + server.log_tail())
        th.log("its session ended %.0f ms after the kill" % ((time.monotonic() - killed_at) * 1000))
        for app, prog, out in clients:
            rc = prog.wait(300)
            check(rc == 0, "%s through tether failed (%d):\n%s" % (app, rc, th.indent(prog.text(), "  | ")))
            with open(out, "rb") as f:
                check(f.read() == refs[app], "%s through tether differs from native" % app)
        check(server.alive(), "tetherd died")
        check(wait_for(lambda: not children(server.proc.pid), 5),
              "sessions left behind: %s" % children(server.proc.pid))
        # The server still serves.
        prog, out = run_app_through(args, server, COMPUTE_APPS[0], workdir, "after")
        check(prog.wait(120) == 0, "a client after the others failed:\n" + prog.text())
        log = server.log_text()
        check("Segmentation" not in log and "AddressSanitizer" not in log, "tetherd reported:\n" + server.log_tail())
        th.log("7 clients matched native; the killed one's session ended; the next client was served")


def test_soak(args, workdir):
    """Clients connecting, working and leaving (or being killed) in a loop:
    tetherd's memory, descriptors and processes are where they were."""
    refs = reference_outputs(args, workdir)
    with th.Tetherd(args.tetherd, args.native_icd, workdir, "tcp") as server:
        pid = server.proc.pid

        def one_round(i):
            app = COMPUTE_APPS[i % len(COMPUTE_APPS)]
            prog, out = run_app_through(args, server, app, workdir, "soak")
            if i % 4 == 3:  # every fourth client dies in the middle of its work
                victim = Program([args.loss_client], th.tether_env(args.icd_manifest, server),
                                 os.path.join(workdir, "soak.victim.log"))
                victim.wait_line(r"^iteration 2$", 60)
                victim.kill()
            rc = prog.wait(300)
            check(rc == 0, "soak round %d: %s failed:\n%s" % (i, app, prog.text()))
            with open(out, "rb") as f:
                check(f.read() == refs[app], "soak round %d: %s differs from native" % (i, app))

        for i in range(3):  # warm up: first sessions size the daemon's buffers
            one_round(i)
        wait_for(lambda: not children(pid), 5)
        rss0, fds0 = rss_kib(pid), fd_count(pid)
        start, rounds = time.monotonic(), 0
        while time.monotonic() - start < args.seconds:
            one_round(rounds)
            rounds += 1
        check(wait_for(lambda: not children(pid), 5), "sessions left behind: %s" % children(pid))
        rss1, fds1 = rss_kib(pid), fd_count(pid)
        ends = session_ends(server.log_text())
        th.log("soak: %d rounds in %.0f s, %d sessions ended; tetherd RSS %d -> %d KiB, fds %d -> %d"
               % (rounds, time.monotonic() - start, ends, rss0, rss1, fds0, fds1))
        check(rounds >= 4, "only %d rounds" % rounds)
        check(fds1 == fds0, "tetherd's descriptors grew from %d to %d" % (fds0, fds1))
        check(rss1 - rss0 <= 512, "tetherd's memory grew from %d to %d KiB" % (rss0, rss1))
        check(server.alive(), "tetherd died")


def gpu_memory_used_mib():
    r = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return int(r.stdout.split()[0]) if r.returncode == 0 else None


def test_gpu_memory(args, workdir):
    """A client holding GPU memory is killed: the GPU's used memory (as
    nvidia-smi reports it) is back where it was within a second of tetherd
    ending the session."""
    if not shutil.which("nvidia-smi") or gpu_memory_used_mib() is None:
        th.log("SKIP: needs an NVIDIA GPU and nvidia-smi")
        return 77
    hold = 2048
    with th.Tetherd(args.tetherd, args.native_icd, workdir, "tcp") as server:
        time.sleep(0.5)
        base = gpu_memory_used_mib()
        victim = Program([args.loss_client, "--hold-mib", str(hold)], th.tether_env(args.icd_manifest, server),
                         os.path.join(workdir, "victim.log"))
        check(victim.wait_line(r"^iteration 3$", 60), "the client never got going:\n" + victim.text())
        held = gpu_memory_used_mib()
        th.log("GPU memory used: %d MiB before, %d MiB with the client" % (base, held))
        check(held - base >= hold, "the client's %d MiB do not show (%d -> %d)" % (hold, base, held))
        before = session_ends(server.log_text())
        victim.kill()
        killed = time.monotonic()
        check(wait_for(lambda: session_ends(server.log_text()) > before, 5), "the session did not end")
        ended = time.monotonic()
        back = wait_for(lambda: gpu_memory_used_mib() <= base + 16, 1.0, 0.05)
        after = gpu_memory_used_mib()
        th.log("killed: session ended after %.0f ms, GPU memory %d MiB %.0f ms after that"
               % ((ended - killed) * 1000, after, (time.monotonic() - ended) * 1000))
        check(back, "GPU memory still %d MiB (was %d) a second after the session ended" % (after, base))
        check(server.alive(), "tetherd died")


# ---- link cut in network namespaces -----------------------------------------

NS_SERVER, NS_CLIENT = "tether-rel-srv", "tether-rel-cli"
VETH_SERVER, VETH_CLIENT = "trel-s", "trel-c"
ADDR_SERVER, ADDR_CLIENT = "10.231.7.1", "10.231.7.2"


def ip(*argv, check_rc=True):
    r = subprocess.run(["ip"] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if check_rc and r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(argv), r.stdout.decode()))
    return r


def netns_down():
    for ns in (NS_SERVER, NS_CLIENT):
        ip("netns", "del", ns, check_rc=False)


def netns_up():
    netns_down()
    ip("netns", "add", NS_SERVER)
    ip("netns", "add", NS_CLIENT)
    ip("link", "add", VETH_SERVER, "netns", NS_SERVER, "type", "veth", "peer", "name", VETH_CLIENT,
       "netns", NS_CLIENT)
    for ns, dev, addr in ((NS_SERVER, VETH_SERVER, ADDR_SERVER), (NS_CLIENT, VETH_CLIENT, ADDR_CLIENT)):
        ip("-n", ns, "addr", "add", addr + "/24", "dev", dev)
        ip("-n", ns, "link", "set", dev, "up")
        ip("-n", ns, "link", "set", "lo", "up")


def test_link_cut(args, workdir):
    """The client's link (TLS, paired as a user pairs) goes down in the middle
    of its frames: the client
    gets VK_ERROR_DEVICE_LOST within the link timeout (no call hangs), the
    server ends and frees the session, and once the link is back the same
    program makes a new instance and computes correctly again."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        th.log("SKIP: needs root and iproute2 for network namespaces")
        return 77
    netns_up()
    server = None
    try:
        log_path = os.path.join(workdir, "tetherd.log")
        server_out = open(log_path, "wb")
        addr = "%s:7380" % ADDR_SERVER
        pin_file, config_dir = os.path.join(workdir, "pin"), os.path.join(workdir, "client-config")
        server = subprocess.Popen(["ip", "netns", "exec", NS_SERVER, args.tetherd, "--listen", addr,
                                   "--state-dir", os.path.join(workdir, "state"), "--pairing-pin-file", pin_file],
                                  env=th.native_env(args.native_icd), stdin=subprocess.DEVNULL,
                                  stdout=server_out, stderr=subprocess.STDOUT)

        def server_log():
            with open(log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")

        check(wait_for(lambda: "listening on" in server_log(), 10), "tetherd did not start:\n" + server_log())
        # The client pairs as a user would, so the link it loses is TLS.
        rc, out = th.pair_client(th.tether_cli_next_to(args.tetherd), addr, pin_file, config_dir,
                                 prefix=("ip", "netns", "exec", NS_CLIENT))
        check(rc == 0, "tether pair failed (%d):\n%s" % (rc, out))
        env = th.tether_env(args.icd_manifest, addr)
        env["TETHER_CONFIG_DIR"] = config_dir
        client = Program([args.loss_client, "--reconnect-s", "60"], env, os.path.join(workdir, "client.log"),
                         netns=NS_CLIENT)
        check(client.wait_line(r"^iteration 5$", 60), "the client never got going:\n" + client.text())
        ip("-n", NS_CLIENT, "link", "set", VETH_CLIENT, "down")
        cut = time.monotonic()
        th.log("link down in the middle of the client's iterations")
        lost = client.wait_line(r"^lost: .*$", 20)
        check(lost, "the client did not notice the cut within 20 s:\n" + client.text())
        th.log("client: %s (%.1f s after the cut)" % (lost.group(0), time.monotonic() - cut))
        check("VK_ERROR_DEVICE_LOST" in lost.group(0), "the client saw " + lost.group(0))
        check(wait_for(lambda: "session ended" in server_log(), 20),
              "tetherd did not end the session:\n" + server_log())
        ended = time.monotonic() - cut
        th.log("tetherd ended the session %.1f s after the cut" % ended)
        # `ip netns exec` may run tetherd as itself or as its child.
        daemon = server.pid
        with open("/proc/%d/comm" % daemon) as f:
            if f.read().strip() != "tetherd":
                daemon = children(server.pid)[0]
        check(wait_for(lambda: not children(daemon), 1.0), "the session process outlived its session by 1 s")
        ip("-n", NS_CLIENT, "link", "set", VETH_CLIENT, "up")
        th.log("link up again")
        rc = client.wait(90)
        text = client.text()
        th.log("client:\n" + th.indent(text, "  | ", 8))
        check(rc == 0 and "recovered" in text, "the client did not recover (exit %d)" % rc)
        check(server.poll() is None, "tetherd died")
        check(len(re.findall(r"^lost: ", text, re.M)) == 1, "more than one loss")
    finally:
        if server and server.poll() is None:
            for pid in children(server.pid):
                os.kill(pid, signal.SIGTERM)
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
        netns_down()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("test", choices=["limits", "many", "soak", "link-cut", "gpu-memory"])
    p.add_argument("--tetherd", required=True)
    p.add_argument("--icd-manifest", required=True)
    p.add_argument("--native-icd", required=True)
    p.add_argument("--apps-dir")
    p.add_argument("--loss-client")
    p.add_argument("--limits-client")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    args.native_icd = os.environ.get("TETHER_NATIVE_ICD", args.native_icd)
    os.environ["TETHER_LOG"] = "info"  # tetherd says when each session ends
    workdir = tempfile.mkdtemp(prefix="tether-rel-")
    rc = 1
    try:
        tests = {"limits": test_limits, "many": test_many, "soak": test_soak, "link-cut": test_link_cut,
                 "gpu-memory": test_gpu_memory}
        rc = tests[args.test](args, workdir) or 0
        th.log("PASS" if rc == 0 else "SKIPPED")
    except Failure as e:
        th.log("FAIL: %s" % e)
        rc = 1
    except (RuntimeError, OSError) as e:
        th.log("ERROR: %s" % e)
        rc = 2
    finally:
        if args.keep or rc not in (0, 77):
            th.log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
