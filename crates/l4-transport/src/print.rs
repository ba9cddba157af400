//! UDP and TCP decoders for the frame printer.
