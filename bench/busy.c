/* W3's CPU-bound task: spins for the given number of iterations (calibrated by bench.py). */
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 100000000UL;
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < n; i++) x += i ^ (x >> 3);
    return (int)(x & 0);
}
