// libmosquitto, the reference MQTT client library (Debian: libmosquitto-dev), for `edgebone run --mqtt`,
// and the two GNU calls the publisher thread needs that Swift's Glibc module does not show.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <mosquitto.h>

/// A non-blocking, close-on-exec pipe that wakes the publisher thread; 0 or -1 with errno.
static inline int eb_mqtt_wake_pipe(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC); }

/// Names the calling thread (at most 15 bytes are kept), for `top -H` and allocation accounting.
static inline void eb_mqtt_name_thread(const char* name) { (void)pthread_setname_np(pthread_self(), name); }
