/* sort.h: sorting arrays of doubles faster than qsort's comparison callbacks, for code that sorts
 * many long columns (the ETL's feature selection sorts every feature's training values at every
 * fit). Must not allocate: the caller provides the scratch space. */
#ifndef OC_SORT_H
#define OC_SORT_H

#include <stddef.h>

/* Sorts the finite v[0..n) ascending, exactly as a stable sort comparing with < and > would (-0 and
 * +0 compare equal and keep their input order). tmp holds n doubles of scratch. O(n): LSD radix
 * sort over the order-preserving 64-bit image of each value, one pass per byte that varies. */
void oc_sort_doubles(double *v, size_t n, double *tmp);

#endif
