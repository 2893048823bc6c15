// The round trip of a cache line between two cores: two threads, each pinned to one of the first two
// CPUs the process may use, pass a counter back and forth through one atomic word (the other side
// spins with `pause`/`yield`). The host of a virtual machine may move its virtual CPUs: print this
// beside any multi-thread figure before comparing two of them (Benchmarks/README.md).
// usage: cc -O2 -pthread pingpong.c -o pingpong && ./pingpong [ROUND_TRIPS]
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Atomic long ball;
static long trips = 1000000;
static int cpus[2];

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *responder(void *unused) {
    (void)unused;
    pin(cpus[1]);
    for (long i = 1; i < 2 * trips; i += 2) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != i) relax();
        atomic_store_explicit(&ball, i + 1, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) trips = atol(argv[1]);
    if (trips < 1) { fprintf(stderr, "pingpong: ROUND_TRIPS must be a positive number\n"); return 2; }
    cpu_set_t allowed;
    sched_getaffinity(0, sizeof allowed, &allowed);
    int found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
    if (found < 2) { printf("round trip: - (one CPU)\n"); return 0; }
    pin(cpus[0]);
    pthread_t other;
    pthread_create(&other, NULL, responder, NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < 2 * trips; i += 2) {
        atomic_store_explicit(&ball, i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != i + 2) relax();
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(other, NULL);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    printf("round trip between CPUs %d and %d: %.0f ns\n", cpus[0], cpus[1], ns / (double)trips);
    return 0;
}
