// The sd_notify protocol: one datagram on the AF_UNIX socket named by $NOTIFY_SOCKET ("@" prefix:
// abstract namespace).
#include <CEdgeboneSystem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int eb_sd_notify(const char* state) {
  const char* path = getenv("NOTIFY_SOCKET");
  if (path == NULL || path[0] == 0) return 0;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  const size_t n = strlen(path);
  if (n >= sizeof addr.sun_path) return -1;
  memcpy(addr.sun_path, path, n);
  if (path[0] == '@') addr.sun_path[0] = 0;
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  const ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr*)&addr, len);
  close(fd);
  return sent < 0 ? -1 : 1;
}

unsigned long long eb_sd_watchdog_usec(void) {
  const char* v = getenv("WATCHDOG_USEC");
  if (v == NULL) return 0;
  const char* pid = getenv("WATCHDOG_PID");
  if (pid != NULL && (pid_t)strtol(pid, NULL, 10) != getpid()) return 0;
  return strtoull(v, NULL, 10);
}
