# Finds cuDNN in the CUDA toolkit folder or the system's include/lib folders.
# Sets CUDNN_FOUND, CUDNN_VERSION_STRING and the imported target CUDNN::cudnn.
find_path(CUDNN_INCLUDE_DIR cudnn.h
  HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}
  PATH_SUFFIXES include targets/x86_64-linux/include)
find_library(CUDNN_LIBRARY cudnn
  HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}
  PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu targets/x86_64-linux/lib)
set(CUDNN_FOUND OFF)
set(CUDNN_VERSION_STRING "")
if(CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
  set(CUDNN_FOUND ON)
  set(_ver_file ${CUDNN_INCLUDE_DIR}/cudnn_version.h)
  if(EXISTS ${_ver_file})
    file(STRINGS ${_ver_file} _major REGEX "#define CUDNN_MAJOR [0-9]+")
    file(STRINGS ${_ver_file} _minor REGEX "#define CUDNN_MINOR [0-9]+")
    string(REGEX MATCH "[0-9]+" _major "${_major}")
    string(REGEX MATCH "[0-9]+" _minor "${_minor}")
    set(CUDNN_VERSION_STRING " (cuDNN ${_major}.${_minor} at ${CUDNN_LIBRARY})")
  endif()
  if(NOT TARGET CUDNN::cudnn)
    add_library(CUDNN::cudnn UNKNOWN IMPORTED)
    set_target_properties(CUDNN::cudnn PROPERTIES
      IMPORTED_LOCATION ${CUDNN_LIBRARY}
      INTERFACE_INCLUDE_DIRECTORIES ${CUDNN_INCLUDE_DIR})
  endif()
endif()
mark_as_advanced(CUDNN_INCLUDE_DIR CUDNN_LIBRARY)
