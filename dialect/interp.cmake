# The reference interpreter: runs an attn.kernel at any pipeline stage on
# host tensors. Included from dialect/CMakeLists.txt.
add_library(attnc_interp STATIC
  ${CMAKE_CURRENT_LIST_DIR}/Interpreter.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpNumerics.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpProblem.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpProgram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpRandom.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpScalar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpSdpa.cpp
  ${CMAKE_CURRENT_LIST_DIR}/InterpTileOps.cpp)
target_link_libraries(attnc_interp PUBLIC attnc_dialect attnc_attention_data MLIRSCFDialect
  MLIRArithDialect MLIRMathDialect)
