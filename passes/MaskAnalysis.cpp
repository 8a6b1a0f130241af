//===- MaskAnalysis.cpp - Interval bounds of a mask over a tile -----------===//
#include "passes/MaskAnalysis.h"
#include "dialect/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>
#include <utility>

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
/// The runtime rejects sequences of 2^30 tokens or more
/// (runtime/core/Validate.cpp), so keys lie in [0, 2^30 - 1] and queries
/// (bottom-right aligned, kv_len - q_len + i) in [-(2^30 - 1), 2^30 - 1]:
/// q - kv and q + kv fit i32.
constexpr int64_t kMaxPosition = (int64_t(1) << 30) - 1;

/// What the analysis knows about one value of the mask region.
struct Bound {
  enum class Kind { Unknown, Exact, Range, Bool };
  Kind kind = Kind::Unknown;
  Value exact;  ///< Exact: the value itself, the same on the whole tile
  Value lo, hi; ///< Range: i32 bounds, inclusive
  /// Range: what lo and hi can be at most, known at compile time. Where an
  /// i32 op's result provably stays inside i32 it cannot wrap, and its
  /// bounds need no overflow check.
  int64_t staticLo = kI32Min, staticHi = kI32Max;
  Value mayTrue;  ///< Bool: some element can be true
  Value mayFalse; ///< Bool: some element can be false

  static Bound unknown() { return {}; }
  static Bound ofExact(Value v) {
    Bound b;
    b.kind = Kind::Exact;
    b.exact = v;
    return b;
  }
  static Bound ofRange(Value lo, Value hi, int64_t staticLo = kI32Min,
                       int64_t staticHi = kI32Max) {
    Bound b;
    b.kind = Kind::Range;
    b.lo = lo;
    b.hi = hi;
    b.staticLo = staticLo;
    b.staticHi = staticHi;
    return b;
  }
  static Bound ofBool(Value mayTrue, Value mayFalse) {
    Bound b;
    b.kind = Kind::Bool;
    b.mayTrue = mayTrue;
    b.mayFalse = mayFalse;
    return b;
  }
};

class TileClassEmitter {
public:
  TileClassEmitter(OpBuilder &builder, Location loc)
      : builder(builder), loc(loc) {}

  TileClass run(Region &mask, const TileRect &rect) {
    Block &block = mask.front();
    bounds[block.getArgument(SdpaOp::kBatch)] = Bound::ofExact(rect.batch);
    bounds[block.getArgument(SdpaOp::kHead)] =
        rect.headFirst == rect.headLast
            ? Bound::ofExact(rect.headFirst)
            : Bound::ofRange(rect.headFirst, rect.headLast, 0, kI32Max);
    bounds[block.getArgument(SdpaOp::kQ)] =
        Bound::ofRange(rect.qFirst, rect.qLast, -kMaxPosition, kMaxPosition);
    bounds[block.getArgument(SdpaOp::kKV)] =
        Bound::ofRange(rect.kvFirst, rect.kvLast, 0, kMaxPosition);
    for (Operation &op : block.without_terminator())
      visit(op);
    Value yielded = cast<YieldOp>(block.getTerminator()).getValue();
    Bound result = asBool(lookup(yielded));
    TileClass tileClass;
    tileClass.unboundedReason = reason;
    tileClass.unboundedLoc = reasonLoc;
    tileClass.rangedParams.assign(rangedParams.begin(), rangedParams.end());
    tileClass.pairRanged = pairRanged;
    tileClass.fineRanged = fineRanged;
    tileClass.canTrue = result.mayTrue;
    tileClass.canFalse = result.mayFalse;
    return tileClass;
  }

private:
  Value constBool(bool v) {
    return builder.create<arith::ConstantIntOp>(loc, v ? 1 : 0, 1);
  }
  Value constInt(int64_t v) {
    return builder.create<arith::ConstantIntOp>(loc, v, 32);
  }
  Value notOf(Value v) {
    return builder.createOrFold<arith::XOrIOp>(loc, v, constBool(true));
  }
  // Constant operands fold on either side, so a bound that is always true
  // (an unbounded part of the mask) stays a constant the pass can test.
  Value andOf(Value a, Value b) {
    if (matchPattern(a, m_One()) || matchPattern(b, m_Zero()))
      return b;
    if (matchPattern(b, m_One()) || matchPattern(a, m_Zero()))
      return a;
    return builder.createOrFold<arith::AndIOp>(loc, a, b);
  }
  Value orOf(Value a, Value b) {
    if (matchPattern(a, m_One()) || matchPattern(b, m_Zero()))
      return a;
    if (matchPattern(b, m_One()) || matchPattern(a, m_Zero()))
      return b;
    return builder.createOrFold<arith::OrIOp>(loc, a, b);
  }
  Value cmp(arith::CmpIPredicate pred, Value a, Value b) {
    return builder.createOrFold<arith::CmpIOp>(loc, pred, a, b);
  }
  Value minOf(Value a, Value b) {
    return a == b ? a : builder.createOrFold<arith::MinSIOp>(loc, a, b);
  }
  Value maxOf(Value a, Value b) {
    return a == b ? a : builder.createOrFold<arith::MaxSIOp>(loc, a, b);
  }

  Bound lookup(Value v) {
    auto it = bounds.find(v);
    return it == bounds.end() ? Bound::unknown() : it->second;
  }

  /// An integer bound as a range (an exact value is a one-point range).
  Bound asRange(const Bound &b) {
    if (b.kind == Bound::Kind::Exact &&
        b.exact.getType().isSignlessInteger(32)) {
      APInt c;
      if (matchPattern(b.exact, m_ConstantInt(&c)))
        return Bound::ofRange(b.exact, b.exact, c.getSExtValue(),
                              c.getSExtValue());
      return Bound::ofRange(b.exact, b.exact);
    }
    return b.kind == Bound::Kind::Range ? b : Bound::unknown();
  }
  /// A boolean bound (an exact i1 x: mayTrue = x, mayFalse = !x). An
  /// unbounded boolean may be either, which still lets `unknown && causal`
  /// skip the tiles the causal part rules out.
  Bound asBool(const Bound &b) {
    if (b.kind == Bound::Kind::Exact && b.exact.getType().isInteger(1))
      return Bound::ofBool(b.exact, notOf(b.exact));
    if (b.kind == Bound::Kind::Bool)
      return b;
    return Bound::ofBool(constBool(true), constBool(true));
  }

  void noteUnbounded(Operation &op, StringRef why) {
    if (!reason.empty())
      return;
    reason = why.str();
    reasonLoc = op.getLoc();
  }

  /// Every operand exact: the op computes the same value on the whole tile,
  /// so it is cloned and its result is exact too.
  bool tryCloneExact(Operation &op) {
    if (op.getNumRegions() != 0 || op.getNumResults() != 1)
      return false;
    IRMapping mapping;
    for (Value operand : op.getOperands()) {
      Bound b = lookup(operand);
      if (b.kind != Bound::Kind::Exact)
        return false;
      mapping.map(operand, b.exact);
    }
    Operation *clone = builder.clone(op, mapping);
    bounds[op.getResult(0)] = Bound::ofExact(clone->getResult(0));
    return true;
  }

  void visit(Operation &op) {
    if (tryCloneExact(op))
      return;
    // i32 `x & m` for a constant m: bounded for m >= 0 and for m = -2^k
    // (x rounded down to a multiple of 2^k). Other bitwise operators on
    // i32 (the DSL's & | ^) have no interval rule.
    if (auto andOp = dyn_cast<arith::AndIOp>(op);
        andOp && andOp.getType().isSignlessInteger(32)) {
      Bound b = bitwiseAnd(andOp);
      if (b.kind == Bound::Kind::Range) {
        bounds[andOp.getResult()] = b;
        return;
      }
    }
    if (isa<arith::AndIOp, arith::OrIOp, arith::XOrIOp>(op) &&
        !op.getResult(0).getType().isInteger(1)) {
      noteUnbounded(op, "the mask uses bitwise '" +
                            op.getName().getStringRef().str() +
                            "' on query or key positions, which the analysis "
                            "cannot bound");
      bounds[op.getResult(0)] = Bound::unknown();
      return;
    }
    Bound result =
        llvm::TypeSwitch<Operation *, Bound>(&op)
            // The DSL's i32 arithmetic wraps: bounds are computed exactly
            // in i64 and become the whole i32 range where the result can
            // leave it (e.g. kv * 1000000000).
            .Case([&](arith::AddIOp o) {
              Bound a = asRange(lookup(o.getLhs())),
                    b = asRange(lookup(o.getRhs()));
              if (!isRange(a, b))
                return Bound::unknown();
              return arithmetic(
                  o.hasNoSignedWrap(), a.staticLo + b.staticLo,
                  a.staticHi + b.staticHi,
                  [&](auto f) {
                    return Pair{f(a.lo, b.lo), f(a.hi, b.hi)};
                  },
                  [&](Value x, Value y) { return add(x, y); });
            })
            .Case([&](arith::SubIOp o) {
              Bound a = asRange(lookup(o.getLhs())),
                    b = asRange(lookup(o.getRhs()));
              if (!isRange(a, b))
                return Bound::unknown();
              return arithmetic(
                  o.hasNoSignedWrap(), a.staticLo - b.staticHi,
                  a.staticHi - b.staticLo,
                  [&](auto f) {
                    return Pair{f(a.lo, b.hi), f(a.hi, b.lo)};
                  },
                  [&](Value x, Value y) { return sub(x, y); });
            })
            .Case([&](arith::MulIOp o) {
              Bound a = asRange(lookup(o.getLhs())),
                    b = asRange(lookup(o.getRhs()));
              if (!isRange(a, b))
                return Bound::unknown();
              // The extremes of a product of intervals are at the corners.
              int64_t c[4] = {a.staticLo * b.staticLo, a.staticLo * b.staticHi,
                              a.staticHi * b.staticLo, a.staticHi * b.staticHi};
              return arithmetic(
                  o.hasNoSignedWrap(), *std::min_element(c, c + 4),
                  *std::max_element(c, c + 4),
                  [&](auto f) {
                    Value p[4] = {f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo),
                                  f(a.hi, b.hi)};
                    return Pair{minOf(minOf(p[0], p[1]), minOf(p[2], p[3])),
                                maxOf(maxOf(p[0], p[1]), maxOf(p[2], p[3]))};
                  },
                  [&](Value x, Value y) { return mul(x, y); });
            })
            .Case([&](arith::DivSIOp o) { return divide(o); })
            .Case([&](arith::ShRSIOp o) { return shiftRight(o); })
            .Case([&](arith::FloorDivSIOp o) { return divide(o); })
            .Case([&](arith::CeilDivSIOp o) { return divide(o); })
            .Case([&](arith::MinSIOp o) {
              Bound a = asRange(lookup(o.getLhs())),
                    b = asRange(lookup(o.getRhs()));
              if (!isRange(a, b))
                return Bound::unknown();
              return Bound::ofRange(minOf(a.lo, b.lo), minOf(a.hi, b.hi),
                                    std::min(a.staticLo, b.staticLo),
                                    std::min(a.staticHi, b.staticHi));
            })
            .Case([&](arith::MaxSIOp o) {
              Bound a = asRange(lookup(o.getLhs())),
                    b = asRange(lookup(o.getRhs()));
              if (!isRange(a, b))
                return Bound::unknown();
              return Bound::ofRange(maxOf(a.lo, b.lo), maxOf(a.hi, b.hi),
                                    std::max(a.staticLo, b.staticLo),
                                    std::max(a.staticHi, b.staticHi));
            })
            .Case([&](arith::CmpIOp o) { return compare(o); })
            .Case([&](arith::AndIOp o) {
              Bound a = asBool(lookup(o.getLhs())),
                    b = asBool(lookup(o.getRhs()));
              if (!isBool(a, b))
                return Bound::unknown();
              return Bound::ofBool(andOf(a.mayTrue, b.mayTrue),
                                   orOf(a.mayFalse, b.mayFalse));
            })
            .Case([&](arith::OrIOp o) {
              Bound a = asBool(lookup(o.getLhs())),
                    b = asBool(lookup(o.getRhs()));
              if (!isBool(a, b))
                return Bound::unknown();
              return Bound::ofBool(orOf(a.mayTrue, b.mayTrue),
                                   andOf(a.mayFalse, b.mayFalse));
            })
            .Case([&](arith::XOrIOp o) {
              Bound a = asBool(lookup(o.getLhs())),
                    b = asBool(lookup(o.getRhs()));
              if (!isBool(a, b))
                return Bound::unknown();
              // a ^ b is true where exactly one is; false where they agree.
              return Bound::ofBool(orOf(andOf(a.mayTrue, b.mayFalse),
                                        andOf(a.mayFalse, b.mayTrue)),
                                   orOf(andOf(a.mayTrue, b.mayTrue),
                                        andOf(a.mayFalse, b.mayFalse)));
            })
            .Case([&](arith::SelectOp o) { return select(o); })
            .Case([&](ParamLoadOp o) { return paramBound(o); })
            .Default([&](Operation *) {
              noteUnbounded(op, "the mask uses '" +
                                    op.getName().getStringRef().str() +
                                    "' on query or key positions, which the "
                                    "analysis cannot bound");
              return Bound::unknown();
            });
    if (op.getNumResults() == 1)
      bounds[op.getResult(0)] = result;
  }

  /// An i32 parameter read with one index ranging over the tile (doc[b, q],
  /// win[h] over packed heads) lies between the smallest and largest value
  /// it holds over that range: attn.param_range reads them at run time.
  Bound paramBound(ParamLoadOp o) {
    std::string what = "the mask reads parameter @" + o.getParam().str();
    if (!o.getType().isSignlessInteger(32)) {
      noteUnbounded(*o, what + " (f32) at a query or key position, which "
                               "cannot be bounded per tile");
      return Bound::unknown();
    }
    // Up to three indices may range over the tile (doc[b, q]; a block mask
    // blocks[h, q / 64, kv / 64], whose h ranges too where query heads are
    // packed); the others are exact.
    SmallVector<Value> indices;
    SmallVector<int64_t, 2> ranged;
    SmallVector<Value, 2> lasts;
    for (auto [d, index] : llvm::enumerate(o.getIndices())) {
      Bound b = lookup(index);
      if (b.kind == Bound::Kind::Exact) {
        indices.push_back(b.exact);
        continue;
      }
      b = asRange(b);
      if (b.kind != Bound::Kind::Range || ranged.size() == 3 ||
          !b.lo.getType().isSignlessInteger(32) ||
          !b.hi.getType().isSignlessInteger(32)) {
        noteUnbounded(*o, what + " with an index the analysis cannot bound "
                                 "to one range (or four such indices), so "
                                 "it cannot be bounded per tile");
        return Bound::unknown();
      }
      ranged.push_back(static_cast<int64_t>(d));
      indices.push_back(b.lo);
      lasts.push_back(b.hi);
    }
    if (ranged.empty()) // every index exact: tryCloneExact took it
      return Bound::unknown();
    rangedParams.insert(o.getParam().str());
    Type i32 = builder.getI32Type();
    if (ranged.size() == 1) {
      auto range = builder.create<ParamRangeOp>(
          loc, i32, i32, o.getParamAttr(), indices, lasts[0],
          builder.getI64IntegerAttr(ranged[0]));
      return Bound::ofRange(range.getMin(), range.getMax());
    }
    pairRanged = true;
    int64_t fine = llvm::count_if(
        ranged, [&](int64_t d) { return atFullResolution(o.getIndices()[d]); });
    fineRanged = fineRanged || fine >= 2;
    return boxRange(o, indices, ranged, lasts);
  }

  /// Whether an index of the mask region follows q or kv element by element:
  /// it depends on one through adds, subtracts, multiplies and negations
  /// only, no division, shift, mask or remainder that would coarsen it to
  /// blocks.
  static bool atFullResolution(Value index) {
    if (auto arg = dyn_cast<BlockArgument>(index))
      return arg.getArgNumber() == SdpaOp::kQ ||
             arg.getArgNumber() == SdpaOp::kKV;
    Operation *def = index.getDefiningOp();
    if (!isa_and_nonnull<arith::AddIOp, arith::SubIOp, arith::MulIOp,
                         arith::ExtSIOp, arith::TruncIOp>(def))
      return false;
    return llvm::any_of(def->getOperands(), atFullResolution);
  }

  /// The range of an i32 parameter read at two or three ranging indices:
  /// loops over the values of all but the last, each a param_range along
  /// the last. Only boxes of at most kMaxBoxElements elements are scanned
  /// (block masks index by q / 64, kv / 64: one to four elements a tile,
  /// times the packed heads where h ranges too); a larger one, e.g.
  /// allow[q, kv] at full resolution, would cost as much as the mask itself,
  /// and gets the whole i32 range instead (the tile runs).
  Bound boxRange(ParamLoadOp o, SmallVector<Value> indices,
                 ArrayRef<int64_t> ranged, ArrayRef<Value> lasts) {
    constexpr int64_t kMaxBoxElements = 64;
    Type i32 = builder.getI32Type();
    auto count = [&](Value first, Value last) {
      return add(sub(wide(last), wide(first)), constI(1, 64));
    };
    auto atMost = [&](Value a, Value b) {
      return builder.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, a,
                                           b);
    };
    Value cap = constI(kMaxBoxElements, 64),
          capPlus = constI(kMaxBoxElements + 1, 64);
    // Counts clamped to cap + 1 before the product, so it cannot overflow
    // (a side can hold 2^32 positions; three clamped sides fit in i64).
    SmallVector<Value, 3> counts;
    Value clamped, empty;
    for (auto [k, d] : llvm::enumerate(ranged)) {
      Value n = count(indices[d], lasts[k]);
      counts.push_back(n);
      Value side = builder.create<arith::MinSIOp>(loc, n, capPlus);
      Value none = atMost(n, constI(0, 64));
      clamped = k == 0 ? side : mul(clamped, side);
      empty = k == 0 ? none : orOf(empty, none);
    }
    Value small = atMost(clamped, cap);
    Value scan = andOf(small, notOf(empty));
    // Each loop counts i in [0, n) and reads index first + i, so no bound
    // is ever formed past the last index (last + 1 could wrap at INT_MAX).
    // Not small (or empty): no iteration.
    SmallVector<Value> at = indices;
    std::function<std::pair<Value, Value>(size_t, Value, Value)> box =
        [&](size_t k, Value lo, Value hi) -> std::pair<Value, Value> {
      if (k + 1 == ranged.size()) {
        auto range = builder.create<ParamRangeOp>(
            loc, i32, i32, o.getParamAttr(), at, lasts[k],
            builder.getI64IntegerAttr(ranged[k]));
        return {builder.create<arith::MinSIOp>(loc, lo, range.getMin()),
                builder.create<arith::MaxSIOp>(loc, hi, range.getMax())};
      }
      Value trips = builder.create<arith::SelectOp>(
          loc, scan, builder.create<arith::TruncIOp>(loc, i32, counts[k]),
          constI(0, 32));
      auto loop = builder.create<scf::ForOp>(loc, constI(0, 32), trips,
                                             constI(1, 32), ValueRange{lo, hi});
      {
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(loop.getBody());
        at[ranged[k]] = add(indices[ranged[k]], loop.getInductionVar());
        auto [innerLo, innerHi] =
            box(k + 1, loop.getRegionIterArg(0), loop.getRegionIterArg(1));
        builder.create<scf::YieldOp>(loc, ValueRange{innerLo, innerHi});
      }
      at[ranged[k]] = indices[ranged[k]];
      return {loop.getResult(0), loop.getResult(1)};
    };
    auto [scannedLo, scannedHi] =
        box(0, constI(kI32Max, 32), constI(kI32Min, 32));
    // An empty box reads as (0, 0), as attn.param_range's empty range does;
    // one too large to scan may hold any value.
    Value zero = constI(0, 32);
    Value lo = builder.create<arith::SelectOp>(
        loc, empty, zero,
        builder.create<arith::SelectOp>(loc, small, scannedLo,
                                        constI(kI32Min, 32)));
    Value hi = builder.create<arith::SelectOp>(
        loc, empty, zero,
        builder.create<arith::SelectOp>(loc, small, scannedHi,
                                        constI(kI32Max, 32)));
    return Bound::ofRange(lo, hi);
  }

  static bool isRange(const Bound &a, const Bound &b) {
    return a.kind == Bound::Kind::Range && b.kind == Bound::Kind::Range;
  }
  static bool isBool(const Bound &a, const Bound &b) {
    return a.kind == Bound::Kind::Bool && b.kind == Bound::Kind::Bool;
  }
  // asBool never yields Unknown, so boolean ops always produce a bound.
  // Bound arithmetic is nsw: on i32 only where the static range fits, else
  // on i64 values of i32 operands, where it cannot overflow.
  Value add(Value a, Value b) {
    return builder.createOrFold<arith::AddIOp>(
        loc, a, b, arith::IntegerOverflowFlags::nsw);
  }
  Value sub(Value a, Value b) {
    return builder.createOrFold<arith::SubIOp>(
        loc, a, b, arith::IntegerOverflowFlags::nsw);
  }
  Value mul(Value a, Value b) {
    return builder.createOrFold<arith::MulIOp>(
        loc, a, b, arith::IntegerOverflowFlags::nsw);
  }
  Value wide(Value v) {
    return builder.createOrFold<arith::ExtSIOp>(loc, builder.getI64Type(), v);
  }
  Value constI(int64_t v, unsigned width) {
    return builder.create<arith::ConstantIntOp>(loc, v, width);
  }
  using Pair = std::pair<Value, Value>;
  /// The bound of an i32 add/sub/mul whose exact result lies in
  /// [staticLo, staticHi]. `corners(f)` gives the result's [lo, hi] with
  /// `f` applying the op to two bounds; `op` is the op on two values. When
  /// the static range fits i32 (or the op is nsw) it cannot wrap: the op
  /// runs on the i32 bounds. Otherwise the bounds are computed exactly in
  /// i64, and become the whole i32 range where they leave it (a wrapped
  /// value can land anywhere).
  template <typename Corners, typename Op>
  Bound arithmetic(bool noWrap, int64_t staticLo, int64_t staticHi,
                   Corners corners, Op op) {
    if (noWrap || (staticLo >= kI32Min && staticHi <= kI32Max)) {
      auto [lo, hi] = corners(op);
      return Bound::ofRange(lo, hi, std::max(staticLo, kI32Min),
                            std::min(staticHi, kI32Max));
    }
    auto [lo, hi] =
        corners([&](Value x, Value y) { return op(wide(x), wide(y)); });
    auto narrow = [&](Value v) {
      return builder.createOrFold<arith::TruncIOp>(loc, builder.getI32Type(),
                                                   v);
    };
    using P = arith::CmpIPredicate;
    Value fits = andOf(cmp(P::sge, lo, constI(kI32Min, 64)),
                       cmp(P::sle, hi, constI(kI32Max, 64)));
    return Bound::ofRange(builder.createOrFold<arith::SelectOp>(
                              loc, fits, narrow(lo), constI(kI32Min, 32)),
                          builder.createOrFold<arith::SelectOp>(
                              loc, fits, narrow(hi), constI(kI32Max, 32)));
  }

  /// Division by a nonzero constant is monotone in the dividend
  /// (nondecreasing for a positive divisor, nonincreasing for a negative).
  template <typename DivOp> Bound divide(DivOp op) {
    Bound a = asRange(lookup(op.getLhs()));
    Bound d = lookup(op.getRhs());
    if (a.kind != Bound::Kind::Range || d.kind != Bound::Kind::Exact)
      return Bound::unknown();
    APInt divisor;
    // x / 0 == 0 and INT_MIN / -1 == INT_MIN are not monotone.
    if (!matchPattern(d.exact, m_ConstantInt(&divisor)) || divisor.isZero() ||
        divisor.isAllOnes())
      return Bound::unknown();
    Value lo = builder.createOrFold<DivOp>(loc, a.lo, d.exact);
    Value hi = builder.createOrFold<DivOp>(loc, a.hi, d.exact);
    // |x / d| <= |x|: the static range of the dividend bounds the quotient.
    int64_t reach = std::max(-a.staticLo, a.staticHi);
    if (divisor.isNegative())
      std::swap(lo, hi);
    return Bound::ofRange(lo, hi, -reach, reach);
  }

  /// x >> k for a constant k in 0..31 (MLIRGen masks the DSL's counts):
  /// floor(x / 2^k), monotone in x.
  Bound shiftRight(arith::ShRSIOp op) {
    Bound a = asRange(lookup(op.getLhs()));
    Bound n = lookup(op.getRhs());
    APInt count;
    if (n.kind != Bound::Kind::Exact ||
        !matchPattern(n.exact, m_ConstantInt(&count)) || count.isNegative() ||
        count.sge(32)) {
      noteUnbounded(*op, "the mask shifts a query or key position by a "
                         "count that is not a constant, which the analysis "
                         "cannot bound");
      return Bound::unknown();
    }
    if (a.kind != Bound::Kind::Range)
      return Bound::unknown();
    int64_t k = count.getSExtValue();
    return Bound::ofRange(
        builder.createOrFold<arith::ShRSIOp>(loc, a.lo, n.exact),
        builder.createOrFold<arith::ShRSIOp>(loc, a.hi, n.exact),
        a.staticLo >> k, a.staticHi >> k);
  }

  /// x & m for a constant m (either side): within [0, m] when m >= 0;
  /// x rounded down to a multiple of 2^k, monotone, when m = -2^k.
  Bound bitwiseAnd(arith::AndIOp op) {
    for (auto [xv, mv] : {std::pair{op.getLhs(), op.getRhs()},
                          std::pair{op.getRhs(), op.getLhs()}}) {
      Bound m = lookup(mv);
      APInt mask;
      if (m.kind != Bound::Kind::Exact ||
          !matchPattern(m.exact, m_ConstantInt(&mask)))
        continue;
      int64_t c = mask.getSExtValue();
      if (c >= 0)
        return Bound::ofRange(constInt(0), m.exact, 0, c);
      if (!(-mask).isPowerOf2())
        continue;
      Bound a = asRange(lookup(xv));
      if (a.kind != Bound::Kind::Range)
        continue;
      // x & -2^k == floor(x / 2^k) * 2^k.
      const int64_t step = -c;
      auto roundDown = [&](int64_t v) {
        return v - (((v % step) + step) % step);
      };
      return Bound::ofRange(
          builder.createOrFold<arith::AndIOp>(loc, a.lo, m.exact),
          builder.createOrFold<arith::AndIOp>(loc, a.hi, m.exact),
          roundDown(a.staticLo), roundDown(a.staticHi));
    }
    return Bound::unknown();
  }

  Bound compare(arith::CmpIOp op) {
    using P = arith::CmpIPredicate;
    Bound a = asRange(lookup(op.getLhs())), b = asRange(lookup(op.getRhs()));
    if (!isRange(a, b))
      return Bound::unknown();
    switch (op.getPredicate()) {
    case P::slt: // some a < b: a.lo < b.hi;   some a >= b: a.hi >= b.lo
      return Bound::ofBool(cmp(P::slt, a.lo, b.hi), cmp(P::sge, a.hi, b.lo));
    case P::sle:
      return Bound::ofBool(cmp(P::sle, a.lo, b.hi), cmp(P::sgt, a.hi, b.lo));
    case P::sgt:
      return Bound::ofBool(cmp(P::sgt, a.hi, b.lo), cmp(P::sle, a.lo, b.hi));
    case P::sge:
      return Bound::ofBool(cmp(P::sge, a.hi, b.lo), cmp(P::slt, a.lo, b.hi));
    case P::eq:
    case P::ne: {
      // Equal somewhere iff the ranges overlap; unequal somewhere unless
      // both are the same single point.
      Value overlap = andOf(cmp(P::sle, a.lo, b.hi), cmp(P::sle, b.lo, a.hi));
      Value samePoint =
          andOf(andOf(cmp(P::eq, a.lo, a.hi), cmp(P::eq, b.lo, b.hi)),
                cmp(P::eq, a.lo, b.lo));
      Value differ = notOf(samePoint);
      return op.getPredicate() == P::eq ? Bound::ofBool(overlap, differ)
                                        : Bound::ofBool(differ, overlap);
    }
    default:
      return Bound::unknown();
    }
  }

  Bound select(arith::SelectOp op) {
    Bound c = asBool(lookup(op.getCondition()));
    if (c.kind != Bound::Kind::Bool)
      return Bound::unknown();
    if (op.getType().isInteger(1)) {
      Bound t = asBool(lookup(op.getTrueValue())),
            f = asBool(lookup(op.getFalseValue()));
      if (!isBool(t, f))
        return Bound::unknown();
      return Bound::ofBool(
          orOf(andOf(c.mayTrue, t.mayTrue), andOf(c.mayFalse, f.mayTrue)),
          orOf(andOf(c.mayTrue, t.mayFalse), andOf(c.mayFalse, f.mayFalse)));
    }
    Bound t = asRange(lookup(op.getTrueValue())),
          f = asRange(lookup(op.getFalseValue()));
    if (!isRange(t, f))
      return Bound::unknown();
    // Only the branches the condition can take contribute.
    auto pick = [&](Value tv, Value fv, bool low) {
      Value both = low ? minOf(tv, fv) : maxOf(tv, fv);
      Value onlyTrue = notOf(c.mayFalse);
      Value onlyFalse = notOf(c.mayTrue);
      Value v = builder.createOrFold<arith::SelectOp>(loc, onlyFalse, fv, both);
      return builder.createOrFold<arith::SelectOp>(loc, onlyTrue, tv, v);
    };
    return Bound::ofRange(pick(t.lo, f.lo, true), pick(t.hi, f.hi, false),
                          std::min(t.staticLo, f.staticLo),
                          std::max(t.staticHi, f.staticHi));
  }

  OpBuilder &builder;
  Location loc;
  llvm::DenseMap<Value, Bound> bounds;
  std::string reason;
  std::optional<Location> reasonLoc;
  std::set<std::string> rangedParams;
  bool pairRanged = false;
  bool fineRanged = false;
};

} // namespace

TileClass attnc::emitTileClass(OpBuilder &builder, Location loc, Region &mask,
                               const TileRect &rect) {
  return TileClassEmitter(builder, loc).run(mask, rect);
}
