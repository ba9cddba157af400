//! Capture files: classic pcap (written and read) and pcapng (read).
