# cmake -DFILES="a;b" -P CheckNoLibcuda.cmake
# Fails when a binary records a dependency on libcuda. CUDA::nvrtc drags the
# toolkit's stub libcuda onto link lines; only --as-needed keeps it out of the
# binaries, and a direct cu* call would silently bind to the stub.
find_program(READELF readelf REQUIRED)
foreach(file ${FILES})
  execute_process(COMMAND ${READELF} -d ${file}
    OUTPUT_VARIABLE dynamic RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "readelf -d ${file} failed")
  endif()
  if(dynamic MATCHES "libcuda")
    message(FATAL_ERROR "${file} depends on libcuda; the driver must only be "
                        "loaded with dlopen (runtime/cuda/CudaDriver.cpp)")
  endif()
  message(STATUS "${file}: no libcuda dependency")
endforeach()
