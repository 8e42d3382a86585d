# CMake package configuration for libgraphdb, used straight from a source checkout:
#
#   cargo build --release
#   cmake -S your-project -B build -Dgraphdb_DIR=/path/to/libgraphdb/cmake
#
#   find_package(graphdb REQUIRED)
#   target_link_libraries(your_app PRIVATE graphdb::graphdb)          # shared library
#   target_link_libraries(your_app PRIVATE graphdb::graphdb_static)   # static archive
#
# GRAPHDB_PROFILE picks the cargo profile directory (default: release).

cmake_minimum_required(VERSION 3.16)

get_filename_component(_graphdb_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT DEFINED GRAPHDB_PROFILE)
  set(GRAPHDB_PROFILE release)
endif()
set(_graphdb_lib_dir "${_graphdb_root}/target/${GRAPHDB_PROFILE}")
set(graphdb_INCLUDE_DIR "${_graphdb_root}/include")

if(NOT EXISTS "${_graphdb_lib_dir}/libgraphdb.so" OR NOT EXISTS "${graphdb_INCLUDE_DIR}/graphdb.h")
  set(graphdb_FOUND FALSE)
  set(graphdb_NOT_FOUND_MESSAGE
      "libgraphdb is not built in ${_graphdb_lib_dir}: run `cargo build --${GRAPHDB_PROFILE}` in ${_graphdb_root}")
  return()
endif()

if(NOT TARGET graphdb::graphdb)
  add_library(graphdb::graphdb SHARED IMPORTED)
  set_target_properties(graphdb::graphdb PROPERTIES
    IMPORTED_LOCATION "${_graphdb_lib_dir}/libgraphdb.so"
    INTERFACE_INCLUDE_DIRECTORIES "${graphdb_INCLUDE_DIR}")
endif()

if(NOT TARGET graphdb::graphdb_static AND EXISTS "${_graphdb_lib_dir}/libgraphdb.a")
  find_package(Threads REQUIRED)
  add_library(graphdb::graphdb_static STATIC IMPORTED)
  set_target_properties(graphdb::graphdb_static PROPERTIES
    IMPORTED_LOCATION "${_graphdb_lib_dir}/libgraphdb.a"
    INTERFACE_INCLUDE_DIRECTORIES "${graphdb_INCLUDE_DIR}"
    # What the Rust standard library needs from the system when linked statically.
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
endif()

set(graphdb_FOUND TRUE)
