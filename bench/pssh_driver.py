"""Drives parallel-ssh (the PyPI library, libssh2 underneath like Cohort) for bench.py.

usage: pssh_driver.py FLEET_DIR MODE [ARG]
  true          run `true` once on every host (W1, W6)
  tasks N       N `echo i` tasks over every slot: each host listed `slots` times, rounds of one task per entry (W2)
  stream BYTES  one command per host printing BYTES, all read (W4)
Prints the bytes received for `stream`.
"""
import sys

from pssh.clients import ParallelSSHClient
from pssh.config import HostConfig


def fleet(directory, slots=1):
    hosts, configs = [], []
    key = f"{directory}/client/id_ed25519"
    for line in open(f"{directory}/hosts.tsv"):
        name, address, port, _pid = line.rstrip("\n").split("\t")[:4]
        for _ in range(slots):
            hosts.append(address)
            configs.append(HostConfig(port=int(port), user="root", private_key=key))
    return ParallelSSHClient(hosts, host_config=configs, pool_size=len(hosts), timeout=60)


def main():
    directory, mode = sys.argv[1], sys.argv[2]
    if mode == "true":
        client = fleet(directory)
        output = client.run_command("true")
        client.join(output)
        assert all(o.exit_code == 0 for o in output), [o.exception for o in output]
    elif mode == "tasks":
        count, slots = int(sys.argv[3]), int(sys.argv[4])
        client = fleet(directory, slots)
        width = len(client.hosts)
        for start in range(0, count, width):
            args = [str(i) for i in range(start, min(count, start + width))]
            output = client.run_command("echo %s", host_args=args) if len(args) == width else None
            if output is None:  # the last, partial round: a client of that size
                sub = ParallelSSHClient(client.hosts[: len(args)], host_config=client.host_config[: len(args)])
                output = sub.run_command("echo %s", host_args=args)
                client = sub
            client.join(output, consume_output=False)
            for o in output:
                list(o.stdout)
    elif mode == "stream":
        size = int(sys.argv[3])
        client = fleet(directory)
        output = client.run_command(f"yes {'x' * 99} | head -c {size}")
        total = 0
        for o in output:
            for line in o.stdout:
                total += len(line) + 1
        client.join(output)
        print(total)


main()
