"""W5's peer: SHA-256 of the same 64-byte inputs with multiprocessing.Pool.map on this machine.

usage: mp_hash.py PROCESSES COUNT   prints the XOR of every hash's first 8 bytes (as Cohort's)
"""
import hashlib
import sys
from functools import reduce
from multiprocessing import Pool


def hash64(seed):
    return int.from_bytes(hashlib.sha256(seed.to_bytes(8, "little") * 8).digest()[:8], "little")


if __name__ == "__main__":
    with Pool(int(sys.argv[1])) as pool:
        print(reduce(lambda a, b: a ^ b, pool.map(hash64, range(int(sys.argv[2]))), 0))
