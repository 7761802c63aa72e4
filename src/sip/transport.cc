// Placeholder until the transport lands (sip/transport.h).
