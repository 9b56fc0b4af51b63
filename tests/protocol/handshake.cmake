# Framing and handshake tests (tests/protocol/test_handshake.c), for
# tests/protocol/CMakeLists.txt to include(). Needs the tether_protocol library
# (protocol/CMakeLists.txt) and cmocka. One CTest test per behaviour.
find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)
find_library(CMOCKA_LIBRARY cmocka REQUIRED)

add_executable(test_handshake ${CMAKE_CURRENT_LIST_DIR}/test_handshake.c)
target_include_directories(test_handshake PRIVATE ${CMOCKA_INCLUDE_DIR})
target_link_libraries(test_handshake PRIVATE tether_protocol tether_transport ${CMOCKA_LIBRARY})

foreach(t
    message_roundtrip_gather
    message_bad_headers_rejected
    handshake_accepted_common_extensions
    handshake_no_common_extensions
    handshake_version_mismatch_refused
    handshake_client_refused_by_newer_server
    handshake_client_rejects_unoffered_extension
    handshake_minor_version_negotiates_down
    handshake_garbage_hello_rejected
    handshake_oversized_header_rejected
    handshake_wrong_first_message_rejected
    handshake_peer_gone_midway
    handshake_welcome_carries_session_token
    handshake_old_client_gets_no_token
    handshake_old_server_gives_no_token
    handshake_attach_hello_carries_token
    handshake_attach_refused_with_reason
    handshake_malformed_attach_hello_rejected
    handshake_link_test_channel
    session_token_compare)
  add_test(NAME ${t} COMMAND test_handshake ${t})
  set_tests_properties(${t} PROPERTIES TIMEOUT 60 LABELS "protocol;sanitize")
endforeach()
