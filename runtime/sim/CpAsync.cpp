//===- CpAsync.cpp - cp.async under sim: copies deferred to their wait ----===//
//
// A cp.async is checked when it is issued (so an error names the issuing
// thread) and performed at the cp.async.wait_group that covers its group, or
// when the thread exits. Groups are numbered per thread: copies issued while
// openGroup is g belong to group g; commit closes it.
//
//===----------------------------------------------------------------------===//

#include "BlockRunner.h"

#include <cstdio>
#include <cstring>

namespace attnc::sim {

void BlockRunner::cpAsync(void *dst, const void *src, unsigned srcBytes) {
  if (srcBytes > 16)
    fail(LaunchError::Trap,
         "cp.async with src-size " + std::to_string(srcBytes) + " > 16 bytes");
  if (reinterpret_cast<uintptr_t>(dst) % 16 ||
      (srcBytes && reinterpret_cast<uintptr_t>(src) % 16)) {
    char buf[96];
    std::snprintf(buf, sizeof(buf),
                  "cp.async of 16 bytes from %p to %p: addresses must be "
                  "16-byte aligned",
                  src, dst);
    fail(LaunchError::Misaligned, buf);
  }
  if (launch->checked) {
    detail::checkBounds(dst, 16, 16, detail::Access::SharedWrite);
    if (srcBytes)
      detail::checkBounds(src, srcBytes, 1, detail::Access::GlobalRead);
    // The copy may land any time from now to the covering wait.
    if (raceCheck)
      race.issueCopy(smemOffset(dst), cur->linear);
  }
  cur->copies.push_back({dst, src, srcBytes, cur->openGroup});
}

void BlockRunner::completeCopies(SimThread &t, unsigned belowGroup) {
  while (t.copyHead < t.copies.size() &&
         t.copies[t.copyHead].group < belowGroup) {
    const PendingCopy &c = t.copies[t.copyHead++];
    if (raceCheck)
      race.completeCopy(smemOffset(c.dst), t.linear);
    std::memcpy(c.dst, c.src, c.srcBytes);
    std::memset(static_cast<char *>(c.dst) + c.srcBytes, 0, 16 - c.srcBytes);
  }
  if (t.copyHead == t.copies.size()) {
    t.copies.clear();
    t.copyHead = 0;
  }
}

void BlockRunner::cpAsyncWait(unsigned pending) {
  SimThread &t = *cur;
  if (t.openGroup > pending)
    completeCopies(t, t.openGroup - pending);
}

namespace detail {

void cpAsync(void *dst, const void *src, unsigned srcBytes) {
  runner().cpAsync(dst, src, srcBytes);
}
void cpAsyncCommit() { runner().cpAsyncCommit(); }
void cpAsyncWait(unsigned pending) { runner().cpAsyncWait(pending); }

} // namespace detail

} // namespace attnc::sim
