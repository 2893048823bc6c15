// Stop requests from SIGINT/SIGTERM/SIGHUP, recorded in a sig_atomic_t that the inference loop polls.
#include <CEdgeboneSystem.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t eb_stop_signal = 0;

static void eb_on_signal(int sig) { eb_stop_signal = sig; }

void eb_install_stop_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = eb_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read returns EINTR so the capture loop sees the stop
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  // A closed terminal or `systemctl kill -s HUP` ends the run like SIGTERM (summary, exit 0).
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  // A parent may have spawned us with these blocked (the mask is inherited): unblock them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int eb_stop_requested(void) { return eb_stop_signal; }

void eb_request_stop(int sig) { eb_stop_signal = sig; }
