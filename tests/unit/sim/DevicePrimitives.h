//===- DevicePrimitives.h - Host view of DevicePrimitives.cu under sim ----===//
//
// Under ATTNC_SIM the kernels of DevicePrimitives.cu are ordinary functions
// (compiled in DevicePrimitivesSim.cpp); these are their prototypes.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_UNIT_SIM_DEVICEPRIMITIVES_H
#define ATTNC_TESTS_UNIT_SIM_DEVICEPRIMITIVES_H

extern "C" {
void attnc_test_mma_f16(const unsigned *a, const unsigned *b, const float *c,
                        float *d);
void attnc_test_mma_bf16(const unsigned *a, const unsigned *b, const float *c,
                         float *d);
void attnc_test_fragment_coords(int *out);
void attnc_test_ldmatrix(const unsigned short *tile, unsigned *out);
void attnc_test_cp_async(const unsigned char *src, int validBytes,
                         const unsigned char *full, unsigned char *out);
void attnc_test_reduce(const float *in, float *out);
void attnc_test_convert(const float *in, int n, unsigned short *h,
                        unsigned short *b, float *back, unsigned *packed,
                        float *unpacked);
void attnc_test_numeric(const float *in, float *out);
void attnc_test_tile_f16(const unsigned short *q, const unsigned short *k,
                         const unsigned short *v, float scaleLog2, float *out);
void attnc_test_tile_bf16(const unsigned short *q, const unsigned short *k,
                          const unsigned short *v, float scaleLog2, float *out);
}

#endif // ATTNC_TESTS_UNIT_SIM_DEVICEPRIMITIVES_H
