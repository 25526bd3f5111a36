# Optional device features (src/link), each on when what it needs is found
# and reported at configure time. Without one, the code still builds: the
# device says "built without ..." and the tests that need it skip with the
# reason (scripts/deps.sh installs everything on Debian 12).
#
#   HSK_HAVE_URING  io_uring batched TUN I/O          liburing
#   HSK_HAVE_BPF    eBPF programs built and embedded   clang (-target bpf), libbpf
#                   (multi-queue TUN steering)
#   HSK_HAVE_XDP    the AF_XDP device                  HSK_HAVE_BPF and libxdp
#
# -DHSK_NO_URING=ON / -DHSK_NO_BPF=ON / -DHSK_NO_XDP=ON turn one off, to
# check that the build and the tests degrade as they should.
option(HSK_NO_URING "Build without io_uring even when liburing is present" OFF)
option(HSK_NO_BPF "Build without eBPF programs even when clang and libbpf are present" OFF)
option(HSK_NO_XDP "Build without the AF_XDP device even when libxdp is present" OFF)

# The eBPF sources sit under src/ (beside the hash they share) but are
# never compiled for the host: the library's glob picks them up.
file(GLOB HSK_BPF_SOURCES ${CMAKE_SOURCE_DIR}/src/link/bpf/*.bpf.c)
set_source_files_properties(${HSK_BPF_SOURCES} PROPERTIES HEADER_FILE_ONLY TRUE)

find_package(PkgConfig QUIET)
set(HSK_FEATURES "")
set(HSK_PC_PRIVATE "")

if(PKG_CONFIG_FOUND AND NOT HSK_NO_URING)
  pkg_check_modules(URING QUIET IMPORTED_TARGET liburing)
endif()
if(URING_FOUND)
  target_link_libraries(handshake PUBLIC PkgConfig::URING)
  target_compile_definitions(handshake PRIVATE HSK_HAVE_URING=1)
  list(APPEND HSK_FEATURES "io_uring")
  string(APPEND HSK_PC_PRIVATE " -luring")
else()
  message(STATUS "handshake: io_uring batching unavailable (liburing-dev missing or HSK_NO_URING)")
endif()

# eBPF programs: compiled with clang -target bpf, embedded as byte arrays.
if(PKG_CONFIG_FOUND AND NOT HSK_NO_BPF)
  pkg_check_modules(LIBBPF QUIET IMPORTED_TARGET libbpf)
  find_program(HSK_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
endif()
if(LIBBPF_FOUND AND HSK_BPF_CLANG AND NOT HSK_NO_BPF)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
                  OUTPUT_VARIABLE HSK_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  set(HSK_BPF_FLAGS -O2 -g -target bpf -Wall -Werror -I${CMAKE_SOURCE_DIR}/src/link)
  if(HSK_MULTIARCH)
    list(APPEND HSK_BPF_FLAGS -I/usr/include/${HSK_MULTIARCH})
  endif()
  set(HSK_BPF_GEN "")
  foreach(prog tun_steer xsk_redirect)
    set(src ${CMAKE_SOURCE_DIR}/src/link/bpf/${prog}.bpf.c)
    set(obj ${CMAKE_BINARY_DIR}/bpf/${prog}.bpf.o)
    set(gen ${CMAKE_BINARY_DIR}/bpf/${prog}_bpf.c)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/bpf
      COMMAND ${HSK_BPF_CLANG} ${HSK_BPF_FLAGS} -c ${src} -o ${obj}
      DEPENDS ${src} ${CMAKE_SOURCE_DIR}/src/link/steer_hash.h
      COMMENT "eBPF program ${prog}" VERBATIM)
    add_custom_command(OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -DIN=${obj} -DOUT=${gen} -DNAME=hsk_bpf_${prog}
              -P ${CMAKE_SOURCE_DIR}/cmake/embed.cmake
      DEPENDS ${obj} ${CMAKE_SOURCE_DIR}/cmake/embed.cmake VERBATIM)
    list(APPEND HSK_BPF_GEN ${gen})
  endforeach()
  target_sources(handshake PRIVATE ${HSK_BPF_GEN})
  target_link_libraries(handshake PUBLIC PkgConfig::LIBBPF)
  target_compile_definitions(handshake PRIVATE HSK_HAVE_BPF=1)
  list(APPEND HSK_FEATURES "ebpf-steering")
  set(HSK_HAVE_BPF ON)
  string(APPEND HSK_PC_PRIVATE " -lbpf -lelf -lz")
else()
  message(STATUS "handshake: eBPF steering unavailable (needs clang and libbpf-dev)")
endif()

if(HSK_HAVE_BPF AND NOT HSK_NO_XDP)
  pkg_check_modules(LIBXDP QUIET IMPORTED_TARGET libxdp)
endif()
if(LIBXDP_FOUND)
  target_link_libraries(handshake PUBLIC PkgConfig::LIBXDP)
  target_compile_definitions(handshake PRIVATE HSK_HAVE_XDP=1)
  list(APPEND HSK_FEATURES "af_xdp")
  string(PREPEND HSK_PC_PRIVATE " -lxdp")
else()
  message(STATUS "handshake: AF_XDP device unavailable (needs libxdp-dev and the eBPF programs)")
endif()

string(REPLACE ";" " " HSK_FEATURES_STR "${HSK_FEATURES}")
message(STATUS "handshake: device features: ${HSK_FEATURES_STR}")

# The devices' own test driver (tests/devtest): a stack on the new devices
# with the batch loop the shards will use; tests/interop/test_tun_*.sh and
# test_xdp.sh run it.
add_executable(hsk-devtest ${CMAKE_SOURCE_DIR}/tests/devtest/devtest.c)
target_include_directories(hsk-devtest PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(hsk-devtest PRIVATE handshake)
