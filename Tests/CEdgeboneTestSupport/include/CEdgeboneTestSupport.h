// Test support: counts heap allocations made by the calling thread between begin and end, by
// interposing malloc and friends (glibc's __libc_* entry points do the real work).
#pragma once
void eb_test_alloc_begin(void);
/// Allocations (malloc, calloc, realloc, aligned variants) on this thread since begin.
long eb_test_alloc_end(void);
