# Passive capture's packet layer (issue 19): decode + dispatch ns/packet, TCP reassembly MB/s.
# Included from bench/CMakeLists.txt.
add_executable(capture_bench ${CMAKE_CURRENT_LIST_DIR}/capture_bench.cc)
target_link_libraries(capture_bench PRIVATE cv_capture_testing)
