"""W5's peer: SHA-256 of the same 64-byte inputs with multiprocessing.Pool.map on this machine.

usage: mp_hash.py PROCESSES COUNT [ROUNDS]   prints the XOR of every hash's first 8 bytes (as Cohort's)
With ROUNDS (W5b): ROUNDS successive Pool.map calls of COUNT inputs on one Pool.
"""
import hashlib
import sys
from functools import reduce
from multiprocessing import Pool


def hash64(seed):
    return int.from_bytes(hashlib.sha256(seed.to_bytes(8, "little") * 8).digest()[:8], "little")


if __name__ == "__main__":
    count = int(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    folded = 0
    with Pool(int(sys.argv[1])) as pool:
        for r in range(rounds):
            folded ^= reduce(lambda a, b: a ^ b, pool.map(hash64, range(r * count, (r + 1) * count)), 0)
    print(folded)
