# Hand-written protocol sources (framing, handshake, buffer, presentation,
# frame codec, link test), relative to protocol/; included by protocol/CMakeLists.txt
# beside the generated ones, and by the fuzz targets.
set(TETHER_PROTOCOL_HAND_SOURCES message.c handshake.c buffer.c
  present.c work_pool.c frame_codec.c codec_chooser.c limits.c link_test.c)
