# reports.cmake: the first and the last test of the OILCAST_TSAN build (a CTest fixture). Every process
# a test starts, servers in the background included, writes its ThreadSanitizer reports to
# REPORTS/report.PID (TSAN_OPTIONS log_path), where a test's own exit status may never show them (a
# killed server's log is deleted with its scratch directory).
#   cmake -DREPORTS=DIR -DMODE=reset -P reports.cmake   empties DIR (fixture setup)
#   cmake -DREPORTS=DIR -DMODE=check -P reports.cmake   prints each report, fails unless there is none
# Must not delete reports in check mode: they stay for whoever reads the failure.
if(MODE STREQUAL "reset")
  file(REMOVE_RECURSE "${REPORTS}")
  file(MAKE_DIRECTORY "${REPORTS}")
  return()
endif()
file(GLOB reports "${REPORTS}/report.*")
if(reports)
  foreach(report IN LISTS reports)
    file(READ "${report}" text)
    message("==== ${report}\n${text}")
  endforeach()
  list(LENGTH reports count)
  message(FATAL_ERROR "ThreadSanitizer: ${count} process(es) reported races, see above")
endif()
message(STATUS "ThreadSanitizer: no reports in ${REPORTS}")
