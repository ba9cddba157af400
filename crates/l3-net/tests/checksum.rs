//! The internet checksum against two independent implementations —
//! etherparse's, and the plainest reading of RFC 1071 written out below —
//! and the incremental update (RFC 1624) against full recomputation.

use std::net::Ipv4Addr;

use etherparse as ep;
use l3_net::checksum::{Checksum, add_words_wide, checksum, pseudo_header, update};
use l3_net::wire::IpProtocol;
use proptest::prelude::*;

/// RFC 1071 §4.1's C loop, transcribed: add 16-bit big-endian words into a
/// 32-bit accumulator, add a lone last byte as the high half of a word,
/// fold the carries back in at the end, complement. (It overflows past
/// 128 KiB; the tests stay far below.)
fn reference(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut i = 0;
    while i + 1 < data.len() {
        sum += u32::from(data[i]) << 8 | u32::from(data[i + 1]);
        i += 2;
    }
    if i < data.len() {
        sum += u32::from(data[i]) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// etherparse's checksum of `data`: its 16-bit word sum (kept in native
/// byte order), complemented, turned big-endian.
fn etherparse_checksum(data: &[u8]) -> u16 {
    ep::checksum::Sum16BitWords::new()
        .add_slice(data)
        .ones_complement()
        .to_be()
}

/// Deterministic pseudo-random bytes (xorshift64*), so a failure names a
/// length and an offset that reproduce it.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn agrees_with_etherparse_and_rfc1071_for_every_length_and_alignment() {
    // One buffer, sliced at offsets 0..=3, so the data starts at every
    // alignment the wide loop could care about.
    let buffer = random_bytes(2000 + 3, 0x5eed);
    for offset in [0, 1, 2, 3] {
        for len in 0..=2000 {
            let data = &buffer[offset..offset + len];
            let ours = checksum(data);
            assert_eq!(ours, etherparse_checksum(data), "len {len} offset {offset}");
            assert_eq!(ours, reference(data), "len {len} offset {offset}");
        }
    }
}

#[test]
fn all_ones_and_all_zeros() {
    // Sums that land on the two zeros of ones' complement.
    for len in [0, 1, 2, 7, 8, 9, 64, 1500] {
        let zeros = vec![0u8; len];
        let ones = vec![0xffu8; len];
        assert_eq!(checksum(&zeros), reference(&zeros), "zeros {len}");
        assert_eq!(checksum(&ones), reference(&ones), "ones {len}");
        assert_eq!(checksum(&ones), etherparse_checksum(&ones), "ones {len}");
    }
}

#[test]
fn wide_loop_equals_word_loop_from_any_start() {
    let data = random_bytes(300, 7);
    for start in [0u16, 1, 0x7fff, 0xfffe, 0xffff] {
        assert_eq!(
            add_words_wide(start, &data),
            l3_net::checksum::add_words_rfc1071(start, &data)
        );
    }
}

#[test]
fn rfc_1624_section_4_example() {
    // RFC 1624 §4: the other header words sum to 0xCD7A and a field
    // m = 0x5555 changes to m' = 0x3285. One word can stand for "the
    // others", so the whole header is two words.
    let mut header = [0xcd, 0x7a, 0x55, 0x55];
    let old_checksum = checksum(&header);
    assert_eq!(old_checksum, 0xdd2f); // ~(0xCD7A + 0x5555) = ~0x22D0
    header[2..4].copy_from_slice(&0x3285u16.to_be_bytes());
    let recomputed = checksum(&header);
    assert_eq!(recomputed, 0x0000); // ~(0xCD7A + 0x3285) = ~0xFFFF
    assert_eq!(update(old_checksum, 0x5555, 0x3285), recomputed);

    // RFC 1141's eqn. 2, HC' = HC + m + ~m', gives the other zero, 0xFFFF:
    // the reason RFC 1624 exists.
    let rfc1141 = {
        let mut sum = u32::from(old_checksum) + 0x5555 + u32::from(!0x3285u16);
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    };
    assert_eq!(rfc1141, 0xffff);
    assert_ne!(rfc1141, recomputed);
}

#[test]
fn pseudo_header_agrees_with_etherparse_udp() {
    let (src, dst) = (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 1, 1));
    for len in [0usize, 1, 32, 33, 1000] {
        let payload = random_bytes(len, len as u64);
        let header = ep::UdpHeader::without_ipv4_checksum(44444, 33434, len).unwrap();
        let theirs = header
            .calc_checksum_ipv4_raw(src.octets(), dst.octets(), &payload)
            .unwrap();

        let mut segment = header.to_bytes().to_vec();
        segment.extend_from_slice(&payload);
        let mut sum = pseudo_header(src, dst, IpProtocol::UDP, header.length);
        sum.add_bytes(&segment);
        let ours = sum.finish();
        // RFC 768 sends a computed zero as 0xFFFF (zero means "no
        // checksum"); that is UDP's rule, applied by layer 4.
        let ours_as_udp_sends_it = if ours == 0 { 0xffff } else { ours };
        assert_eq!(ours_as_udp_sends_it, theirs, "len {len}");
    }
}

/// A 20- to 60-byte IPv4 header with random fields, version 4, IHL set,
/// and a checksum computed by [`reference`].
fn ipv4_header() -> impl Strategy<Value = Vec<u8>> {
    (5usize..=15, any::<u64>()).prop_map(|(ihl, seed)| {
        let mut header = random_bytes(ihl * 4, seed);
        header[0] = 0x40 | ihl as u8;
        header[10..12].fill(0);
        let sum = reference(&header);
        header[10..12].copy_from_slice(&sum.to_be_bytes());
        header
    })
}

fn word(data: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([data[at], data[at + 1]])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn pieces_sum_like_the_whole(data in proptest::collection::vec(any::<u8>(), 0..600),
                                 cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut sum = Checksum::new();
        let mut start = 0;
        for cut in cuts {
            sum.add_bytes(&data[start..cut]);
            start = cut;
        }
        sum.add_bytes(&data[start..]);
        prop_assert_eq!(sum.finish(), reference(&data));
    }

    #[test]
    fn wide_loop_equals_word_loop_on_random_buffers(data in proptest::collection::vec(any::<u8>(), 0..4100),
                                                    offset in 0usize..8,
                                                    start in any::<u16>()) {
        // Any length, any alignment of the first byte, any starting sum:
        // the deferred-carry loop and RFC 1071's word loop agree, and the
        // one-call checksum agrees with the C loop.
        let data = data.get(offset..).unwrap_or_default();
        prop_assert_eq!(
            add_words_wide(start, data),
            l3_net::checksum::add_words_rfc1071(start, data)
        );
        prop_assert_eq!(checksum(data), reference(data));
    }

    #[test]
    fn add_u16_and_u32_are_their_big_endian_bytes(prefix in proptest::collection::vec(any::<u8>(), 0..5),
                                                  a in any::<u16>(), b in any::<u32>()) {
        let mut sum = Checksum::new();
        sum.add_bytes(&prefix);
        sum.add_u16(a);
        sum.add_u32(b);
        let mut bytes = prefix.clone();
        bytes.extend_from_slice(&a.to_be_bytes());
        bytes.extend_from_slice(&b.to_be_bytes());
        prop_assert_eq!(sum.finish(), reference(&bytes));
    }

    #[test]
    fn ttl_decrement_update_equals_recomputation(mut header in ipv4_header()) {
        // A router's change (RFC 1812 §5.3.1): TTL is the high byte of the
        // word at 8..10, shared with the protocol.
        prop_assume!(header[8] > 0);
        let old_word = word(&header, 8);
        header[8] -= 1;
        let new_word = word(&header, 8);
        let updated = update(word(&header, 10), old_word, new_word);
        header[10..12].fill(0);
        prop_assert_eq!(updated, reference(&header));
    }

    #[test]
    fn any_word_update_equals_recomputation(mut header in ipv4_header(),
                                            at in any::<prop::sample::Index>(),
                                            new_word in any::<u16>()) {
        // Any 16-bit word but the checksum itself, and not the first (the
        // version must stay 4, so the header is never all zeros: the one
        // case where eqn. 3 and recomputation give different zeros).
        let words: Vec<usize> = (1..header.len() / 2).filter(|&w| w != 5).collect();
        let at = words[at.index(words.len())] * 2;
        let old_word = word(&header, at);
        header[at..at + 2].copy_from_slice(&new_word.to_be_bytes());
        let updated = update(word(&header, 10), old_word, new_word);
        header[10..12].fill(0);
        prop_assert_eq!(updated, reference(&header));
    }
}
