// A QEMU TCG plugin that counts the guest instructions executed, grouped by where they are:
// by symbol inside the main executable (Edgebone's kernels and runtime carry their names there),
// by mapped file elsewhere (libswiftCore, libopenblas, libonnxruntime, libc, ...).
//
//   qemu-aarch64 -cpu cortex-a76 -plugin ./insn-count.so,out=counts.tsv  BINARY ARGS...
//
// Counting is exact and deterministic for a deterministic guest: every translated block gets one
// inline add per run of instructions that share a symbol, so nothing is sampled. The output is
// "instructions<TAB>dot products<TAB>where" per line, largest first, after a "total" line; the second
// column counts the AArch64 SDOT/UDOT instructions among them (vector and by-element forms), which
// shows whether a runtime uses the dot-product extension on a CPU that has it.
//
// QEMU does not package its plugin header on Debian; the declarations below are the subset of the
// plugin API (version 1, QEMU 7.x and 8.x) that this plugin uses, written from its documentation.

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct {
  const char *target_name;
  struct { int min, cur; } version;
  bool system_emulation;
  union { struct { int smp_vcpus, max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t, void *);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, qemu_plugin_vcpu_tb_trans_cb_t);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *, enum qemu_plugin_op, void *, uint64_t);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, qemu_plugin_udata_cb_t, void *);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *, size_t);
extern const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *);
extern void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *);
extern const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *);

EXPORT int qemu_plugin_version = 1;

// One counter per run of same-symbol instructions in a translated block. Records live in chunks that
// never move, because the generated code holds pointers to their counters.
typedef struct {
  uint64_t count;     // instructions executed (the inline add's target)
  const char *symbol; // QEMU's name for the first instruction, or NULL
  uintptr_t host;     // host address of the first instruction, to find its mapped file at exit
  uint32_t length;    // instructions in the run
  uint32_t dots;      // SDOT/UDOT instructions in the run
} record;

enum { CHUNK = 1 << 16 };
typedef struct chunk { struct chunk *next; size_t used; record r[CHUNK]; } chunk;

static chunk *chunks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const char *out_path;

static record *new_record(void) {
  if (!chunks || chunks->used == CHUNK) {
    chunk *c = calloc(1, sizeof *c);
    if (!c) { fputs("insn-count: out of memory\n", stderr); abort(); }
    c->next = chunks;
    chunks = c;
  }
  return &chunks->r[chunks->used++];
}

static bool same_symbol(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static bool is_dot(uint32_t op) {
  return (op & 0x9FE0FC00u) == 0x0E809400u    // SDOT/UDOT (vector)
      || (op & 0x9FC0F400u) == 0x0F80E000u;   // SDOT/UDOT (by element)
}

static uint32_t opcode(const struct qemu_plugin_insn *insn) {
  uint32_t op = 0;
  memcpy(&op, qemu_plugin_insn_data(insn), sizeof op); // AArch64 instructions: 4 bytes, little-endian
  return op;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  pthread_mutex_lock(&lock);
  size_t i = 0;
  while (i < n) {
    struct qemu_plugin_insn *first = qemu_plugin_tb_get_insn(tb, i);
    const char *sym = qemu_plugin_insn_symbol(first);
    size_t j = i + 1;
    while (j < n && same_symbol(sym, qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, j)))) j++;
    record *r = new_record();
    r->symbol = sym;
    r->length = (uint32_t)(j - i);
    for (size_t q = i; q < j; q++) r->dots += is_dot(opcode(qemu_plugin_tb_get_insn(tb, q)));
    r->host = (uintptr_t)qemu_plugin_insn_haddr(first);
    qemu_plugin_register_vcpu_insn_exec_inline(first, QEMU_PLUGIN_INLINE_ADD_U64, &r->count, j - i);
    i = j;
  }
  pthread_mutex_unlock(&lock);
}

// The host's mappings: guest code is mapped into qemu's own address space, so the file behind a
// host address names the library an instruction came from.
typedef struct { uintptr_t lo, hi; char name[96]; } mapping;

static size_t read_maps(mapping **out) {
  FILE *f = fopen("/proc/self/maps", "r");
  size_t n = 0, cap = 0;
  mapping *m = NULL;
  char line[4096];
  while (f && fgets(line, sizeof line, f)) {
    uintptr_t lo, hi;
    int off = 0;
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %*s %n", &lo, &hi, &off) < 2) continue;
    char *path = line + off;
    path[strcspn(path, "\n")] = 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : (*path ? path : "[anonymous]");
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      mapping *grown = realloc(m, cap * sizeof *m);
      if (!grown) break;
      m = grown;
    }
    m[n].lo = lo;
    m[n].hi = hi;
    snprintf(m[n].name, sizeof m[n].name, "%s", base);
    n++;
  }
  if (f) fclose(f);
  *out = m;
  return n;
}

typedef struct { char *name; uint64_t count, dots; } total;

static int by_count(const void *a, const void *b) {
  const total *x = a, *y = b;
  return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const total *)a)->name, ((const total *)b)->name);
}

static void finished(qemu_plugin_id_t id, void *unused) {
  (void)id; (void)unused;
  mapping *maps;
  size_t nmaps = read_maps(&maps);
  size_t n = 0;
  for (chunk *c = chunks; c; c = c->next) n += c->used;
  total *t = calloc(n ? n : 1, sizeof *t);
  if (!t) return;
  size_t k = 0;
  uint64_t sum = 0, dots = 0;
  for (chunk *c = chunks; c; c = c->next) {
    for (size_t i = 0; i < c->used; i++) {
      record *r = &c->r[i];
      if (r->count == 0) continue;
      const uint64_t d = r->count / r->length * r->dots;
      sum += r->count;
      dots += d;
      const char *file = "[unmapped]";
      for (size_t m = 0; m < nmaps; m++) {
        if (r->host >= maps[m].lo && r->host < maps[m].hi) { file = maps[m].name; break; }
      }
      char buf[512];
      if (r->symbol && *r->symbol) snprintf(buf, sizeof buf, "%s:%s", file, r->symbol);
      else snprintf(buf, sizeof buf, "%s", file);
      t[k].name = strdup(buf);
      t[k].count = r->count;
      t[k].dots = d;
      k++;
    }
  }
  qsort(t, k, sizeof *t, by_name);
  size_t u = 0;
  for (size_t i = 0; i < k; i++) {
    if (u > 0 && strcmp(t[u - 1].name, t[i].name) == 0) {
      t[u - 1].count += t[i].count;
      t[u - 1].dots += t[i].dots;
      free(t[i].name);
    }
    else t[u++] = t[i];
  }
  qsort(t, u, sizeof *t, by_count);
  FILE *f = out_path ? fopen(out_path, "w") : stderr;
  if (!f) { fprintf(stderr, "insn-count: cannot write %s\n", out_path); f = stderr; }
  fprintf(f, "%" PRIu64 "\t%" PRIu64 "\ttotal\n", sum, dots);
  for (size_t i = 0; i < u; i++) fprintf(f, "%" PRIu64 "\t%" PRIu64 "\t%s\n", t[i].count, t[i].dots, t[i].name);
  if (f != stderr) fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "out=", 4) == 0) out_path = strdup(argv[i] + 4); // argv is freed after install
    else { fprintf(stderr, "insn-count: unknown argument '%s' (expected out=FILE)\n", argv[i]); return -1; }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
  qemu_plugin_register_atexit_cb(id, finished, NULL);
  return 0;
}
