#!/usr/bin/env python3
"""Cohort against its peers, side by side in one run (see docs/benchmarks.md).

Every cell runs each tool in turn, the order rotating from one repetition to the next, on the
same loopback fleet with the same commands; medians, min-max and Cohort/peer ratios are
printed, written to bench/results/latest.json and into docs/benchmarks.md.
"""
import argparse
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.path.join(ROOT, ".build-bench")
VENV = os.path.join(WORK, "venv")
COHORT = os.path.join(ROOT, ".build/release/cohort")
FLEET = os.path.join(ROOT, "scripts/testfleet")
LINE = "x" * 99  # W4's output: 100-byte lines, so that line-based tools are not penalised


class Fleet:
    def __init__(self, hosts, rootfs=False):
        self.dir = tempfile.mkdtemp(prefix="cohort-bench-fleet-", dir=WORK)
        # --rootfs: separate Debian hosts (root only), for what changes the system.
        subprocess.run([FLEET, "up", str(hosts), "--dir", self.dir] + (["--rootfs"] if rootfs else []), check=True, stdout=subprocess.DEVNULL)
        self.inventory = f"{self.dir}/inventory.ini"
        self.config = f"{self.dir}/ssh_config"
        self.names = [line.split("\t")[0] for line in open(f"{self.dir}/hosts.tsv")]

    def down(self):
        subprocess.run([FLEET, "down", "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def with_slots(self, slots):
        path = f"{self.dir}/inventory-slots{slots}.ini"
        with open(path, "w") as f:
            f.write(open(self.inventory).read() + f"\n[all:vars]\ncohort_slots={slots}\n")
        return path


def run_once(command, env=None, sample=False):
    """Runs a command (argv list, or a string for bash) and returns wall seconds, peak RSS (KiB)
    and peak thread count. A failing command fails the benchmark: a fast wrong answer is not a figure."""
    environment = dict(os.environ, **(env or {}))
    start = time.perf_counter()
    process = subprocess.Popen(
        command if isinstance(command, list) else ["bash", "-c", command],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)
    threads = [0]
    finished = threading.Event()
    if sample:
        # Polls /proc only: Popen.poll() would reap the child before wait4 gets its rusage.
        def watch():
            while not finished.is_set():
                try:
                    text = open(f"/proc/{process.pid}/status").read()
                    threads[0] = max(threads[0], int(re.search(r"Threads:\s+(\d+)", text).group(1)))
                except (OSError, AttributeError):
                    pass
                time.sleep(0.005)
        watcher = threading.Thread(target=watch)
        watcher.start()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    finished.set()
    process.returncode = os.waitstatus_to_exitcode(status)
    if sample:
        watcher.join()
    if process.returncode != 0:
        raise RuntimeError(f"{command!r} exited {process.returncode}: {err.decode(errors='replace')[-800:]}")
    return wall, usage.ru_maxrss, threads[0]


def cell(tools, repeats, figure, sample=False):
    """Runs every tool `repeats` times, rotating the order; returns per-tool stats of `figure(wall)`."""
    runs = {name: [] for name in tools}
    extras = {name: [] for name in tools}
    names = list(tools)
    for r in range(repeats):
        for name in names[r % len(names):] + names[: r % len(names)]:
            command, env = tools[name]
            wall, rss, threads = run_once(command, env, sample)
            runs[name].append(figure(wall))
            extras[name].append({"wall": wall, "rss_kib": rss, "threads": threads})
            print(f"    {name:<28} {figure(wall):10.3f}", flush=True)
    return {
        name: {
            "median": statistics.median(values), "min": min(values), "max": max(values), "runs": values,
            "peak_rss_mib": max(e["rss_kib"] for e in extras[name]) / 1024,
            "peak_threads": max(e["threads"] for e in extras[name]),
        }
        for name, values in runs.items()
    }


# ControlMaster sockets live under a short path: a Unix socket path has at most 107 bytes.
CONTROL = tempfile.mkdtemp(prefix="cbcm-", dir="/tmp")


def ssh_for(fleet, master=False):
    base = f"ssh -F {fleet.config}"
    if master:
        base += f" -o ControlMaster=auto -o ControlPath={CONTROL}/%C -o ControlPersist=300"
    return base


def w1(fleet, repeats):
    hosts = ",".join(fleet.names)
    py = f"{VENV}/bin/python"
    return cell({
        "cohort": ([COHORT, "run", "-i", fleet.inventory, "-F", "none", "all", "--", "true"], None),
        "parallel-ssh": ([py, f"{BENCH}/pssh_driver.py", fleet.dir, "true"], None),
        "pdsh": (["pdsh", "-R", "ssh", "-w", hosts, "true"], {"PDSH_SSH_ARGS": f"-F {fleet.config} -x -l%u %h"}),
        "gnu-parallel": (["parallel", "--will-cite", "--nonall", "--ssh", ssh_for(fleet), "-S", hosts, "true"], None),
        "ansible": ([f"{VENV}/bin/ansible", "all", "-i", fleet.inventory, "-m", "command", "-a", "true"], {
            "ANSIBLE_SSH_ARGS": f"-F {fleet.config} -o UserKnownHostsFile={fleet.dir}/known_hosts", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"}),
    }, repeats, lambda wall: wall * 1000)


def w2(fleet, repeats, tasks):
    seq = f"{fleet.dir}/seq.txt"
    with open(seq, "w") as f:
        f.write("".join(f"{i}\n" for i in range(1, tasks + 1)))
    slots = 2
    servers = ",".join(f"{slots}/{name}" for name in fleet.names)
    tools = {
        "cohort": ([COHORT, "map", "-i", fleet.with_slots(slots), "-F", "none", "echo {}", "::::", seq], None),
        "gnu-parallel+ControlMaster": (
            ["parallel", "--will-cite", "-S", servers, "--ssh", ssh_for(fleet, master=True), "echo {}", "::::", seq], None),
        "parallel-ssh": ([f"{VENV}/bin/python", f"{BENCH}/pssh_driver.py", fleet.dir, "tasks", str(tasks), str(slots)], None),
        "local multiprocessing (floor)": (
            [f"{VENV}/bin/python", f"{BENCH}/mp_floor.py", str(slots * len(fleet.names)), "echo", str(tasks)], None),
    }
    return cell(tools, repeats, lambda wall: tasks / wall)


def calibrate(busy):
    """Iterations for ~0.2 s of CPU, and the CPU seconds one task then takes."""
    def cpu(n):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        subprocess.run([busy, str(n)], check=True)
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    n = 50_000_000
    n = int(n * 0.2 / max(cpu(n), 1e-3))
    return n, statistics.median(cpu(n) for _ in range(3))


def w3(fleet, repeats, busy):
    iterations, task_cpu = calibrate(busy)
    cores = os.cpu_count()
    ideal = 64 * task_cpu / cores
    slots = 2
    servers = ",".join(f"{slots}/{name}" for name in fleet.names)
    stats = cell({
        "cohort": ([COHORT, "map", "-i", fleet.with_slots(slots), "-F", "none", f"{busy} {iterations} # {{}}", ":::"]
                   + [str(i) for i in range(64)], None),
        "gnu-parallel+ControlMaster": (
            ["parallel", "--will-cite", "-S", servers, "--ssh", ssh_for(fleet, master=True), f"{busy} {iterations} # {{}}", ":::"]
            + [str(i) for i in range(64)], None),
        "local multiprocessing (floor)": (
            [f"{VENV}/bin/python", f"{BENCH}/mp_floor.py", str(cores), "busy", busy, str(iterations), "64"], None),
    }, repeats, lambda wall: wall / ideal)
    stats["_ideal_s"] = ideal
    stats["_task_cpu_s"] = task_cpu
    return stats


def w4(fleet, repeats, size):
    hosts = ",".join(fleet.names)
    remote = f"yes {LINE} | head -c {size}"
    total = size * len(fleet.names)
    def openssh(options):
        return " & ".join(f"{ssh_for(fleet)} {options} {name} '{remote}' >/dev/null" for name in fleet.names) + " & wait"
    return cell({
        "cohort": ([COHORT, "run", "-i", fleet.inventory, "-F", "none", "all", "--", remote], None),
        "openssh aes256-ctr (same cipher)": (openssh("-c aes256-ctr -m hmac-sha2-256"), None),
        "openssh default cipher": (openssh(""), None),
        # parallel-ssh is left out here: it hands output over line by line as Python strings,
        # and 4 x 50 MB took it over 10 minutes on this machine.
        "pdsh": (["pdsh", "-R", "ssh", "-w", hosts, remote], {"PDSH_SSH_ARGS": f"-F {fleet.config} -x -l%u %h"}),
        "gnu-parallel": (["parallel", "--will-cite", "--nonall", "--ssh", ssh_for(fleet), "-S", hosts, remote], None),
    }, repeats, lambda wall: total / wall / 1e6)


def w5(fleet, repeats, count):
    hasher = os.path.join(ROOT, ".build/release/cohort-bench-hash")
    inventory = fleet.with_slots(2)
    py = f"{VENV}/bin/python"
    cores = str(os.cpu_count())
    # The same answer first: a fast wrong answer is not a figure.
    ours = subprocess.run([hasher, inventory, "10000"], capture_output=True, check=True).stdout.strip()
    theirs = subprocess.run([py, f"{BENCH}/mp_hash.py", cores, "10000"], capture_output=True, check=True).stdout.strip()
    if ours != theirs:
        raise RuntimeError(f"W5 answers differ: cohort {ours!r}, multiprocessing {theirs!r}")
    return cell({
        "cohort": ([hasher, inventory, str(count)], None),
        "multiprocessing.Pool.map (one machine)": ([py, f"{BENCH}/mp_hash.py", cores, str(count)], None),
    }, repeats, lambda wall: count / wall)


def w5b(fleet, repeats, rounds):
    """100 successive maps of 64 tiny jobs on one cluster, against as many Pool.map calls on
    one Pool: what keeping connections and workers between maps buys."""
    hasher = os.path.join(ROOT, ".build/release/cohort-bench-hash")
    inventory = fleet.with_slots(2)
    py = f"{VENV}/bin/python"
    cores = str(os.cpu_count())
    ours = subprocess.run([hasher, inventory, "64", "5"], capture_output=True, check=True).stdout.strip()
    theirs = subprocess.run([py, f"{BENCH}/mp_hash.py", cores, "64", "5"], capture_output=True, check=True).stdout.strip()
    if ours != theirs:
        raise RuntimeError(f"W5b answers differ: cohort {ours!r}, multiprocessing {theirs!r}")
    return cell({
        "cohort": ([hasher, inventory, "64", str(rounds)], None),
        "multiprocessing.Pool.map (one Pool)": ([py, f"{BENCH}/mp_hash.py", cores, "64", str(rounds)], None),
    }, repeats, lambda wall: rounds / wall)


def cpu_seconds(pids):
    """User + system CPU of these processes and of their reaped children (sshd's per-login
    processes are its children), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        except OSError:
            pass
    return total / ticks


def login_floor(fleet):
    """What the same logins cost OpenSSH: `ssh -o KexAlgorithms=curve25519-sha256 HOST true` to
    every host (the key exchange libssh2 uses), client and sshd CPU together, divided by the
    cores: the wall time below which no tool can log in to every host on this machine."""
    listeners = [line.split("\t")[3].strip() for line in open(f"{fleet.dir}/hosts.tsv")]
    before_sshd = cpu_seconds(listeners)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    names = "\n".join(fleet.names) + "\n"
    subprocess.run(["xargs", "-P", "32", "-I{}", "ssh", "-F", fleet.config, "-o", "KexAlgorithms=curve25519-sha256",
                    "-o", "BatchMode=yes", "{}", "true"], input=names.encode(), check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    sshd = cpu_seconds(listeners) - before_sshd
    return (client + sshd) / os.cpu_count(), client, sshd


def w6(repeats, hosts):
    """`true` on every host of a large fleet from one coordinator, beside the peers and beside
    the floor (see login_floor), measured in the same run; then four coordinators at once on
    the same hosts (far more offered load than the machine can serve): every host must answer."""
    fleet = Fleet(hosts)
    try:
        names = ",".join(fleet.names)
        cohort = [COHORT, "run", "-i", fleet.inventory, "-F", "none", "all", "--", "true"]
        stats = cell({
            "cohort": (cohort, None),
            "parallel-ssh": ([f"{VENV}/bin/python", f"{BENCH}/pssh_driver.py", fleet.dir, "true"], None),
            "pdsh": (["pdsh", "-R", "ssh", "-f", str(hosts), "-w", names, "true"],
                     {"PDSH_SSH_ARGS": f"-F {fleet.config} -x -l%u %h"}),
        }, repeats, lambda wall: wall, sample=True)
        floors = [login_floor(fleet) for _ in range(min(repeats, 3))]
        floor = statistics.median(f[0] for f in floors)
        print(f"    {'floor (OpenSSH logins CPU / cores)':<28} {floor:10.3f}", flush=True)
        stats["_floor"] = {"median": floor, "runs": [f[0] for f in floors],
                           "client_cpu_s": [f[1] for f in floors], "sshd_cpu_s": [f[2] for f in floors]}
        start = time.perf_counter()
        four = [subprocess.Popen(cohort, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]
        errors = [p.communicate()[1].decode(errors="replace") for p in four]
        overload = time.perf_counter() - start
        unreachable = sum(int(m.group(1)) for e in errors for m in re.finditer(r"unreachable (\d+)", e))
        print(f"    {'4 coordinators at once':<28} {overload:10.3f} s, {unreachable} of {4 * hosts} unreachable", flush=True)
        stats["_overload"] = {"wall": overload, "unreachable": unreachable, "exits": [p.returncode for p in four]}
        if unreachable or any(p.returncode for p in four):
            raise RuntimeError(f"4 coordinators: {unreachable} hosts reported unreachable: {errors[0][-400:]}")
        return stats
    finally:
        fleet.down()


def w7(repeats):
    """A playbook of 24 tasks on 4 separate Debian hosts (`testfleet --rootfs`), first run and
    idempotent second run: cohort play against ansible-playbook in its fastest setup
    (pipelining, ControlPersist), and with the Mitogen strategy when `mitogen` installs and
    loads. Its system step installs a package from a loopback repository, makes a user and
    gives it a cron entry, so every run of every tool starts on fresh hosts of its own (made
    before the clock starts); the second run follows on the same hosts."""
    if os.getuid() != 0:
        return {"pending": "separate hosts (testfleet --rootfs) need root"}
    book = f"{BENCH}/w7/site.yml"
    repo_dir = tempfile.mkdtemp(prefix="w7-repo-", dir=WORK)
    # The apt oracle's repository (tiny packages made with dpkg-deb), served on 127.0.0.1.
    server = subprocess.Popen([sys.executable, f"{ROOT}/Tests/Playbooks/apt_repo.py", repo_dir], stdout=subprocess.PIPE)
    try:
        first_line = server.stdout.readline().decode()
        if not first_line.startswith("PORT "):
            raise RuntimeError(f"the package repository did not start: {first_line!r}")
        # root's login, as on the plain fleet: the play's own tasks write where the role (become) made folders.
        extra = ["-e", f"base=/srv/w7 repo=http://127.0.0.1:{first_line.split()[1]} ansible_user=root"]
        subprocess.run([FLEET, "rootfs", "--dir", f"{WORK}/rootfs-prepare"], check=True, stdout=subprocess.DEVNULL)
        mitogen = mitogen_strategy()
        names = ["cohort", "ansible-playbook (pipelining, ControlPersist)"] + (["ansible-playbook + Mitogen"] if mitogen else [])
        runs = {part: {name: [] for name in names} for part in ("first run", "second run")}
        for r in range(repeats):
            for name in names[r % len(names):] + names[: r % len(names)]:
                fleet = Fleet(4, rootfs=True)
                try:
                    env = {"ANSIBLE_SSH_ARGS": f"-F {fleet.config} -o UserKnownHostsFile={fleet.dir}/known_hosts "
                                               f"-o ControlMaster=auto -o ControlPath={CONTROL}/%C -o ControlPersist=300",
                           "ANSIBLE_PIPELINING": "True", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_NOCOLOR": "1"}
                    if name == "cohort":
                        command, env = [COHORT, "play", "-i", fleet.inventory, "-F", "none", book] + extra, None
                    else:
                        command = [f"{VENV}/bin/ansible-playbook", "-i", fleet.inventory, book] + extra
                        if "Mitogen" in name:
                            env = dict(env, ANSIBLE_STRATEGY_PLUGINS=mitogen, ANSIBLE_STRATEGY="mitogen_linear")
                    for part in ("first run", "second run"):
                        wall, _, _ = run_once(command, env)
                        runs[part][name].append(wall)
                        print(f"    {part + ': ' + name:<28} {wall:10.3f}", flush=True)
                finally:
                    fleet.down()
        out = {part: {name: {"median": statistics.median(v), "min": min(v), "max": max(v), "runs": v} for name, v in cells.items()}
               for part, cells in runs.items()}
        if not mitogen:
            out["mitogen"] = {"pending": "mitogen did not install or load with this ansible-core"}
        return out
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(repo_dir, ignore_errors=True)


def mitogen_strategy():
    """The folder of Mitogen's strategy plugins, or None when it does not work here."""
    try:
        subprocess.run([f"{VENV}/bin/pip", "install", "-q", "--disable-pip-version-check", "mitogen"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        found = subprocess.run([f"{VENV}/bin/python", "-c", "import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return found + "/plugins/strategy"
    except (subprocess.CalledProcessError, OSError):
        return None


def w8(fleet, repeats, big_size, files):
    """Files to 4 hosts: one big file, a tree of small files, the same tree again (nothing
    changed), and the big file fetched back. Every host writes into its own folder (the test
    hosts share one filesystem; their homes differ), cold: the folders are removed first."""
    src = f"{WORK}/w8-src"
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(f"{src}/tree")
    with open(f"{src}/big.bin", "wb") as f:
        f.write(os.urandom(big_size))
    for i in range(files):
        d = f"{src}/tree/d{i % 20:02d}"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/f{i:05d}", "wb") as f:
            f.write(os.urandom(10_000))
    homes = {name: f"{fleet.dir}/{name}/home" for name in fleet.names}
    cfg = fleet.config
    # scp -O: the classic protocol; the test hosts' sshd has no sftp subsystem. It also lets
    # the remote shell expand '$HOME', so that the tools that take one destination for every
    # host (pssh, clush) still write each host's copy into its own home.
    ssh = f"ssh -F {cfg}"
    same_cipher = "-c aes128-ctr -o MACs=hmac-sha2-256"  # what libssh2 1.10 negotiates with sshd
    clean = "rm -rf " + " ".join(f"{home}/w8" for home in homes.values()) + " && mkdir -p " + " ".join(f"{home}/w8" for home in homes.values())
    def each(template):
        # Every host at once, and a failure of any one fails the cell (a bare `wait` would not).
        jobs = " ".join(template.format(name=name, home=home) + " & pids+=($!);" for name, home in homes.items())
        return f"pids=(); {jobs} for p in \"${{pids[@]}}\"; do wait $p || exit 1; done"
    hosts = ",".join(fleet.names)
    hostfile = f"{fleet.dir}/w8-hosts"
    with open(hostfile, "w") as f:
        f.write("".join(f"{name}\n" for name in fleet.names))
    # Ansible's `~` is the remote user's passwd home, not $HOME: each host's folder as a host var.
    ansible_inventory = f"{fleet.dir}/w8-inventory.ini"
    with open(ansible_inventory, "w") as f:
        f.write(open(fleet.inventory).read() + "\n[fleet]\n" + "".join(f"{name} w8_home={home}\n" for name, home in homes.items()))
    ansible_env = {"ANSIBLE_SSH_ARGS": f"-F {cfg} -o UserKnownHostsFile={fleet.dir}/known_hosts",
                   "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3", "ANSIBLE_SSH_TRANSFER_METHOD": "piped",
                   "ANSIBLE_HOST_KEY_CHECKING": "True"}
    ansible = f"{VENV}/bin/ansible all -i {ansible_inventory}"
    pscp = f"parallel-scp -h {hostfile} -p {len(homes)} -x '-O -F {cfg}'"
    prsync = f"parallel-rsync -h {hostfile} -p {len(homes)} -x \"-e '{ssh}' --old-args\""
    clush = f"clush -w {hosts} -O ssh_options='-F {cfg}' -O scp_path='scp -O' -O scp_options='-F {cfg}'"
    pdsh_env = {"PDSH_SSH_ARGS": f"-F {cfg} -x -l%u %h"}
    total_big = big_size * len(homes) / 1e6
    total_tree = files * 10_000 * len(homes) / 1e6
    results = {}
    print("  big file:", flush=True)
    results["big"] = cell({
        "cohort": (f"{clean} && {COHORT} copy -i {fleet.inventory} -F none all {src}/big.bin '~/w8/'", None),
        "scp (4 in parallel)": (f"{clean} && " + each(f"scp -O -F {cfg} -q {src}/big.bin {{name}}:{{home}}/w8/"), None),
        "scp aes128-ctr (same cipher)": (f"{clean} && " + each(f"scp -O -F {cfg} {same_cipher} -q {src}/big.bin {{name}}:{{home}}/w8/"), None),
        # Cohort fsyncs each file before its rename; scp leaves it in the page cache. One
        # `sync` after the four (the hosts share one filesystem) gives scp the same durability.
        "scp then sync (durable, as cohort)": (f"{clean} && " + each(f"scp -O -F {cfg} -q {src}/big.bin {{name}}:{{home}}/w8/") + " && sync", None),
        "rsync (4 in parallel)": (f"{clean} && " + each(f"rsync -a -e '{ssh}' {src}/big.bin {{name}}:{{home}}/w8/"), None),
        "pdcp (one shared path)": (f"{clean} && rm -rf /tmp/w8-pdcp && mkdir -p /tmp/w8-pdcp && pdcp -R ssh -w {hosts} {src}/big.bin /tmp/w8-pdcp/", pdsh_env),
        "parallel-scp": (f"{clean} && {pscp} {src}/big.bin '$HOME/w8/'", None),
        "parallel-rsync": (f"{clean} && {prsync} {src}/big.bin '$HOME/w8/'", None),
        "clush --copy": (f"{clean} && {clush} --copy {src}/big.bin --dest '$HOME/w8/'", None),
        "ansible copy": (f"{clean} && {ansible} -m copy -a 'src={src}/big.bin dest={{{{ w8_home }}}}/w8/'", ansible_env),
    }, repeats, lambda wall: total_big / wall)
    print("  tree of small files:", flush=True)
    results["tree"] = cell({
        "cohort": (f"{clean} && {COHORT} copy -i {fleet.inventory} -F none -r all {src}/tree '~/w8/'", None),
        "scp -r (4 in parallel)": (f"{clean} && " + each(f"scp -O -F {cfg} -q -r {src}/tree {{name}}:{{home}}/w8/"), None),
        "rsync -a (4 in parallel)": (f"{clean} && " + each(f"rsync -a -e '{ssh}' {src}/tree {{name}}:{{home}}/w8/"), None),
        "parallel-scp -r": (f"{clean} && {pscp} -r {src}/tree '$HOME/w8/'", None),
        "parallel-rsync -a": (f"{clean} && {prsync} -a {src}/tree '$HOME/w8/'", None),
        "clush --copy (a tree)": (f"{clean} && {clush} --copy {src}/tree --dest '$HOME/w8/'", None),
        # pdcp -r is left out: it takes one destination path for every host, and four pdcp -r
        # into one shared folder race on its mkdirs (the test hosts share one filesystem).
        # Ansible's copy is left out of the tree cells: it runs its modules once per file, and
        # a quick-mode tree (500 files to 4 hosts) took it over 18 minutes here (about 2 s a file).
    }, repeats, lambda wall: total_tree / wall)
    # The tree is in place (the last cell left one copy per tool); push it again unchanged.
    subprocess.run(f"{clean} && {COHORT} copy -i {fleet.inventory} -F none -r all {src}/tree '~/w8/'", shell=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # rsync compares sizes and times: give the copies the sources' times, as rsync -a would have.
    subprocess.run(each(f"touch -r {src}/tree {{home}}/w8/tree; cd {src}/tree && find . -exec touch -h -r '{{{{}}}}' '{{home}}/w8/tree/{{{{}}}}' ';'"),
                   shell=True, executable="/bin/bash", check=True)
    print("  the same tree again (unchanged):", flush=True)
    results["unchanged"] = cell({
        "cohort": (f"{COHORT} copy -i {fleet.inventory} -F none -r all {src}/tree '~/w8/'", None),
        "rsync -a no-op (4 in parallel)": (each(f"rsync -a -e '{ssh}' {src}/tree {{name}}:{{home}}/w8/"), None),
        "parallel-rsync -a no-op": (f"{prsync} -a {src}/tree '$HOME/w8/'", None),
    }, repeats, lambda wall: wall)
    subprocess.run(f"{COHORT} copy -i {fleet.inventory} -F none all {src}/big.bin '~/w8/'", shell=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    back = f"{WORK}/w8-back"
    folders = f"rm -rf {back} && mkdir -p " + " ".join(f"{back}/{n}" for n in homes)
    print("  big file fetched back:", flush=True)
    results["fetch"] = cell({
        "cohort": (f"rm -rf {back} && {COHORT} fetch -i {fleet.inventory} -F none all '~/w8/big.bin' {back}", None),
        "scp (4 in parallel)": (f"{folders} && " + each(f"scp -O -F {cfg} -q {{name}}:{{home}}/w8/big.bin {back}/{{name}}/"), None),
        "scp aes128-ctr (same cipher)": (f"{folders} && " + each(f"scp -O -F {cfg} {same_cipher} -q {{name}}:{{home}}/w8/big.bin {back}/{{name}}/"), None),
        "parallel-slurp": (f"rm -rf {back} && mkdir -p {back} && parallel-slurp -h {hostfile} -p {len(homes)} -x '-O -F {cfg}' -L {back} '$HOME/w8/big.bin' big.bin", None),
        "clush --rcopy": (f"{folders} && {clush} --rcopy '$HOME/w8/big.bin' --dest {back}", None),
        "ansible fetch": (f"rm -rf {back} && {ansible} -m fetch -a 'src={{{{ w8_home }}}}/w8/big.bin dest={back}/'", ansible_env),
    }, repeats, lambda wall: total_big / wall)
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(back, ignore_errors=True)
    return results


def scaling(repeats, busy, tasks, host_counts=(1, 2, 4, 8)):
    """Cohort's W2 tasks/s and W3 wall/ideal on fleets of 1, 2, 4 and 8 hosts (2 slots each)."""
    iterations, task_cpu = calibrate(busy)
    points = []
    for hosts in host_counts:
        fleet = Fleet(hosts)
        try:
            inventory = fleet.with_slots(2)
            seq = f"{fleet.dir}/seq.txt"
            with open(seq, "w") as f:
                f.write("".join(f"{i}\n" for i in range(1, tasks + 1)))
            # Ideal: all CPU spread over every core that has a slot (never more than the machine's).
            ideal = 64 * task_cpu / min(os.cpu_count(), 2 * hosts)
            print(f"  {hosts} hosts", flush=True)
            w2 = cell({"cohort": ([COHORT, "map", "-i", inventory, "-F", "none", "echo {}", "::::", seq], None)},
                      repeats, lambda wall: tasks / wall)["cohort"]
            w3 = cell({"cohort": ([COHORT, "map", "-i", inventory, "-F", "none", f"{busy} {iterations} # {{}}", ":::"]
                                  + [str(i) for i in range(64)], None)}, repeats, lambda wall: wall / ideal)["cohort"]
            points.append({"hosts": hosts, "w2_tasks_per_s": w2["median"], "w3_wall_over_ideal": w3["median"],
                           "w2": w2, "w3": w3})
        finally:
            fleet.down()
    return {"points": points, "tasks": tasks}


def plot(results, path):
    """The scaling figure as a PNG (matplotlib, from the bench venv)."""
    import matplotlib
    import matplotlib.ticker
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    points = results["workloads"]["SCALING"]["points"]
    hosts = [p["hosts"] for p in points]
    m = results["machine"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(hosts, [p["w2_tasks_per_s"] for p in points], marker="o")
    left.set(title="W2: tiny tasks (echo N)", xlabel="hosts (2 slots each)", ylabel="tasks/s", xscale="log", ylim=(0, None))
    right.plot(hosts, [p["w3_wall_over_ideal"] for p in points], marker="o", label="cohort")
    right.axhline(1.0, color="grey", linestyle=":", label="ideal")
    right.axhline(1.05, color="red", linestyle="--", label="target (5% over ideal)")
    right.set(title="W3: 64 CPU-bound tasks of ~0.2 s", xlabel="hosts (2 slots each)", ylabel="wall / ideal", xscale="log",
              ylim=(0.8, 1.3))
    right.legend()
    for axis in (left, right):
        axis.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        axis.set_xticks(hosts, [str(h) for h in hosts])
        axis.grid(alpha=0.3)
    figure.suptitle(f"Cohort against fleet size: loopback hosts on one machine ({m['cores']} cores, {m['cpu']})", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


HIGHER_IS_BETTER = {"W2": True, "W4": True, "W5": True, "W5b": True, "W8 big": True, "W8 tree": True, "W8 fetch": True}
UNITS = {"W7 first run": "wall s", "W7 second run": "wall s", "W1": "wall ms", "W2": "tasks/s", "W3": "wall / ideal", "W4": "MB/s received", "W5": "tasks/s", "W5b": "maps/s", "W6": "wall s",
         "W8 big": "MB/s to all hosts", "W8 tree": "MB/s to all hosts", "W8 unchanged": "wall s", "W8 fetch": "MB/s from all hosts"}


def table(results):
    lines = ["| workload | tool | median | min–max | Cohort vs this tool |", "|---|---|---|---|---|"]
    for workload, stats in results["workloads"].items():
        if workload == "SCALING":
            continue
        if "pending" in stats:
            lines.append(f"| {workload} | — | pending: {stats['pending']} | | |")
            continue
        if "error" in stats:
            lines.append(f"| {workload} | — | failed: {stats['error'].splitlines()[-1] if stats['error'] else ''} | | |")
            continue
        ours = stats["cohort"]["median"]
        for tool, s in stats.items():
            if tool.startswith("_"):
                continue
            if tool == "cohort":
                ratio = "—"
            elif workload == "W3":
                ratio = f"{s['median'] / ours:.2f}× the overhead"
            elif HIGHER_IS_BETTER.get(workload):
                ratio = f"{ours / s['median']:.2f}×"
            else:
                ratio = f"{s['median'] / ours:.2f}× faster"
            extra = f" (peak {s['peak_rss_mib']:.0f} MiB, {s['peak_threads']} threads)" if workload.startswith("W6") else ""
            lines.append(f"| {workload} ({UNITS[workload.split(' ')[0]] if workload.startswith('W6') else UNITS[workload]}) | {tool} | {s['median']:.3f}{extra} | {s['min']:.3f}–{s['max']:.3f} | {ratio} |")
        if "_floor" in stats:
            floor = stats["_floor"]["median"]
            lines.append(f"| {workload} (wall s) | floor: OpenSSH's logins, CPU / cores | {floor:.3f} | | Cohort at {ours / floor:.2f}× the floor |")
        if "_overload" in stats:
            o = stats["_overload"]
            lines.append(f"| {workload} (wall s) | cohort, 4 coordinators at once | {o['wall']:.3f} | | {o['unreachable']} hosts reported unreachable |")
    return "\n".join(lines)


def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    return {"cores": os.cpu_count(), "cpu": model, "kernel": platform.release(), "python": platform.python_version()}


def write_doc(results, text):
    path = os.path.join(ROOT, "docs/benchmarks.md")
    doc = open(path).read()
    m = results["machine"]
    updates = "".join(f"; {', '.join(u['workloads'])} rerun {u['date']}" for u in results.get("updated", []))
    block = (f"<!-- bench:begin -->\nRun of {results['date']}{updates} ({results['mode']} mode, {results['repeats']} runs per cell) "
             f"on {m['cores']} cores, {m['cpu']}, Linux {m['kernel']}:\n\n{text}\n<!-- bench:end -->")
    doc = re.sub(r"<!-- bench:begin -->.*<!-- bench:end -->", lambda _: block, doc, flags=re.S)
    open(path, "w").write(doc)


def guarded(run):
    """One workload's failure is reported in its row; the others still run and are kept."""
    try:
        return run()
    except Exception as error:  # noqa: BLE001 - any failure becomes the row's text
        print(f"    failed: {error}", flush=True)
        return {"error": str(error)[-300:]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, one run per cell (under 2 minutes)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. W1,W4 (SCALING: the plot against hosts)")
    parser.add_argument("--replot", action="store_true", help="redraw docs/benchmarks-scaling.png from latest.json")
    args = parser.parse_args()
    if args.replot:
        plot(json.load(open(f"{BENCH}/results/latest.json")), os.path.join(ROOT, "docs/benchmarks-scaling.png"))
        return
    quick = args.quick
    repeats = 1 if quick else 5
    only = set(args.only.split(",")) if args.only else None
    want = lambda w: only is None or w in only
    os.makedirs(WORK, exist_ok=True)
    busy = os.path.join(WORK, "busy")
    subprocess.run(["gcc", "-O1", "-o", busy, f"{BENCH}/busy.c"], check=True)
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), "mode": "quick" if quick else "full", "repeats": repeats,
               "machine": machine(), "workloads": {}}
    fleet = Fleet(4)
    try:
        for name, run in [
            ("W1", lambda: w1(fleet, repeats)),
            ("W2", lambda: w2(fleet, repeats, 1000 if quick else 5000)),
            ("W3", lambda: w3(fleet, repeats, busy)),
            ("W4", lambda: w4(fleet, repeats, 50_000_000 if quick else 200_000_000)),
            ("W5", lambda: w5(fleet, repeats, 100_000 if quick else 1_000_000)),
            ("W5b", lambda: w5b(fleet, repeats, 20 if quick else 100)),
            ("W7", lambda: w7(repeats)),
            ("W8", lambda: w8(fleet, repeats, 50_000_000 if quick else 200_000_000, 500 if quick else 2000)),
        ]:
            if want(name):
                print(f"{name}:", flush=True)
                outcome = guarded(run)
                if name in ("W7", "W8") and "error" not in outcome and "pending" not in outcome:
                    # Four cells, one row group each: big file, small-file tree, re-push, fetch.
                    for part, stats in outcome.items():
                        results["workloads"][f"{name} {part}"] = stats
                else:
                    results["workloads"][name] = outcome
    finally:
        # Masters left by ControlPersist end with their sockets' owner: ask each to exit.
        for socket in os.listdir(CONTROL):
            subprocess.run(["ssh", "-o", f"ControlPath={CONTROL}/{socket}", "-O", "exit", "x"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(CONTROL, ignore_errors=True)
        fleet.down()
    if want("W6"):
        for hosts in ([64] if quick else [256, 1000]):
            print(f"W6 {hosts} hosts:", flush=True)
            results["workloads"][f"W6 {hosts} hosts"] = guarded(lambda: w6(repeats if hosts <= 256 else min(repeats, 3), hosts))
    # The scaling plot takes minutes: part of the full run, and of --only SCALING.
    if (not quick and only is None) or (only is not None and "SCALING" in only):
        print("SCALING:", flush=True)
        results["workloads"]["SCALING"] = guarded(lambda: scaling(3 if not quick else 1, busy, 1000 if quick else 5000))
    latest = f"{BENCH}/results/latest.json"
    if not quick and only is not None and os.path.exists(latest):
        # A full-mode run of some workloads updates those rows of the last full run.
        previous = json.load(open(latest))
        if "W6" in only:
            previous["workloads"].pop("W6", None)  # one fleet size before; two rows now
        previous["workloads"].update({k: v for k, v in results["workloads"].items() if k.split(" ")[0] in only})
        previous.setdefault("updated", []).append({"date": results["date"], "workloads": sorted(only)})
        results = previous
    if not quick and "points" in results["workloads"].get("SCALING", {}):
        plot(results, os.path.join(ROOT, "docs/benchmarks-scaling.png"))
    text = table(results)
    print(text)
    os.makedirs(f"{BENCH}/results", exist_ok=True)
    json.dump(results, open(f"{BENCH}/results/{'quick' if quick else 'latest'}.json", "w"), indent=2)
    if not quick:
        write_doc(results, text)


main()
