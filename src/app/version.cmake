# Writes version.h (run at every build by the cv_app_version target; the file is rewritten only
# when its content changes, so an unchanged `git describe` triggers no recompilation).
# -DSRC=version.h.in -DDST=.../version.h -DPROJECT_VERSION=x.y.z -DSOURCE_DIR=<repo>
execute_process(
  COMMAND git describe --always --dirty
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE CALLVAULT_GIT_DESCRIBE
  OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_QUIET
  RESULT_VARIABLE git_result)
if(NOT git_result EQUAL 0 OR CALLVAULT_GIT_DESCRIBE STREQUAL "")
  set(CALLVAULT_GIT_DESCRIBE "unknown")
endif()
configure_file(${SRC} ${DST} @ONLY)
