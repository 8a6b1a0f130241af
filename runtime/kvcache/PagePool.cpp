//===- PagePool.cpp - Reference counts, free list and LRU of pages --------===//

#include "runtime/kvcache/PagePool.h"

#include <cassert>
#include <string>

namespace attnc::kvcache {

PagePool::PagePool(int32_t numPages) : pages(numPages) {
  freeList.reserve(numPages);
  // Pushed in reverse so that a fresh pool hands out page 0 first, which
  // keeps block tables in tests and examples easy to read.
  for (PageId page = numPages - 1; page >= 0; --page) {
    pages[page].onFreeList = true;
    freeList.push_back(page);
  }
}

PageState PagePool::state(PageId page) const {
  const PageInfo &info = pages[page];
  if (info.refCount > 0)
    return PageState::Used;
  return info.onLru ? PageState::Cached : PageState::Free;
}

void PagePool::setCacheable(PageId page, bool cacheable) {
  assert(pages[page].refCount > 0 && "only a used page changes cacheability");
  pages[page].cacheable = cacheable;
}

PagePool::Allocation PagePool::allocate() {
  assert(numAvailable() > 0 && "allocate() on an exhausted pool");
  Allocation result;
  if (!freeList.empty()) {
    result.page = freeList.back();
    freeList.pop_back();
    pages[result.page].onFreeList = false;
  } else {
    result.page = lruHead;
    result.evicted = true;
    lruRemove(result.page);
    pages[result.page].cacheable = false;
  }
  PageInfo &info = pages[result.page];
  info.refCount = 1;
  info.fill = 0;
  return result;
}

void PagePool::retain(PageId page) {
  PageInfo &info = pages[page];
  assert(!info.onFreeList && "retain() on a free page");
  if (info.onLru)
    lruRemove(page);
  ++info.refCount;
}

void PagePool::release(PageId page) {
  PageInfo &info = pages[page];
  assert(info.refCount > 0 && "release() on an unreferenced page");
  if (--info.refCount > 0)
    return;
  if (info.cacheable) {
    lruPushBack(page);
    return;
  }
  info.onFreeList = true;
  freeList.push_back(page);
}

void PagePool::lruPushBack(PageId page) {
  PageInfo &info = pages[page];
  info.onLru = true;
  info.lruPrev = lruTail;
  info.lruNext = -1;
  if (lruTail >= 0)
    pages[lruTail].lruNext = page;
  else
    lruHead = page;
  lruTail = page;
  ++lruSize;
}

void PagePool::lruRemove(PageId page) {
  PageInfo &info = pages[page];
  if (info.lruPrev >= 0)
    pages[info.lruPrev].lruNext = info.lruNext;
  else
    lruHead = info.lruNext;
  if (info.lruNext >= 0)
    pages[info.lruNext].lruPrev = info.lruPrev;
  else
    lruTail = info.lruPrev;
  info.onLru = false;
  info.lruPrev = info.lruNext = -1;
  --lruSize;
}

namespace {
Status broken(const std::string &what, PageId page) {
  return Status::error(ErrorCode::InternalError,
                       "page pool: " + what + " (page " + std::to_string(page) +
                           ")");
}
} // namespace

Status PagePool::verify() const {
  const PageId n = numPages();
  std::vector<char> seen(n, 0);
  for (PageId page : freeList) {
    if (page < 0 || page >= n)
      return broken("free list holds an id out of range", page);
    if (seen[page])
      return broken("page is on the free list twice", page);
    seen[page] = 1;
  }

  int32_t lruCount = 0;
  PageId prev = -1;
  for (PageId page = lruHead; page >= 0; page = pages[page].lruNext) {
    if (page >= n || ++lruCount > n)
      return broken("LRU list is corrupt", page);
    if (seen[page])
      return broken("page is both free and cached, or cached twice", page);
    seen[page] = 2;
    if (pages[page].lruPrev != prev)
      return broken("LRU back link is wrong", page);
    prev = page;
  }
  if (prev != lruTail || lruCount != lruSize)
    return broken("LRU tail or size is wrong", lruTail);

  for (PageId page = 0; page < n; ++page) {
    const PageInfo &info = pages[page];
    if (info.refCount < 0)
      return broken("negative reference count", page);
    bool onFree = seen[page] == 1, onLru = seen[page] == 2;
    if (onFree != info.onFreeList || onLru != info.onLru)
      return broken("list membership flags disagree with the lists", page);
    // The partition: every page is exactly one of free, used, cached.
    if (info.refCount > 0 && (onFree || onLru))
      return broken("a referenced page is also free or cached", page);
    if (info.refCount == 0 && !onFree && !onLru)
      return broken("an unreferenced page is neither free nor cached: lost",
                    page);
    if (onFree && info.cacheable)
      return broken("a free page is marked cacheable", page);
    if (onLru && !info.cacheable)
      return broken("a cached page is not marked cacheable", page);
  }
  return Status::success();
}

} // namespace attnc::kvcache
