# tests/security/netns_security.py: tetherd in one network namespace, its
# clients in another, a veth pair between them. Included from
# tests/CMakeLists.txt after apps/ and wsi/, whose programs it runs. Root
# only: without it each test exits 77 and CTest reports it skipped (CI runs
# as root, so there they run).
if(TARGET tetherd AND TARGET tether AND DEFINED TETHER_ICD_TEST_MANIFEST AND TARGET compute_saxpy)
  set(netns_cmd ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/netns_security.py
      --tetherd $<TARGET_FILE:tetherd> --tether $<TARGET_FILE:tether>
      --icd-manifest ${TETHER_ICD_TEST_MANIFEST} --native-icd ${TETHER_NATIVE_ICD}
      --compute $<TARGET_FILE:compute_saxpy>)
  set(netns_tests
    pairing_over_veth_succeeds
    pin_option_after_interrupted_request
    no_pairing_refuses_requests
    unpaired_client_refused
    plaintext_client_refused
    wrong_pin_consumed_and_rate_limited
    replayed_handshake_refused
    revoked_client_refused_and_session_ended
    compute_over_tls_matches_native)
  if(TARGET wsi_present)
    list(APPEND netns_cmd --wsi-present $<TARGET_FILE:wsi_present>)
    list(APPEND netns_tests frames_over_tls_present)
  endif()
  foreach(t ${netns_tests})
    add_test(NAME netns_${t} COMMAND ${netns_cmd} ${t})
    set_tests_properties(netns_${t} PROPERTIES TIMEOUT 180 LABELS "security;netns" SKIP_RETURN_CODE 77)
  endforeach()
  set_tests_properties(netns_compute_over_tls_matches_native PROPERTIES PROCESSORS 2)
  if(TARGET wsi_present)
    set_tests_properties(netns_frames_over_tls_present PROPERTIES PROCESSORS 2)
  endif()
endif()
