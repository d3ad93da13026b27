# Small helpers so each folder's CMakeLists.txt lists its targets in a few lines.
#
#   lienthong_cc_library(NAME foo SRCS a.cc HDRS a.h DEPS bar)
#   lienthong_cc_binary(NAME foo SRCS main.cc DEPS bar)
#   lienthong_cc_test(NAME foo_test SRCS foo_test.cc DEPS foo [LABELS integration])
#
# Our own targets build with -Wall -Wextra -Werror; third-party headers are
# included as SYSTEM so their warnings do not fail the build.

set(LIENTHONG_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter)
# scripts/fuzz.sh builds with clang, ASan and UBSan in its own folder; clang
# warns differently from gcc, and -Werror stays with the ordinary build.
option(LIENTHONG_FUZZ "Build tests/fuzz as libFuzzer targets (clang)" OFF)
if(LIENTHONG_FUZZ)
  list(APPEND LIENTHONG_WARNINGS -Wno-error)
endif()

function(lienthong_cc_library)
  cmake_parse_arguments(L "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  add_library(${L_NAME} STATIC ${L_SRCS} ${L_HDRS})
  target_compile_options(${L_NAME} PRIVATE ${LIENTHONG_WARNINGS})
  target_include_directories(${L_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${L_NAME} PUBLIC ${L_DEPS})
endfunction()

function(lienthong_cc_binary)
  cmake_parse_arguments(L "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${L_NAME} ${L_SRCS})
  target_compile_options(${L_NAME} PRIVATE ${LIENTHONG_WARNINGS})
  target_link_libraries(${L_NAME} PRIVATE ${L_DEPS})
endfunction()

function(lienthong_cc_test)
  cmake_parse_arguments(L "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${L_NAME} ${L_SRCS})
  target_compile_options(${L_NAME} PRIVATE ${LIENTHONG_WARNINGS})
  target_link_libraries(${L_NAME} PRIVATE ${L_DEPS} GTest::gmock GTest::gtest_main)
  add_test(NAME ${L_NAME} COMMAND ${L_NAME})
  if(NOT L_TIMEOUT)
    set(L_TIMEOUT 300)
  endif()
  set_tests_properties(${L_NAME} PROPERTIES TIMEOUT ${L_TIMEOUT}
    LABELS "${L_LABELS}"
    ENVIRONMENT "LIENTHONG_SOURCE_DIR=${PROJECT_SOURCE_DIR};LIENTHONG_BINARY_DIR=${PROJECT_BINARY_DIR}")
  lienthong_test_scratch(${L_NAME})
endfunction()

# Every test keeps its files in one folder of its own run (TEST_TMPDIR, which
# ::testing::TempDir() reads, and TMPDIR for what it starts), emptied before
# the tests and checked empty after them by tests/CMakeLists.txt's
# tests_leave_no_files. The folder is under /tmp, not the build tree, so that
# PostgreSQL (run as its own user by the tests) can reach it from any checkout.
string(MD5 LIENTHONG_BUILD_HASH "${PROJECT_BINARY_DIR}")
string(SUBSTRING "${LIENTHONG_BUILD_HASH}" 0 10 LIENTHONG_BUILD_HASH)
set(LIENTHONG_TEST_TMPDIR /tmp/lienthong-tests-${LIENTHONG_BUILD_HASH})
function(lienthong_test_scratch test)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT
    "TEST_TMPDIR=${LIENTHONG_TEST_TMPDIR};TMPDIR=${LIENTHONG_TEST_TMPDIR}")
  set_property(TEST ${test} APPEND PROPERTY FIXTURES_REQUIRED lienthong_scratch)
endfunction()

# lienthong_proto_library(NAME foo PROTOS a.proto [GRPC b.proto] [DEPS lib]
#                         [IMPORT_DIRS dir])
# Generates C++ (and gRPC stubs for the GRPC list) from .proto files named
# relative to the current source folder's import root (PROJECT_SOURCE_DIR
# unless IMPORT_ROOT is given).
function(lienthong_proto_library)
  cmake_parse_arguments(L "" "NAME;IMPORT_ROOT" "PROTOS;GRPC;DEPS;IMPORT_DIRS" ${ARGN})
  if(NOT L_IMPORT_ROOT)
    set(L_IMPORT_ROOT ${PROJECT_SOURCE_DIR})
  endif()
  find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
  set(gen_dir ${PROJECT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${gen_dir})
  set(import_flags -I ${L_IMPORT_ROOT} -I ${PROJECT_SOURCE_DIR}/proto -I ${Protobuf_INCLUDE_DIRS})
  foreach(dir ${L_IMPORT_DIRS})
    list(APPEND import_flags -I ${dir})
  endforeach()
  set(gen_srcs)
  foreach(proto ${L_PROTOS} ${L_GRPC})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${L_IMPORT_ROOT} ${abs})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(outs ${gen_dir}/${base}.pb.cc ${gen_dir}/${base}.pb.h)
    set(grpc_flags)
    if(proto IN_LIST L_GRPC)
      list(APPEND outs ${gen_dir}/${base}.grpc.pb.cc ${gen_dir}/${base}.grpc.pb.h)
      set(grpc_flags --grpc_out=${gen_dir} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc --cpp_out=${gen_dir} ${grpc_flags} ${import_flags} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${rel}")
    list(APPEND gen_srcs ${outs})
  endforeach()
  add_library(${L_NAME} STATIC ${gen_srcs})
  target_include_directories(${L_NAME} SYSTEM PUBLIC ${gen_dir} ${Protobuf_INCLUDE_DIRS})
  target_link_libraries(${L_NAME} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${L_DEPS})
endfunction()
