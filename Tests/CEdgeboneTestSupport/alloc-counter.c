// Interposes the allocator for the test process; counts only on a thread that asked for it, so
// other tests running in parallel do not disturb the count.
#include <CEdgeboneTestSupport.h>
#include <stddef.h>
#include <features.h>

#if defined(__linux__) && defined(__GLIBC__)
extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);

static __thread int eb_counting;
static __thread long eb_count;

void* malloc(size_t n) {
  if (eb_counting) eb_count++;
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  if (eb_counting) eb_count++;
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  if (eb_counting) eb_count++;
  return __libc_realloc(p, n);
}
void* memalign(size_t alignment, size_t n) {
  if (eb_counting) eb_count++;
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(size_t alignment, size_t n) {
  if (eb_counting) eb_count++;
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** out, size_t alignment, size_t n) {
  if (eb_counting) eb_count++;
  void* p = __libc_memalign(alignment, n);
  if (p == NULL) return 12;  // ENOMEM
  *out = p;
  return 0;
}

void eb_test_alloc_begin(void) {
  eb_count = 0;
  eb_counting = 1;
}
long eb_test_alloc_end(void) {
  eb_counting = 0;
  return eb_count;
}
#else
void eb_test_alloc_begin(void) {}
long eb_test_alloc_end(void) { return -1; }
#endif
