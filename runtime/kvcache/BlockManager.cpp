//===- BlockManager.cpp - Sequences, block tables, sharing, prefix reuse --===//

#include "runtime/kvcache/BlockManager.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace attnc::kvcache {

namespace {
int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// kv_lens are int32 tensors, so no sequence may grow past this.
constexpr int64_t kMaxSequenceLength = std::numeric_limits<int32_t>::max();
} // namespace

Expected<BlockManager> BlockManager::create(const BlockManagerConfig &config) {
  if (config.numPages <= 0 || config.pageSize <= 0)
    return Status::error(ErrorCode::InvalidArgument,
                         "numPages and pageSize must be positive (got " +
                             std::to_string(config.numPages) + " pages of " +
                             std::to_string(config.pageSize) + " tokens)");
  // Flat slot indices (page * pageSize + offset) must fit in int32.
  if (static_cast<int64_t>(config.numPages) * config.pageSize >
      std::numeric_limits<int32_t>::max())
    return Status::error(ErrorCode::InvalidArgument,
                         "numPages * pageSize exceeds the int32 slot range");
  return BlockManager(config);
}

BlockManager::BlockManager(const BlockManagerConfig &config)
    : config(config), pages(config.numPages),
      prefixes(config.numPages, config.pageSize, config.prefixHash) {}

BlockManager::Sequence *BlockManager::find(SeqId id) {
  auto it = sequences.find(id);
  return it == sequences.end() ? nullptr : &it->second;
}

const BlockManager::Sequence *BlockManager::find(SeqId id) const {
  auto it = sequences.find(id);
  return it == sequences.end() ? nullptr : &it->second;
}

Status BlockManager::unknownSequence(SeqId id) {
  return Status::error(ErrorCode::UnknownSequence,
                       "sequence " + std::to_string(id) +
                           " does not exist (never added, or freed)");
}

Status BlockManager::exhausted(const std::string &what, int64_t needed,
                               int64_t available) const {
  return Status::error(
      ErrorCode::PoolExhausted,
      what + " needs " + std::to_string(needed) + " new page(s) but only " +
          std::to_string(available) + " of " + std::to_string(config.numPages) +
          " are free or evictable");
}

PageId BlockManager::allocatePage() {
  PagePool::Allocation allocation = pages.allocate();
  if (allocation.evicted) {
    prefixes.erase(allocation.page);
    ++evictions;
  }
  return allocation.page;
}

Expected<AddedSequence> BlockManager::addSequence(Span<int32_t> prompt) {
  const int32_t pageSize = config.pageSize;
  if (static_cast<int64_t>(prompt.size()) > kMaxSequenceLength)
    return Status::error(ErrorCode::InvalidArgument,
                         "prompt longer than the int32 length range");

  // Find the cached prefix first, without changing anything. The last token
  // stays out of reach so that at least one token is left to compute.
  Sequence seq;
  int64_t revived = 0;
  if (config.enablePrefixCache && !prompt.empty()) {
    size_t maxPages = (prompt.size() - 1) / pageSize;
    for (size_t i = 0; i < maxPages; ++i) {
      Span<int32_t> tokens = prompt.slice(i * pageSize, pageSize);
      uint64_t hash = prefixes.hash(seq.chainHash, tokens);
      PageId page = prefixes.find(hash, seq.chainId, tokens);
      if (page < 0)
        break;
      seq.blockTable.push_back(page);
      seq.chainHash = hash;
      seq.chainId = prefixes.contentId(page);
      revived += pages.state(page) == PageState::Cached;
    }
  }
  const size_t reused = seq.blockTable.size() * pageSize;

  // Cached pages we are about to map cannot also be evicted for new pages.
  int64_t needed = ceilDiv(prompt.size(), pageSize) -
                   static_cast<int64_t>(seq.blockTable.size());
  int64_t available = pages.numAvailable() - revived;
  if (needed > available)
    return exhausted("adding a sequence of " + std::to_string(prompt.size()) +
                         " tokens (" + std::to_string(reused) +
                         " found in the prefix cache)",
                     needed, available);

  for (PageId page : seq.blockTable)
    pages.retain(page);
  seq.tokens.assign(prompt.begin(), prompt.begin() + reused);

  AddedSequence result;
  result.id = nextSeqId++;
  result.reusedTokens = static_cast<int32_t>(reused);
  writeTokens(seq, prompt.dropFront(reused), result.slots);
  prefixHitTokens += static_cast<int64_t>(reused);
  sequences.emplace(result.id, std::move(seq));
  return result;
}

Expected<Appended> BlockManager::append(SeqId id, Span<int32_t> tokens,
                                        PageCopier *copier) {
  Sequence *seq = find(id);
  if (!seq)
    return unknownSequence(id);
  const int32_t pageSize = config.pageSize;
  const int64_t length = static_cast<int64_t>(seq->tokens.size());
  const int64_t count = static_cast<int64_t>(tokens.size());
  if (count > kMaxSequenceLength - length)
    return Status::error(ErrorCode::InvalidArgument,
                         "appending " + std::to_string(count) +
                             " tokens overflows the int32 length of sequence " +
                             std::to_string(id));
  Appended result;
  if (count == 0)
    return result;

  // A partly filled last page that others also map must not be written: the
  // appender moves onto a private copy of it first.
  bool copyLast =
      length % pageSize != 0 && pages.refCount(seq->blockTable.back()) > 1;
  int64_t needed = ceilDiv(length + count, pageSize) -
                   ceilDiv(length, pageSize) + (copyLast ? 1 : 0);
  if (needed > pages.numAvailable())
    return exhausted("appending " + std::to_string(count) +
                         " token(s) to sequence " + std::to_string(id),
                     needed, pages.numAvailable());

  if (copyLast) {
    PageId src = seq->blockTable.back();
    PageId dst = allocatePage();
    if (copier) {
      Status copied = copier->copyPage(src, dst);
      if (!copied.ok()) {
        // Undo the allocation; an eviction it caused stays (cache content
        // is not part of any sequence's state).
        pages.release(dst);
        return copied;
      }
    }
    pages.setFill(dst, pages.fill(src));
    pages.release(src);
    seq->blockTable.back() = dst;
    result.copy = PageCopy{src, dst};
    ++copyOnWrites;
  }
  writeTokens(*seq, tokens, result.slots);
  return result;
}

void BlockManager::writeTokens(Sequence &seq, Span<int32_t> tokens,
                               std::vector<Slot> &slots) {
  const int32_t pageSize = config.pageSize;
  slots.reserve(slots.size() + tokens.size());
  for (int32_t token : tokens) {
    int32_t offset = static_cast<int32_t>(seq.tokens.size() % pageSize);
    if (offset == 0)
      seq.blockTable.push_back(allocatePage());
    PageId page = seq.blockTable.back();
    assert(pages.refCount(page) == 1 && "writing into a shared page");
    slots.push_back(Slot{page, offset});
    seq.tokens.push_back(token);
    pages.setFill(page, offset + 1);
    if (offset + 1 == pageSize)
      registerFullPage(seq);
  }
}

void BlockManager::registerFullPage(Sequence &seq) {
  if (!config.enablePrefixCache)
    return;
  const int32_t pageSize = config.pageSize;
  PageId page = seq.blockTable.back();
  size_t start = (seq.blockTable.size() - 1) * pageSize;
  Span<int32_t> tokens(seq.tokens.data() + start, pageSize);
  uint64_t hash = prefixes.hash(seq.chainHash, tokens);
  // Two sequences that computed the same prefix independently: keep the
  // first registration, and let this one chain from it so that its next
  // pages are still found by a lookup walking the registered pages.
  PageId twin = prefixes.find(hash, seq.chainId, tokens);
  if (twin >= 0) {
    seq.chainId = prefixes.contentId(twin);
  } else {
    seq.chainId = prefixes.insert(page, hash, seq.chainId, tokens);
    pages.setCacheable(page, true);
  }
  seq.chainHash = hash;
}

Expected<SeqId> BlockManager::fork(SeqId id) {
  const Sequence *parent = find(id);
  if (!parent)
    return unknownSequence(id);
  for (PageId page : parent->blockTable)
    pages.retain(page);
  SeqId child = nextSeqId++;
  sequences.emplace(child, *parent);
  return child;
}

Status BlockManager::freeSequence(SeqId id) {
  auto it = sequences.find(id);
  if (it == sequences.end())
    return unknownSequence(id);
  // Last page first: under LRU the tail of a prefix is then evicted before
  // its head, and a head without its tail is still a useful prefix.
  const std::vector<PageId> &table = it->second.blockTable;
  for (auto page = table.rbegin(); page != table.rend(); ++page)
    pages.release(*page);
  sequences.erase(it);
  return Status::success();
}

Expected<SequenceView> BlockManager::sequence(SeqId id) const {
  const Sequence *seq = find(id);
  if (!seq)
    return unknownSequence(id);
  return SequenceView{Span<int32_t>(seq->tokens),
                      Span<PageId>(seq->blockTable)};
}

std::vector<SeqId> BlockManager::sequenceIds() const {
  std::vector<SeqId> ids;
  ids.reserve(sequences.size());
  for (const auto &entry : sequences)
    ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());
  return ids;
}

CacheStats BlockManager::stats() const {
  CacheStats stats;
  stats.pageSize = config.pageSize;
  stats.totalPages = config.numPages;
  stats.freePages = pages.numFree();
  stats.usedPages = pages.numUsed();
  stats.cachedPages = pages.numCached();
  stats.registeredPages = prefixes.size();
  for (PageId page = 0; page < config.numPages; ++page) {
    if (pages.refCount(page) == 0)
      continue;
    stats.sharedPages += pages.refCount(page) > 1;
    stats.wastedSlots += config.pageSize - pages.fill(page);
  }
  stats.sequences = numSequences();
  for (const auto &entry : sequences) {
    int64_t length = static_cast<int64_t>(entry.second.tokens.size());
    stats.tokens += length;
    stats.unsharedPages += ceilDiv(length, config.pageSize);
  }
  stats.prefixHitTokens = prefixHitTokens;
  stats.copyOnWrites = copyOnWrites;
  stats.evictions = evictions;
  return stats;
}

Status BlockManager::verify() const {
  if (Status status = pages.verify(); !status.ok())
    return status;
  if (Status status = prefixes.verify(); !status.ok())
    return status;
  auto broken = [](const std::string &what, SeqId id, PageId page) {
    return Status::error(ErrorCode::InternalError,
                         "block manager: " + what + " (sequence " +
                             std::to_string(id) + ", page " +
                             std::to_string(page) + ")");
  };

  const int32_t pageSize = config.pageSize;
  std::vector<int32_t> references(config.numPages, 0);
  for (const auto &[id, seq] : sequences) {
    const int64_t length = static_cast<int64_t>(seq.tokens.size());
    if (static_cast<int64_t>(seq.blockTable.size()) !=
        ceilDiv(length, pageSize))
      return broken("block table length does not match the token count", id,
                    -1);
    for (size_t i = 0; i < seq.blockTable.size(); ++i) {
      PageId page = seq.blockTable[i];
      if (page < 0 || page >= config.numPages)
        return broken("block table entry out of range", id, page);
      ++references[page];
      int64_t expectedFill = std::min<int64_t>(
          pageSize, length - static_cast<int64_t>(i) * pageSize);
      if (pages.fill(page) != expectedFill)
        return broken("page fill does not match the sequence length", id, page);
      if (!prefixes.contains(page))
        continue;
      if (expectedFill != pageSize)
        return broken("a partly filled page is in the prefix cache", id, page);
      Span<int32_t> stored = prefixes.tokens(page);
      if (!std::equal(stored.begin(), stored.end(),
                      seq.tokens.begin() + i * pageSize))
        return broken("cached page tokens differ from the sequence's", id,
                      page);
    }
  }

  for (PageId page = 0; page < config.numPages; ++page) {
    if (pages.refCount(page) != references[page])
      return broken("reference count " + std::to_string(pages.refCount(page)) +
                        " != block-table entries " +
                        std::to_string(references[page]),
                    0, page);
    if (pages.isCacheable(page) != prefixes.contains(page))
      return broken("cacheable flag disagrees with the prefix cache", 0, page);
    if (pages.state(page) == PageState::Cached && pages.fill(page) != pageSize)
      return broken("a cached page is not full", 0, page);
  }
  return Status::success();
}

} // namespace attnc::kvcache
