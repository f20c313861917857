#===- TMCInstall.cmake - Install rules and TMC's CMake package -------------===#
#
# `cmake --install BUILD --prefix PREFIX` installs TMC's headers (source and
# generated), libraries, runtime, C API, mlir-opt plugins and tools, and a
# CMake package that `find_package(TMC)` finds (docs/Embedding.md). This
# file is included at the end of the top-level CMakeLists.txt, when every
# target exists.
#
#===------------------------------------------------------------------------===#

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TMC_PACKAGE_VERSION 0.1.0)
set(TMC_INSTALL_PACKAGE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tmc")

# Libraries exported as TMC::<name>: every library made with
# add_mlir_library (static archives linked against the shared libMLIR.so;
# add_mlir_library installs their files already, in an export set of MLIR's
# that is never exported) under its name without the "TMC" prefix
# (TMCTfmDialect is TMC::TfmDialect), except the mlir-opt plugins; the C API
# TMC-C as TMC::CAPI; the runtime tmcrt and its .npy helper tmcrt_npy.
# Taking the list from add_mlir_library keeps a new library, which exported
# ones may link, from being left out of the package.
get_property(_tmc_mlir_libraries GLOBAL PROPERTY MLIR_EXPORTS)
set(TMC_PLUGINS TMCDialectPlugin TMCPassPlugin)
set(TMC_EXPORTED_TOOLS tmc-opt tmc-import tmc-compile tmc-run tmc-generate
                       tmc-report)
set(_tmc_targets tmcrt tmcrt_npy)
foreach(_tmc_target IN LISTS _tmc_mlir_libraries)
  if(NOT TARGET ${_tmc_target} OR _tmc_target IN_LIST TMC_PLUGINS)
    continue()
  endif()
  if(_tmc_target STREQUAL "TMC-C")
    set(_tmc_export_name CAPI)
  else()
    string(REGEX REPLACE "^TMC" "" _tmc_export_name "${_tmc_target}")
  endif()
  set_target_properties(${_tmc_target} PROPERTIES
    EXPORT_NAME ${_tmc_export_name})
  list(APPEND _tmc_targets ${_tmc_target})
endforeach()

# Every TMC library includes <tmc/...> headers and needs C++17; the MLIR and
# LLVM include directories are added by TMCConfig.cmake, from the MLIR
# package the consumer finds.
target_compile_features(TMCTfmDialect INTERFACE cxx_std_17)

# Installed binaries find TMC's shared libraries next to them (lib/) and
# MLIR's and LLVM's where they were found at build time.
set(_tmc_install_rpath "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}" "${LLVM_LIBRARY_DIR}")
set_target_properties(${TMC_EXPORTED_TOOLS} PROPERTIES
  INSTALL_RPATH "${_tmc_install_rpath}")
set_target_properties(TMC-C TMCDialectPlugin PROPERTIES
  INSTALL_RPATH "$ORIGIN;${LLVM_LIBRARY_DIR}")
set_target_properties(TMCPassPlugin PROPERTIES
  INSTALL_RPATH "$ORIGIN;${LLVM_LIBRARY_DIR}")

install(TARGETS ${_tmc_targets} ${TMC_EXPORTED_TOOLS}
  EXPORT TMCTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  )
install(TARGETS ${TMC_PLUGINS}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  )

# Headers: the sources, their TableGen files, and the generated .inc files.
install(DIRECTORY
  ${PROJECT_SOURCE_DIR}/include/tmc
  ${PROJECT_SOURCE_DIR}/include/tmc-c
  ${PROJECT_SOURCE_DIR}/include/tmc-rt
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING
  PATTERN "*.h"
  PATTERN "*.td"
  )
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/tmc
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING
  PATTERN "*.inc"
  PATTERN "CMakeFiles" EXCLUDE
  )

# The package.
install(EXPORT TMCTargets
  NAMESPACE TMC::
  FILE TMCTargets.cmake
  DESTINATION ${TMC_INSTALL_PACKAGE_DIR}
  )
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/TMCConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/TMCConfig.cmake
  INSTALL_DESTINATION ${TMC_INSTALL_PACKAGE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_BINDIR
  )
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/TMCConfigVersion.cmake
  VERSION ${TMC_PACKAGE_VERSION}
  COMPATIBILITY SameMinorVersion
  )
install(FILES
  ${PROJECT_BINARY_DIR}/cmake/TMCConfig.cmake
  ${PROJECT_BINARY_DIR}/cmake/TMCConfigVersion.cmake
  DESTINATION ${TMC_INSTALL_PACKAGE_DIR}
  )
