# Command ids are hashes of command names, never registry positions.
add_executable(test_command_ids ${CMAKE_CURRENT_LIST_DIR}/test_command_ids.c)
target_link_libraries(test_command_ids PRIVATE tether_protocol)
foreach(t command_ids_are_name_hashes command_ids_are_stable)
  add_test(NAME ${t} COMMAND test_command_ids ${t})
  set_tests_properties(${t} PROPERTIES LABELS "protocol;sanitize")
endforeach()

# Memory sync while the sending side's memory is being written.
find_package(Threads REQUIRED)
add_executable(test_memsync_concurrent ${CMAKE_CURRENT_LIST_DIR}/test_memsync_concurrent.c)
target_link_libraries(test_memsync_concurrent PRIVATE tether_protocol Threads::Threads)
add_test(NAME memsync_concurrent_writes_converge COMMAND test_memsync_concurrent)
set_tests_properties(memsync_concurrent_writes_converge PROPERTIES TIMEOUT 120 LABELS "protocol;sanitize")
