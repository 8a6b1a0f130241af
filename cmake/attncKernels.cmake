# attnc_add_kernels(TARGET tgt SPECS a.attn [b.attn ...]
#                   [VARIANTS path[:BRxBC] ...] [BLOCK_Q n] [BLOCK_KV n]
#                   [ARCHS sm_80 sm_90] [OPTIONS attnc-flag ...])
#
# At build time, runs `attnc SPEC --emit=aot` once per (spec, variant): the
# kernels' CUDA source, KernelInfo and cubins for ARCHS (NVRTC, no GPU
# needed) in a generated C++ file, <spec>_<path>[_<Br>x<Bc>]_aot.cpp, which
# registers them with runtime/aot/Registry.h when the program starts. A
# changed spec rebuilds only its own files.
#
# VARIANTS are the paths of the JIT (tune/JitKernels.h): prefill (the
# default), packed (the query heads of a KV head packed into the tile rows,
# --pack-gqa) and decode (packed and split-KV, --pack-gqa --split-kv), each
# optionally with its tile sizes, e.g. `VARIANTS prefill decode:16x64`. A
# variant without tile sizes takes BLOCK_Q / BLOCK_KV (default: by
# head_dim). OPTIONS are passed to every attnc run (e.g. --warps=2). At run
# time aot::find(spec, path) or aot::select(spec, maxQLen) picks a variant.
#
# TGT may be an executable, a shared or module library, or a static library.
# A static library's kernels are compiled into an object library,
# <tgt>_attnc_kernels, whose object files TGT's link interface carries: every
# program or shared library linking TGT through CMake links them whole. A
# static archive alone would lose them, since nothing references an object
# whose only content is a static registrar; the registry then says so at
# run time (aot::find's error).
function(attnc_add_kernels)
  cmake_parse_arguments(ARG "" "TARGET;BLOCK_Q;BLOCK_KV"
                        "SPECS;ARCHS;VARIANTS;OPTIONS" ${ARGN})
  if(NOT ARG_TARGET OR NOT ARG_SPECS)
    message(FATAL_ERROR "attnc_add_kernels needs TARGET and SPECS")
  endif()
  if(NOT TARGET ${ARG_TARGET})
    message(FATAL_ERROR "attnc_add_kernels: no target named ${ARG_TARGET}")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "attnc_add_kernels: unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT ARG_ARCHS)
    set(ARG_ARCHS sm_80 sm_90)
  endif()
  if(NOT ARG_VARIANTS)
    set(ARG_VARIANTS prefill)
  endif()
  foreach(opt BLOCK_Q BLOCK_KV)
    if(DEFINED ARG_${opt} AND NOT ARG_${opt} MATCHES "^[0-9]+$")
      message(FATAL_ERROR
        "attnc_add_kernels: ${opt} must be a number, not '${ARG_${opt}}'")
    endif()
  endforeach()
  string(REPLACE ";" "," archs "${ARG_ARCHS}")
  get_target_property(type ${ARG_TARGET} TYPE)
  set(kernels ${ARG_TARGET})
  if(type STREQUAL "STATIC_LIBRARY")
    set(kernels ${ARG_TARGET}_attnc_kernels)
    if(NOT TARGET ${kernels})
      add_library(${kernels} OBJECT)
      target_link_libraries(${kernels} PRIVATE attnc::attnc_aot)
      # The objects themselves, not the archive, travel to whoever links
      # TGT; $<TARGET_OBJECTS> cannot be exported, so an installed TGT
      # carries none (see the header).
      target_link_libraries(${ARG_TARGET}
        INTERFACE "$<BUILD_INTERFACE:$<TARGET_OBJECTS:${kernels}>>")
    endif()
  elseif(NOT type MATCHES "^(EXECUTABLE|SHARED_LIBRARY|MODULE_LIBRARY)$")
    message(FATAL_ERROR "attnc_add_kernels: ${ARG_TARGET} is a ${type}; "
                        "kernels go into an executable or a library")
  endif()

  set(dir "${CMAKE_CURRENT_BINARY_DIR}/attnc_kernels")
  foreach(spec ${ARG_SPECS})
    get_filename_component(path "${spec}" ABSOLUTE)
    get_filename_component(name "${spec}" NAME_WE)
    foreach(variant ${ARG_VARIANTS})
      if(NOT variant MATCHES "^(prefill|packed|decode)(:([0-9]+)x([0-9]+))?$")
        message(FATAL_ERROR "attnc_add_kernels: variant '${variant}' is not "
                            "prefill, packed or decode, optionally :BRxBC")
      endif()
      set(kpath ${CMAKE_MATCH_1})
      set(flags ${ARG_OPTIONS})
      set(stem "${name}_${kpath}")
      if(CMAKE_MATCH_2)
        list(APPEND flags "--block-q=${CMAKE_MATCH_3}"
                          "--block-kv=${CMAKE_MATCH_4}")
        string(APPEND stem "_${CMAKE_MATCH_3}x${CMAKE_MATCH_4}")
      else()
        if(ARG_BLOCK_Q)
          list(APPEND flags "--block-q=${ARG_BLOCK_Q}")
        endif()
        if(ARG_BLOCK_KV)
          list(APPEND flags "--block-kv=${ARG_BLOCK_KV}")
        endif()
      endif()
      if(kpath STREQUAL "packed")
        list(APPEND flags --pack-gqa)
      elseif(kpath STREQUAL "decode")
        list(APPEND flags --pack-gqa --split-kv)
      endif()
      set(out "${dir}/${stem}_aot.cpp")
      add_custom_command(
        OUTPUT "${out}"
        COMMAND "${CMAKE_COMMAND}" -E make_directory "${dir}"
        COMMAND "${ATTNC_EXECUTABLE}" "${path}" --emit=aot "--archs=${archs}"
                ${flags} -o "${out}"
        DEPENDS "${path}" "${ATTNC_EXECUTABLE}"
        COMMENT "attnc: compiling ${name} (${variant}) for ${archs}"
        VERBATIM)
      target_sources(${kernels} PRIVATE "${out}")
    endforeach()
  endforeach()
  # Whoever links a static library of kernels uses the runtime to run them.
  if(type STREQUAL "STATIC_LIBRARY")
    target_link_libraries(${ARG_TARGET} PUBLIC attnc::attnc_runtime)
  else()
    target_link_libraries(${ARG_TARGET} PRIVATE attnc::attnc_runtime)
  endif()
  # The sim backend's kernels resolve the emulator against the program: an
  # executable exports its symbols (attnc::attnc_runtime's link interface
  # does the same for every executable linking it from the package).
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${ARG_TARGET} PROPERTIES ENABLE_EXPORTS ON)
  endif()
endfunction()
