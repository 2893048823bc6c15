// CPUs this process may run on: its affinity mask (taskset, cgroup cpusets), not the machine's count.
#define _GNU_SOURCE
#include <CEdgeboneSystem.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

int eb_available_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int)online : 1;
}

// What a spread thread starts with: its function, and the CPUs it may use once it runs.
typedef struct {
  void* (*fn)(void*);
  void* arg;
  cpu_set_t allowed;
} eb_spread_start;

static void* eb_spread_trampoline(void* p) {
  eb_spread_start start = *(eb_spread_start*)p;
  free(p);
  sched_setaffinity(0, sizeof start.allowed, &start.allowed);  // stays where it is: no reason to move
  return start.fn(start.arg);
}

int eb_thread_create_spread(pthread_t* thread, void* (*fn)(void*), void* arg, int index) {
  cpu_set_t allowed;
  const int here = sched_getcpu();
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2 || here < 0 || index <= 0)
    return pthread_create(thread, NULL, fn, arg);
  // The allowed CPUs in order, starting after this thread's: the index-th of them (wrapping).
  int order[CPU_SETSIZE], count = 0, mine = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (cpu == here) mine = count;
    order[count++] = cpu;
  }
  eb_spread_start* start = malloc(sizeof *start);
  if (start == NULL) return pthread_create(thread, NULL, fn, arg);
  start->fn = fn;
  start->arg = arg;
  start->allowed = allowed;
  cpu_set_t first;
  CPU_ZERO(&first);
  CPU_SET(order[(mine + index) % count], &first);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setaffinity_np(&attr, sizeof first, &first);
  const int rc = pthread_create(thread, &attr, eb_spread_trampoline, start);
  pthread_attr_destroy(&attr);
  if (rc != 0) free(start);
  return rc;
}
