// LD_PRELOAD shim: counts malloc/calloc/realloc/posix_memalign calls of the whole process and prints
// the total to stderr at exit ("MALLOCS n"). Calls made on the MQTT publisher thread (named
// "edgebone-mqtt"; libmosquitto allocates a packet per message there, off the frame path) are counted
// apart ("MQTT_MALLOCS n") and left out of the total. Used by daemon-allocations.sh.
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
static long count, mqtt_count;
static void bump(void) {
  char name[16] = {0};
  if (prctl(PR_GET_NAME, name, 0, 0, 0) == 0 && strcmp(name, "edgebone-mqtt") == 0) {
    __atomic_fetch_add(&mqtt_count, 1, __ATOMIC_RELAXED);
  } else {
    __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
  }
}
void* malloc(size_t n) { bump(); return __libc_malloc(n); }
void* calloc(size_t a, size_t b) { bump(); return __libc_calloc(a, b); }
void* realloc(void* p, size_t n) { bump(); return __libc_realloc(p, n); }
int posix_memalign(void** out, size_t alignment, size_t n) {
  bump();
  void* p = __libc_memalign(alignment, n);
  if (p == NULL) return 12;
  *out = p;
  return 0;
}
__attribute__((destructor)) static void report(void) {
  char line[96];
  const int k = snprintf(line, sizeof line, "MALLOCS %ld\nMQTT_MALLOCS %ld\n", count, mqtt_count);
  if (k > 0) (void)!write(2, line, (size_t)k);
}
