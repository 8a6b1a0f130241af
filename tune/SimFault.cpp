//===- SimFault.cpp - Remove one barrier or wait from a kernel's source ---===//
#include "tune/SimFault.h"

#include <cstdlib>
#include <vector>

using namespace attnc;

namespace {

constexpr const char *kBarrier = "__syncthreads();";
constexpr const char *kWait = "attnc::dev::cpAsyncWait<";

/// Offsets of the statements starting with `what`, in source order.
std::vector<size_t> find(const std::string &cuda, const std::string &what) {
  std::vector<size_t> at;
  for (size_t p = cuda.find(what); p != std::string::npos;
       p = cuda.find(what, p + what.size()))
    at.push_back(p);
  return at;
}

} // namespace

SyncCounts attnc::countSyncs(const std::string &cuda) {
  return {static_cast<int>(find(cuda, kBarrier).size()),
          static_cast<int>(find(cuda, kWait).size())};
}

Status attnc::applySimFault(std::string &cuda, const std::string &fault) {
  auto invalid = [&](const std::string &why) {
    return Status::error(ErrorCode::InvalidArgument,
                         "--sim-fault " + fault + ": " + why);
  };
  size_t colon = fault.find(':');
  std::string kind = fault.substr(0, colon);
  if (colon == std::string::npos ||
      (kind != "drop-barrier" && kind != "drop-wait"))
    return invalid("expected drop-barrier:N or drop-wait:N");
  std::string number = fault.substr(colon + 1);
  char *end = nullptr;
  long n = std::strtol(number.c_str(), &end, 10);
  if (number.empty() || *end != '\0' || n < 0)
    return invalid("N must be a number from 0");
  bool barrier = kind == "drop-barrier";
  std::vector<size_t> at = find(cuda, barrier ? kBarrier : kWait);
  const char *what = barrier ? "__syncthreads() barriers" : "cp.async waits";
  if (static_cast<size_t>(n) >= at.size())
    return invalid("the kernel has " + std::to_string(at.size()) + " " + what +
                   (at.empty()
                        ? std::string()
                        : " (0.." + std::to_string(at.size() - 1) + ")"));
  size_t begin = at[n];
  size_t stop = cuda.find(';', begin);
  cuda.replace(begin, stop + 1 - begin,
               "/* removed by --sim-fault " + fault + " */");
  return Status::success();
}
