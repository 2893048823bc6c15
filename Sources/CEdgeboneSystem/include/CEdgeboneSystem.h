// CEdgeboneSystem: thin shims over system libraries whose error handling Swift cannot express
// (libjpeg's and libpng's setjmp/longjmp). Every symbol starts with eb_.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result of probing or decoding an image held in memory.
typedef struct {
  int ok;               ///< 1 on success
  uint32_t width, height;
  char message[200];    ///< the library's own words when ok == 0
} eb_image_info;

/// Reads the header of a JPEG (libjpeg-turbo) or PNG (libpng) in memory: size only.
eb_image_info eb_jpeg_probe(const uint8_t* data, size_t size);
eb_image_info eb_png_probe(const uint8_t* data, size_t size);

/// Decodes to 8-bit RGB, HWC, into `rgb` (capacity bytes, at least width*height*3).
/// Grayscale, palette, alpha, 16-bit and CMYK inputs are converted; alpha is dropped.
eb_image_info eb_jpeg_decode_rgb(const uint8_t* data, size_t size, uint8_t* rgb, size_t capacity);
eb_image_info eb_png_decode_rgb(const uint8_t* data, size_t size, uint8_t* rgb, size_t capacity);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
/// Installs SIGINT/SIGTERM handlers that only record the request (async-signal-safe), and ignores
/// SIGPIPE so a closed stdout is an error, not a kill.
void eb_install_stop_handlers(void);
/// The signal that asked to stop (SIGINT, SIGTERM or SIGHUP), or 0.
int eb_stop_requested(void);
/// Asks to stop (tests, end of input).
void eb_request_stop(int signal);
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
// V4L2 capture, mmap streaming. The policy (which format, reconnecting, converting) is in Swift.
enum { EB_V4L2_YUYV = 1, EB_V4L2_MJPEG = 2 };

typedef struct {
  int fd;
  int format;              ///< EB_V4L2_YUYV or EB_V4L2_MJPEG
  uint32_t width, height, bytesperline;
  uint32_t buffers;
  void* maps[8];
  size_t lengths[8];
  char driver[32], card[32];
  char message[160];       ///< what failed, when a call returns -1
} eb_v4l2;

/// Opens `path`, checks it captures video with streaming I/O, sets `format` (EB_V4L2_*) at about
/// width x height, maps the buffers and starts streaming. 0 on success, -1 with dev->message.
int eb_v4l2_open(eb_v4l2* dev, const char* path, int format, uint32_t width, uint32_t height);
/// Waits up to timeout_ms for a frame. 1: *index/*bytes/*data describe a filled buffer (give it back
/// with eb_v4l2_release); 0: timeout; -1: the device failed (dev->message says how).
int eb_v4l2_next(eb_v4l2* dev, int timeout_ms, uint32_t* index, uint32_t* bytes, const uint8_t** data);
int eb_v4l2_release(eb_v4l2* dev, uint32_t index);
void eb_v4l2_close(eb_v4l2* dev);
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
/// Sends `state` (e.g. "READY=1", "WATCHDOG=1") to systemd's $NOTIFY_SOCKET, if set. Returns 1 if
/// sent, 0 without a socket, -1 on error. No libsystemd needed.
int eb_sd_notify(const char* state);
/// CPUs this process may run on (its affinity mask), at least 1.
int eb_available_cpus(void);
/// pthread_create(thread, NULL, fn, arg), but the new thread begins on the `index`-th allowed CPU after
/// the calling thread's (wrapping), then may run on every allowed CPU: the threads of a pool begin on
/// different cores instead of wherever the scheduler first puts them (often the creator's core, where
/// a worker that spins takes turns with the thread that holds the work). Returns pthread_create's code.
int eb_thread_create_spread(pthread_t* thread, void* (*fn)(void*), void* arg, int index);
/// $WATCHDOG_USEC if systemd set a watchdog for this process, else 0.
unsigned long long eb_sd_watchdog_usec(void);
#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
extern "C" {
#endif
// Atomics for the thread pool's spin-then-block hand-off (Swift code passes stable pointers).
static inline int64_t eb_atomic_load(const int64_t* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void eb_atomic_store(int64_t* p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/// Adds `v` and returns the previous value.
static inline int64_t eb_atomic_fetch_add(int64_t* p, int64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
/// Sets *p to `desired` if it holds `expected`; returns whether it did.
static inline int eb_atomic_cas(int64_t* p, int64_t expected, int64_t desired) {
  return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
/// Sequentially consistent forms, for the two sides of "publish, then check whether the other side
/// sleeps" (each side's store must be ordered before its load of the other side's flag).
static inline void eb_atomic_store_sc(int64_t* p, int64_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline int64_t eb_atomic_load_sc(const int64_t* p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline int64_t eb_atomic_fetch_add_sc(int64_t* p, int64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline void eb_cpu_relax(void) {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}
#ifdef __cplusplus
}
#endif
