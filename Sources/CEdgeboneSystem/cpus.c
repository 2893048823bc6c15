// CPUs this process may run on: its affinity mask (taskset, cgroup cpusets), not the machine's count.
#define _GNU_SOURCE
#include <CEdgeboneSystem.h>
#include <sched.h>
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
