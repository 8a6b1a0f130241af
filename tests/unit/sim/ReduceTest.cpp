//===- ReduceTest.cpp - Quad/warp reductions and the sim's shuffles -------===//

#include "DevicePrimitives.h"
#include "SimTestSupport.h"
#include "attnc_device.cuh"

#include <algorithm>

using namespace attnc;
using namespace attnc::simtest;

TEST_CASE("quad and warp reductions, row max and row sum of a tile",
          "[sim][reduce]") {
  const int n = 64;
  std::vector<float> in = randomFloats(n + 32 * 8, 99, -10, 10);
  std::vector<float> out(n * 8, std::nanf(""));
  sim::ScopedOptions opts(checkedOptions());
  sim::ScopedBuffer bi(in.data(), in.size() * 4, "in");
  sim::ScopedBuffer bo(out.data(), out.size() * 4, "out");
  requireOk(sim::launch("reduce", dim3(1), dim3(n), 0, &attnc_test_reduce,
                        in.data(), out.data()));

  // The 16x16 tile: lane's register i of n-tile j is in[n + lane*8 + j*4 + i].
  float tile[16][16];
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 4; ++i) {
        RowCol rc = ptxC(lane, i);
        tile[rc.row][8 * j + rc.col] = in[n + lane * 8 + j * 4 + i];
      }

  for (int t = 0; t < n; ++t) {
    int quad = t / 4 * 4, warp = t / 32 * 32, lane = t % 32;
    float qmax = -INFINITY, wmax = -INFINITY;
    double qsum = 0, wsum = 0;
    for (int i = quad; i < quad + 4; ++i) {
      qmax = std::max(qmax, in[i]);
      qsum += in[i];
    }
    for (int i = warp; i < warp + 32; ++i) {
      wmax = std::max(wmax, in[i]);
      wsum += in[i];
    }
    INFO("thread " << t);
    const float *o = &out[t * 8];
    CHECK(o[0] == qmax);
    CHECK(near(o[1], qsum, 1e-6, 1e-6));
    CHECK(o[2] == wmax);
    CHECK(near(o[3], wsum, 1e-5, 1e-5));
    for (int h = 0; h < 2; ++h) {
      int row = lane / 4 + 8 * h;
      float rmax = -INFINITY;
      double rsum = 0;
      for (int col = 0; col < 16; ++col) {
        rmax = std::max(rmax, tile[row][col]);
        rsum += tile[row][col];
      }
      CHECK(o[4 + h] == rmax);
      CHECK(near(o[6 + h], rsum, 1e-5, 1e-5));
    }
  }
}

namespace {

/// Per thread: shfl idx/up/down/xor at widths 32, 16 and 8, then a 64-bit
/// shuffle, ballot/any/all.
void shuffleKernel(const int *in, int *out) {
  int t = threadIdx.x;
  int v = in[t];
  int *o = out + t * 16;
  int k = 0;
  for (int width : {32, 16, 8}) {
    o[k++] = __shfl_sync(0xffffffffu, v, (t * 7 + 3) % 32, width);
    o[k++] = __shfl_up_sync(0xffffffffu, v, 3, width);
    o[k++] = __shfl_down_sync(0xffffffffu, v, 5, width);
    o[k++] = __shfl_xor_sync(0xffffffffu, v, 9, width);
  }
  double d = __shfl_xor_sync(0xffffffffu, 0.5 + v, 1);
  o[k++] = static_cast<int>(d * 2);
  o[k++] = static_cast<int>(__ballot_sync(0xffffffffu, v % 3 == 0));
  o[k++] = __any_sync(0xffffffffu, v == in[t / 32 * 32 + 5]);
  o[k++] = __all_sync(0xffffffffu, v > 0);
}

} // namespace

TEST_CASE("warp shuffles and votes follow shfl.sync's segment rules",
          "[sim][reduce][shuffle]") {
  const int n = 64;
  std::vector<int> in(n), out(n * 16, -1);
  std::mt19937 rng(7);
  for (int &x : in)
    x = static_cast<int>(rng() % 1000) + 1;
  sim::ScopedOptions opts(checkedOptions());
  requireOk(sim::launch("shuffles", dim3(1), dim3(n), 0, &shuffleKernel,
                        in.data(), out.data()));
  for (int t = 0; t < n; ++t) {
    int lane = t % 32, base = t - lane;
    auto val = [&](int l) { return in[base + l]; };
    int k = 0;
    const int *o = &out[t * 16];
    INFO("thread " << t);
    for (int width : {32, 16, 8}) {
      int first = lane / width * width, last = first + width - 1;
      CHECK(o[k++] == val(first + ((lane * 7 + 3) % 32) % width));
      CHECK(o[k++] == val(lane - 3 >= first ? lane - 3 : lane));
      CHECK(o[k++] == val(lane + 5 <= last ? lane + 5 : lane));
      CHECK(o[k++] == val((lane ^ 9) <= last ? lane ^ 9 : lane));
    }
    CHECK(o[k++] == 2 * val(lane ^ 1) + 1);
    unsigned ballot = 0;
    bool all = true;
    for (int l = 0; l < 32; ++l) {
      ballot |= unsigned(val(l) % 3 == 0) << l;
      all = all && val(l) > 0;
    }
    CHECK(static_cast<unsigned>(o[k++]) == ballot);
    CHECK(o[k++] == 1);
    CHECK(o[k++] == int(all));
  }
}

TEST_CASE("shuffles of disjoint half-warp masks run side by side",
          "[sim][shuffle]") {
  static int out[32];
  sim::ScopedOptions opts(checkedOptions(1));
  requireOk(sim::launch("half_warps", dim3(1), dim3(32), 0, [] {
    int lane = dev::laneId();
    int v = lane * 10;
    if (lane < 16)
      v = __shfl_xor_sync(0x0000ffffu, v, 1);
    else
      v = __shfl_down_sync(0xffff0000u, v, 2, 16);
    out[lane] = v;
  }));
  for (int lane = 0; lane < 32; ++lane)
    CHECK(out[lane] == (lane < 16 ? (lane ^ 1) * 10
                                  : (lane + 2 < 32 ? lane + 2 : lane) * 10));
}
