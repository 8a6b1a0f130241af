//===- RaceCheckTest.cpp - Checked mode's shared-memory race detector -----===//
//
// Small kernels, each run with and without the barrier or wait that makes
// it correct: the correct one must pass and the broken one must fail with
// DataRace, so every test can fail. Most run on one host thread, which
// makes the sim's schedule (and so which of the two racing accesses is
// reported) deterministic; the detector itself does not depend on it.
//
//===----------------------------------------------------------------------===//

#include "SimTestSupport.h"
#include "attnc_device.cuh"

using namespace attnc;
using namespace attnc::simtest;

namespace {

/// Requires a DataRace whose message contains every one of `parts`.
void requireRace(const sim::LaunchStatus &s,
                 std::initializer_list<const char *> parts) {
  INFO(s.message);
  REQUIRE(s.error == sim::LaunchError::DataRace);
  CHECK_THAT(s.message, Catch::Contains("shared-memory race at offset "));
  for (const char *part : parts)
    CHECK_THAT(s.message, Catch::Contains(part));
}

alignas(16) unsigned char gSrc[2][1024];
alignas(16) unsigned char gOut[1024];

/// 64 threads (2 warps) own one 16-byte chunk each of a 1 KiB buffer.
/// (a) Warp 0 reads warp 1's chunks, then warp 1 refills its chunks with
/// cp.async: without a barrier between, the refill may land before the
/// read on the GPU.
void refillAfterRead(bool barrier) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  const int t = threadIdx.x;
  auto *chunks = reinterpret_cast<uint4 *>(smem);
  dev::cpAsync16(smem + 16 * t, gSrc[0] + 16 * t);
  dev::cpAsyncWaitAll();
  __syncthreads();
  if (dev::warpId() == 0) {
    dev::storeGlobal(reinterpret_cast<uint4 *>(gOut) + t,
                     dev::loadShared(chunks + t + 32));
  } else {
    // Orders warp 1's lanes, not warp 1 against warp 0: warp 0 reads first
    // under the sim's schedule, so the refill reports write-after-read.
    __syncwarp();
  }
  if (barrier)
    __syncthreads();
  if (dev::warpId() == 1) {
    dev::cpAsync16(smem + 16 * t, gSrc[1] + 16 * t);
    dev::cpAsyncWaitAll();
  }
  __syncthreads();
  dev::storeGlobal(reinterpret_cast<uint4 *>(gOut) + 32 + t % 32,
                   dev::loadShared(chunks + 32 + t % 32));
}

} // namespace

TEST_CASE("a cp.async refill of what another warp read needs a barrier",
          "[sim][race][cp_async]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(gSrc, sizeof(gSrc), "src"), bo(gOut, sizeof(gOut), "o");
  for (int i = 0; i < 1024; ++i) {
    gSrc[0][i] = static_cast<unsigned char>(i * 7 + 1);
    gSrc[1][i] = static_cast<unsigned char>(i * 13 + 5);
  }
  requireOk(sim::launch("refill_ok", dim3(3), dim3(64), 1024, &refillAfterRead,
                        true));
  CHECK(gOut[0] == gSrc[0][512]);
  CHECK(gOut[512] == gSrc[1][512]);

  sim::LaunchStatus s = sim::launch("refill_race", dim3(3), dim3(64), 1024,
                                    &refillAfterRead, false);
  requireRace(s, {"kernel 'refill_race' block (0,0,0) thread (",
                  "warp 1 writes (cp.async, thread (",
                  "what warp 0 read (loadShared, thread (",
                  "since barrier 1, with no __syncthreads() between them"});
  // Thread 62, the last of warp 1 to reach __syncwarp(), refills first;
  // warp 0 read its chunk through thread 30.
  CHECK_THAT(s.message,
             Catch::Contains("shared-memory race at offset 992: warp 1 "
                             "writes (cp.async, thread (62,0,0)) what warp 0 "
                             "read (loadShared, thread (30,0,0))"));
}

namespace {

/// (b) Every thread copies its chunk and reads the other warp's: before the
/// wait (`early`), or after the wait and a barrier.
void readBeforeWait(bool early) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  const int t = threadIdx.x;
  dev::cpAsync16(smem + 16 * t, gSrc[0] + 16 * t);
  dev::cpAsyncCommit();
  if (!early) {
    dev::cpAsyncWait<0>();
    __syncthreads();
  }
  const int c = (t + 32) % 64; // the other warp's chunk
  dev::storeGlobal(reinterpret_cast<uint4 *>(gOut) + t,
                   dev::loadShared(reinterpret_cast<uint4 *>(smem) + c));
  if (early)
    dev::cpAsyncWait<0>();
}

} // namespace

TEST_CASE("reading a cp.async destination before its wait is a race",
          "[sim][race][cp_async]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(gSrc, sizeof(gSrc), "src"), bo(gOut, sizeof(gOut), "o");
  requireOk(sim::launch("wait_first", dim3(2), dim3(64), 1024, &readBeforeWait,
                        false));
  CHECK(std::memcmp(gOut, gSrc[0] + 512, 512) == 0);

  sim::LaunchStatus s =
      sim::launch("read_early", dim3(2), dim3(64), 1024, &readBeforeWait, true);
  // Thread 0 reads chunk 32, whose copy thread 32 has not even issued yet:
  // the race is found when it does.
  requireRace(s, {"warp 1 writes (cp.async, thread (32,0,0)) what warp 0 "
                  "read (loadShared, thread (0,0,0)) since the block started"});

  // Reading its own chunk before its own wait is as wrong.
  s = sim::launch("read_own_early", dim3(1), dim3(64), 1024, [] {
    ATTNC_DYNAMIC_SMEM(unsigned char, smem);
    const int t = threadIdx.x;
    dev::cpAsync16(smem + 16 * t, gSrc[0] + 16 * t);
    dev::cpAsyncCommit();
    (void)dev::loadShared(reinterpret_cast<uint4 *>(smem) + t);
    dev::cpAsyncWait<0>();
  });
  requireRace(s, {"shared-memory race at offset 0: warp 0 reads (loadShared, "
                  "thread (0,0,0)) what a cp.async of thread (0,0,0) (warp "
                  "0), issued since the block started (no barrier yet), may "
                  "still be writing: no cp.async.wait_group of that thread "
                  "covers it yet"});
}

TEST_CASE("ldmatrix of a tile still in flight is a race",
          "[sim][race][ldmatrix]") {
  // Two warps copy a 64-row tile of 16-byte rows; warp 1 reads rows 0..31,
  // warp 0's, with ldmatrix.x4 after its own wait: after a barrier, or
  // without one while warp 0 has not waited yet.
  auto kernel = [](bool barrier) {
    ATTNC_DYNAMIC_SMEM(unsigned char, smem);
    const int t = threadIdx.x;
    dev::cpAsync16(smem + 16 * t, gSrc[0] + 16 * t);
    dev::cpAsyncCommit();
    if (dev::warpId() == 0)
      __syncwarp(); // warp 1 runs ahead under the sim's schedule
    dev::cpAsyncWait<0>();
    if (barrier)
      __syncthreads();
    if (dev::warpId() == 1) {
      unsigned r[4];
      dev::ldmatrixX4(r, smem + 16 * dev::laneId());
      dev::storeGlobal(reinterpret_cast<unsigned *>(gOut) + t, r[0]);
    }
  };
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(gSrc, sizeof(gSrc), "src"), bo(gOut, sizeof(gOut), "o");
  requireOk(sim::launch("ldm_ok", dim3(1), dim3(64), 1024, kernel, true));
  sim::LaunchStatus s =
      sim::launch("ldm_in_flight", dim3(1), dim3(64), 1024, kernel, false);
  requireRace(s, {"shared-memory race at offset 0: warp 1 reads (ldmatrix, "
                  "thread (32,0,0)) what a cp.async of thread (0,0,0) (warp "
                  "0), issued since the block started (no barrier yet), may "
                  "still be writing"});
}

namespace {

/// (c) Warp 0 copies chunks 0..31 and waits; warp 1 then reads them, with
/// or without a barrier after the wait.
void readAfterWaitOnly(bool barrier) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  const int t = threadIdx.x;
  __syncthreads();
  if (dev::warpId() == 0) {
    dev::cpAsync16(smem + 16 * t, gSrc[0] + 16 * t);
    dev::cpAsyncWaitAll();
  }
  if (barrier)
    __syncthreads();
  if (dev::warpId() == 1) {
    // Lets warp 0's wait come first under the sim's schedule, so the read
    // finds a completed copy rather than one in flight.
    __syncwarp();
    dev::storeGlobal(reinterpret_cast<uint4 *>(gOut) + t,
                     dev::loadShared(reinterpret_cast<uint4 *>(smem) + t - 32));
  }
}

} // namespace

TEST_CASE("the wait makes a copy visible to its own thread only",
          "[sim][race][cp_async]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(gSrc, sizeof(gSrc), "src"), bo(gOut, sizeof(gOut), "o");
  requireOk(sim::launch("wait_and_sync", dim3(2), dim3(64), 512,
                        &readAfterWaitOnly, true));
  CHECK(std::memcmp(gOut + 512, gSrc[0], 512) == 0);
  sim::LaunchStatus s = sim::launch("wait_only", dim3(2), dim3(64), 512,
                                    &readAfterWaitOnly, false);
  requireRace(s, {"shared-memory race at offset 480: warp 1 reads (loadShared, "
                  "thread (62,0,0)) what warp 0 wrote (cp.async, thread "
                  "(30,0,0)) since barrier 1, with no __syncthreads() between "
                  "them"});
}

namespace {

/// (d) Warp 0 stores, warp 1 loads: the classic producer and consumer.
void producerConsumer(bool barrier) {
  ATTNC_DYNAMIC_SMEM(float, smem);
  const int lane = dev::laneId();
  if (dev::warpId() == 0)
    dev::storeShared(smem + lane, 1.0f + lane);
  if (barrier)
    __syncthreads();
  if (dev::warpId() == 1)
    dev::storeGlobal(reinterpret_cast<float *>(gOut) + lane,
                     dev::loadShared(smem + 31 - lane));
}

} // namespace

TEST_CASE("a storeShared/loadShared pair of two warps needs a barrier",
          "[sim][race]") {
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bo(gOut, sizeof(gOut), "o");
  requireOk(
      sim::launch("pc_ok", dim3(2), dim3(64), 128, &producerConsumer, true));
  CHECK(reinterpret_cast<float *>(gOut)[0] == 32.0f);
  sim::LaunchStatus s =
      sim::launch("pc_race", dim3(2), dim3(64), 128, &producerConsumer, false);
  requireRace(s, {"kernel 'pc_race' block (0,0,0) thread (32,0,0): "
                  "shared-memory race at offset 124: warp 1 reads "
                  "(loadShared, thread (32,0,0)) what warp 0 wrote "
                  "(storeShared, thread (31,0,0)) since the block started (no "
                  "barrier yet), with no __syncthreads() between them"});

  // Two warps writing one word in one epoch.
  s = sim::launch("waw", dim3(1), dim3(64), 128, [] {
    ATTNC_DYNAMIC_SMEM(float, smem);
    __syncthreads();
    __syncthreads();
    dev::storeShared(smem + dev::laneId(), 1.0f);
  });
  // Thread 62 completed the second barrier and ran on first.
  requireRace(s, {"shared-memory race at offset 120: warp 0 writes "
                  "(storeShared, thread (30,0,0)) what warp 1 wrote "
                  "(storeShared, thread (62,0,0)) since barrier 2"});

  // A consumer overwriting what another warp has just read.
  s = sim::launch("war", dim3(1), dim3(64), 128, [] {
    ATTNC_DYNAMIC_SMEM(float, smem);
    if (dev::warpId() == 0)
      dev::storeShared(smem + dev::laneId(), 0.0f);
    __syncthreads();
    const int lane = dev::laneId();
    float v = dev::loadShared(smem + lane);
    if (dev::warpId() == 1) {
      __syncwarp(); // warp 0 reads too before warp 1 writes
      dev::storeShared(smem + (lane + 1) % 32, v + 1);
    }
  });
  // Thread 62 writes word 31 first. Thread 63, of the writing warp, read it
  // first; the report names the other warp's reader.
  requireRace(s, {"shared-memory race at offset 124: warp 1 writes "
                  "(storeShared, thread (62,0,0)) what warp 0 read "
                  "(loadShared, thread (31,0,0)) since barrier 1"});
}

TEST_CASE("a warp may re-read and rewrite its own data without barriers",
          "[sim][race]") {
  // (e) Each warp owns a 512-byte slice: stores, loads across its lanes,
  // rewrites, refills it with cp.async and reads it after its wait, all
  // without a barrier. Not checked: lanes of one warp against each other.
  sim::ScopedOptions opts(checkedOptions(1));
  sim::ScopedBuffer bs(gSrc, sizeof(gSrc), "src"), bo(gOut, sizeof(gOut), "o");
  requireOk(sim::launch("own_data", dim3(2), dim3(64), 1024, [] {
    ATTNC_DYNAMIC_SMEM(unsigned char, smem);
    const int lane = dev::laneId(), w = dev::warpId();
    unsigned char *mine = smem + 512 * w;
    auto *words = reinterpret_cast<unsigned *>(mine);
    for (int round = 0; round < 3; ++round) {
      dev::storeShared(words + lane, unsigned(round * 100 + lane));
      unsigned v = dev::loadShared(words + (lane + 1) % 32);
      dev::storeShared(words + 32 + lane, v);
      dev::cpAsync16(mine + 16 * lane, gSrc[0] + 16 * lane);
      dev::cpAsyncWaitAll();
      (void)dev::loadShared(words + 4 * ((lane + 5) % 32));
      unsigned r[4];
      dev::ldmatrixX4(r, mine + 16 * lane);
      dev::storeGlobal(reinterpret_cast<unsigned *>(gOut) + 32 * w + lane,
                       r[round]);
    }
  }));
}

TEST_CASE("sub-word accesses of two warps to one word are precise",
          "[sim][race]") {
  // f16 elements: warp w writes column w of a 32 x 2 tile, so the two
  // warps write the two halves of each 4-byte word in one epoch. Not a
  // race; a detector keeping only words would call it one.
  auto kernel = [](int collide) {
    ATTNC_DYNAMIC_SMEM(unsigned short, smem);
    const int lane = dev::laneId(), w = dev::warpId();
    const int col = collide ? 0 : w;
    dev::storeShared(smem + 2 * lane + col, static_cast<unsigned short>(w));
    (void)dev::loadShared(smem + 2 * lane + col);
    __syncthreads();
    // The whole words, written by both warps: readable after the barrier.
    (void)dev::loadShared(reinterpret_cast<unsigned *>(smem) + lane);
  };
  sim::ScopedOptions opts(checkedOptions(1));
  requireOk(sim::launch("halves", dim3(2), dim3(64), 128, kernel, 0));
  sim::LaunchStatus s =
      sim::launch("same_half", dim3(2), dim3(64), 128, kernel, 1);
  requireRace(s, {"shared-memory race at offset 0: warp 1 writes "
                  "(storeShared, thread (32,0,0)) what warp 0 read "
                  "(loadShared, thread (0,0,0)) since the block started"});
  // Split words stay byte-precise: warp 1 rewrites its half after the
  // barrier, and warp 0's whole-word read then races with that half only.
  s = sim::launch("halves_then_word", dim3(1), dim3(64), 128, [] {
    ATTNC_DYNAMIC_SMEM(unsigned short, smem);
    const int lane = dev::laneId(), w = dev::warpId();
    dev::storeShared(smem + 2 * lane + w, static_cast<unsigned short>(w));
    __syncthreads();
    if (w == 0)
      (void)dev::loadShared(reinterpret_cast<unsigned *>(smem) + lane);
    else
      dev::storeShared(smem + 2 * lane + 1, static_cast<unsigned short>(7));
  });
  requireRace(s, {"shared-memory race at offset 126: warp 0 reads "
                  "(loadShared, thread (31,0,0)) what warp 1 wrote "
                  "(storeShared, thread (63,0,0)) since barrier 1"});
}

namespace {

constexpr int kTiles = 5;
/// 32 x 32 f16 tiles (64-byte rows), one 16-byte chunk per thread.
alignas(16) unsigned short gTiles[kTiles][32 * 32];
unsigned gFrags[kTiles][4][32][4];

/// (f) A double-buffered pipeline shaped like the generated kernels': at
/// the top of iteration j the next tile is prefetched into the buffer tile
/// j - 1 used (past the end, the last tile again), then wait<1> and a
/// barrier make tile j readable, each of the 4 warps reads a 16 x 16
/// quarter of it (mostly copied by other warps) with ldmatrix.x4, and a
/// barrier ends the iteration so the next prefetch cannot overwrite it
/// early. cp.async.wait<0> after the loop drains the last prefetch. `skip`
/// names the one barrier or wait to leave out (0: none).
void pipeline(int skip) {
  ATTNC_DYNAMIC_SMEM(unsigned char, smem);
  const int t = threadIdx.x, w = dev::warpId(), lane = dev::laneId();
  auto prefetch = [&](int j) {
    const int src = j < kTiles ? j : kTiles - 1;
    dev::cpAsync16(smem + 2048 * (j % 2) + 16 * t, gTiles[src] + 8 * t);
    dev::cpAsyncCommit();
  };
  prefetch(0);
  for (int j = 0; j < kTiles; ++j) {
    prefetch(j + 1);
    if (skip != 1)
      dev::cpAsyncWait<1>();
    if (skip != 2)
      __syncthreads();
    const int quarter = (w + j) % 4;
    const int row = 16 * (quarter / 2) + lane % 16;
    const int col = 16 * (quarter % 2) + 8 * (lane / 16);
    unsigned r[4];
    dev::ldmatrixX4(r, smem + 2048 * (j % 2) + 64 * row + 2 * col);
    for (int i = 0; i < 4; ++i)
      gFrags[j][w][lane][i] = r[i];
    if (skip != 3)
      __syncthreads();
  }
  if (skip != 4)
    dev::cpAsyncWait<0>();
}

} // namespace

TEST_CASE("a double-buffered cp.async pipeline passes, and fails without "
          "any one of its barriers and waits",
          "[sim][race][cp_async][ldmatrix]") {
  for (int j = 0; j < kTiles; ++j)
    for (int i = 0; i < 32 * 32; ++i)
      gTiles[j][i] = static_cast<unsigned short>(j * 4096 + i);
  sim::ScopedOptions opts(checkedOptions(2));
  sim::ScopedBuffer bt(gTiles, sizeof(gTiles), "tiles");
  std::memset(gFrags, 0, sizeof(gFrags));
  requireOk(sim::launch("pipeline", dim3(4), dim3(128), 4096, &pipeline, 0));
  // ldmatrix.x4: register m of lane l is row l/4, columns 2(l%4) + {0,1} of
  // the matrix whose rows lanes 8m..8m+7 address.
  for (int j = 0; j < kTiles; ++j)
    for (int w = 0; w < 4; ++w)
      for (int lane = 0; lane < 32; ++lane)
        for (int m = 0; m < 4; ++m) {
          const int quarter = (w + j) % 4, rowLane = 8 * m + lane / 4;
          const int row = 16 * (quarter / 2) + rowLane % 16;
          const int col =
              16 * (quarter % 2) + 8 * (rowLane / 16) + 2 * (lane % 4);
          const unsigned want = gTiles[j][32 * row + col] |
                                unsigned(gTiles[j][32 * row + col + 1]) << 16;
          INFO("tile " << j << " warp " << w << " lane " << lane << " reg "
                       << m);
          REQUIRE(gFrags[j][w][lane][m] == want);
        }

  struct Broken {
    int skip;
    const char *what;
    std::initializer_list<const char *> message;
  };
  const Broken broken[] = {
      {1, "wait<1>", {"reads (ldmatrix", "may still be writing"}},
      // Which of the two racing accesses comes first, and so the wording,
      // depends on the sim's schedule.
      {2, "barrier after the wait", {"(ldmatrix", "cp.async"}},
      {3, "barrier before the prefetch", {"(ldmatrix", "cp.async"}},
      {4, "wait<0> after the loop", {"exits with its cp.async there"}},
  };
  for (const Broken &b : broken) {
    INFO("without the " << b.what);
    requireRace(
        sim::launch("pipeline", dim3(4), dim3(128), 4096, &pipeline, b.skip),
        b.message);
  }
}

TEST_CASE("the race detector is part of checked mode and can be turned off",
          "[sim][race]") {
  sim::ScopedBuffer bo(gOut, sizeof(gOut), "o");
  sim::SimOptions o = checkedOptions(1);
  o.raceCheck = false;
  {
    sim::ScopedOptions opts(o);
    requireOk(sim::launch("pc_unchecked_race", dim3(1), dim3(64), 128,
                          &producerConsumer, false));
  }
  o.raceCheck = true;
  o.checked = false;
  {
    sim::ScopedOptions opts(o);
    requireOk(sim::launch("pc_unchecked", dim3(1), dim3(64), 128,
                          &producerConsumer, false));
  }
  CHECK(std::string(sim::toString(sim::LaunchError::DataRace)) == "data race");
}
