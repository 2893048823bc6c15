// OpenBLAS's CBLAS interface plus the runtime controls Edgebone uses.
#include <cblas.h>
