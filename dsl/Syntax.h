//===- Syntax.h - What the parser hands to Sema ---------------------------===//
//
// The parser checks only the shape of the text; it keeps every entry of a
// block, in order and with its locations, even a duplicated key. Sema then
// decides what the entries mean together (duplicates, missing keys, ranges,
// types) and builds the AttentionSpec, so all of a block's semantic errors
// can be reported in one run.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_SYNTAX_H
#define ATTNC_DSL_SYNTAX_H

#include "dsl/AST.h"

#include <optional>
#include <string_view>
#include <vector>

namespace attnc::dsl {

/// The keys an `attention` block accepts. `param` and `let` may repeat; the
/// others may appear once.
enum class EntryKey {
  DType,
  HeadDim,
  VHeadDim,
  QHeads,
  KVHeads,
  KVCache,
  Scale,
  Score,
  Mask,
  Sink,
  KVDType,
  KScale,
  VScale,
  KVLayout,
  Let,
  Param,
};
constexpr unsigned kNumEntryKeys = static_cast<unsigned>(EntryKey::Param) + 1;

/// The key as written in the DSL.
const char *spelling(EntryKey key);
/// The key spelled `word`, if any.
std::optional<EntryKey> lookupEntryKey(std::string_view word);

/// The builtin variable or constant spelled `word`, if any.
std::optional<BuiltinVar> lookupBuiltinVar(std::string_view word);
/// The builtin function spelled `word`, if any.
std::optional<Builtin> lookupBuiltinFunction(std::string_view word);
/// How many arguments `fn` takes.
unsigned arity(Builtin fn);

/// One `key = value` or `param ...` entry. Only the fields of its key are
/// meaningful.
struct EntrySyntax {
  EntryKey key = EntryKey::DType;
  SourceLoc keyLoc;   ///< the key word, or `param`
  SourceLoc valueLoc; ///< the first token after `=`, or the param's name

  DType dtype = DType::F16;                 ///< dtype
  int64_t intValue = 0;                     ///< head_dim, q_heads, kv_heads
  KVCacheKind kvCache = KVCacheKind::Dense; ///< kv_cache
  bool latentKV = false;                    ///< kv_layout = latent
  int64_t pageSize = 0;                     ///< kv_cache = paged(...)
  SourceLoc pageSizeLoc;                    ///< kv_cache = paged(...)
  ExprPtr expr;        ///< scale, score, mask, sink, k_scale, v_scale
  ParamDecl param;     ///< param
  std::string letName; ///< let NAME = expr
  SourceLoc letLoc;    ///< let: the name
};

/// One `attention NAME { ... }` block as written.
struct BlockSyntax {
  std::string name;
  SourceLoc loc; ///< the name
  std::vector<EntrySyntax> entries;
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_SYNTAX_H
