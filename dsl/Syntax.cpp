//===- Syntax.cpp - Names of the attention DSL ----------------------------===//

#include "dsl/Syntax.h"

using namespace attnc::dsl;

const char *attnc::dsl::spelling(EntryKey key) {
  switch (key) {
  case EntryKey::DType:
    return "dtype";
  case EntryKey::HeadDim:
    return "head_dim";
  case EntryKey::VHeadDim:
    return "v_head_dim";
  case EntryKey::QHeads:
    return "q_heads";
  case EntryKey::KVHeads:
    return "kv_heads";
  case EntryKey::KVCache:
    return "kv_cache";
  case EntryKey::Scale:
    return "scale";
  case EntryKey::Score:
    return "score";
  case EntryKey::Mask:
    return "mask";
  case EntryKey::Sink:
    return "sink";
  case EntryKey::KVDType:
    return "kv_dtype";
  case EntryKey::KScale:
    return "k_scale";
  case EntryKey::VScale:
    return "v_scale";
  case EntryKey::KVLayout:
    return "kv_layout";
  case EntryKey::Let:
    return "let";
  case EntryKey::Param:
    return "param";
  }
  return "<invalid>";
}

std::optional<EntryKey> attnc::dsl::lookupEntryKey(std::string_view word) {
  for (unsigned i = 0; i < kNumEntryKeys; ++i) {
    auto key = static_cast<EntryKey>(i);
    if (word == spelling(key))
      return key;
  }
  return std::nullopt;
}

std::optional<BuiltinVar> attnc::dsl::lookupBuiltinVar(std::string_view word) {
  for (BuiltinVar var :
       {BuiltinVar::Score, BuiltinVar::Batch, BuiltinVar::Head, BuiltinVar::Q,
        BuiltinVar::KV, BuiltinVar::HeadDim, BuiltinVar::QHeads,
        BuiltinVar::KVHeads, BuiltinVar::QLen, BuiltinVar::KVLen})
    if (word == spelling(var))
      return var;
  return std::nullopt;
}

std::optional<Builtin>
attnc::dsl::lookupBuiltinFunction(std::string_view word) {
  for (Builtin fn :
       {Builtin::Exp, Builtin::Log, Builtin::Tanh, Builtin::Sqrt, Builtin::Abs,
        Builtin::Min, Builtin::Max, Builtin::Exp2, Builtin::Pow, Builtin::Floor,
        Builtin::Ceil, Builtin::Sin, Builtin::Cos, Builtin::Sigmoid,
        Builtin::Int, Builtin::Float})
    if (word == spelling(fn))
      return fn;
  return std::nullopt;
}

unsigned attnc::dsl::arity(Builtin fn) {
  return fn == Builtin::Min || fn == Builtin::Max || fn == Builtin::Pow ? 2 : 1;
}
