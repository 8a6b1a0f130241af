//===- PrefixCache.cpp - Full pages looked up by their token prefix -------===//

#include "runtime/kvcache/PrefixCache.h"

#include <algorithm>
#include <cassert>
#include <string>

namespace attnc::kvcache {

PrefixCache::PrefixCache(int32_t numPages, int32_t pageSize, PrefixHashFn hash)
    : pageSize(pageSize), hashFn(hash ? hash : defaultPrefixHash),
      entries(numPages), pageTokens(static_cast<size_t>(numPages) * pageSize) {}

PageId PrefixCache::find(uint64_t hash, uint64_t parentId,
                         Span<int32_t> tokens) const {
  assert(tokens.size() == static_cast<size_t>(pageSize));
  auto range = table.equal_range(hash);
  for (auto it = range.first; it != range.second; ++it) {
    PageId page = it->second;
    if (entries[page].parentId != parentId)
      continue;
    Span<int32_t> stored = this->tokens(page);
    if (std::equal(stored.begin(), stored.end(), tokens.begin()))
      return page;
  }
  return -1;
}

uint64_t PrefixCache::insert(PageId page, uint64_t hash, uint64_t parentId,
                             Span<int32_t> tokens) {
  assert(!entries[page].registered && "page registered twice");
  assert(tokens.size() == static_cast<size_t>(pageSize));
  Entry &entry = entries[page];
  entry.registered = true;
  entry.hash = hash;
  entry.parentId = parentId;
  entry.id = nextId++;
  std::copy(tokens.begin(), tokens.end(), pageTokens.begin() + offsetOf(page));
  table.emplace(hash, page);
  return entry.id;
}

void PrefixCache::erase(PageId page) {
  Entry &entry = entries[page];
  assert(entry.registered && "erasing an unregistered page");
  auto range = table.equal_range(entry.hash);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == page) {
      table.erase(it);
      break;
    }
  }
  entry = Entry();
}

Status PrefixCache::verify() const {
  auto broken = [](const std::string &what, PageId page) {
    return Status::error(ErrorCode::InternalError,
                         "prefix cache: " + what + " (page " +
                             std::to_string(page) + ")");
  };
  int32_t registered = 0;
  for (PageId page = 0; page < static_cast<PageId>(entries.size()); ++page) {
    const Entry &entry = entries[page];
    if (!entry.registered)
      continue;
    ++registered;
    if (entry.id <= entry.parentId || entry.id >= nextId)
      return broken("content id does not follow its parent's", page);
    int hits = 0;
    auto range = table.equal_range(entry.hash);
    for (auto it = range.first; it != range.second; ++it)
      hits += it->second == page;
    if (hits != 1)
      return broken("registered page is not in the table exactly once", page);
  }
  if (registered != size())
    return broken("table holds entries of unregistered pages", -1);
  return Status::success();
}

} // namespace attnc::kvcache
