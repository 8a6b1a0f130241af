//===- ScalarEval.cpp - Evaluate integer arith IR (and scf.for scans) -----===//
#include "ScalarEval.h"

#include "dialect/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::test;

/// i32 wraparound, as the kernel computes it.
static int64_t wrap(Type type, int64_t x) {
  if (type.isInteger(1))
    return x & 1;
  return static_cast<int32_t>(static_cast<uint32_t>(x));
}

static int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool ScalarEval::run(Block &block, std::string &error) {
  for (Operation &op : block.without_terminator()) {
    auto in = [&](unsigned i) { return values.lookup(op.getOperand(i)); };
    if (auto range = dyn_cast<attn::ParamRangeOp>(op)) {
      // Smallest and largest value read over the ranging index.
      std::vector<int64_t> indices;
      for (Value index : range.getIndices())
        indices.push_back(values.lookup(index));
      auto dim = static_cast<size_t>(range.getDim());
      int64_t first = indices[dim], last = values.lookup(range.getLast());
      int64_t lo = 0, hi = 0;
      for (int64_t i = first; i <= last; ++i) {
        indices[dim] = i;
        int64_t v = params(range.getParam().str(), indices);
        lo = i == first ? v : std::min(lo, v);
        hi = i == first ? v : std::max(hi, v);
      }
      values[range.getMin()] = lo;
      values[range.getMax()] = hi;
      continue;
    }
    if (auto loop = dyn_cast<scf::ForOp>(op)) {
      // A block mask's scan over its first ranging index.
      std::vector<int64_t> carried;
      for (Value init : loop.getInitArgs())
        carried.push_back(values.lookup(init));
      int64_t ub = values.lookup(loop.getUpperBound());
      int64_t step = values.lookup(loop.getStep());
      if (step <= 0) {
        error = "scf.for with a step of " + std::to_string(step);
        return false;
      }
      for (int64_t iv = values.lookup(loop.getLowerBound()); iv < ub;
           iv += step) {
        values[loop.getInductionVar()] = iv;
        for (auto [arg, value] : llvm::zip(loop.getRegionIterArgs(), carried))
          values[arg] = value;
        if (!run(*loop.getBody(), error))
          return false;
        auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
        for (auto [value, next] : llvm::zip(carried, yield.getOperands()))
          value = values.lookup(next);
      }
      for (auto [result, value] : llvm::zip(loop.getResults(), carried))
        values[result] = value;
      continue;
    }
    std::optional<int64_t> result =
        llvm::TypeSwitch<Operation *, std::optional<int64_t>>(&op)
            .Case([&](arith::ConstantOp c) -> std::optional<int64_t> {
              if (auto attr = dyn_cast<IntegerAttr>(c.getValue()))
                return attr.getValue().getSExtValue();
              return std::nullopt;
            })
            .Case([&](arith::ExtSIOp) { return in(0); })
            .Case([&](arith::TruncIOp) { return in(0); }) // wrapped below
            .Case([&](arith::AddIOp) { return in(0) + in(1); })
            .Case([&](arith::SubIOp) { return in(0) - in(1); })
            .Case([&](arith::MulIOp) { return in(0) * in(1); })
            .Case([&](arith::DivSIOp) { return in(0) / in(1); })
            .Case([&](arith::RemSIOp) { return in(0) % in(1); })
            .Case([&](arith::FloorDivSIOp) { return floorDiv(in(0), in(1)); })
            .Case([&](arith::CeilDivSIOp) { return -floorDiv(-in(0), in(1)); })
            .Case([&](arith::MinSIOp) { return std::min(in(0), in(1)); })
            .Case([&](arith::MaxSIOp) { return std::max(in(0), in(1)); })
            .Case([&](arith::AndIOp) { return in(0) & in(1); })
            .Case([&](arith::OrIOp) { return in(0) | in(1); })
            .Case([&](arith::XOrIOp) { return in(0) ^ in(1); })
            // i32 shifts by counts in 0..31 (MLIRGen masks the DSL's).
            .Case([&](arith::ShRSIOp) { return in(0) >> (in(1) & 31); })
            .Case([&](arith::ShLIOp) -> int64_t {
              return static_cast<int32_t>(static_cast<uint32_t>(in(0))
                                          << (in(1) & 31));
            })
            .Case([&](arith::SelectOp) { return in(0) ? in(1) : in(2); })
            .Case([&](arith::CmpIOp c) -> std::optional<int64_t> {
              int64_t a = in(0), b = in(1);
              switch (c.getPredicate()) {
              case arith::CmpIPredicate::eq:
                return a == b;
              case arith::CmpIPredicate::ne:
                return a != b;
              case arith::CmpIPredicate::slt:
                return a < b;
              case arith::CmpIPredicate::sle:
                return a <= b;
              case arith::CmpIPredicate::sgt:
                return a > b;
              case arith::CmpIPredicate::sge:
                return a >= b;
              default:
                return std::nullopt;
              }
            })
            .Case([&](attn::ParamLoadOp p) {
              std::vector<int64_t> indices;
              for (Value index : p.getIndices())
                indices.push_back(values.lookup(index));
              return params(p.getParam().str(), indices);
            })
            .Case([&](attn::TileStartOp t) {
              return in(0) * t.getTile().value_or(0);
            })
            .Default([](Operation *) { return std::nullopt; });
    if (!result) {
      error = "cannot evaluate " + op.getName().getStringRef().str();
      return false;
    }
    values[op.getResult(0)] = wrap(op.getResult(0).getType(), *result);
  }
  return true;
}
