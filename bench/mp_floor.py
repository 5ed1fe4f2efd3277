"""The no-SSH floor for W2 and W3: the same tasks spawned locally by multiprocessing.Pool.

usage: mp_floor.py PROCESSES echo N | busy BINARY ITERATIONS N
"""
import subprocess
import sys
from multiprocessing import Pool


def echo(i):
    return subprocess.run(["sh", "-c", f"echo {i}"], capture_output=True).stdout


def busy(args):
    binary, iterations = args
    return subprocess.run(["sh", "-c", f"{binary} {iterations}"]).returncode


if __name__ == "__main__":
    processes, mode = int(sys.argv[1]), sys.argv[2]
    with Pool(processes) as pool:
        if mode == "echo":
            pool.map(echo, range(int(sys.argv[3])), chunksize=1)
        else:
            pool.map(busy, [(sys.argv[3], sys.argv[4])] * int(sys.argv[5]), chunksize=1)
