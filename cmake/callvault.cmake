# Helpers shared by every module's CMakeLists.txt.

# callvault_test(NAME src... LIBS lib...): a GoogleTest binary registered with ctest.
function(callvault_test name)
  if(NOT CALLVAULT_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    CALLVAULT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CALLVAULT_SAMPLES_DIR="${PROJECT_SOURCE_DIR}/../shared/siprec-samples")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "unit;${T_LABELS}")
endfunction()

# callvault_fuzzer(NAME src... LIBS lib...): a libFuzzer binary (CALLVAULT_FUZZ builds only).
function(callvault_fuzzer name)
  if(NOT CALLVAULT_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
