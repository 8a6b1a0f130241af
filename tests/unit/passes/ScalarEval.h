//===- ScalarEval.h - Evaluate straight-line integer arith IR -------------===//
//
// Just enough of an interpreter to run mask regions and the tile bounds
// emitted for them, element by element, in tests.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TESTS_SCALAREVAL_H
#define ATTNC_TESTS_SCALAREVAL_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace attnc::test {

/// Reads parameter `name` at `indices` (empty for a scalar).
using ParamReader = std::function<int64_t(const std::string &name,
                                          const std::vector<int64_t> &indices)>;

/// Integer/boolean values of SSA values, evaluated in order.
class ScalarEval {
public:
  explicit ScalarEval(ParamReader params) : params(std::move(params)) {}

  void set(mlir::Value v, int64_t x) { values[v] = x; }
  int64_t get(mlir::Value v) const { return values.lookup(v); }

  /// Evaluates every op of `block` except its terminator. Returns false (and
  /// sets `error`) on an op it does not know.
  bool run(mlir::Block &block, std::string &error);

private:
  ParamReader params;
  llvm::DenseMap<mlir::Value, int64_t> values;
};

} // namespace attnc::test

#endif // ATTNC_TESTS_SCALAREVAL_H
