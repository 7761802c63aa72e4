# Passive capture's packet layer (issue 19): decode + dispatch ns/packet, TCP reassembly MB/s.
# Included from bench/CMakeLists.txt.
add_executable(capture_bench ${CMAKE_CURRENT_LIST_DIR}/capture_bench.cc)
target_link_libraries(capture_bench PRIVATE cv_capture_testing)

# Passive recording's media path against the active engine (bench/passive_bench.sh, issue 19).
add_executable(passive_engine_bench ${CMAKE_CURRENT_LIST_DIR}/passive_engine_bench.cc)
target_link_libraries(passive_engine_bench PRIVATE cv_app_passive_sink cv_capture cv_passive cv_media)
