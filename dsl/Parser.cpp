//===- Parser.cpp - Blocks and entries of the attention DSL ---------------===//
//
// The statement level of the grammar: `attention NAME { entries }`, each
// entry a `key = value` or a `param` declaration. Expressions are in
// ParseExpr.cpp.
//
//===----------------------------------------------------------------------===//

#include "dsl/Parser.h"
#include "dsl/Text.h"

#include <limits>

using namespace attnc::dsl;

Parser::Parser(const SourceFile &file, DiagnosticEngine &diags)
    : diags(diags), lexer(file.text) {
  tok = lexer.next();
}

//===----------------------------------------------------------------------===//
// Tokens and errors
//===----------------------------------------------------------------------===//

void Parser::advance() {
  prevTok = std::move(tok);
  tok = lexer.next();
}

bool Parser::consumeIf(TokenKind kind) {
  if (!tok.is(kind))
    return false;
  advance();
  return true;
}

void Parser::skipNewlines() {
  while (tok.is(TokenKind::Newline) || tok.is(TokenKind::Semi))
    advance();
}

std::string Parser::describe(const Token &token) {
  switch (token.kind) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  default:
    return quote(token.text);
  }
}

void Parser::error(SourceLoc loc, std::string message) {
  // Only the first error: everything after it would be a consequence.
  if (failed)
    return;
  failed = true;
  diags.error(loc, std::move(message));
}

void Parser::errorExpected(const std::string &expected) {
  if (tok.is(TokenKind::Error))
    error(tok.loc, tok.error);
  else
    error(tok.loc, expected + ", found " + describe(tok));
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

std::optional<std::vector<BlockSyntax>> Parser::parseFile() {
  std::vector<BlockSyntax> blocks;
  skipNewlines();
  while (!tok.is(TokenKind::Eof)) {
    if (!tok.isIdent("attention")) {
      errorExpected("expected 'attention' to start a block");
      return std::nullopt;
    }
    if (!parseBlock(blocks))
      return std::nullopt;
    skipNewlines();
  }
  if (blocks.empty()) {
    error(tok.loc, "no attention block in file; expected 'attention NAME "
                   "{ ... }'");
    return std::nullopt;
  }
  return blocks;
}

bool Parser::parseBlock(std::vector<BlockSyntax> &blocks) {
  advance(); // 'attention'
  if (!tok.is(TokenKind::Ident)) {
    errorExpected("expected a name after 'attention'");
    return false;
  }
  BlockSyntax block;
  block.name = std::string(tok.text);
  block.loc = tok.loc;
  advance();
  while (tok.is(TokenKind::Newline))
    advance();
  if (!tok.is(TokenKind::LBrace)) {
    errorExpected("expected '{' after " + quote("attention " + block.name));
    return false;
  }
  SourceLoc braceLoc = tok.loc;
  advance();

  for (;;) {
    skipNewlines();
    if (consumeIf(TokenKind::RBrace))
      break;
    if (tok.is(TokenKind::Eof)) {
      error(tok.loc, "expected '}' to close attention block " +
                         quote(block.name) + ", found end of file");
      diags.note(braceLoc, "the block opens here");
      return false;
    }
    if (!tok.is(TokenKind::Ident)) {
      errorExpected("expected a key such as 'dtype', or '}'");
      return false;
    }
    if (tok.isIdent("attention")) {
      error(tok.loc, "expected '}' to close attention block " +
                         quote(block.name) + " before the next 'attention'");
      diags.note(braceLoc, "the block opens here");
      return false;
    }
    if (!parseEntry(block))
      return false;
    if (consumeIf(TokenKind::Semi) || consumeIf(TokenKind::Newline) ||
        tok.is(TokenKind::RBrace))
      continue;
    errorExpected(std::string("expected ';' or a line break after the '") +
                  spelling(block.entries.back().key) + "' entry");
    return false;
  }
  blocks.push_back(std::move(block));
  return true;
}

//===----------------------------------------------------------------------===//
// Entries
//===----------------------------------------------------------------------===//

/// "unknown key 'x'", with a guess at what was meant and the keys there are.
static std::string unknownKeyMessage(std::string_view word) {
  std::string message = "unknown key " + quote(word);
  unsigned limit = word.size() < 4 ? 1 : 2;
  const char *best = nullptr;
  unsigned bestDistance = limit + 1;
  for (unsigned i = 0; i < kNumEntryKeys; ++i) {
    const char *candidate = spelling(static_cast<EntryKey>(i));
    unsigned distance = editDistance(word, candidate, limit);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (best)
    message += std::string(" (did you mean '") + best + "'?)";
  message += "; allowed keys are dtype, head_dim, v_head_dim, q_heads, "
             "kv_heads, "
             "kv_cache, kv_dtype, kv_layout, k_scale, v_scale, scale, score, "
             "mask, sink, let and param";
  return message;
}

bool Parser::parseEntry(BlockSyntax &block) {
  EntrySyntax entry;
  entry.keyLoc = tok.loc;
  std::optional<EntryKey> key = lookupEntryKey(tok.text);
  if (!key) {
    error(tok.loc, unknownKeyMessage(tok.text));
    return false;
  }
  entry.key = *key;
  advance();
  if (entry.key == EntryKey::Param) {
    if (!parseParam(entry))
      return false;
  } else if (entry.key == EntryKey::Let) {
    // let NAME = expr: a named value the score, mask and sink may use.
    if (!tok.is(TokenKind::Ident)) {
      errorExpected("expected a name after 'let'");
      return false;
    }
    entry.letName = std::string(tok.text);
    entry.letLoc = tok.loc;
    advance();
    if (!tok.is(TokenKind::Assign)) {
      errorExpected("expected '=' after 'let " + entry.letName + "'");
      return false;
    }
    advance();
    entry.valueLoc = tok.loc;
    if (!canStartExpr(tok)) {
      errorExpected("expected an expression after 'let " + entry.letName +
                    " ='");
      return false;
    }
    Parsed value = parseExpr();
    if (failed)
      return false;
    entry.expr = std::move(value.expr);
  } else {
    if (!tok.is(TokenKind::Assign)) {
      errorExpected(std::string("expected '=' after '") + spelling(entry.key) +
                    "'");
      return false;
    }
    advance();
    entry.valueLoc = tok.loc;
    if (!parseKeyValue(entry))
      return false;
  }
  block.entries.push_back(std::move(entry));
  return true;
}

bool Parser::parseKeyValue(EntrySyntax &entry) {
  std::string after = std::string("after '") + spelling(entry.key) + " ='";
  switch (entry.key) {
  case EntryKey::DType:
  case EntryKey::KVDType: {
    // dtype is a 16-bit type; kv_dtype may also be an fp8 format.
    bool kv = entry.key == EntryKey::KVDType;
    std::optional<DType> type;
    for (DType candidate : {DType::F16, DType::BF16, DType::E4M3, DType::E5M2})
      if (tok.isIdent(spelling(candidate)) &&
          (kv || candidate == DType::F16 || candidate == DType::BF16))
        type = candidate;
    if (!type) {
      errorExpected(kv ? "expected 'e4m3', 'e5m2', 'fp16' or 'bf16' " + after
                       : "expected 'fp16' or 'bf16' " + after);
      return false;
    }
    entry.dtype = *type;
    advance();
    return true;
  }
  case EntryKey::HeadDim:
  case EntryKey::VHeadDim:
  case EntryKey::QHeads:
  case EntryKey::KVHeads:
    return parseIntValue(entry.intValue, entry.valueLoc, after);
  case EntryKey::KVCache:
    return parseKVCache(entry);
  case EntryKey::KVLayout:
    if (!tok.isIdent("separate") && !tok.isIdent("latent")) {
      errorExpected("expected 'separate' or 'latent' " + after);
      return false;
    }
    entry.latentKV = tok.isIdent("latent");
    advance();
    return true;
  case EntryKey::Scale:
  case EntryKey::Score:
  case EntryKey::Mask:
  case EntryKey::Sink:
  case EntryKey::KScale:
  case EntryKey::VScale: {
    if (!canStartExpr(tok)) {
      errorExpected("expected an expression " + after);
      return false;
    }
    Parsed value = parseExpr();
    if (failed)
      return false;
    entry.expr = std::move(value.expr);
    return true;
  }
  case EntryKey::Let:
  case EntryKey::Param:
    break;
  }
  return false;
}

bool Parser::parseIntValue(int64_t &value, SourceLoc &loc,
                           std::string_view after) {
  if (!tok.is(TokenKind::Int)) {
    errorExpected("expected a positive integer " + std::string(after));
    return false;
  }
  std::optional<int64_t> parsed =
      decimalValue(tok.text, std::numeric_limits<int32_t>::max());
  if (!parsed) {
    error(tok.loc,
          "integer literal " + quote(tok.text) + " does not fit in 32 bits");
    return false;
  }
  value = *parsed;
  loc = tok.loc;
  advance();
  return true;
}

bool Parser::parseKVCache(EntrySyntax &entry) {
  if (tok.isIdent("dense")) {
    entry.kvCache = KVCacheKind::Dense;
    advance();
    return true;
  }
  if (!tok.isIdent("paged")) {
    errorExpected(
        "expected 'dense' or 'paged(page_size = N)' after 'kv_cache ='");
    return false;
  }
  entry.kvCache = KVCacheKind::Paged;
  advance();
  if (!consumeIf(TokenKind::LParen)) {
    errorExpected("expected '(' after 'paged'");
    return false;
  }
  if (!tok.isIdent("page_size")) {
    errorExpected("expected 'page_size' inside 'paged(...)'");
    return false;
  }
  advance();
  if (!consumeIf(TokenKind::Assign)) {
    errorExpected("expected '=' after 'page_size'");
    return false;
  }
  if (!parseIntValue(entry.pageSize, entry.pageSizeLoc, "after 'page_size ='"))
    return false;
  if (!consumeIf(TokenKind::RParen)) {
    errorExpected("expected ')' after the page size");
    return false;
  }
  return true;
}

bool Parser::parseParam(EntrySyntax &entry) {
  ParamDecl &param = entry.param;
  if (!tok.is(TokenKind::Ident)) {
    errorExpected("expected a name after 'param'");
    return false;
  }
  param.name = std::string(tok.text);
  param.loc = tok.loc;
  entry.valueLoc = tok.loc;
  advance();
  std::string declared = "param " + param.name;
  if (!consumeIf(TokenKind::Colon)) {
    errorExpected("expected ':' after " + quote(declared));
    return false;
  }
  if (tok.isIdent("f32")) {
    param.elementType = ValueType::Float;
  } else if (tok.isIdent("i32")) {
    param.elementType = ValueType::Int;
  } else {
    errorExpected("expected 'f32' or 'i32' after " + quote(declared + " :"));
    return false;
  }
  advance();
  if (consumeIf(TokenKind::LBracket)) {
    for (;;) {
      if (!parseParamDim(param))
        return false;
      if (consumeIf(TokenKind::Comma))
        continue;
      if (consumeIf(TokenKind::RBracket))
        break;
      errorExpected("expected ',' or ']' after a dimension of param " +
                    quote(param.name));
      return false;
    }
  }
  if (tok.isIdent("requires_grad")) {
    param.requiresGrad = true;
    param.requiresGradLoc = tok.loc;
    advance();
  }
  return true;
}

bool Parser::parseParamDim(ParamDecl &param) {
  if (param.dims.size() == kMaxParamDims) {
    error(tok.loc, "param " + quote(param.name) + " has more than " +
                       std::to_string(kMaxParamDims) + " dimensions");
    return false;
  }
  ParamDim dim;
  dim.loc = tok.loc;
  if (tok.isIdent("batch")) {
    dim.kind = ParamDim::Kind::Batch;
  } else if (tok.isIdent("q_heads")) {
    dim.kind = ParamDim::Kind::QHeads;
  } else if (tok.isIdent("kv_heads")) {
    dim.kind = ParamDim::Kind::KVHeads;
  } else if (tok.is(TokenKind::Question)) {
    dim.kind = ParamDim::Kind::Dynamic;
  } else if (tok.is(TokenKind::Int)) {
    dim.kind = ParamDim::Kind::Fixed;
    SourceLoc loc;
    if (!parseIntValue(dim.extent, loc, ""))
      return false;
    param.dims.push_back(dim);
    return true;
  } else {
    errorExpected("expected a dimension ('batch', 'q_heads', 'kv_heads', an "
                  "integer or '?')");
    return false;
  }
  advance();
  param.dims.push_back(dim);
  return true;
}
