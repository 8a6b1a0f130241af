//===- Sema.cpp - Checking attention blocks -------------------------------===//
//
// Block-level rules: each key at most once, the required keys present, every
// number in its range, params well formed; then each expression is typed
// (TypeCheck.cpp) and `scale` folded (ConstantFold.cpp).
//
//===----------------------------------------------------------------------===//

#include "dsl/Sema.h"
#include "dsl/Text.h"

#include <array>
#include <cmath>
#include <set>

using namespace attnc::dsl;

bool Sema::tooManyErrors() const {
  return diags.diagnostics().size() >= kMaxDiagnostics;
}

std::optional<Module> Sema::checkModule(std::string fileName,
                                        std::vector<BlockSyntax> blocks) {
  size_t diagsBefore = diags.diagnostics().size();
  Module module;
  module.fileName = std::move(fileName);
  std::map<std::string, SourceLoc, std::less<>> blockNames;
  for (BlockSyntax &block : blocks) {
    if (tooManyErrors()) {
      diags.note({}, "too many errors; stopping here");
      return std::nullopt;
    }
    auto [first, inserted] = blockNames.emplace(block.name, block.loc);
    if (!inserted) {
      diags.error(block.loc, "duplicate attention block " + quote(block.name));
      diags.note(first->second, quote(block.name) + " was first defined here");
    }
    if (std::optional<AttentionSpec> spec = checkBlock(block))
      module.specs.push_back(std::move(*spec));
  }
  if (diags.diagnostics().size() != diagsBefore)
    return std::nullopt;
  return module;
}

/// "'a'", "'a' and 'b'", "'a', 'b' and 'c'".
static std::string listNames(const std::vector<const char *> &names) {
  std::string result;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      result += i + 1 == names.size() ? " and " : ", ";
    result += std::string("'") + names[i] + "'";
  }
  return result;
}

std::optional<AttentionSpec> Sema::checkBlock(BlockSyntax &block) {
  size_t diagsBefore = diags.diagnostics().size();
  AttentionSpec spec;
  spec.name = block.name;
  spec.loc = block.loc;

  // Keys and params, in the order written.
  std::array<EntrySyntax *, kNumEntryKeys> firstEntry{};
  std::map<std::string, SourceLoc, std::less<>> declaredParams;
  std::vector<EntrySyntax *> lets;
  for (EntrySyntax &entry : block.entries) {
    if (tooManyErrors())
      return std::nullopt;
    if (entry.key == EntryKey::Param) {
      checkParam(entry, spec, declaredParams);
      continue;
    }
    if (entry.key == EntryKey::Let) {
      lets.push_back(&entry);
      continue;
    }
    EntrySyntax *&first = firstEntry[static_cast<unsigned>(entry.key)];
    if (first) {
      std::string key = quote(spelling(entry.key));
      diags.error(entry.keyLoc, "duplicate key " + key +
                                    " in attention block " + quote(block.name));
      diags.note(first->keyLoc, key + " was first set here");
      continue;
    }
    first = &entry;
    checkEntryValue(entry, spec);
  }
  auto entryFor = [&](EntryKey key) {
    return firstEntry[static_cast<unsigned>(key)];
  };

  std::vector<const char *> missing;
  for (EntryKey key : {EntryKey::DType, EntryKey::HeadDim, EntryKey::QHeads,
                       EntryKey::KVHeads})
    if (!entryFor(key))
      missing.push_back(spelling(key));
  if (!missing.empty())
    diags.error(block.loc, "attention block " + quote(block.name) +
                               " is missing required key" +
                               (missing.size() == 1 ? " " : "s ") +
                               listNames(missing));

  // Grouped-query attention maps query head h to KV head h / (q / kv).
  if (spec.qHeads > 0 && spec.kvHeads > 0 && spec.qHeads % spec.kvHeads != 0)
    diags.error(entryFor(EntryKey::KVHeads)->valueLoc,
                "kv_heads (" + std::to_string(spec.kvHeads) +
                    ") must divide q_heads (" + std::to_string(spec.qHeads) +
                    ")");

  // The params vector is complete, so pointers into it stay valid.
  ParamTable params;
  for (const ParamDecl &param : spec.params)
    params.emplace(param.name, &param);
  ScaleConstants constants;
  if (spec.headDim > 0)
    constants.headDim = spec.headDim;
  if (spec.qHeads > 0)
    constants.qHeads = spec.qHeads;
  if (spec.kvHeads > 0)
    constants.kvHeads = spec.kvHeads;
  LetTable letTable = checkLets(lets, params);
  for (EntryKey key : {EntryKey::Scale, EntryKey::Score, EntryKey::Mask,
                       EntryKey::Sink, EntryKey::KScale, EntryKey::VScale})
    if (EntrySyntax *entry = entryFor(key); entry && !tooManyErrors())
      checkExprEntry(*entry, spec, params, constants, letTable);
  checkKVDType(entryFor(EntryKey::KVDType), spec, entryFor(EntryKey::KScale),
               entryFor(EntryKey::VScale));
  if (!tooManyErrors())
    checkRequiresGrad(spec);
  if (!entryFor(EntryKey::VHeadDim))
    spec.vHeadDim = spec.headDim;
  // A latent cache holds K only: V is a prefix of each K row.
  if (spec.latentKV && spec.vHeadDim > spec.headDim)
    diags.error(entryFor(EntryKey::KVLayout)->valueLoc,
                "kv_layout = latent reads V from the first v_head_dim (" +
                    std::to_string(spec.vHeadDim) +
                    ") columns of K, which has only head_dim = " +
                    std::to_string(spec.headDim));
  // The same value `scale = 1 / sqrt(head_dim)` folds to (ConstantFold.cpp
  // explains the long double).
  if (!entryFor(EntryKey::Scale) && spec.headDim > 0)
    spec.scale = static_cast<double>(
        1.0L / std::sqrt(static_cast<long double>(spec.headDim)));

  if (diags.diagnostics().size() != diagsBefore)
    return std::nullopt;
  return spec;
}

void Sema::checkEntryValue(EntrySyntax &entry, AttentionSpec &spec) {
  auto outOfRange = [&](SourceLoc loc, const std::string &rule, int64_t value) {
    diags.error(loc, rule + ", found " + std::to_string(value));
  };
  switch (entry.key) {
  case EntryKey::DType:
    spec.dtype = entry.dtype;
    return;
  case EntryKey::KVDType:
    return; // Checked against dtype once both are known.
  case EntryKey::HeadDim:
  case EntryKey::VHeadDim: {
    // K/V rows are copied in 16-byte (8-element) chunks; a head_dim that is
    // not a multiple of the mma's 16 is padded with zero columns. V and O
    // have no padded form (the mma's n and k are 8 and 16).
    bool value = entry.key == EntryKey::VHeadDim;
    // Past 256 columns the kernels' warps split the columns
    // (column_warps.cuh): up to MLA's 576 for Q and K, 512 for V and O.
    int64_t step = value ? 16 : 8;
    int64_t max = value ? 512 : 576;
    if (entry.intValue < step || entry.intValue > max ||
        entry.intValue % step) {
      outOfRange(entry.valueLoc,
                 std::string(spelling(entry.key)) + " must be a multiple of " +
                     std::to_string(step) + " between " + std::to_string(step) +
                     " and " + std::to_string(max),
                 entry.intValue);
      return;
    }
    (value ? spec.vHeadDim : spec.headDim) = entry.intValue;
    return;
  }
  case EntryKey::QHeads:
  case EntryKey::KVHeads:
    if (entry.intValue < 1) {
      outOfRange(entry.valueLoc,
                 std::string(spelling(entry.key)) + " must be at least 1",
                 entry.intValue);
      return;
    }
    (entry.key == EntryKey::QHeads ? spec.qHeads : spec.kvHeads) =
        entry.intValue;
    return;
  case EntryKey::KVLayout:
    spec.latentKV = entry.latentKV;
    return;
  case EntryKey::KVCache:
    spec.kvCache = entry.kvCache;
    if (entry.kvCache == KVCacheKind::Dense)
      return;
    if (entry.pageSize < 1 || entry.pageSize > 256)
      outOfRange(entry.pageSizeLoc, "page_size must be between 1 and 256",
                 entry.pageSize);
    else
      spec.pageSize = entry.pageSize;
    return;
  case EntryKey::Scale:
  case EntryKey::Score:
  case EntryKey::Mask:
  case EntryKey::Sink:
  case EntryKey::KScale:
  case EntryKey::VScale:
  case EntryKey::Let:
  case EntryKey::Param:
    return; // Checked once all params are known.
  }
}

/// Whether `expr` reads param `name` anywhere.
static bool readsParam(const Expr *expr, const std::string &name) {
  if (!expr)
    return false;
  if (expr->kind == ExprKind::ParamRef && expr->name == name)
    return true;
  for (const ExprPtr &operand : expr->operands)
    if (readsParam(operand.get(), name))
      return true;
  return false;
}

void Sema::checkRequiresGrad(const AttentionSpec &spec) {
  for (const ParamDecl &param : spec.params) {
    if (!param.requiresGrad)
      continue;
    std::string name = quote(param.name);
    if (param.elementType != ValueType::Float)
      diags.error(param.requiresGradLoc,
                  "param " + name +
                      " is i32 and has no gradient; only f32 params can "
                      "require one");
    else if (!readsParam(spec.score.get(), param.name))
      diags.error(param.requiresGradLoc,
                  "param " + name +
                      " requires_grad, but the score does not read it: "
                      "gradients are derived through `score` only (a mask "
                      "has none; sink, k_scale and v_scale are not "
                      "differentiated)");
  }
}

void Sema::checkParam(EntrySyntax &entry, AttentionSpec &spec,
                      std::map<std::string, SourceLoc, std::less<>> &declared) {
  ParamDecl &param = entry.param;
  std::string name = quote(param.name);
  bool ok = true;
  if (lookupBuiltinVar(param.name)) {
    diags.error(param.loc,
                "param " + name + " would hide the builtin variable " + name);
    ok = false;
  } else if (lookupBuiltinFunction(param.name)) {
    diags.error(param.loc,
                "param " + name + " would hide the builtin function " + name);
    ok = false;
  } else if (param.name == "true" || param.name == "false" ||
             param.name == "inf") {
    diags.error(param.loc, name + " is a literal and cannot name a param");
    ok = false;
  }
  auto [first, inserted] = declared.emplace(param.name, param.loc);
  if (!inserted) {
    diags.error(param.loc, "duplicate param " + name);
    diags.note(first->second, name + " was first declared here");
    ok = false;
  }
  if (param.dims.size() > static_cast<size_t>(kMaxParamRank)) {
    diags.error(param.dims[kMaxParamRank].loc,
                "param " + name + " has " + std::to_string(param.dims.size()) +
                    " dimensions; at most " + std::to_string(kMaxParamRank) +
                    " are supported");
    ok = false;
  }
  int64_t fixedElements = 1;
  for (size_t i = 0; i < param.dims.size(); ++i) {
    const ParamDim &dim = param.dims[i];
    if (dim.kind != ParamDim::Kind::Fixed)
      continue;
    if (dim.extent < 1) {
      diags.error(dim.loc, "dimension " + std::to_string(i + 1) + " of param " +
                               name + " must be at least 1, found " +
                               std::to_string(dim.extent));
      ok = false;
    } else if (dim.extent > kMaxParamFixedElements / fixedElements) {
      diags.error(dim.loc, "param " + name +
                               " is too large: its fixed "
                               "dimensions hold more than 2^40 elements");
      ok = false;
    } else {
      fixedElements *= dim.extent;
    }
  }
  if (ok && spec.params.size() == static_cast<size_t>(kMaxParams)) {
    diags.error(param.loc, "param " + name +
                               " is one too many: a kernel "
                               "takes at most " +
                               std::to_string(kMaxParams) + " params");
    ok = false;
  }
  if (ok)
    spec.params.push_back(std::move(param));
}

/// A Float-valued entry (score, sink): a boolean is an error, an Int is
/// converted. Returns whether `entry.expr` is ready to keep.
bool Sema::takeNumber(EntrySyntax &entry, ValueType type, const char *mustBe) {
  if (type == ValueType::Bool) {
    diags.error(entry.valueLoc,
                std::string(mustBe) + ", but this expression is a boolean");
    return false;
  }
  if (type == ValueType::Int)
    convertToFloat(entry.expr);
  return true;
}

/// Whether `e` holds the literal `inf` anywhere.
static bool mentionsInf(const Expr &e) {
  if (e.kind == ExprKind::FloatLit && std::isinf(e.floatValue))
    return true;
  for (const ExprPtr &operand : e.operands)
    if (mentionsInf(*operand))
      return true;
  return false;
}

/// Nodes and depth of `e` with the lets in `table` expanded.
static std::pair<int64_t, int64_t> expandedSize(const Expr &e,
                                                const LetTable &table) {
  if (e.kind == ExprKind::ParamRef && e.operands.empty())
    if (auto let = table.find(e.name); let != table.end())
      return {let->second.nodes, let->second.depth};
  int64_t nodes = 1, depth = 0;
  for (const ExprPtr &operand : e.operands) {
    auto [n, d] = expandedSize(*operand, table);
    nodes = std::min(nodes + n, kMaxExpandedNodes + 1);
    depth = std::max(depth, d);
  }
  return {nodes, depth + 1};
}

/// Names `x` refers to without indices (a let or a scalar param).
static void collectNames(const Expr &e, std::vector<const Expr *> &out) {
  if (e.kind == ExprKind::ParamRef && e.operands.empty())
    out.push_back(&e);
  for (const ExprPtr &operand : e.operands)
    collectNames(*operand, out);
}

LetTable Sema::checkLets(const std::vector<EntrySyntax *> &lets,
                         const ParamTable &params) {
  LetTable table;
  std::map<std::string, SourceLoc, std::less<>> defined;
  // Lets already reported: a later let that uses one is dropped silently.
  std::set<std::string, std::less<>> rejected;
  for (EntrySyntax *let : lets) {
    const std::string &name = let->letName;
    std::string quoted = quote(name);
    bool ok = true;
    if (lookupBuiltinVar(name) || lookupBuiltinFunction(name) ||
        name == "true" || name == "false" || name == "inf") {
      diags.error(let->letLoc,
                  "let " + quoted + " would hide the builtin " + quoted);
      ok = false;
    } else if (params.count(name)) {
      diags.error(let->letLoc, "let " + quoted + " has the name of a param");
      ok = false;
    } else if (auto first = defined.find(name); first != defined.end()) {
      diags.error(let->letLoc, "duplicate let " + quoted);
      diags.note(first->second, quoted + " was first defined here");
      ok = false;
    }
    // A let may use the lets written before it, which also rules out
    // cycles.
    std::vector<const Expr *> uses;
    collectNames(*let->expr, uses);
    for (const Expr *use : uses) {
      bool isLet = false;
      for (EntrySyntax *other : lets)
        isLet |= other->letName == use->name;
      if (isLet && !table.count(use->name) && rejected.count(use->name)) {
        ok = false;
        continue;
      }
      if (isLet && !table.count(use->name)) {
        diags.error(use->loc, "let " + quoted + " uses " + quote(use->name) +
                                  " before it is defined; define " +
                                  quote(use->name) + " first");
        ok = false;
      }
    }
    defined.emplace(name, let->letLoc);
    if (!ok) {
      rejected.insert(name);
      continue;
    }
    auto [nodes, depth] = expandedSize(*let->expr, table);
    if (depth > kMaxLetDepth || nodes > kMaxExpandedNodes) {
      diags.error(let->letLoc,
                  "let " + quoted + " expands to an expression " +
                      (depth > kMaxLetDepth
                           ? "nested " + std::to_string(depth) +
                                 " levels deep; the limit is " +
                                 std::to_string(kMaxLetDepth)
                           : "of more than " +
                                 std::to_string(kMaxExpandedNodes) + " nodes"));
      rejected.insert(name);
      continue;
    }
    table.emplace(name, LetValue{let->expr.get(), nodes, depth});
  }
  return table;
}

void Sema::checkExprEntry(EntrySyntax &entry, AttentionSpec &spec,
                          const ParamTable &params,
                          const ScaleConstants &constants,
                          const LetTable &lets) {
  ExprContext context = entry.key == EntryKey::Scale   ? ExprContext::Scale
                        : entry.key == EntryKey::Score ? ExprContext::Score
                        : entry.key == EntryKey::Sink  ? ExprContext::Sink
                        : entry.key == EntryKey::Mask  ? ExprContext::Mask
                                                       : ExprContext::KVScale;
  bool hadInf = entry.expr && mentionsInf(*entry.expr);
  ValueType type = TypeChecker(diags, params, context, &lets).check(entry.expr);
  if (type == ValueType::Invalid)
    return;

  switch (context) {
  case ExprContext::Scale: {
    if (type == ValueType::Bool) {
      diags.error(entry.valueLoc,
                  "scale must be a number, but this expression is a boolean");
      return;
    }
    if (type == ValueType::Int)
      convertToFloat(entry.expr);
    std::optional<double> value = foldScale(*entry.expr, constants, diags);
    if (!value)
      return;
    if (!std::isfinite(*value) || *value <= 0) {
      diags.error(entry.valueLoc, "scale must be a finite number greater "
                                  "than 0, but it evaluates to " +
                                      formatDouble(*value));
      return;
    }
    spec.scale = *value;
    spec.scaleExpr = std::move(entry.expr);
    return;
  }
  case ExprContext::Score:
    if (takeNumber(entry, type, "score modifier must be a number"))
      spec.score = std::move(entry.expr);
    return;
  case ExprContext::Mask:
    if (type != ValueType::Bool) {
      // FlexAttention's score_mod style: -inf where a key is hidden.
      diags.error(entry.valueLoc,
                  std::string("mask must be a boolean, but this expression "
                              "is a number") +
                      (hadInf ? "; a mask is boolean (true where the key is "
                                "visible): write the condition, not -inf"
                              : ""));
      return;
    }
    spec.mask = std::move(entry.expr);
    return;
  case ExprContext::Sink:
    if (takeNumber(entry, type, "sink must be a number (a logit)"))
      spec.sink = std::move(entry.expr);
    return;
  case ExprContext::KVScale:
    if (takeNumber(
            entry, type,
            (std::string(spelling(entry.key)) + " must be a number").c_str()))
      (entry.key == EntryKey::KScale ? spec.kScale : spec.vScale) =
          std::move(entry.expr);
    return;
  }
}

void Sema::checkKVDType(const EntrySyntax *kvDtype, AttentionSpec &spec,
                        const EntrySyntax *kScale, const EntrySyntax *vScale) {
  spec.kvDtype = spec.dtype;
  bool fp8 = false;
  if (kvDtype) {
    fp8 = kvDtype->dtype == DType::E4M3 || kvDtype->dtype == DType::E5M2;
    if (!fp8 && kvDtype->dtype != spec.dtype)
      diags.error(kvDtype->valueLoc,
                  std::string("kv_dtype ") + spelling(kvDtype->dtype) +
                      " differs from dtype " + spelling(spec.dtype) +
                      ": a 16-bit K/V cache has the kernel's dtype; only "
                      "e4m3 and e5m2 may differ");
    else
      spec.kvDtype = kvDtype->dtype;
  }
  // Scales dequantize fp8 values; a 16-bit cache holds the values as they
  // are.
  for (const EntrySyntax *entry : {kScale, vScale})
    if (entry && !fp8)
      diags.error(entry->keyLoc,
                  std::string(spelling(entry->key)) +
                      " scales an fp8 K/V cache; add 'kv_dtype = e4m3' "
                      "(or e5m2) or remove it");
}
