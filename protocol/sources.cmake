# Hand-written protocol sources (framing, handshake, buffer), relative to
# protocol/; included by protocol/CMakeLists.txt beside the generated ones.
set(TETHER_PROTOCOL_HAND_SOURCES message.c handshake.c buffer.c)
