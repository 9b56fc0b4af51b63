# Frame codec and codec chooser tests (tests/protocol/test_frame_codec.c), for
# tests/protocol/CMakeLists.txt to include(). One CTest test per behaviour;
# the hostile-payload ones run under ASan in the sanitize label.
add_executable(test_frame_codec ${CMAKE_CURRENT_LIST_DIR}/test_frame_codec.c)
target_include_directories(test_frame_codec PRIVATE ${CMOCKA_INCLUDE_DIR})
target_link_libraries(test_frame_codec PRIVATE tether_protocol tether_transport ${CMOCKA_LIBRARY})

foreach(t
    frame_codecs_supported_mask
    frame_roundtrip_patterns
    frame_roundtrip_odd_sizes
    frame_roundtrip_padded_strides
    frame_roundtrip_1x1_and_7680x16
    frame_raw_is_zero_copy
    frame_incompressible_strips_stored_raw
    frame_packet_reused_across_frames
    frame_encode_bad_arguments_refused
    frame_decode_every_truncation_rejected
    frame_decode_header_corruptions_rejected
    frame_decode_random_corruptions_safe
    frame_decode_wrong_size_rejected
    codec_chooser_fast_link_picks_raw
    codec_chooser_slow_link_picks_compression
    codec_chooser_explores
    codec_chooser_follows_link_changes
    codec_chooser_env_forces_codec
    codec_chooser_estimate)
  add_test(NAME ${t} COMMAND test_frame_codec ${t})
  # The refusals each log a line: thousands of them say nothing.
  set_tests_properties(${t} PROPERTIES TIMEOUT 120 LABELS "protocol;sanitize" ENVIRONMENT "TETHER_LOG=off")
endforeach()
