//===- ValidateTest.cpp - Every rule of the tensor contract, broken -------===//
//
// Each section breaks one rule of a valid launch and checks the exact
// message: it must name the tensor and the problem.
//
//===----------------------------------------------------------------------===//

#include "ValidateFixtures.h"

#include <sstream>

#include <catch2/catch.hpp>

using namespace attnc;
using namespace attnc::test;

namespace {

void expectError(Problem &p, ErrorCode code, const std::string &message) {
  Status s = p.validate();
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == code);
  CHECK(s.message() == message);
}

void expectInvalid(Problem &p, const std::string &message) {
  expectError(p, ErrorCode::InvalidInput, message);
}

void expectValid(Problem &p) {
  Status s = p.validate();
  INFO(s.message());
  CHECK(s.ok());
}

} // namespace

TEST_CASE("valid launches pass", "[validate]") {
  SECTION("dense") {
    Problem p;
    makeDense(p);
    expectValid(p);
  }
  SECTION("paged, garbage past each sequence's last page unread") {
    Problem p;
    makePaged(p);
    expectValid(p);
  }
  SECTION("no params") {
    Problem p;
    makeDense(p);
    p.kernel.params.clear();
    p.tensors.params.clear();
    expectValid(p);
  }
  SECTION("a batch of 0, with no data at all") {
    Problem p;
    makeDense(p);
    p.qoIndptr = {0};
    p.kvIndptr = {0};
    for (TensorRef *t : {&p.tensors.q, &p.tensors.o, &p.tensors.lse,
                         &p.tensors.k, &p.tensors.v}) {
      t->data = nullptr;
      t->shape[0] = 0;
    }
    p.tensors.qoIndptr.shape = {1};
    p.tensors.kvIndptr.shape = {1};
    p.tensors.params["prefix"] = tensor(nullptr, DType::I32, {0});
    p.tensors.params["doc"] = tensor(nullptr, DType::I32, {0, 0});
    expectValid(p);
  }
  SECTION("a paged batch of 0 and an empty pool") {
    Problem p;
    makePaged(p);
    p.qoIndptr = {0};
    p.tensors.q.shape[0] = p.tensors.o.shape[0] = p.tensors.lse.shape[0] = 0;
    p.tensors.qoIndptr.shape = {1};
    p.tensors.kCache.shape[0] = p.tensors.vCache.shape[0] = 0;
    p.tensors.blockTable = tensor(nullptr, DType::I32, {0, 0});
    p.tensors.kvLens = tensor(nullptr, DType::I32, {0});
    p.tensors.params["prefix"] = tensor(nullptr, DType::I32, {0});
    p.tensors.params["doc"] = tensor(nullptr, DType::I32, {0, 6});
    expectValid(p);
  }
  SECTION("kv_lens exactly at a page boundary read no further page") {
    Problem p;
    makePaged(p);
    p.kvLens = {4, 0, 12};
    p.blockTable = {7, -9, -9, -1, -1, -1, 0, 9, 3};
    expectValid(p);
  }
  SECTION("q longer than KV, and a sequence with q but no KV") {
    Problem p;
    makeDense(p);
    p.qoIndptr = {0, 1, 1, 5};
    p.kvIndptr = {0, 5, 5, 5};
    expectValid(p);
  }
  SECTION("a dynamic param extent of 0") {
    Problem p;
    makeDense(p);
    p.tensors.params["doc"] = tensor(nullptr, DType::I32, {3, 0});
    expectValid(p);
  }
  SECTION("all in device memory, with host copies of the indices") {
    Problem p;
    makePaged(p);
    HostIndexData host = hostIndexDataOf(p.tensors);
    for (auto &[name, t] : p.tensors.params)
      t.memory = MemoryKind::Device;
    for (TensorRef *t :
         {&p.tensors.q, &p.tensors.o, &p.tensors.lse, &p.tensors.qoIndptr,
          &p.tensors.kCache, &p.tensors.vCache, &p.tensors.blockTable,
          &p.tensors.kvLens})
      t->memory = MemoryKind::Device;
    CHECK(validateAttentionInputs(p.kernel, p.tensors, host).ok());
    // Device tensors get no host views: their copies must come from the
    // caller.
    CHECK(hostIndexDataOf(p.tensors).qoIndptr.data == nullptr);
    CHECK(validateTensorShapes(p.kernel, p.tensors).ok());
  }
}

TEST_CASE("hostIndexDataOf views the host index tensors", "[validate]") {
  Problem p;
  makePaged(p);
  HostIndexData host = hostIndexDataOf(p.tensors);
  CHECK(host.qoIndptr.data == p.qoIndptr.data());
  CHECK(host.qoIndptr.count == 4);
  CHECK(host.blockTable.count == 9);
  CHECK(host.kvLens.data == p.kvLens.data());
  CHECK(host.kvIndptr.data == nullptr);
  CHECK(host.params.size() == 2);
  CHECK(host.params.at("doc").count == 18);
}

TEST_CASE("required tensors missing, or given to the wrong kind of kernel",
          "[validate]") {
  Problem p;
  SECTION("q") {
    makeDense(p);
    p.tensors.q = {};
    expectInvalid(p, "missing tensor 'q' (every launch takes q, o, lse and "
                     "qo_indptr)");
  }
  SECTION("o") {
    makePaged(p);
    p.tensors.o = {};
    expectInvalid(p, "missing tensor 'o' (every launch takes q, o, lse and "
                     "qo_indptr)");
  }
  SECTION("lse") {
    makeDense(p);
    p.tensors.lse = {};
    expectInvalid(p, "missing tensor 'lse' (every launch takes q, o, lse "
                     "and qo_indptr)");
  }
  SECTION("qo_indptr") {
    makeDense(p);
    p.tensors.qoIndptr = {};
    expectInvalid(p, "missing tensor 'qo_indptr' (every launch takes q, o, "
                     "lse and qo_indptr)");
  }
  SECTION("dense v") {
    makeDense(p);
    p.tensors.v = {};
    expectInvalid(p, "missing tensor 'v': kernel 'attnc_dense_test' uses a "
                     "dense KV cache (k, v, kv_indptr)");
  }
  SECTION("dense kv_indptr") {
    makeDense(p);
    p.tensors.kvIndptr = {};
    expectInvalid(p, "missing tensor 'kv_indptr': kernel 'attnc_dense_test' "
                     "uses a dense KV cache (k, v, kv_indptr)");
  }
  SECTION("a paged tensor given to a dense kernel") {
    makeDense(p);
    p.tensors.kCache = p.tensors.k;
    expectInvalid(p, "tensor 'k_cache' given, but kernel 'attnc_dense_test' "
                     "uses a dense KV cache (k, v, kv_indptr)");
  }
  SECTION("paged block_table") {
    makePaged(p);
    p.tensors.blockTable = {};
    expectInvalid(p, "missing tensor 'block_table': kernel "
                     "'attnc_paged_test' uses a paged KV cache (k_cache, "
                     "v_cache, block_table, kv_lens)");
  }
  SECTION("a dense tensor given to a paged kernel") {
    makePaged(p);
    p.tensors.kvIndptr = p.tensors.qoIndptr;
    expectInvalid(p, "tensor 'kv_indptr' given, but kernel "
                     "'attnc_paged_test' uses a paged KV cache (k_cache, "
                     "v_cache, block_table, kv_lens)");
  }
  SECTION("a param of the spec") {
    makeDense(p);
    p.tensors.params.erase("doc");
    expectInvalid(p, "missing param 'doc' (i32[batch, ?]) of kernel "
                     "'attnc_dense_test'");
  }
  SECTION("a param given without data") {
    makeDense(p);
    p.tensors.params["cap"] = {};
    expectInvalid(p, "missing param 'cap' (f32) of kernel "
                     "'attnc_dense_test'");
  }
  SECTION("an unknown param") {
    makeDense(p);
    p.tensors.params["window"] = p.tensors.params["prefix"];
    expectInvalid(p, "unknown param 'window': kernel 'attnc_dense_test' "
                     "declares slope, prefix, doc, cap");
  }
  SECTION("a param for a kernel without any") {
    makePaged(p);
    p.kernel.params.clear();
    p.tensors.params.erase("slope");
    p.tensors.params.erase("prefix");
    p.tensors.params.erase("cap");
    expectInvalid(p, "unknown param 'doc': kernel 'attnc_paged_test' "
                     "declares no params");
  }
}

TEST_CASE("tensors from two memories", "[validate]") {
  Problem p;
  makeDense(p);
  SECTION("k on the device") {
    p.tensors.k.memory = MemoryKind::Device;
    expectInvalid(p, "k is in device memory, but q is in host memory; a "
                     "launch takes all its tensors from one memory");
  }
  SECTION("a param on the host, the rest on the device") {
    for (TensorRef *t :
         {&p.tensors.q, &p.tensors.o, &p.tensors.lse, &p.tensors.qoIndptr,
          &p.tensors.k, &p.tensors.v, &p.tensors.kvIndptr})
      t->memory = MemoryKind::Device;
    p.tensors.params["prefix"].memory = MemoryKind::Device;
    p.tensors.params["doc"].memory = MemoryKind::Device;
    p.tensors.params["slope"].memory = MemoryKind::Device;
    expectInvalid(p, "param 'cap' is in host memory, but q is in device "
                     "memory; a launch takes all its tensors from one memory");
  }
}

TEST_CASE("wrong dtypes", "[validate]") {
  Problem p;
  SECTION("q f16 for a bf16 kernel") {
    makeDense(p);
    p.tensors.q.dtype = DType::F16;
    expectInvalid(p, "q is f16, but kernel 'attnc_dense_test' takes bf16 (q, "
                     "o and the KV tensors share the kernel's dtype)");
  }
  SECTION("o f32") {
    makeDense(p);
    p.tensors.o.dtype = DType::F32;
    expectInvalid(p, "o is f32, but kernel 'attnc_dense_test' takes bf16 (q, "
                     "o and the KV tensors share the kernel's dtype)");
  }
  SECTION("v f32") {
    makeDense(p);
    p.tensors.v.dtype = DType::F32;
    expectInvalid(p, "v is f32, but kernel 'attnc_dense_test' takes bf16 (q, "
                     "o and the KV tensors share the kernel's dtype)");
  }
  SECTION("v_cache bf16 for an fp16 kernel") {
    makePaged(p);
    p.tensors.vCache.dtype = DType::BF16;
    expectInvalid(p, "v_cache is bf16, but kernel 'attnc_paged_test' takes "
                     "f16 (q, o and the KV tensors share the kernel's dtype)");
  }
  SECTION("lse bf16") {
    makeDense(p);
    p.tensors.lse.dtype = DType::BF16;
    expectInvalid(p, "lse is bf16; lse is always f32");
  }
  SECTION("qo_indptr i64") {
    makeDense(p);
    p.tensors.qoIndptr.dtype = DType::I64;
    expectInvalid(p, "qo_indptr is i64; index tensors are i32");
  }
  SECTION("block_table f32") {
    makePaged(p);
    p.tensors.blockTable.dtype = DType::F32;
    expectInvalid(p, "block_table is f32; index tensors are i32");
  }
  SECTION("kv_lens i64") {
    makePaged(p);
    p.tensors.kvLens.dtype = DType::I64;
    expectInvalid(p, "kv_lens is i64; index tensors are i32");
  }
  SECTION("an f32 param given as i32") {
    makeDense(p);
    p.tensors.params["slope"].dtype = DType::I32;
    expectInvalid(p, "param 'slope' is i32, but is declared f32[q_heads]");
  }
  SECTION("an i32 param given as f32") {
    makeDense(p);
    p.tensors.params["prefix"].dtype = DType::F32;
    expectInvalid(p, "param 'prefix' is f32, but is declared i32[batch]");
  }
}

TEST_CASE("shapes that are not shapes", "[validate]") {
  Problem p;
  makeDense(p);
  SECTION("a negative dimension") {
    p.tensors.k.shape = {-5, 2, 8};
    expectInvalid(p, "k has shape [-5, 2, 8] with a negative dimension");
  }
  SECTION("a negative dynamic param extent") {
    p.tensors.params["doc"].shape = {3, -1};
    expectInvalid(p, "param 'doc' has shape [3, -1] with a negative "
                     "dimension");
  }
  SECTION("more elements than 64 bits count") {
    p.tensors.o.shape = {int64_t(1) << 62, 4, 8};
    expectInvalid(p, "o has shape [4611686018427387904, 4, 8], more "
                     "elements than fit in 64 bits");
  }
  SECTION("more bytes than 64 bits count") {
    p.tensors.lse.shape = {int64_t(1) << 60, 4};
    expectInvalid(p, "lse has shape [1152921504606846976, 4], more bytes "
                     "than fit in 64 bits");
  }
  SECTION("elements without data") {
    p.tensors.v.data = nullptr;
    expectInvalid(p, "v has shape [5, 2, 8] but no data (a null pointer)");
  }
}

TEST_CASE("wrong shapes", "[validate]") {
  Problem p;
  SECTION("q of rank 2") {
    makeDense(p);
    p.tensors.q.shape = {5, 32};
    expectInvalid(p, "q has shape [5, 32], expected [total_q, q_heads=4, "
                     "head_dim=8] (rank 2, not 3)");
  }
  SECTION("q with the wrong head count") {
    makeDense(p);
    p.tensors.q.shape = {5, 2, 8};
    expectInvalid(p, "q has shape [5, 2, 8], expected [total_q, q_heads=4, "
                     "head_dim=8] (dimension 1, q_heads, is 2, not 4)");
  }
  SECTION("q with the wrong head_dim") {
    makeDense(p);
    p.tensors.q.shape = {5, 4, 16};
    expectInvalid(p, "q has shape [5, 4, 16], expected [total_q, q_heads=4, "
                     "head_dim=8] (dimension 2, head_dim, is 16, not 8)");
  }
  SECTION("o with other rows than q") {
    makeDense(p);
    p.tensors.o.shape = {6, 4, 8};
    expectInvalid(p, "o has shape [6, 4, 8], expected [total_q=5, "
                     "q_heads=4, head_dim=8] (dimension 0, total_q, is 6, "
                     "not 5)");
  }
  SECTION("lse with a head_dim") {
    makeDense(p);
    p.tensors.lse.shape = {5, 4, 8};
    expectInvalid(p, "lse has shape [5, 4, 8], expected [total_q=5, "
                     "q_heads=4] (rank 3, not 2)");
  }
  SECTION("qo_indptr with no entry") {
    makeDense(p);
    p.tensors.qoIndptr.shape = {0};
    expectInvalid(p, "qo_indptr has shape [0], expected [batch+1]: an indptr "
                     "has at least one entry (batch 0 is [0])");
  }
  SECTION("qo_indptr of rank 2") {
    makeDense(p);
    p.tensors.qoIndptr.shape = {2, 2};
    expectInvalid(p, "qo_indptr has shape [2, 2], expected [batch+1] (rank "
                     "2, not 1)");
  }
  SECTION("kv_indptr for another batch") {
    makeDense(p);
    p.tensors.kvIndptr.shape = {3};
    expectInvalid(p, "kv_indptr has shape [3], expected [batch+1=4] "
                     "(dimension 0, batch+1, is 3, not 4)");
  }
  SECTION("k with the wrong KV head count") {
    makeDense(p);
    p.tensors.k.shape = {5, 4, 8};
    expectInvalid(p, "k has shape [5, 4, 8], expected [total_kv, "
                     "kv_heads=2, head_dim=8] (dimension 1, kv_heads, is 4, "
                     "not 2)");
  }
  SECTION("v with other rows than k") {
    makeDense(p);
    p.tensors.v.shape = {4, 2, 8};
    expectInvalid(p, "v has shape [4, 2, 8], expected [total_kv=5, "
                     "kv_heads=2, head_dim=8] (dimension 0, total_kv, is 4, "
                     "not 5)");
  }
  SECTION("k_cache with another page size than the kernel's") {
    makePaged(p);
    p.tensors.kCache.shape = {10, 8, 2, 16};
    expectInvalid(p, "k_cache has shape [10, 8, 2, 16], expected "
                     "[num_pages, page_size=4, kv_heads=2, head_dim=16] "
                     "(dimension 1, page_size, is 8, not 4)");
  }
  SECTION("v_cache with another pool size than k_cache") {
    makePaged(p);
    p.tensors.vCache.shape = {9, 4, 2, 16};
    expectInvalid(p, "v_cache has shape [9, 4, 2, 16], expected "
                     "[num_pages=10, page_size=4, kv_heads=2, head_dim=16] "
                     "(dimension 0, num_pages, is 9, not 10)");
  }
  SECTION("k_cache of rank 3") {
    makePaged(p);
    p.tensors.kCache.shape = {40, 2, 16};
    expectInvalid(p, "k_cache has shape [40, 2, 16], expected [num_pages, "
                     "page_size=4, kv_heads=2, head_dim=16] (rank 3, not 4)");
  }
  SECTION("block_table of rank 1") {
    makePaged(p);
    p.tensors.blockTable.shape = {9};
    expectInvalid(p, "block_table has shape [9], expected [batch=3, "
                     "max_pages] (rank 1, not 2)");
  }
  SECTION("block_table for another batch") {
    makePaged(p);
    p.tensors.blockTable.shape = {1, 9};
    expectInvalid(p, "block_table has shape [1, 9], expected [batch=3, "
                     "max_pages] (dimension 0, batch, is 1, not 3)");
  }
  SECTION("kv_lens for another batch") {
    makePaged(p);
    p.tensors.kvLens.shape = {2};
    expectInvalid(p, "kv_lens has shape [2], expected [batch=3] (dimension "
                     "0, batch, is 2, not 3)");
  }
}

TEST_CASE("param shapes", "[validate]") {
  Problem p;
  makeDense(p);
  SECTION("a q_heads extent") {
    p.tensors.params["slope"].shape = {2};
    expectInvalid(p, "param 'slope' has shape [2], expected [q_heads=4] "
                     "(dimension 0, q_heads, is 2, not 4)");
  }
  SECTION("a batch extent") {
    p.tensors.params["prefix"].shape = {2};
    expectInvalid(p, "param 'prefix' has shape [2], expected [batch=3] "
                     "(dimension 0, batch, is 2, not 3)");
  }
  SECTION("a rank") {
    p.tensors.params["doc"].shape = {18};
    expectInvalid(p, "param 'doc' has shape [18], expected [batch=3, ?] "
                     "(rank 1, not 2)");
  }
  SECTION("a scalar given as an array") {
    p.tensors.params["cap"].shape = {1};
    expectInvalid(p, "param 'cap' has shape [1], expected [] (rank 1, not "
                     "0)");
  }
  SECTION("a fixed extent and a kv_heads extent") {
    using Param = KernelInfo::Param;
    p.kernel.params.push_back({"table", true, {Param::kKVHeads, 3}});
    p.tensors.params["table"] = tensor(dummyData(), DType::F32, {2, 4});
    expectInvalid(p, "param 'table' has shape [2, 4], expected [kv_heads=2, "
                     "3] (dimension 1 is 4, not 3)");
    p.tensors.params["table"].shape = {1, 3};
    expectInvalid(p, "param 'table' has shape [1, 3], expected [kv_heads=2, "
                     "3] (dimension 0, kv_heads, is 1, not 2)");
    p.tensors.params["table"].shape = {2, 3};
    expectValid(p);
  }
}

TEST_CASE("counts beyond int32", "[validate]") {
  Problem p;
  int64_t huge = int64_t(INT32_MAX) + 1;
  SECTION("total_q") {
    makeDense(p);
    p.tensors.q.shape[0] = p.tensors.o.shape[0] = huge;
    p.tensors.lse.shape[0] = huge;
    expectInvalid(p, "q: total_q = 2147483648 does not fit in int32 "
                     "(qo_indptr holds i32 row offsets)");
  }
  SECTION("batch") {
    makeDense(p);
    p.kernel.params.clear();
    p.tensors.params.clear();
    p.tensors.qoIndptr.shape = {huge + 1};
    p.tensors.kvIndptr.shape = {huge + 1};
    expectInvalid(p, "qo_indptr: batch = 2147483648 does not fit in int32 "
                     "(the kernel's batch is an int)");
  }
  SECTION("total_kv") {
    makeDense(p);
    p.tensors.k.shape[0] = p.tensors.v.shape[0] = huge;
    expectInvalid(p, "k: total_kv = 2147483648 does not fit in int32 "
                     "(kv_indptr holds i32 row offsets)");
  }
  SECTION("num_pages") {
    makePaged(p);
    p.tensors.kCache.shape[0] = p.tensors.vCache.shape[0] = huge;
    expectInvalid(p, "k_cache: num_pages = 2147483648 does not fit in "
                     "int32 (block_table holds i32 page numbers)");
  }
  SECTION("max_pages") {
    makePaged(p);
    p.tensors.blockTable.shape[1] = huge;
    expectInvalid(p, "block_table: max_pages = 2147483648 does not fit in "
                     "int32 (the kernel's max_pages is an int)");
  }
  SECTION("a param extent") {
    makeDense(p);
    p.tensors.params["doc"].shape[1] = huge;
    expectInvalid(p, "param 'doc': dimension 1 = 2147483648 does not fit in "
                     "int32 (param extents are ints in the kernel)");
  }
  SECTION("large pools with 64-bit element offsets are fine") {
    makePaged(p);
    // 2^29 - 1 pages of 4 x 2 x 16 elements: far past int32 element
    // offsets, while the pool's rows (page * page_rows + slot) fit int32.
    p.tensors.kCache.shape[0] = p.tensors.vCache.shape[0] = INT32_MAX / 4;
    CHECK(validateTensorShapes(p.kernel, p.tensors).ok());
  }
  SECTION("a pool whose rows do not fit int32") {
    makePaged(p);
    p.tensors.kCache.shape[0] = p.tensors.vCache.shape[0] = INT32_MAX / 4 + 1;
    expectInvalid(p, "k_cache: 536870912 pages 4 rows apart span more rows "
                     "than fit in int32");
  }
}

TEST_CASE("indptr contents", "[validate]") {
  Problem p;
  makeDense(p);
  SECTION("qo_indptr not starting at 0") {
    p.qoIndptr = {1, 2, 2, 5};
    expectInvalid(p, "qo_indptr[0] = 1; an indptr starts at 0");
  }
  SECTION("qo_indptr decreasing") {
    p.qoIndptr = {0, 3, 2, 5};
    expectInvalid(p, "qo_indptr[2] = 2 is less than qo_indptr[1] = 3; an "
                     "indptr never decreases");
  }
  SECTION("qo_indptr ending short of q") {
    p.qoIndptr = {0, 2, 2, 4};
    expectInvalid(p, "qo_indptr[3] = 4, but q has 5 rows; the last entry "
                     "must be the row count");
  }
  SECTION("kv_indptr ending past k") {
    p.kvIndptr = {0, 4, 5, 6};
    expectInvalid(p, "kv_indptr[3] = 6, but k has 5 rows; the last entry "
                     "must be the row count");
  }
  SECTION("kv_indptr going negative") {
    p.kvIndptr = {0, -1, 5, 5};
    expectInvalid(p, "kv_indptr[1] = -1 is less than kv_indptr[0] = 0; an "
                     "indptr never decreases");
  }
}

TEST_CASE("paged index contents", "[validate]") {
  Problem p;
  makePaged(p);
  SECTION("a negative kv_len") {
    p.kvLens = {5, -3, 8};
    expectInvalid(p, "kv_lens[1] = -3 is negative");
  }
  SECTION("a kv_len longer than a block-table row") {
    p.kvLens = {5, 0, 13};
    expectInvalid(p, "kv_lens[2] = 13 does not fit a block_table row: "
                     "max_pages 3 * page_size 4 = 12 tokens");
  }
  SECTION("an entry past the page pool") {
    p.blockTable[7] = 917;
    expectInvalid(p, "block_table[2][1] = 917 points past the page pool "
                     "(k_cache has 10 pages; sequence 2 reads 2 pages for "
                     "kv_lens[2] = 8)");
  }
  SECTION("an entry one past the last page") {
    p.blockTable[1] = 10;
    expectInvalid(p, "block_table[0][1] = 10 points past the page pool "
                     "(k_cache has 10 pages; sequence 0 reads 2 pages for "
                     "kv_lens[0] = 5)");
  }
  SECTION("a negative entry in use") {
    p.blockTable[0] = -1;
    expectInvalid(p, "block_table[0][0] = -1 is negative (k_cache has 10 "
                     "pages; sequence 0 reads 2 pages for kv_lens[0] = 5)");
  }
  SECTION("one token past a page boundary reads the next page") {
    p.kvLens = {5, 0, 9};
    expectInvalid(p, "block_table[2][2] = -5 is negative (k_cache has 10 "
                     "pages; sequence 2 reads 3 pages for kv_lens[2] = 9)");
  }
  SECTION("a sequence of 2^30 keys") {
    // Positions must stay below 2^30 (the mask analysis proves q - kv
    // cannot wrap from it): one page of 256 tokens, read 2^22 times.
    const int64_t pages = int64_t(1) << 22;
    p.kernel.pageSize = 256;
    p.kvLens = {5, 0, int32_t(pages * 256)};
    p.blockTable.assign(3 * pages, 0);
    p.tensors.kCache = tensor(dummyData(), DType::F16, {10, 256, 2, 16});
    p.tensors.vCache = tensor(dummyData(), DType::F16, {10, 256, 2, 16});
    p.tensors.blockTable = indexTensor(p.blockTable, {3, pages});
    expectInvalid(p, "sequence 2 has 1073741824 keys; at most 1073741823 per "
                     "sequence are supported");
    p.kvLens[2] -= 1;
    expectValid(p);
  }
}

TEST_CASE("host copies that do not match their tensors", "[validate]") {
  Problem p;
  makePaged(p);
  HostIndexData host = hostIndexDataOf(p.tensors);
  SECTION("none for block_table") {
    host.blockTable = {};
    Status s = validateAttentionInputs(p.kernel, p.tensors, host);
    CHECK(s.code() == ErrorCode::InvalidArgument);
    CHECK(s.message() == "no host copy of block_table to check (9 entries "
                         "expected)");
  }
  SECTION("a short one for kv_lens") {
    host.kvLens.count = 2;
    Status s = validateAttentionInputs(p.kernel, p.tensors, host);
    CHECK(s.code() == ErrorCode::InvalidArgument);
    CHECK(s.message() == "the host copy of kv_lens has 2 entries, the tensor "
                         "has 3");
  }
  SECTION("a long one for a param") {
    host.params["doc"].count = 19;
    Status s = validateAttentionInputs(p.kernel, p.tensors, host);
    CHECK(s.code() == ErrorCode::InvalidArgument);
    CHECK(s.message() == "the host copy of param 'doc' has 19 entries, the "
                         "tensor has 18");
  }
}

TEST_CASE("a kernel description without a shape", "[validate]") {
  Problem p;
  makePaged(p);
  p.kernel.pageSize = 0;
  expectError(p, ErrorCode::InvalidArgument,
              "kernel 'attnc_paged_test' has no valid shape (q_heads 6, "
              "kv_heads 2, head_dim 16, page_size 0)");
}

TEST_CASE("tensor layouts", "[validate]") {
  Problem p;
  makePaged(p);
  // A page is [4, 2, 16]: 128 elements, rows of 32.
  SECTION("K and V in one [pages, 2, page_size, kv_heads, head_dim] tensor") {
    p.tensors.kCache.strides = {256, 32, 16, 1};
    p.tensors.vCache.strides = {256, 32, 16, 1};
    expectValid(p);
    CHECK(pageRows(p.kernel, p.tensors) == 8);
  }
  SECTION("row-major strides spelled out") {
    p.tensors.kCache.strides = {128, 32, 16, 1};
    expectValid(p);
    CHECK(pageRows(p.kernel, p.tensors) == 4);
  }
  SECTION("a page that is not dense") {
    p.tensors.kCache.strides = {128, 16, 64, 1}; // heads before tokens
    p.tensors.vCache.strides = {128, 16, 64, 1};
    expectInvalid(p, "k_cache: each page must be a dense [page_size, "
                     "kv_heads, head_dim] block (only the page dimension may "
                     "have its own stride)");
  }
  SECTION("K and V pages apart by different strides") {
    p.tensors.kCache.strides = {256, 32, 16, 1};
    expectInvalid(p, "k_cache's pages are 256 elements apart but v_cache's "
                     "128; the kernel takes one page stride for both");
  }
  SECTION("pages closer than a page, or not whole rows apart") {
    for (int64_t stride : {96, 136}) {
      p.tensors.kCache.strides = {stride, 32, 16, 1};
      p.tensors.vCache.strides = {stride, 32, 16, 1};
      expectInvalid(p, "the page stride of k_cache and v_cache, " +
                           std::to_string(stride) +
                           " elements, must be a multiple of kv_heads * "
                           "head_dim = 32 and at least a page (128)");
    }
  }
  SECTION("rows of the pool beyond int32") {
    p.tensors.kCache.strides = {int64_t(32) << 28, 32, 16, 1};
    p.tensors.vCache.strides = p.tensors.kCache.strides;
    expectInvalid(p, "k_cache: 10 pages 268435456 rows apart span more rows "
                     "than fit in int32");
  }
  SECTION("strides on any other tensor") {
    p.tensors.q.strides = {6 * 16 * 2, 16, 1};
    expectInvalid(p, "q is not row-major and dense; only k_cache and v_cache "
                     "may have a page stride of their own");
  }
  SECTION("a stride count that is not the rank") {
    p.tensors.kCache.strides = {128, 1};
    expectError(p, ErrorCode::InvalidArgument,
                "k_cache has 2 strides for 4 dimensions");
  }
}

TEST_CASE("data pointers aligned as the kernel reads them", "[validate]") {
  auto *base = static_cast<char *>(dummyData());
  SECTION("a dense K 8 bytes off a 16-byte boundary") {
    Problem p;
    makeDense(p);
    p.tensors.k.data = base + 8;
    std::ostringstream hex;
    hex << std::hex << std::showbase << reinterpret_cast<uintptr_t>(base + 8);
    expectInvalid(p, "k: data at " + hex.str() +
                         " is not 16-byte aligned; K and V are read in "
                         "16-byte chunks, so the first element must sit on a "
                         "16-byte boundary (a storage offset that is a "
                         "multiple of 8 elements)");
  }
  SECTION("a paged V cache 2 bytes off") {
    Problem p;
    makePaged(p);
    p.tensors.vCache.data = base + 2;
    Status s = p.validate();
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::StartsWith("v_cache: data at 0x"));
  }
  SECTION("an fp8 cache needs 8 bytes, not 16") {
    Problem p;
    makePaged(p);
    p.kernel.kvFormat = KernelInfo::KVFormat::E4M3;
    p.tensors.kCache.dtype = p.tensors.vCache.dtype = DType::F8E4M3;
    p.tensors.kCache.data = base + 8;
    p.tensors.vCache.data = base + 24;
    expectValid(p);
    p.tensors.kCache.data = base + 4;
    std::string message = p.validate().message();
    CHECK_THAT(message, Catch::Contains("is not 8-byte aligned") &&
                            Catch::Contains("multiple of 8 elements"));
  }
  SECTION("other tensors need their element's alignment") {
    Problem p;
    makeDense(p);
    p.tensors.q.data = base + 2;
    p.tensors.lse.data = base + 4;
    expectValid(p);
    p.tensors.lse.data = base + 2;
    std::string message = p.validate().message();
    CHECK_THAT(message, Catch::StartsWith("lse: data at 0x") &&
                            Catch::EndsWith("is not 4-byte aligned"));
  }
}

TEST_CASE("v_head_dim: V and O have their own width", "[validate]") {
  SECTION("dense") {
    Problem p;
    makeDense(p);
    p.kernel.vHeadDim = 16;
    p.tensors.v.shape = {5, 2, 16};
    p.tensors.o.shape = {5, 4, 16};
    expectValid(p);
    p.tensors.o.shape = {5, 4, 8};
    expectInvalid(p, "o has shape [5, 4, 8], expected [total_q=5, q_heads=4, "
                     "v_head_dim=16] (dimension 2, v_head_dim, is 8, not 16)");
    p.tensors.o.shape = {5, 4, 16};
    p.tensors.v.shape = {5, 2, 8};
    expectInvalid(p, "v has shape [5, 2, 8], expected [total_kv=5, "
                     "kv_heads=2, v_head_dim=16] (dimension 2, v_head_dim, is "
                     "8, not 16)");
  }
  SECTION("paged: each cache's pages dense in its own width") {
    Problem p;
    makePaged(p);
    p.kernel.vHeadDim = 32;
    p.tensors.vCache.shape = {10, 4, 2, 32};
    p.tensors.o.shape = {4, 6, 32};
    expectValid(p);
    // K and V in one tensor (pages further apart) needs one head dim.
    p.tensors.kCache.strides = {2 * 4 * 2 * 16, 2 * 16, 16, 1};
    expectInvalid(p, "k_cache: with v_head_dim 32 and head_dim 16 each cache "
                     "must be dense (pages 128 elements apart), not 256");
  }
}

TEST_CASE("a latent cache: V absent, or the view of K's first columns",
          "[validate]") {
  SECTION("paged: no v_cache") {
    Problem p;
    makePaged(p);
    p.kernel.latentKV = true;
    p.kernel.vHeadDim = 8;
    p.tensors.o.shape = {4, 6, 8};
    p.tensors.vCache = TensorRef();
    expectValid(p);
    // The view k_cache[..., :8]: K's storage and strides.
    p.tensors.vCache = p.tensors.kCache;
    p.tensors.vCache.shape = {10, 4, 2, 8};
    p.tensors.vCache.strides = {4 * 2 * 16, 2 * 16, 16, 1};
    expectValid(p);
    // A tensor of its own is not what the kernel reads.
    p.tensors.vCache.strides = {};
    expectInvalid(p, "tensor 'v_cache' given, but kernel 'attnc_paged_test' "
                     "has kv_layout = latent: V is the first 8 columns of "
                     "k_cache; pass no V tensor, or k_cache[..., :8] (the "
                     "same storage)");
  }
  SECTION("dense: v must start where k does") {
    Problem p;
    makeDense(p);
    p.kernel.latentKV = true;
    p.kernel.vHeadDim = 8;
    p.tensors.v = TensorRef();
    expectValid(p);
    p.tensors.v = p.tensors.k;
    expectValid(p); // v_head_dim = head_dim: the view is all of K
    p.tensors.v.data = static_cast<char *>(p.tensors.k.data) + 16;
    expectInvalid(
        p, "tensor 'v' given, but kernel 'attnc_dense_test' has "
           "kv_layout = latent: V is the first 8 columns of k; pass no V "
           "tensor, or k[..., :8] (the same storage)");
  }
  SECTION("a separate kernel still needs its V") {
    Problem p;
    makePaged(p);
    p.tensors.vCache = TensorRef();
    expectInvalid(p, "missing tensor 'v_cache': kernel 'attnc_paged_test' "
                     "uses a paged KV cache (k_cache, v_cache, block_table, "
                     "kv_lens)");
  }
}
