//===- CudaEmitter.cpp - Print lowered attn IR as CUDA C++ ----------------===//
//
// One pass over the ops of an attn.program, in order. Every SSA value gets a
// C++ name (vN, or the IR's block-argument names); each op prints one
// declaration and a statement or two. Tiles are per-warp slices (see
// attention_tile.cuh): a tensor<Br x N x f32> is this warp's AccTile<N>,
// a tensor<Br x f32> its RowVec, the Q tile its QTile, K/V tiles live in
// shared memory.
//
//===----------------------------------------------------------------------===//
#include "codegen/CudaEmitter.h"
#include "dialect/AttnDialect.h"
#include "dsl/AST.h"
#include "runtime/device/kernel_args.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Support/IndentedOstream.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

static_assert(KernelInfo::Param::kDynamic == kDynamicDim &&
                  KernelInfo::Param::kBatch == kBatchDim &&
                  KernelInfo::Param::kQHeads == kQHeadsDim &&
                  KernelInfo::Param::kKVHeads == kKVHeadsDim,
              "KernelInfo encodes parameter dimensions as attn.param does");

namespace {

/// Prints a float literal that reads back to the same f32 (and spells the
/// infinities without the INFINITY macro, which NVRTC lacks).
std::string floatLiteral(double value) {
  if (std::isinf(value))
    return value > 0 ? "attnc::dev::posInf()" : "attnc::dev::negInf()";
  if (std::isnan(value))
    return "__int_as_float(0x7fc00000)";
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%.9g", value);
  os.flush();
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s + "f";
}

class KernelEmitter {
public:
  KernelEmitter(KernelOp kernel, ProgramOp program, raw_indented_ostream &os,
                KernelInfo &info)
      : kernel(kernel), program(program), os(os), info(info) {}

  LogicalResult emit();

private:
  //===--------------------------------------------------------------------===//
  // Names and types
  //===--------------------------------------------------------------------===//

  std::string name(Value v) {
    auto it = names.find(v);
    if (it != names.end())
      return it->second;
    std::string n = "v" + std::to_string(nextId++);
    names[v] = n;
    return n;
  }
  std::string bind(Value v, StringRef n) { return names[v] = n.str(); }

  std::string elementType() const {
    return info.bf16 ? "attnc::dev::bf16" : "attnc::dev::f16";
  }

  /// A warp's slice of a Br x n f32 tile, and of a Br-row statistic: one
  /// to rowBlocksPerWarp blocks of 16 rows (warps = Br / (16 * that)).
  /// With column warps, every warp's share of every row of it
  /// (column_warps.cuh).
  std::string accType(int64_t n) const {
    if (columnWarps)
      return "attnc::dev::ColAcc<" + std::to_string(tileCols(n)) + ", " +
             std::to_string(columnWarps) + ", " +
             std::to_string(rowBlocksPerWarp) + ">";
    return "attnc::dev::AccTile<" + std::to_string(tileCols(n)) + blocksArg() +
           ">";
  }
  /// Columns a tile of `n` head-dim columns has in registers and shared
  /// memory: head_dim rounded up to the mma's k of 16 (the extra columns
  /// hold zeros and are never stored).
  /// With column warps the V and O columns are also padded, to whole n8
  /// tiles per warp (a multiple of lcm(16, 8 W), for Q and K too).
  int64_t tileCols(int64_t n) const {
    int64_t unit = columnWarps ? std::lcm<int64_t>(16, 8 * columnWarps) : 16;
    bool padded = n == info.headDim || (columnWarps && n == info.vHeadDim);
    return padded ? (n + unit - 1) / unit * unit : n;
  }
  /// Whether the head dim is padded (a multiple of 8 but not of 16).
  bool paddedHeadDim() const { return tileCols(info.headDim) != info.headDim; }
  std::string rowsType() const {
    if (columnWarps)
      return "attnc::dev::ColRows<" + std::to_string(columnWarps) + ", " +
             std::to_string(rowBlocksPerWarp) + ">";
    return rowBlocksPerWarp == 1
               ? std::string("attnc::dev::RowVec")
               : "attnc::dev::Rows<" + std::to_string(rowBlocksPerWarp) + ">";
  }
  /// Bytes of a tile of `rows` rows of the head dim in shared memory (rows
  /// padded by 8 elements, SmemTile::kStride).
  int smemTileBytes(int rows) const {
    return rows * static_cast<int>(tileCols(info.headDim) + 8) * 2;
  }
  int kvTileBytes() const { return smemTileBytes(info.blockKV); }
  /// Where the K tile starts: after the column warps' scratch, if any.
  int scratchBytes() const {
    return columnWarps
               ? columnWarpScratchBytes(columnWarps, info.blockQ, info.blockKV)
               : 0;
  }
  /// The V tile's bytes (after the K tile): v_head_dim columns. Where V
  /// is a view of the K tile (attn.k_prefix), the second K buffer of a
  /// double-buffered loop, or nothing.
  int vTileBytes() const {
    if (vViewsK)
      return doubleBufferedK ? kvTileBytes() : 0;
    return info.blockKV * static_cast<int>(tileCols(info.vHeadDim) + 8) * 2;
  }
  /// The row-block template argument, omitted at its default of 1.
  std::string blocksArg() const {
    return rowBlocksPerWarp == 1 ? "" : ", " + std::to_string(rowBlocksPerWarp);
  }

  /// The C++ type of a value that flows through variables (scalars, f32
  /// tiles), or failure for types only specific ops produce.
  FailureOr<std::string> typeOf(Type type, Operation *where) {
    if (type.isSignlessInteger(32) || type.isIndex())
      return std::string("int");
    if (type.isSignlessInteger(64))
      return std::string("long long");
    if (type.isInteger(1))
      return std::string("bool");
    if (type.isF32())
      return std::string("float");
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      // A K/V tile carried by a loop (prefetched): its shared-memory view.
      if ((tensor.getElementType().isF16() ||
           tensor.getElementType().isBF16()) &&
          tensor.getRank() == 2 && tensor.getDimSize(0) == info.blockKV &&
          tensor.getDimSize(1) == info.headDim)
        return "attnc::dev::SmemTile<" + elementType() + ", " +
               std::to_string(info.blockKV) + ", " +
               std::to_string(tileCols(info.headDim)) + ">";
      if (tensor.getElementType().isF32() && tensor.hasStaticShape()) {
        if (tensor.getDimSize(0) != info.blockQ)
          return where->emitOpError("tile of ")
                 << tensor.getDimSize(0) << " rows; the program's tiles have "
                 << info.blockQ;
        if (tensor.getRank() == 1)
          return rowsType();
        if (tensor.getRank() == 2)
          return accType(tensor.getDimSize(1));
      }
    }
    return where->emitOpError("cannot be printed as CUDA: unsupported type ")
           << type;
  }

  /// `type name` for a new variable holding `v`.
  FailureOr<std::string> declare(Value v, Operation *where) {
    FailureOr<std::string> type = typeOf(v.getType(), where);
    if (failed(type))
      return failure();
    return *type + " " + name(v);
  }

  //===--------------------------------------------------------------------===//
  // Expressions the tensor contract defines
  //===--------------------------------------------------------------------===//

  std::string qLenOf(StringRef b) {
    return "(args.qo_indptr[" + b.str() + " + 1] - args.qo_indptr[" + b.str() +
           "])";
  }
  /// q_positions of query row `row` (C++) of the sequence `op` reads,
  /// clamped to its last row as attn.q_position defines.
  std::string queryPosition(QPositionOp op, const std::string &row) {
    std::string last = "(" + name(op.getQLen()) + " - 1)";
    return "args.q_positions[args.qo_indptr[" + name(op.getBatch()) + "] + ((" +
           row + ") < " + last + " ? (" + row + ") : " + last + ")]";
  }
  /// The program's sequence index b.
  Value batchArg() {
    return program.getBody().front().getArgument(ProgramOp::kBatch);
  }
  std::string kvLenOf(StringRef b) {
    if (info.paged)
      return "attnc::dev::loadGlobal(args.kv_lens + " + b.str() + ")";
    return "(args.kv_indptr[" + b.str() + " + 1] - args.kv_indptr[" + b.str() +
           "])";
  }

  /// Offset of (the tile's first query row, its head) in a [total_q,
  /// q_heads, width] tensor; with packed heads, of head 0 (each row's head
  /// is added by the device function, see headArgs).
  std::string firstElement(const std::string &b, const std::string &row0,
                           Value head, int64_t width) {
    std::string row = "static_cast<long long>(args.qo_indptr[" + b + "] + " +
                      row0 + ") * " + std::to_string(info.qHeads);
    if (info.gqaPack == 1)
      row = "(" + row + " + " + name(head) + ")";
    return width == 1 ? row : row + " * " + std::to_string(width);
  }
  /// `<G>` for the packed forms of loadQ/storeO/storeLse.
  std::string packArgs() {
    return info.gqaPack > 1 ? "<" + std::to_string(info.gqaPack) + ">" : "";
  }
  /// loadQ/storeO's `<G, Cols>`: the packing and, for a padded head dim,
  /// the `cols` that exist in global memory.
  std::string rowArgs(int64_t cols) {
    if (tileCols(cols) == cols)
      return packArgs();
    return "<" + std::to_string(info.gqaPack) + ", " + std::to_string(cols) +
           ">";
  }
  /// The first query head of the tile's rows and the distance between heads.
  std::string headArgs(Value head, int64_t width) {
    if (info.gqaPack == 1)
      return "";
    return ", " + name(head) + " * " + std::to_string(info.gqaPack) + ", " +
           std::to_string(width);
  }

  //===--------------------------------------------------------------------===//
  // Ops
  //===--------------------------------------------------------------------===//

  LogicalResult emitBlock(Block &block);
  void emitMergeKernel();
  /// The attn.block_mask pre-pass: a second __global__ function.
  LogicalResult emitBlockMaskKernel();
  /// An expression block's ops, then `return` of what it yields (the body
  /// of a C++ lambda; the block's arguments are bound already).
  LogicalResult emitReturnOf(Block &block);
  /// `kernelName`_sim_launch: the kernel run by the SIMT emulator over
  /// dim3(`grid`), a C++ expression of gridX and args.
  void emitCascadeMergeKernel();
  void emitSimLauncher(const std::string &kernelName, const std::string &grid,
                       int threads, int sharedBytes);
  LogicalResult emitOp(Operation &op);
  LogicalResult emitArith(Operation &op);
  LogicalResult emitFor(scf::ForOp op);
  LogicalResult emitIf(scf::IfOp op);
  LogicalResult emitParamLoad(ParamLoadOp op);
  LogicalResult emitParamRange(ParamRangeOp op);
  /// The extent of each dimension of `param` (slot `index`), as C++.
  std::vector<std::string> paramExtents(ParamOp param, int index);
  LogicalResult emitKVLoad(Operation *op, Value tile, Value batch, Value head,
                           Value row0, Region &addr, bool isValue);
  LogicalResult emitElementwise(Operation *op, Value result, Value s,
                                Value batch, Value head, Value qPos0,
                                Value kvPos0, Region &body, Value kvLen);
  /// Defines `q` and `h`, the query position and head of tile row `row`
  /// (a C++ expression), and returns the name of the head variable.
  std::string emitRowPosition(const std::string &row, Value qPos0, Value head,
                              const std::string &q, const std::string &h);
  /// The query head of tile row `row`: %head, or, with packed heads, a new
  /// variable `h` = %head * G + row % G.
  std::string emitRowHead(const std::string &row, Value head,
                          const std::string &h);
  LogicalResult emitSink(SinkOp op);
  LogicalResult emitRowFactor(RowFactorOp op);
  /// Waits for the cp.async group that loads `tile` before its first use.
  void waitFor(Value tile);
  /// The loop-carried K tile a double_buffer load replaces.
  FailureOr<Value> replacedTile(LoadKOp load);

  /// A scalar statement `const T name = expr;`.
  LogicalResult defineScalar(Operation &op, const std::string &expr) {
    FailureOr<std::string> decl = declare(op.getResult(0), &op);
    if (failed(decl))
      return failure();
    os << "const " << *decl << " = " << expr << ";\n";
    return success();
  }

  KernelOp kernel;
  ProgramOp program;
  /// The kernel's runtime block mask pre-pass, if any.
  BlockMaskOp blockMask;
  raw_indented_ostream &os;
  KernelInfo &info;
  /// 16-row blocks each warp owns (set from the program's warps).
  int rowBlocksPerWarp = 1;
  /// With column_warps, how many warps split the columns (0: they split
  /// the rows).
  int columnWarps = 0;
  /// V tiles are views of K tiles (attn.k_prefix); K tiles alternate
  /// between two buffers (attn.load_k double_buffer).
  bool vViewsK = false, doubleBufferedK = false;
  llvm::DenseMap<Value, std::string> names;
  unsigned nextId = 0;
  /// K/V loads issued and not yet waited for, in issue order.
  SmallVector<Value> pendingLoads;
  /// Whether code printed so far touches shared memory (a barrier before a
  /// refill protects earlier readers; before the first write there are none).
  bool sharedMemoryUsed = false;
};

} // namespace

LogicalResult KernelEmitter::emit() {
  info.specName = kernel.getSymName().str();
  info.name = "attnc_" + info.specName;
  info.headDim = kernel.getHeadDim();
  info.vHeadDim = kernel.getValueHeadDim();
  info.latentKV = kernel.getLatentKv();
  info.qHeads = kernel.getQHeads();
  info.kvHeads = kernel.getKvHeads();
  info.bf16 = kernel.getDtype().isBF16();
  if (std::optional<Type> kv = kernel.getKvDtype())
    info.kvFormat = isa<Float8E4M3FNType>(*kv) ? KernelInfo::KVFormat::E4M3
                                               : KernelInfo::KVFormat::E5M2;
  info.paged = kernel.getKvCache() == KVCacheKind::paged;
  info.pageSize = kernel.getPageSize().value_or(0);
  if (!program.getBlockQ() || !program.getBlockKv())
    return program.emitOpError("must be tiled before code generation; run the "
                               "attn pipeline (attnc --emit=mlir) first");
  info.blockQ = *program.getBlockQ();
  info.blockKV = *program.getBlockKv();
  info.gqaPack = static_cast<int>(program.getPackFactor());
  info.splitKV = program.getKvSplit();
  if (info.splitKV)
    info.mergeName = "attnc_" + info.specName + "_merge";
  info.qPositions = program.getQPositions();
  if (info.qPositions)
    info.cascadeMergeName = "attnc_" + info.specName + "_cascade_merge";
  for (BlockMaskOp mask : kernel.getBody().front().getOps<BlockMaskOp>()) {
    if (blockMask)
      return mask.emitOpError("is the kernel's second block mask");
    blockMask = mask;
  }
  if (blockMask) {
    if (blockMask.getBlockQ() != *program.getBlockQ() ||
        blockMask.getBlockKv() != *program.getBlockKv() ||
        blockMask.getGqaPack() != program.getPackFactor())
      return blockMask.emitOpError("has another tiling than the program");
    info.blockMaskName = "attnc_" + info.specName + "_block_mask";
    info.blockMaskHeads = blockMask.getPerHead() ? info.gridHeads() : 1;
    blockMask.walk([&](ParamLoadOp load) {
      std::string param = load.getParam().str();
      if (!llvm::is_contained(info.blockMaskParams, param))
        info.blockMaskParams.push_back(param);
    });
  }
  info.threads = 32 * static_cast<int>(program.getWarpCount());
  if (program.getColumnWarps()) {
    columnWarps = static_cast<int>(program.getWarpCount());
    rowBlocksPerWarp = info.blockQ / 16;
  } else {
    rowBlocksPerWarp =
        info.blockQ / 16 / static_cast<int>(program.getWarpCount());
  }
  program.walk([&](Operation *op) {
    if (isa<KPrefixOp>(op))
      vViewsK = true;
    if (auto load = dyn_cast<LoadKOp>(op); load && load.getDoubleBuffer())
      doubleBufferedK = true;
  });
  // The column warps' scratch, one K and one V tile, rows padded by 8
  // elements (SmemTile::kStride), then the Q tile where it lives in shared
  // memory.
  info.sharedBytes = scratchBytes() + kvTileBytes() + vTileBytes();
  program.walk([&](LoadQOp load) {
    if (load.getShared())
      info.sharedBytes += smemTileBytes(info.blockQ);
  });
  for (ParamOp param : kernel.getBody().front().getOps<ParamOp>()) {
    KernelInfo::Param p;
    p.name = param.getSymName().str();
    p.isFloat = param.getElementType().isF32();
    // attn.param's dimension codes are KernelInfo::Param's.
    for (int64_t dim : param.getDims())
      p.dims.push_back(dim);
    info.params.push_back(std::move(p));
  }
  static_assert(dsl::kMaxParams == AttnKernelArgs::kMaxParams &&
                    dsl::kMaxParamRank == AttnKernelArgs::kMaxParamRank,
                "Sema's limits are the argument block's");
  if (info.params.size() > 8)
    return kernel.emitOpError("has ")
           << info.params.size() << " parameters; at most 8 are supported";

  os << "// attention " << info.specName << ": "
     << (info.bf16 ? "bf16" : "fp16") << ", head_dim " << info.headDim
     << ", heads " << info.qHeads << ":" << info.kvHeads << ", "
     << (info.paged
             ? "paged KV (page_size " + std::to_string(info.pageSize) + ")"
             : std::string("dense KV"))
     << ", tiles " << info.blockQ << "x" << info.blockKV << ".\n";
  if (info.gqaPack > 1)
    os << "// "
       << (info.gqaPack == info.qHeads / info.kvHeads
               ? "The " + std::to_string(info.gqaPack) +
                     " query heads of each KV head share"
               : std::to_string(info.gqaPack) + " of the " +
                     std::to_string(info.qHeads / info.kvHeads) +
                     " query heads of a KV head share")
       << " the tile rows: row r is query row r / " << info.gqaPack
       << ", head h * " << info.gqaPack << " + r % " << info.gqaPack << ".\n";
  os << "// grid (ceil(max_q_len / " << info.queryRowsPerBlock() << "), "
     << info.gridHeads() << ", batch), " << info.threads << " threads ("
     << info.threads / 32 << (columnWarps ? " warps sharing " : " warps of ")
     << 16 * rowBlocksPerWarp << " rows), " << info.sharedBytes
     << " bytes of dynamic shared memory.\n";
  // ptxas' CTAs-per-SM target: 0 leaves it to ptxas' heuristic, which can
  // trade a few spilled bytes for an occupancy step; the NVRTC driver then
  // recompiles with that occupancy asked for (runtime/jit/Nvrtc.cpp).
  std::string minCtas = std::string(kMinCtasMacroPrefix) + info.name;
  os << "#ifndef " << minCtas << "\n#define " << minCtas << " 0\n#endif\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << info.threads
     << ", " << minCtas << ") " << info.name
     << "(const attnc::AttnKernelArgs args) {\n";
  os.indent();
  os << "ATTNC_DYNAMIC_SMEM(unsigned char, smem);\n";
  Block &body = program.getBody().front();
  if (info.splitKV) {
    os << "// grid.x runs over (query tile, split) pairs.\n";
    os << "const int " << bind(body.getArgument(ProgramOp::kQTile), "qt")
       << " = blockIdx.x / args.num_splits;\n";
    os << "const int split = blockIdx.x % args.num_splits;\n";
  } else {
    os << "const int " << bind(body.getArgument(ProgramOp::kQTile), "qt")
       << " = blockIdx.x;\n";
  }
  os << "const int " << bind(body.getArgument(ProgramOp::kHead), "h")
     << " = blockIdx.y;\n";
  os << "const int " << bind(body.getArgument(ProgramOp::kBatch), "b")
     << " = blockIdx.z;\n";
  os << "// This program instance exists for query tiles inside the "
        "sequence.\n";
  os << "if (qt * " << info.queryRowsPerBlock() << " >= " << qLenOf("b")
     << ")\n";
  os << "  return;\n";
  // The sequence's KV length and first row, read once: attn.kv_len and
  // attn.kv_start of b print as these names. Read at each use, they would
  // be loaded again after every copy (its asm's memory clobber).
  os << "const int kv_len_b = " << kvLenOf("b") << ";\n";
  if (!info.paged)
    os << "const int kv_start_b = args.kv_indptr[b];\n";
  if (failed(emitBlock(body)))
    return failure();
  os.unindent();
  os << "}\n\n";

  emitSimLauncher(
      info.name, "gridX, " + std::to_string(info.gridHeads()) + ", args->batch",
      info.threads, info.sharedBytes);
  if (info.splitKV)
    emitMergeKernel();
  if (info.qPositions)
    emitCascadeMergeKernel();
  if (blockMask && failed(emitBlockMaskKernel()))
    return failure();
  return success();
}

LogicalResult KernelEmitter::emitBlockMaskKernel() {
  std::string rows = std::to_string(info.queryRowsPerBlock());
  os << "\n// attn.block_mask: the KV tiles each query tile sees, for the "
        "kernel above;\n// grid (ceil(max_q_len / "
     << rows << "), " << info.blockMaskHeads << ", batch), "
     << kBlockMaskThreads << " threads.\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << kBlockMaskThreads
     << ") " << info.blockMaskName << "(const attnc::AttnKernelArgs args) {\n";
  os.indent();
  os << "const int qt = blockIdx.x;\n";
  os << "const int h = blockIdx.y;\n";
  os << "const int b = blockIdx.z;\n";
  os << "const long long slot = attnc::dev::blockListSlot<"
     << info.blockMaskHeads << ">(args, b, h, qt);\n";
  os << "const int q_len = " << qLenOf("b") << ";\n";
  os << "if (qt * " << rows << " >= q_len) {\n";
  os << "  if (threadIdx.x == 0)\n";
  os << "    args.block_counts[slot] = 0;\n";
  os << "  return;\n";
  os << "}\n";
  os << "const int kv_len = " << kvLenOf("b") << ";\n";
  // The tile-level bound: bit 0, some element can be visible; bit 1, some
  // can be masked (every tile is mixed without one).
  os << "const auto classify = [&](int head_first, int head_last, int "
        "q_first, int q_last, int kv_first, int kv_last) -> int {\n";
  os.indent();
  if (blockMask.getClassify().empty()) {
    os << "return 3;\n";
  } else {
    Block &classify = blockMask.getClassify().front();
    const char *argNames[BlockMaskOp::kNumClassifyArgs] = {
        "b",      "head_first", "head_last", "q_first",
        "q_last", "kv_first",   "kv_last"};
    for (auto [arg, argName] : llvm::zip(classify.getArguments(), argNames))
      bind(arg, argName);
    if (failed(emitReturnOf(classify)))
      return failure();
  }
  os.unindent();
  os << "};\n";
  os << "attnc::dev::buildBlockList<" << info.blockQ << ", " << info.gqaPack
     << ", " << info.blockKV
     << ">(args, slot, qt, h, q_len, kv_len, classify, [&](int q, int head, "
        "int kv) {\n";
  os.indent();
  Block &block = blockMask.getBody().front();
  bind(block.getArgument(SdpaOp::kBatch), "b");
  bind(block.getArgument(SdpaOp::kHead), "head");
  bind(block.getArgument(SdpaOp::kQ), "q");
  bind(block.getArgument(SdpaOp::kKV), "kv");
  if (failed(emitReturnOf(block)))
    return failure();
  os.unindent();
  os << "});\n";
  os.unindent();
  os << "}\n\n";
  emitSimLauncher(info.blockMaskName,
                  "gridX, " + std::to_string(info.blockMaskHeads) +
                      ", args->batch",
                  kBlockMaskThreads, 0);
  return success();
}

LogicalResult KernelEmitter::emitReturnOf(Block &block) {
  for (Operation &inner : block.without_terminator())
    if (failed(emitOp(inner)))
      return failure();
  os << "return " << name(cast<YieldOp>(block.getTerminator()).getValue())
     << ";\n";
  return success();
}

void KernelEmitter::emitMergeKernel() {
  os << "\n// attn.merge_splits: one (query row, head) per warp; grid "
        "ceil(total_q * "
     << info.qHeads << " / " << kMergeSlotsPerBlock << ").\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << kMergeThreads
     << ") " << info.mergeName << "(const attnc::AttnKernelArgs args) {\n";
  os << "  attnc::dev::mergeSplits<" << elementType() << ", " << info.vHeadDim
     << ">(args, " << info.qHeads << ");\n";
  os << "}\n\n";
  emitSimLauncher(info.mergeName, "gridX", kMergeThreads, 0);
}

void KernelEmitter::emitCascadeMergeKernel() {
  os << "\n// Cascade attention's merge of the prefix and suffix launches: one "
        "(query row, head) per warp; grid ceil(total_q * "
     << info.qHeads << " / " << kMergeSlotsPerBlock << ").\n";
  os << "extern \"C\" __global__ void __launch_bounds__(" << kMergeThreads
     << ") " << info.cascadeMergeName
     << "(const attnc::AttnKernelArgs args) {\n";
  os << "  attnc::dev::mergeCascade<" << elementType() << ", " << info.vHeadDim
     << ">(args, " << info.qHeads << ");\n";
  os << "}\n\n";
  emitSimLauncher(info.cascadeMergeName, "gridX", kMergeThreads, 0);
}

void KernelEmitter::emitSimLauncher(const std::string &kernelName,
                                    const std::string &grid, int threads,
                                    int sharedBytes) {
  // The same kernel run by the SIMT emulator.
  os << "#ifdef ATTNC_SIM\n";
  os << "extern \"C\" int " << kernelName
     << "_sim_launch(const attnc::AttnKernelArgs *args, unsigned gridX, "
        "char *error, unsigned long errorSize) {\n";
  os.indent();
  os << "attnc::sim::LaunchStatus status = attnc::sim::launch(\"" << kernelName
     << "\", dim3(" << grid << "), dim3(" << threads << "), " << sharedBytes
     << ", " << kernelName << ", *args);\n";
  os << "if (status.ok())\n";
  os << "  return 0;\n";
  os << "std::snprintf(error, errorSize, \"%s\", status.message.c_str());\n";
  os << "return 1;\n";
  os.unindent();
  os << "}\n";
  os << "#endif\n";
}

LogicalResult KernelEmitter::emitBlock(Block &block) {
  for (Operation &op : block)
    if (failed(emitOp(op)))
      return failure();
  return success();
}

FailureOr<Value> KernelEmitter::replacedTile(LoadKOp load) {
  auto loop = load->getParentOfType<scf::ForOp>();
  if (loop && load->getBlock() == loop.getBody())
    for (OpOperand &use : load->getUses())
      if (isa<scf::YieldOp>(use.getOwner()) &&
          use.getOwner()->getBlock() == loop.getBody())
        return Value(loop.getRegionIterArgs()[use.getOperandNumber()]);
  return load.emitOpError("is double_buffer but not yielded by its loop to "
                          "replace the tile it carries");
}

void KernelEmitter::waitFor(Value tile) {
  // A view (attn.k_prefix) is ready when the tile it views is.
  if (auto view = tile.getDefiningOp<KPrefixOp>())
    tile = view.getK();
  auto it = llvm::find(pendingLoads, tile);
  if (it == pendingLoads.end())
    return;
  int younger = static_cast<int>(pendingLoads.end() - it) - 1;
  // An fp8 tile is widened with plain loads and stores: only the barrier.
  if (!info.kvFp8())
    os << "attnc::dev::cpAsyncWait<" << younger << ">();\n";
  os << "__syncthreads();\n";
  pendingLoads.erase(pendingLoads.begin(), it + 1);
}

LogicalResult KernelEmitter::emitOp(Operation &op) {
  if (op.getDialect() &&
      isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
    return emitArith(op);

  int64_t d = info.headDim, dv = info.vHeadDim;
  std::string T = elementType();
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](scf::ForOp o) { return emitFor(o); })
      .Case([&](scf::IfOp o) { return emitIf(o); })
      .Case([&](scf::YieldOp) { return success(); }) // handled by the parent
      .Case([&](QLenOp o) {
        return defineScalar(op, qLenOf(name(o.getBatch())));
      })
      .Case([&](KVLenOp o) {
        if (o.getBatch() == batchArg()) {
          bind(o.getResult(), "kv_len_b");
          return success();
        }
        return defineScalar(op, kvLenOf(name(o.getBatch())));
      })
      .Case([&](QPositionOp o) {
        return defineScalar(op, queryPosition(o, name(o.getRow())));
      })
      .Case([&](QSpanOp o) {
        // Warp-cooperative, like attn.param_range: every lane of the warp
        // gets the same bounds.
        std::string b = name(o.getBatch()),
                    r = "span" + std::to_string(nextId++);
        os << "const attnc::dev::IntRange " << r
           << " = attnc::dev::paramRange(args.q_positions, args.qo_indptr[" << b
           << "], 1, " << qLenOf(b) << ", true, " << name(o.getRow0()) << ", "
           << name(o.getRow0()) << " + " << name(o.getRows()) << " - 1);\n";
        bind(o.getMin(), r + ".min");
        bind(o.getMax(), r + ".max");
        return success();
      })
      .Case([&](TileStartOp o) -> LogicalResult {
        if (!o.getTile())
          return o.emitOpError("has no tile size; run attn-tile first");
        return defineScalar(op, name(o.getIndex()) + " * " +
                                    std::to_string(*o.getTile()));
      })
      .Case([&](NumTilesOp o) -> LogicalResult {
        if (!o.getTile())
          return o.emitOpError("has no tile size; run attn-tile first");
        std::string t = std::to_string(*o.getTile());
        return defineScalar(op, "(" + name(o.getLen()) + " + " + t +
                                    " - 1) / " + t);
      })
      .Case([&](TileOfRangesOp o) {
        std::string bounds;
        for (Value bound : o.getBounds())
          bounds += (bounds.empty() ? "" : ", ") + name(bound);
        return defineScalar(op, "attnc::dev::tileOfRanges(" + name(o.getT()) +
                                    ", {" + bounds + "})");
      })
      .Case([&](BlockCountOp o) {
        return defineScalar(op, "attnc::dev::blockCount<" +
                                    std::to_string(info.blockMaskHeads) +
                                    ">(args, " + name(o.getBatch()) + ", " +
                                    name(o.getHead()) + ", " +
                                    name(o.getQTile()) + ")");
      })
      .Case([&](BlockEntryOp o) {
        std::string r = "entry" + std::to_string(nextId++);
        os << "const attnc::dev::BlockEntry " << r
           << " = attnc::dev::blockEntry<" << info.blockMaskHeads << ">(args, "
           << name(o.getBatch()) << ", " << name(o.getHead()) << ", "
           << name(o.getQTile()) << ", " << name(o.getT()) << ", "
           << name(o.getCount()) << ");\n";
        bind(o.getTile(), r + ".tile");
        bind(o.getFull(), r + ".full");
        return success();
      })
      .Case([&](SplitIndexOp) { return defineScalar(op, "split"); })
      .Case([&](NumSplitsOp) { return defineScalar(op, "args.num_splits"); })
      .Case([&](PageRowsOp) { return defineScalar(op, "args.page_rows"); })
      .Case([&](KVStartOp o) {
        if (o.getBatch() == batchArg() && !info.paged) {
          bind(o.getResult(), "kv_start_b");
          return success();
        }
        return defineScalar(op, "args.kv_indptr[" + name(o.getBatch()) + "]");
      })
      .Case([&](BlockTableOp o) {
        return defineScalar(op, "attnc::dev::loadGlobal(args.block_table + "
                                "static_cast<long long>(" +
                                    name(o.getBatch()) +
                                    ") * args.max_pages + " +
                                    name(o.getIndex()) + ")");
      })
      .Case([&](ParamLoadOp o) { return emitParamLoad(o); })
      .Case([&](ParamRangeOp o) { return emitParamRange(o); })
      .Case([&](LoadQOp o) -> LogicalResult {
        std::string b = name(o.getBatch()), row0 = name(o.getRow0());
        if (o.getShared()) {
          // After the K and V tiles (info.sharedBytes counts it).
          os << "const attnc::dev::SmemTile<" << T << ", " << info.blockQ
             << ", " << tileCols(d) << "> " << name(o) << "{reinterpret_cast<"
             << T << " *>(smem + "
             << scratchBytes() + kvTileBytes() + vTileBytes() << ")};\n";
          // Column warps all read every row: the CTA loads them together.
          if (columnWarps)
            os << "attnc::dev::loadQSharedAll<" << info.gqaPack << ", "
               << (paddedHeadDim() ? d : 0) << ">(" << name(o);
          else
            os << "attnc::dev::loadQShared<" << info.gqaPack << ", "
               << (paddedHeadDim() ? d : 0) << ", " << rowBlocksPerWarp << ">("
               << name(o);
        } else {
          os << "attnc::dev::QTile<" << T << ", " << tileCols(d) << blocksArg()
             << "> " << name(o) << ";\n";
          os << "attnc::dev::loadQ" << rowArgs(d) << "(" << name(o);
        }
        os << ", static_cast<const " << T << " *>(args.q) + "
           << firstElement(b, row0, o.getHead(), d) << ", "
           << static_cast<long long>(info.qHeads) * d << "LL, " << qLenOf(b)
           << " - " << row0 << headArgs(o.getHead(), d) << ");\n";
        return success();
      })
      .Case([&](WaitOp o) {
        // The tile's copy, then every thread: a barrier even when the tile
        // was waited for already (buffer_free loads rely on it).
        auto it = llvm::find(pendingLoads, o.getTile());
        if (it != pendingLoads.end()) {
          if (!info.kvFp8())
            os << "attnc::dev::cpAsyncWait<" << (pendingLoads.end() - it - 1)
               << ">();\n";
          pendingLoads.erase(pendingLoads.begin(), it + 1);
        }
        os << "__syncthreads();\n";
        return success();
      })
      .Case([&](LoadKOp o) {
        return emitKVLoad(&op, o, o.getBatch(), o.getKvHead(), o.getRow0(),
                          o.getAddr(), /*isValue=*/false);
      })
      .Case([&](LoadVOp o) {
        return emitKVLoad(&op, o, o.getBatch(), o.getKvHead(), o.getRow0(),
                          o.getAddr(), /*isValue=*/true);
      })
      .Case([&](KPrefixOp o) -> LogicalResult {
        // The V tile of a latent cache: the K tile's first columns, with
        // the K tile's row stride.
        os << "const attnc::dev::SmemTile<" << T << ", " << info.blockKV << ", "
           << tileCols(dv) << ", " << tileCols(d) + 8 << "> " << name(o.getV())
           << "{" << name(o.getK()) << ".p};\n";
        return success();
      })
      .Case([&](FillOp o) -> LogicalResult {
        if (o.getRows())
          return o.emitOpError("has a dynamic extent; run attn-tile first");
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::fill(" << name(o) << ", "
           << floatLiteral(o.getValue().convertToDouble()) << ");\n";
        return success();
      })
      .Case([&](QKOp o) -> LogicalResult {
        waitFor(o.getK());
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::qk(" << name(o) << ", " << name(o.getQ()) << ", "
           << name(o.getK()) << ", "
           << floatLiteral(o.getScale().convertToDouble()) << ");\n";
        // One QK^T per KV tile a program visits (counted under sim only).
        os << "attnc::dev::countKVTile();\n";
        return success();
      })
      .Case([&](ScoreModOp o) {
        return emitElementwise(&op, o, o.getS(), o.getBatch(), o.getHead(),
                               o.getQPos0(), o.getKvPos0(), o.getBody(),
                               Value());
      })
      .Case([&](MaskOp o) {
        return emitElementwise(&op, o, o.getS(), o.getBatch(), o.getHead(),
                               o.getQPos0(), o.getKvPos0(), o.getBody(),
                               o.getKvLen());
      })
      .Case([&](SinkOp o) { return emitSink(o); })
      .Case([&](RowFactorOp o) { return emitRowFactor(o); })
      .Case([&](ScaleOp o) -> LogicalResult {
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::scale(" << name(o) << ", " << name(o.getS()) << ", "
           << floatLiteral(o.getFactor().convertToDouble()) << ");\n";
        return success();
      })
      .Case([&](RowMaxOp o) -> LogicalResult {
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::rowMax(" << name(o) << ", " << name(o.getS()) << ", "
           << name(o.getM()) << ");\n";
        return success();
      })
      .Case([&](Exp2DiffOp o) -> LogicalResult {
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::exp2Diff(" << name(o) << ", " << name(o.getX())
           << ", " << name(o.getM());
        if (o.getScale())
          os << ", " << floatLiteral(o.getScale()->convertToDouble());
        os << ");\n";
        return success();
      })
      .Case([&](RowSumOp o) -> LogicalResult {
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::rowSum(" << name(o) << ", " << name(o.getP()) << ", "
           << name(o.getL()) << ", " << name(o.getAlpha()) << ");\n";
        return success();
      })
      .Case([&](RescaleOp o) -> LogicalResult {
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::rescale(" << name(o) << ", " << name(o.getAcc())
           << ", " << name(o.getAlpha()) << ");\n";
        return success();
      })
      .Case([&](PVOp o) -> LogicalResult {
        waitFor(o.getV());
        FailureOr<std::string> decl = declare(o, &op);
        if (failed(decl))
          return failure();
        os << *decl << ";\n";
        os << "attnc::dev::pv(" << name(o) << ", " << name(o.getP()) << ", "
           << name(o.getV()) << ", " << name(o.getAcc()) << ");\n";
        return success();
      })
      .Case([&](FinalizeOp o) -> LogicalResult {
        FailureOr<std::string> o1 = declare(o.getO(), &op);
        FailureOr<std::string> o2 = declare(o.getLse(), &op);
        if (failed(o1) || failed(o2))
          return failure();
        os << *o1 << ";\n" << *o2 << ";\n";
        os << "attnc::dev::finalize(" << name(o.getO()) << ", "
           << name(o.getLse()) << ", " << name(o.getAcc()) << ", "
           << name(o.getM()) << ", " << name(o.getL());
        if (o.getScale())
          os << ", " << floatLiteral(o.getScale()->convertToDouble());
        os << ");\n";
        return success();
      })
      .Case([&](StoreOp o) -> LogicalResult {
        auto type = cast<RankedTensorType>(o.getTile().getType());
        std::string b = name(o.getBatch()), row0 = name(o.getRow0());
        std::string rows = qLenOf(b) + " - " + row0;
        if (info.splitKV) {
          // This split's partial result, f32, in the workspace.
          std::string plane = "static_cast<long long>(split) * args.qo_indptr"
                              "[args.batch] * " +
                              std::to_string(info.qHeads);
          if (type.getRank() == 2)
            os << "attnc::dev::storeO" << rowArgs(dv) << "(args.o_partial + ("
               << plane << " * " << dv << " + "
               << firstElement(b, row0, o.getHead(), dv) << "), "
               << static_cast<long long>(info.qHeads) * dv << "LL, " << rows
               << ", " << name(o.getTile()) << headArgs(o.getHead(), dv)
               << ");\n";
          else {
            // The LSE in its two parts, the scaled maximum and the log of
            // the sum, from the finalize that formed it (the merge weighs
            // splits by their difference of maxima: exact where one f32
            // LSE would round the sum's log away).
            auto finalize = o.getTile().getDefiningOp<FinalizeOp>();
            if (!finalize || finalize.getLse() != o.getTile())
              return o.emitOpError("stores a split's LSE that no "
                                   "attn.finalize formed");
            std::string at = "(" + plane + " + " +
                             firstElement(b, row0, o.getHead(), 1) + ")";
            double scale = finalize.getScale()
                               ? finalize.getScale()->convertToDouble()
                               : 1.0;
            os << "attnc::dev::storeLseParts" << packArgs()
               << "(args.lse_partial + " << at << ", args.lse_partial + "
               << "static_cast<long long>(args.num_splits) * "
                  "args.qo_indptr[args.batch] * "
               << info.qHeads << " + " << at << ", " << info.qHeads << "LL, "
               << rows << ", " << name(finalize.getM()) << ", "
               << name(finalize.getL()) << ", " << floatLiteral(scale)
               << headArgs(o.getHead(), 1) << ");\n";
          }
          return success();
        }
        if (type.getRank() == 2) {
          os << "attnc::dev::storeO" << rowArgs(dv) << "(static_cast<" << T
             << " *>(args.o) + " << firstElement(b, row0, o.getHead(), dv)
             << ", " << static_cast<long long>(info.qHeads) * dv << "LL, "
             << rows << ", " << name(o.getTile()) << headArgs(o.getHead(), dv)
             << ");\n";
        } else {
          os << "attnc::dev::storeLse" << packArgs() << "(args.lse + "
             << firstElement(b, row0, o.getHead(), 1) << ", " << info.qHeads
             << "LL, " << rows << ", " << name(o.getTile())
             << headArgs(o.getHead(), 1) << ");\n";
        }
        return success();
      })
      .Default([&](Operation *) {
        return op.emitOpError("has no CUDA form; is the IR fully lowered?");
      });
}

/// Whether integer op `op` is marked as never overflowing (nsw).
static bool noSignedWrap(arith::ArithIntegerOverflowFlagsInterface op) {
  return op.hasNoSignedWrap();
}

/// Whether C's `/` and `%` are defined for every dividend with divisor `v`:
/// a constant other than 0 and -1.
static bool plainDivisor(Value v) {
  APInt divisor;
  return matchPattern(v, m_ConstantInt(&divisor)) && !divisor.isZero() &&
         !divisor.isAllOnes();
}

LogicalResult KernelEmitter::emitArith(Operation &op) {
  auto in = [&](unsigned i) { return name(op.getOperand(i)); };
  auto bin = [&](StringRef sym) {
    return defineScalar(op, "(" + in(0) + " " + sym.str() + " " + in(1) + ")");
  };
  auto call = [&](StringRef fn) {
    std::string args;
    for (unsigned i = 0; i < op.getNumOperands(); ++i)
      args += (i ? ", " : "") + in(i);
    return defineScalar(op, fn.str() + "(" + args + ")");
  };
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case([&](arith::ConstantOp c) -> LogicalResult {
        Attribute value = c.getValue();
        if (auto f = dyn_cast<FloatAttr>(value))
          return defineScalar(op, floatLiteral(f.getValueAsDouble()));
        if (auto i = dyn_cast<IntegerAttr>(value)) {
          if (i.getType().isInteger(1))
            return defineScalar(op, i.getValue().isZero() ? "false" : "true");
          return defineScalar(op, std::to_string(i.getValue().getSExtValue()));
        }
        return c.emitOpError("has no CUDA form for this constant");
      })
      // arith's + - * wrap unless marked nsw (the passes mark their own
      // index arithmetic; the DSL's is left wrapping), and its division
      // by a runtime value has the DSL's defined results for 0 and -1.
      .Case([&](arith::AddIOp o) {
        return noSignedWrap(o) ? bin("+") : call("attnc::dev::wrapAdd");
      })
      .Case([&](arith::SubIOp o) {
        return noSignedWrap(o) ? bin("-") : call("attnc::dev::wrapSub");
      })
      .Case([&](arith::MulIOp o) {
        return noSignedWrap(o) ? bin("*") : call("attnc::dev::wrapMul");
      })
      .Case([&](arith::DivSIOp o) {
        return plainDivisor(o.getRhs()) ? bin("/") : call("attnc::dev::divS");
      })
      .Case([&](arith::RemSIOp o) {
        return plainDivisor(o.getRhs()) ? bin("%") : call("attnc::dev::remS");
      })
      // Unsigned division only comes from the passes' own index arithmetic,
      // always by a positive constant (the DSL's `/` is signed).
      .Case<arith::DivUIOp, arith::RemUIOp>([&](auto o) -> LogicalResult {
        APInt divisor;
        if (!matchPattern(o.getRhs(), m_ConstantInt(&divisor)) ||
            divisor.isZero() || divisor.isNegative())
          return o.emitOpError("has no CUDA form but by a positive constant");
        const char *sym = isa<arith::DivUIOp>(op) ? " / " : " % ";
        return defineScalar(
            op, "static_cast<int>(static_cast<unsigned>(" + in(0) + ")" + sym +
                    std::to_string(divisor.getZExtValue()) + "u)");
      })
      .Case([&](arith::ExtSIOp) {
        return defineScalar(op, "static_cast<long long>(" + in(0) + ")");
      })
      .Case([&](arith::ExtUIOp o) {
        // Zero extension: of an i1 (the canonical form of a 0/1 select),
        // or of the unsigned bits of an i32.
        if (o.getIn().getType().isInteger(1))
          return defineScalar(op, "(" + in(0) + " ? 1 : 0)");
        return defineScalar(
            op, "static_cast<long long>(static_cast<unsigned>(" + in(0) + "))");
      })
      .Case([&](arith::TruncIOp) {
        // Modular, as arith.trunci: the value's low 32 bits.
        return defineScalar(op, "static_cast<int>(static_cast<unsigned>(" +
                                    in(0) + "))");
      })
      .Case([&](arith::CeilDivSIOp) { return call("attnc::dev::ceilDivS"); })
      .Case([&](arith::FloorDivSIOp) { return call("attnc::dev::floorDivS"); })
      .Case([&](arith::MinSIOp) {
        return defineScalar(op, "(" + in(0) + " < " + in(1) + " ? " + in(0) +
                                    " : " + in(1) + ")");
      })
      .Case([&](arith::MaxSIOp) {
        return defineScalar(op, "(" + in(0) + " > " + in(1) + " ? " + in(0) +
                                    " : " + in(1) + ")");
      })
      .Case([&](arith::AndIOp) {
        return bin(op.getResult(0).getType().isInteger(1) ? "&&" : "&");
      })
      .Case([&](arith::OrIOp) {
        return bin(op.getResult(0).getType().isInteger(1) ? "||" : "|");
      })
      .Case([&](arith::XOrIOp) {
        return bin(op.getResult(0).getType().isInteger(1) ? "!=" : "^");
      })
      .Case([&](arith::SelectOp) {
        return defineScalar(op,
                            "(" + in(0) + " ? " + in(1) + " : " + in(2) + ")");
      })
      .Case([&](arith::CmpIOp c) -> LogicalResult {
        using P = arith::CmpIPredicate;
        switch (c.getPredicate()) {
        case P::eq:
          return bin("==");
        case P::ne:
          return bin("!=");
        case P::slt:
          return bin("<");
        case P::sle:
          return bin("<=");
        case P::sgt:
          return bin(">");
        case P::sge:
          return bin(">=");
        default:
          return c.emitOpError("unsigned comparisons have no CUDA form here");
        }
      })
      .Case([&](arith::CmpFOp c) -> LogicalResult {
        // C's float comparisons are ordered, except != which is unordered.
        using P = arith::CmpFPredicate;
        switch (c.getPredicate()) {
        case P::OEQ:
          return bin("==");
        case P::UNE:
          return bin("!=");
        case P::OLT:
          return bin("<");
        case P::OLE:
          return bin("<=");
        case P::OGT:
          return bin(">");
        case P::OGE:
          return bin(">=");
        default:
          return c.emitOpError("this float predicate has no CUDA form here");
        }
      })
      .Case([&](arith::SIToFPOp) {
        return defineScalar(op, "static_cast<float>(" + in(0) + ")");
      })
      .Case([&](arith::AddFOp) { return bin("+"); })
      .Case([&](arith::SubFOp) { return bin("-"); })
      .Case([&](arith::MulFOp) { return bin("*"); })
      .Case([&](arith::DivFOp o) -> LogicalResult {
        // By a finite non-zero constant: a multiply and an FMA correction
        // instead of IEEE division's slow-path branch (dsl_math.cuh).
        APFloat divisor(0.0f);
        if (matchPattern(o.getRhs(), m_ConstantFloat(&divisor)) &&
            divisor.isFiniteNonZero()) {
          double c = divisor.convertToDouble();
          return defineScalar(
              op, "attnc::dev::divByConst(" + in(0) + ", " + floatLiteral(c) +
                      ", " + floatLiteral(static_cast<float>(1.0 / c)) + ")");
        }
        return bin("/");
      })
      .Case([&](arith::NegFOp) { return defineScalar(op, "(-" + in(0) + ")"); })
      .Case([&](arith::MinimumFOp) { return call("fminf"); })
      .Case([&](arith::MaximumFOp) { return call("fmaxf"); })
      .Case([&](math::ExpOp) { return call("expf"); })
      .Case([&](math::Exp2Op) { return call("exp2f"); })
      .Case([&](math::LogOp) { return call("logf"); })
      .Case([&](math::Log2Op) { return call("log2f"); })
      .Case([&](math::TanhOp) { return call("attnc::dev::tanhApprox"); })
      .Case([&](math::SqrtOp) { return call("sqrtf"); })
      .Case([&](math::AbsFOp) { return call("fabsf"); })
      .Case([&](math::AbsIOp) { return call("abs"); })
      .Case([&](math::PowFOp) { return call("powf"); })
      .Case([&](math::FloorOp) { return call("floorf"); })
      .Case([&](math::CeilOp) { return call("ceilf"); })
      .Case([&](math::SinOp) { return call("sinf"); })
      .Case([&](math::CosOp) { return call("cosf"); })
      // MLIRGen masks shift counts to 0..31; the left shift is done on the
      // unsigned bits (shifting a negative int left is undefined in C++17).
      .Case([&](arith::ShLIOp) {
        return defineScalar(op, "static_cast<int>(static_cast<unsigned>(" +
                                    in(0) + ") << " + in(1) + ")");
      })
      .Case([&](arith::ShRSIOp) { return bin(">>"); })
      // MLIRGen clamps the operand into i32's range first.
      .Case([&](arith::FPToSIOp) {
        return defineScalar(op, "static_cast<int>(" + in(0) + ")");
      })
      .Default([&](Operation *) { return op.emitOpError("has no CUDA form"); });
}

/// The parameter `op` names and its slot in KernelInfo::params.
static FailureOr<std::pair<ParamOp, int>>
lookupParamSlot(KernelOp kernel, const KernelInfo &info, Operation *op,
                StringRef symbol) {
  ParamOp param = kernel.lookupParam(symbol);
  if (!param)
    return op->emitOpError("references an unknown parameter");
  int index =
      static_cast<int>(llvm::find_if(info.params,
                                     [&](const KernelInfo::Param &p) {
                                       return p.name == param.getSymName();
                                     }) -
                       info.params.begin());
  return std::make_pair(param, index);
}

std::vector<std::string> KernelEmitter::paramExtents(ParamOp param, int index) {
  std::vector<std::string> extents;
  for (auto [d, dim] : llvm::enumerate(param.getDims())) {
    switch (dim) {
    case kBatchDim:
      extents.push_back("args.batch");
      break;
    case kQHeadsDim:
      extents.push_back(std::to_string(info.qHeads));
      break;
    case kKVHeadsDim:
      extents.push_back(std::to_string(info.kvHeads));
      break;
    case kDynamicDim:
      extents.push_back("args.param_dims[" + std::to_string(index) + "][" +
                        std::to_string(d) + "]");
      break;
    default:
      extents.push_back(std::to_string(dim));
    }
  }
  return extents;
}

LogicalResult KernelEmitter::emitParamLoad(ParamLoadOp op) {
  auto slot = lookupParamSlot(kernel, info, op, op.getParam());
  if (failed(slot))
    return failure();
  auto [param, index] = *slot;
  std::string ctype = param.getElementType().isF32() ? "float" : "int";
  std::string base = "args.params[" + std::to_string(index) + "]";
  if (param.getRank() == 0)
    return defineScalar(*op, "attnc::dev::loadParam<" + ctype + ">(" + base +
                                 ", 0, 1)");
  // Row-major linear index and the tensor's size; an index outside its own
  // dimension reads 0 (as docs/dsl.md says) even where the linear index of
  // all of them would land inside the tensor.
  std::string linear = "0", size = "1", inside = "true";
  std::vector<std::string> extents = paramExtents(param, index);
  for (auto [d, extent] : llvm::enumerate(extents)) {
    std::string idx =
        "static_cast<long long>(" + name(op.getIndices()[d]) + ")";
    linear = "(" + linear + ") * " + extent + " + " + idx;
    inside += " && " + idx + " >= 0 && " + idx + " < " + extent;
    size = size + " * static_cast<long long>(" + extent + ")";
  }
  // loadParam reads 0 at index -1.
  return defineScalar(*op, "attnc::dev::loadParam<" + ctype + ">(" + base +
                               ", (" + inside + ") ? " + linear + " : -1LL, " +
                               size + ")");
}

LogicalResult KernelEmitter::emitParamRange(ParamRangeOp op) {
  auto slot = lookupParamSlot(kernel, info, op, op.getParam());
  if (failed(slot))
    return failure();
  auto [param, index] = *slot;
  if (!param.getElementType().isSignlessInteger(32) ||
      param.getRank() != static_cast<int64_t>(op.getIndices().size()))
    return op.emitOpError("needs an i32 parameter and one index per "
                          "dimension");
  // The element offset with the ranging index at 0, that index's stride
  // and extent, and whether the other indices are inside theirs.
  std::vector<std::string> extents = paramExtents(param, index);
  auto ranged = static_cast<size_t>(op.getDim());
  std::string offset = "0", stride = "1", inside = "true";
  for (auto [d, extent] : llvm::enumerate(extents)) {
    std::string idx = d == ranged ? "0LL"
                                  : "static_cast<long long>(" +
                                        name(op.getIndices()[d]) + ")";
    offset = "(" + offset + ") * " + extent + " + " + idx;
    if (d > ranged)
      stride = stride + " * static_cast<long long>(" + extent + ")";
    if (d != ranged)
      inside += " && " + idx + " >= 0 && " + idx + " < " + extent;
  }
  std::string r = "range" + std::to_string(nextId++);
  os << "const attnc::dev::IntRange " << r
     << " = attnc::dev::paramRange(args.params[" << index << "], " << offset
     << ", " << stride << ", " << extents[ranged] << ", " << inside << ", "
     << name(op.getIndices()[ranged]) << ", " << name(op.getLast()) << ");\n";
  bind(op.getMin(), r + ".min");
  bind(op.getMax(), r + ".max");
  return success();
}

/// Whether an address region maps logical row r to `start + r` with
/// `start` the same for every row (a dense cache): consecutive rows are then
/// consecutive in memory, and a tile's copies can use constant offsets.
static bool hasContiguousRows(Block &addr) {
  Value row = addr.getArgument(0);
  Value physical = cast<YieldRowOp>(addr.getTerminator()).getRow();
  if (physical == row)
    return true;
  auto add = physical.getDefiningOp<arith::AddIOp>();
  if (!add)
    return false;
  Value other = add.getLhs() == row   ? add.getRhs()
                : add.getRhs() == row ? add.getLhs()
                                      : Value();
  // `other` must not depend on the row: defined outside the region, or by
  // an op of it whose operands are.
  if (!other)
    return false;
  Operation *def = other.getDefiningOp();
  return !def || def->getBlock() != &addr ||
         llvm::none_of(def->getOperands(), [&](Value v) {
           return v == row ||
                  (v.getDefiningOp() && v.getDefiningOp()->getBlock() == &addr);
         });
}

LogicalResult KernelEmitter::emitKVLoad(Operation *op, Value tile, Value batch,
                                        Value head, Value row0, Region &addr,
                                        bool isValue) {
  if (addr.empty())
    return op->emitOpError("has no address region; run attn-block-table first");
  // A latent cache has no V tensor to load from.
  if (isValue && info.latentKV)
    return op->emitOpError("loads V of a latent cache (latent_kv), which is "
                           "a view of the K tile; run attn-latent-kv first");
  auto type = cast<RankedTensorType>(tile.getType());
  if (!type.hasStaticShape() || type.getDimSize(0) != info.blockKV)
    return op->emitOpError("must load a static tile of ")
           << info.blockKV << " rows";
  std::string T = elementType();
  int64_t d = isValue ? info.vHeadDim : info.headDim;
  bool padded = tileCols(d) != d;
  int offset = scratchBytes() + (isValue ? kvTileBytes() : 0);
  std::string b = name(batch);
  os << "// " << (isValue ? "V" : "K") << " rows [" << name(row0) << ", "
     << name(row0) << " + " << info.blockKV << ") -> shared memory\n";
  os << "const attnc::dev::SmemTile<" << T << ", " << info.blockKV << ", "
     << tileCols(d) << "> " << name(tile) << "{";
  auto buffer = [&](int at) {
    return "reinterpret_cast<" + T + " *>(smem + " + std::to_string(at) + ")";
  };
  auto load = dyn_cast<LoadKOp>(op);
  if (load && load.getDoubleBuffer()) {
    // The buffer the tile this one replaces (the loop-carried value it is
    // yielded as) does not hold: the loop body still reads that one.
    FailureOr<Value> current = replacedTile(load);
    if (failed(current))
      return failure();
    std::string other = name(*current) + ".p == " + buffer(offset);
    os << other << " ? " << buffer(offset + kvTileBytes()) << " : "
       << buffer(offset);
  } else {
    os << buffer(offset);
  }
  os << "};\n";
  // Every warp must be done with the tile this buffer held before; the
  // kernel's first shared-memory write, outside any loop, follows no use.
  bool bufferFree = isa<LoadKOp>(op) ? cast<LoadKOp>(op).getBufferFree()
                                     : cast<LoadVOp>(op).getBufferFree();
  if (!bufferFree && (sharedMemoryUsed || op->getParentOfType<scf::ForOp>()))
    os << "__syncthreads();\n";
  sharedMemoryUsed = true;
  Block &block = addr.front();
  std::string rowArg = "row_" + name(tile);
  bind(block.getArgument(0), rowArg);
  // What does not depend on the row (the sequence's start in a dense cache)
  // is printed once before the copy loop: inside the lambda the copies'
  // asm memory clobbers would make the compiler reload it for every row.
  llvm::DenseSet<Operation *> perRow;
  for (Operation &inner : block.without_terminator())
    if (llvm::any_of(inner.getOperands(), [&](Value v) {
          return v == block.getArgument(0) ||
                 (v.getDefiningOp() && perRow.contains(v.getDefiningOp()));
        }))
      perRow.insert(&inner);
  for (Operation &inner : block.without_terminator())
    if (!perRow.contains(&inner) && failed(emitOp(inner)))
      return failure();
  // A paged cache (the block-table address region) whose tiles start on a
  // page boundary: rows are consecutive within a page, so the copy looks a
  // page up once rather than once per row.
  bool contiguous = hasContiguousRows(block);
  int64_t segment = 0;
  if (!contiguous && info.paged && info.pageSize > 0 &&
      !block.getOps<BlockTableOp>().empty()) {
    if (info.blockKV % info.pageSize == 0)
      segment = info.pageSize;
    else if (info.pageSize % info.blockKV == 0)
      segment = info.blockKV;
  }
  std::string templateArgs =
      std::to_string(info.threads) + ", " +
      std::to_string(static_cast<long long>(info.kvHeads) * d) + "LL, " +
      (contiguous ? "true" : "false");
  if (padded || segment > 0)
    templateArgs += ", " + std::to_string(padded ? d : 0);
  if (segment > 0)
    templateArgs += ", " + std::to_string(segment);
  // An fp8 cache is read as bytes and widened into the same shared tile.
  if (info.kvFp8())
    os << "attnc::dev::loadKVWiden<attnc::dev::Fp8Kind::"
       << (info.kvFormat == KernelInfo::KVFormat::E4M3 ? "E4M3" : "E5M2")
       << ", " << templateArgs << ">(" << name(tile)
       << ", static_cast<const unsigned char *>(args.";
  else
    os << "attnc::dev::loadKVAsync<" << templateArgs << ">(" << name(tile)
       << ", static_cast<const " << T << " *>(args.";
  os << (info.paged ? (isValue ? "v_cache" : "k_cache") : (isValue ? "v" : "k"))
     << "), " << name(head) << " * " << d << ", " << name(row0) << ", "
     << (batch == batchArg() ? std::string("kv_len_b") : kvLenOf(b)) << " - "
     << name(row0) << ", [&](int " << rowArg << ") -> long long {\n";
  os.indent();
  for (Operation &inner : block.without_terminator())
    if (perRow.contains(&inner) && failed(emitOp(inner)))
      return failure();
  os << "return " << name(cast<YieldRowOp>(block.getTerminator()).getRow())
     << ";\n";
  os.unindent();
  os << "});\n";
  if (!info.kvFp8())
    os << "attnc::dev::cpAsyncCommit();\n";
  pendingLoads.push_back(tile);
  return success();
}

LogicalResult KernelEmitter::emitElementwise(Operation *op, Value result,
                                             Value s, Value batch, Value head,
                                             Value qPos0, Value kvPos0,
                                             Region &body, Value kvLen) {
  FailureOr<std::string> decl = declare(result, op);
  if (failed(decl))
    return failure();
  auto type = cast<RankedTensorType>(s.getType());
  std::string tileType = accType(type.getDimSize(1));
  std::string r = name(result), src = name(s);
  bool isMask = static_cast<bool>(kvLen);
  if (isMask)
    os << "attnc::dev::countMaskedTile();\n";
  os << *decl << ";\n";
  // Unrolled: the element index then picks registers, not a stack slot.
  os << "ATTNC_UNROLL\n";
  os << "for (int i = 0; i < " << tileType << "::kElems; ++i) {\n";
  os.indent();
  std::string q = "q_" + r, kv = "kv_" + r, score = "score_" + r;
  std::string hElem =
      emitRowPosition(tileType + "::row(i)", qPos0, head, q, "h_" + r);
  os << "const int " << kv << " = " << name(kvPos0) << " + " << tileType
     << "::col(i);\n";
  os << "const float " << score << " = " << src << ".at(i);\n";
  std::string value;
  if (!body.empty()) {
    Block &block = body.front();
    bind(block.getArgument(SdpaOp::kScore), score);
    bind(block.getArgument(SdpaOp::kBatch), name(batch));
    bind(block.getArgument(SdpaOp::kHead), hElem);
    bind(block.getArgument(SdpaOp::kQ), q);
    bind(block.getArgument(SdpaOp::kKV), kv);
    if (isMask) {
      // The mask reads positions only inside the sequence (rows past q_len
      // sit at q >= kv_len), so a parameter indexed by q or kv stays in
      // bounds; everything else is masked without evaluating it.
      // Given positions (cascade) are real rows' even past q_len, and may
      // lie past the launch's keys (a prefix launch's queries do).
      os << "bool keep_" << r << " = " << kv << " < " << name(kvLen);
      if (!qPos0.getDefiningOp<QPositionOp>())
        os << " && " << q << " < " << name(kvLen);
      os << ";\n";
      os << "if (keep_" << r << ") {\n";
      os.indent();
    }
    for (Operation &inner : block.without_terminator())
      if (failed(emitOp(inner)))
        return failure();
    value = name(cast<YieldOp>(block.getTerminator()).getValue());
    if (isMask) {
      os << "keep_" << r << " = " << value << ";\n";
      os.unindent();
      os << "}\n";
      os << r << ".at(i) = keep_" << r << " ? " << score
         << " : attnc::dev::negInf();\n";
    } else {
      os << r << ".at(i) = " << value << ";\n";
    }
  } else {
    // Bounds only: keys past the sequence.
    os << r << ".at(i) = " << kv << " < " << name(kvLen) << " ? " << score
       << " : attnc::dev::negInf();\n";
  }
  os.unindent();
  os << "}\n";
  return success();
}

std::string KernelEmitter::emitRowPosition(const std::string &row, Value qPos0,
                                           Value head, const std::string &q,
                                           const std::string &h) {
  if (auto given = qPos0.getDefiningOp<QPositionOp>()) {
    // Cascade: each row's position from the launch.
    std::string queryRow = name(given.getRow()) + " + " + row;
    if (info.gqaPack > 1)
      queryRow += " / " + std::to_string(info.gqaPack);
    os << "const int " << q << " = " << queryPosition(given, queryRow) << ";\n";
    return emitRowHead(row, head, h);
  }
  if (info.gqaPack == 1) {
    os << "const int " << q << " = " << name(qPos0) << " + " << row << ";\n";
    return name(head);
  }
  // Packed rows: query row row / G of query head h * G + row % G.
  os << "const int " << q << " = " << name(qPos0) << " + " << row << " / "
     << info.gqaPack << ";\n";
  return emitRowHead(row, head, h);
}

std::string KernelEmitter::emitRowHead(const std::string &row, Value head,
                                       const std::string &h) {
  if (info.gqaPack == 1)
    return name(head);
  std::string g = std::to_string(info.gqaPack);
  os << "const int " << h << " = " << name(head) << " * " << g << " + " << row
     << " % " << g << ";\n";
  return h;
}

LogicalResult KernelEmitter::emitSink(SinkOp op) {
  FailureOr<std::string> m = declare(op.getMNew(), op);
  FailureOr<std::string> l = declare(op.getLNew(), op);
  if (failed(m) || failed(l))
    return failure();
  std::string mNew = name(op.getMNew()), lNew = name(op.getLNew());
  os << *m << " = " << name(op.getM()) << ";\n";
  os << *l << " = " << name(op.getL()) << ";\n";
  if (op.getEnabled()) {
    os << "if (" << name(op.getEnabled()) << ") {\n";
    os.indent();
  }
  // One logit per row this thread holds; rows past q_len evaluate it too
  // (a param read out of bounds gives 0) and are never stored.
  os << "ATTNC_UNROLL\n";
  os << "for (int r = 0; r < " << rowsType() << "::kRows; ++r) {\n";
  os.indent();
  std::string q = "q_" + mNew;
  std::string h = emitRowPosition(rowsType() + "::row(r)", op.getQPos0(),
                                  op.getHead(), q, "h_" + mNew);
  Block &block = op.getBody().front();
  bind(block.getArgument(SdpaOp::kBatch), name(op.getBatch()));
  bind(block.getArgument(SdpaOp::kHead), h);
  bind(block.getArgument(SdpaOp::kQ), q);
  for (Operation &inner : block.without_terminator())
    if (failed(emitOp(inner)))
      return failure();
  double c = op.getScale() ? op.getScale()->convertToDouble() : 1.0;
  os << "attnc::dev::addSink(" << mNew << ".x[r], " << lNew << ".x[r], "
     << name(cast<YieldOp>(block.getTerminator()).getValue()) << ", "
     << floatLiteral(1.4426950408889634 / c) << ", " << floatLiteral(c)
     << (columnWarps ? ", attnc::dev::warpId() == 0" : "") << ");\n";
  os.unindent();
  os << "}\n";
  if (op.getEnabled()) {
    os.unindent();
    os << "}\n";
  }
  return success();
}

LogicalResult KernelEmitter::emitRowFactor(RowFactorOp op) {
  // One factor per row this thread holds, in Rows' order (rows past q_len
  // evaluate it too and are never stored).
  FailureOr<std::string> decl = declare(op, op);
  if (failed(decl))
    return failure();
  std::string r = name(op);
  os << *decl << ";\n";
  os << "ATTNC_UNROLL\n";
  os << "for (int r = 0; r < " << rowsType() << "::kRows; ++r) {\n";
  os.indent();
  std::string h = emitRowHead(rowsType() + "::row(r)", op.getHead(), "h_" + r);
  Block &block = op.getBody().front();
  bind(block.getArgument(SdpaOp::kBatch), name(op.getBatch()));
  bind(block.getArgument(SdpaOp::kHead), h);
  for (Operation &inner : block.without_terminator())
    if (failed(emitOp(inner)))
      return failure();
  os << r << ".x[r] = " << name(cast<YieldOp>(block.getTerminator()).getValue())
     << ";\n";
  os.unindent();
  os << "}\n";
  return success();
}

LogicalResult KernelEmitter::emitFor(scf::ForOp op) {
  // Loop-carried values are variables assigned at the end of each
  // iteration; the results are those variables after the loop.
  SmallVector<std::string> carried;
  bool carriesLoads = false;
  for (auto [init, arg, result] :
       llvm::zip(op.getInitArgs(), op.getRegionIterArgs(), op.getResults())) {
    FailureOr<std::string> type = typeOf(arg.getType(), op);
    if (failed(type))
      return failure();
    std::string var = name(arg);
    os << *type << " " << var << " = " << name(init) << ";\n";
    bind(result, var);
    carried.push_back(*type);
    // A tile loaded before the loop (or by the previous iteration) is still
    // in flight when an iteration starts: its uses wait for it.
    auto pending = llvm::find(pendingLoads, init);
    if (pending != pendingLoads.end()) {
      *pending = arg;
      carriesLoads = true;
    }
  }
  // Loads pending from before the loop and not carried by it (a nested
  // loop, such as a mask's parameter scan, between a tile's load and its
  // use) stay pending: their use still waits and synchronizes.
  SmallVector<Value> outer;
  for (Value load : pendingLoads)
    if (!llvm::is_contained(op.getRegionIterArgs(), load))
      outer.push_back(load);
  std::string iv = name(op.getInductionVar());
  os << "for (int " << iv << " = " << name(op.getLowerBound()) << "; " << iv
     << " < " << name(op.getUpperBound()) << "; " << iv
     << " += " << name(op.getStep()) << ") {\n";
  os.indent();
  if (failed(emitBlock(*op.getBody())))
    return failure();
  auto yield = cast<scf::YieldOp>(op.getBody()->getTerminator());
  // Through temporaries: a yield may permute the carried values.
  for (auto [i, value] : llvm::enumerate(yield.getOperands()))
    os << carried[i] << " next" << i << "_" << iv << " = " << name(value)
       << ";\n";
  for (auto [i, arg] : llvm::enumerate(op.getRegionIterArgs()))
    os << name(arg) << " = next" << i << "_" << iv << ";\n";
  os.unindent();
  os << "}\n";
  // The last iteration's prefetch (or a first load the loop never ran) may
  // still be in flight; nothing may outlive the loop's shared memory use.
  bool issuedInside = llvm::any_of(pendingLoads, [&](Value load) {
    return !llvm::is_contained(outer, load);
  });
  if (carriesLoads || issuedInside)
    if (!info.kvFp8())
      os << "attnc::dev::cpAsyncWait<0>();\n";
  llvm::erase_if(pendingLoads,
                 [&](Value load) { return !llvm::is_contained(outer, load); });
  return success();
}

LogicalResult KernelEmitter::emitIf(scf::IfOp op) {
  for (Value result : op.getResults()) {
    FailureOr<std::string> decl = declare(result, op);
    if (failed(decl))
      return failure();
    os << *decl << ";\n";
  }
  auto emitBranch = [&](Block *block) -> LogicalResult {
    os.indent();
    if (failed(emitBlock(*block)))
      return failure();
    auto yield = cast<scf::YieldOp>(block->getTerminator());
    for (auto [result, value] : llvm::zip(op.getResults(), yield.getOperands()))
      os << name(result) << " = " << name(value) << ";\n";
    os.unindent();
    return success();
  };
  os << "if (" << name(op.getCondition()) << ") {\n";
  if (failed(emitBranch(op.thenBlock())))
    return failure();
  bool hasElse =
      op.getNumResults() != 0 ||
      (op.elseBlock() && !op.elseBlock()->without_terminator().empty());
  if (hasElse) {
    os << "} else {\n";
    if (failed(emitBranch(op.elseBlock())))
      return failure();
  }
  os << "}\n";
  return success();
}

LogicalResult attnc::emitKernel(KernelOp kernel, llvm::raw_ostream &out,
                                KernelInfo &info) {
  auto programs = kernel.getBody().front().getOps<ProgramOp>();
  if (programs.empty())
    return kernel.emitOpError("has no attn.program; run the attn pipeline "
                              "(attnc --emit=mlir) before code generation");
  raw_indented_ostream os(out);
  return KernelEmitter(kernel, *programs.begin(), os, info).emit();
}

LogicalResult attnc::emitCudaModule(ModuleOp module, llvm::raw_ostream &os,
                                    std::vector<KernelInfo> &infos) {
  os << "// Generated by attnc. Compiles with NVRTC (include path: "
        "runtime/device)\n"
     << "// and, with -DATTNC_SIM, with a host C++ compiler for the sim "
        "backend.\n";
  os << "#include \"attention_tile.cuh\"\n";
  os << "#ifdef ATTNC_SIM\n#include \"../sim/Launch.h\"\n#include "
        "<cstdio>\n#endif\n\n";
  for (KernelOp kernel : module.getOps<KernelOp>()) {
    KernelInfo info;
    if (failed(emitKernel(kernel, os, info)))
      return failure();
    infos.push_back(std::move(info));
    os << "\n";
  }
  return success();
}
