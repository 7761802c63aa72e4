# Media benchmarks (bench/media_bench.sh). Included from bench/CMakeLists.txt:
#   include(${CMAKE_CURRENT_LIST_DIR}/media.cmake)
add_executable(rtp_load ${CMAKE_CURRENT_LIST_DIR}/rtp_load.cc)
add_executable(rtp_baseline_receiver ${CMAKE_CURRENT_LIST_DIR}/rtp_baseline_receiver.cc)
target_link_libraries(rtp_baseline_receiver PRIVATE Threads::Threads)
add_executable(media_engine_bench ${CMAKE_CURRENT_LIST_DIR}/media_engine_bench.cc)
target_link_libraries(media_engine_bench PRIVATE cv_media)
