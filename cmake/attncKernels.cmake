# attnc_add_kernels(TARGET tgt SPECS a.attn [b.attn ...] [ARCHS sm_80 sm_90])
#
# At build time, runs `attnc SPEC --emit=aot` for each spec: its kernels'
# CUDA source, KernelInfo and cubins for ARCHS (NVRTC, no GPU needed) in a
# generated C++ file compiled into TGT, which registers them with
# runtime/aot/Registry.h. A changed spec rebuilds only its own file. TGT is
# linked with the attnc runtime and exports its symbols (the sim backend
# needs them).
function(attnc_add_kernels)
  cmake_parse_arguments(ARG "" "TARGET" "SPECS;ARCHS" ${ARGN})
  if(NOT ARG_TARGET OR NOT ARG_SPECS)
    message(FATAL_ERROR "attnc_add_kernels needs TARGET and SPECS")
  endif()
  if(NOT ARG_ARCHS)
    set(ARG_ARCHS sm_80 sm_90)
  endif()
  string(REPLACE ";" "," archs "${ARG_ARCHS}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/attnc_kernels")
  foreach(spec ${ARG_SPECS})
    get_filename_component(path "${spec}" ABSOLUTE)
    get_filename_component(name "${spec}" NAME_WE)
    set(out "${dir}/${name}_aot.cpp")
    add_custom_command(
      OUTPUT "${out}"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
      COMMAND "${ATTNC_EXECUTABLE}" "${path}" --emit=aot "--archs=${archs}"
              -o "${out}"
      DEPENDS "${path}" "${ATTNC_EXECUTABLE}"
      COMMENT "attnc: compiling ${name} for ${archs}"
      VERBATIM)
    target_sources(${ARG_TARGET} PRIVATE "${out}")
  endforeach()
  target_link_libraries(${ARG_TARGET} PRIVATE attnc::attnc_runtime)
  set_target_properties(${ARG_TARGET} PROPERTIES ENABLE_EXPORTS ON)
endfunction()
