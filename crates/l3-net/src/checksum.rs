//! The internet checksum (RFC 1071), its incremental update (RFC 1624), and
//! the IPv4 pseudo-header that UDP and TCP add to theirs.
//!
//! IPv4 protects its header with it (RFC 791 §3.1, "Header Checksum"),
//! ICMP its whole message (RFC 792), UDP and TCP their segment plus a
//! pseudo-header (RFC 768, RFC 9293 §3.1). The rule is the same everywhere:
//!
//! 1. pair the bytes into 16-bit big-endian words (a lone last byte is
//!    padded with a zero byte on the right);
//! 2. add the words in *ones' complement* arithmetic: ordinary addition,
//!    except that a carry out of the top bit is added back in at the
//!    bottom (the "end-around carry");
//! 3. store the complement of that sum (with the checksum field counted as
//!    zero while summing).
//!
//! A receiver sums everything *including* the stored checksum: a sum plus
//! its own complement is 0xFFFF, so an intact header sums to 0xFFFF and
//! [`checksum`] over it returns 0.
//!
//! [`Checksum`] is the accumulator behind all of this; [`checksum`] is the
//! one-call form. The simple loop ([`add_words_rfc1071`]) is what RFC 1071
//! describes; [`add_bytes`](Checksum::add_bytes) uses a wider, faster loop,
//! [`add_words_wide`], which gives the same answer for the reasons its
//! documentation explains.

use std::net::Ipv4Addr;

use crate::wire::IpProtocol;

/// The checksum to store for `data`: the ones' complement of the ones'
/// complement sum of its 16-bit big-endian words (RFC 1071 §1). Write it
/// big-endian into a checksum field that was zero while `data` was summed.
///
/// Over data that already holds a correct checksum, the result is 0.
///
/// ```
/// use l3_net::checksum::checksum;
/// // RFC 1071 §3's example words 0001 f203 f4f5 f6f7 sum to 0xddf2.
/// let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
/// assert_eq!(checksum(&data), !0xddf2);
/// ```
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum = Checksum::new();
    sum.add_bytes(data);
    sum.finish()
}

// ANCHOR: checksum_rfc1071
/// Ones' complement addition of two 16-bit words: add, and if the addition
/// carried out of bit 15, add that carry back in at bit 0 (the end-around
/// carry). The second addition cannot carry again: after a carry the first
/// sum is at most 0xFFFE.
pub fn ones_complement_add(a: u16, b: u16) -> u16 {
    let (sum, carried) = a.overflowing_add(b);
    sum + u16::from(carried)
}

/// The ones' complement sum of `data` taken as 16-bit big-endian words,
/// added to `sum`: the loop of RFC 1071 §4.1, one word at a time. A lone
/// last byte is the high half of a word whose low half is zero.
///
/// This is the whole algorithm; everything else in this module only makes
/// it faster or more convenient.
pub fn add_words_rfc1071(mut sum: u16, data: &[u8]) -> u16 {
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        sum = ones_complement_add(sum, u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum = ones_complement_add(sum, u16::from_be_bytes([*last, 0]));
    }
    sum
}
// ANCHOR_END: checksum_rfc1071

// ANCHOR: checksum_wide
/// The same sum as [`add_words_rfc1071`], four bytes at a time into a
/// 64-bit accumulator: several times faster (see "Measuring a network
/// stack" in the book for this machine's figures), with no `unsafe` and
/// no SIMD intrinsics. The loop body is one load and one add with no
/// carry to look after, so the compiler can unroll it and spread it over
/// vector registers by itself.
///
/// Why this gives the same sum (RFC 1071 §2):
///
/// - *Deferred carries* (§2(C), "parallel summation"). Ones' complement
///   addition is addition modulo 0xFFFF (2¹⁶ − 1), with 0xFFFF standing
///   for the zero it is congruent to. Since 2¹⁶ ≡ 1 (mod 0xFFFF), a
///   32-bit word w₁w₀ is congruent to w₁ + w₀, and so is any wider
///   number to the sum of its 16-bit pieces. So we may add 32-bit words
///   into a 64-bit integer and fold it into 16 bits once, at the end:
///   every carry that left bit 15 is still in there, at bit 16 or above,
///   and the fold adds it back in at the bottom. A u64 cannot overflow
///   here: each addition adds less than 2³², so it takes 2³² of them
///   (16 GiB of data) to reach 2⁶⁴; we fold after every 1 GiB anyway.
/// - *Byte order independence* (§2(B)). Swapping the two bytes of every
///   word swaps the two bytes of the sum (a carry out of one byte lands
///   in the other either way, the end-around carry closing the circle).
///   So we may read the words in the machine's own byte order (no byte
///   swap per word on a little-endian machine) and swap the 16-bit
///   result once, at the end, with `u16::from_be`.
///
/// Incremental updates (RFC 1624, [`update`]) need nothing from this:
/// they work on the 16-bit result, which is the same either way.
pub fn add_words_wide(sum: u16, data: &[u8]) -> u16 {
    /// Bytes summed before each fold: far below the 16 GiB a u64 of
    /// 32-bit words could hold, and a whole number of words.
    const BLOCK: usize = 1 << 30;
    let mut sum = sum;
    for block in data.chunks(BLOCK) {
        let mut words = block.chunks_exact(4);
        let mut wide: u64 = 0;
        for word in &mut words {
            let word: [u8; 4] = word.try_into().expect("chunks_exact(4) gives 4 bytes");
            wide += u64::from(u32::from_ne_bytes(word));
        }
        // The words were read in native order: on a little-endian machine
        // the folded sum has its bytes swapped, and from_be swaps them
        // back (on a big-endian machine it does nothing).
        let native = fold_to_16_bits(wide);
        sum = ones_complement_add(sum, u16::from_be(native));
        // Fewer than four bytes are left (only in the last block): the
        // simple loop finishes them.
        sum = add_words_rfc1071(sum, words.remainder());
    }
    sum
}

/// Folds a wide ones' complement sum into 16 bits: add the 32-bit halves,
/// then the 16-bit halves, each time with the end-around carry (2³² and
/// 2¹⁶ are both ≡ 1 mod 0xFFFF, so each fold keeps the value).
fn fold_to_16_bits(wide: u64) -> u16 {
    let folded32 = ones_complement_add_u32((wide >> 32) as u32, wide as u32);
    ones_complement_add((folded32 >> 16) as u16, folded32 as u16)
}

/// [`ones_complement_add`] for 32-bit halves of the 64-bit sum.
fn ones_complement_add_u32(a: u32, b: u32) -> u32 {
    let (sum, carried) = a.overflowing_add(b);
    sum + u32::from(carried)
}
// ANCHOR_END: checksum_wide

/// An internet checksum being computed: feed it bytes (in any number of
/// pieces, of any lengths), then [`finish`](Self::finish).
///
/// ```
/// use l3_net::checksum::{Checksum, checksum};
/// let mut sum = Checksum::new();
/// sum.add_bytes(b"abc"); // odd length: the next byte completes a word
/// sum.add_bytes(b"de");
/// assert_eq!(sum.finish(), checksum(b"abcde"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Ones' complement sum of the big-endian words added so far.
    sum: u16,
    /// True when an odd number of bytes has been added: the last word is
    /// half full, and the next byte is its low half.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Checksum {
        Checksum { sum: 0, odd: false }
    }

    /// Adds `data` as if it followed, byte for byte, everything added
    /// before: adding `b"ab"` then `b"c"` is adding `b"abc"`, and a lone
    /// last byte counts as padded with zero (RFC 1071 §1) until more bytes
    /// arrive.
    pub fn add_bytes(&mut self, data: &[u8]) {
        let mut data = data;
        if self.odd
            && let Some((&low, rest)) = data.split_first()
        {
            // The earlier lone byte went in as `high << 8 | 0`; this byte
            // fills the zero half.
            self.sum = ones_complement_add(self.sum, u16::from(low));
            self.odd = false;
            data = rest;
        }
        self.sum = add_words_wide(self.sum, data);
        if data.len() % 2 == 1 {
            self.odd = true;
        }
    }

    /// Adds a 16-bit value as its two big-endian bytes.
    pub fn add_u16(&mut self, value: u16) {
        self.add_bytes(&value.to_be_bytes());
    }

    /// Adds a 32-bit value as its four big-endian bytes.
    pub fn add_u32(&mut self, value: u32) {
        self.add_bytes(&value.to_be_bytes());
    }

    /// The ones' complement sum so far, not yet complemented.
    pub fn sum(&self) -> u16 {
        self.sum
    }

    /// The checksum to store: the complement of the sum.
    pub fn finish(self) -> u16 {
        !self.sum
    }
}

// ANCHOR: pseudo_header
/// A checksum started with the IPv4 pseudo-header that UDP (RFC 768) and
/// TCP (RFC 9293 §3.1) put in front of their segment when they compute
/// their checksum: source and destination address, a zero byte, the
/// protocol, and the segment's length (header and data).
///
/// ```text
/// +--------+--------+--------+--------+
/// |           Source Address          |
/// +--------+--------+--------+--------+
/// |         Destination Address       |
/// +--------+--------+--------+--------+
/// |  zero  |  PTCL  |    Length       |
/// +--------+--------+--------+--------+
/// ```
///
/// The pseudo-header is never sent; it ties the segment to the addresses it
/// travels between, so a datagram delivered to the wrong host fails its
/// check. Add the segment (with a zero checksum field) and
/// [`finish`](Checksum::finish).
pub fn pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, length: u16) -> Checksum {
    // The twelve bytes laid out as above, then summed in one call (every
    // segment sent or received pays for this: one call rather than four).
    let mut pseudo = [0u8; 12];
    pseudo[0..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = protocol.0; // after the zero byte
    pseudo[10..12].copy_from_slice(&length.to_be_bytes());
    let mut sum = Checksum::new();
    sum.add_bytes(&pseudo);
    sum
}
// ANCHOR_END: pseudo_header

// ANCHOR: checksum_update
/// The checksum after one 16-bit word of the covered data changed from
/// `old` to `new`, without summing everything again: RFC 1624 eqn. 3,
///
/// ```text
/// HC' = ~(~HC + ~m + m')
/// ```
///
/// Adding `~m` subtracts `m` in ones' complement arithmetic, and adding
/// `m'` puts the new value in. A router uses this when it decrements TTL
/// (RFC 1812 §5.3.1): the TTL is the high byte of the word it shares with
/// the protocol.
///
/// RFC 1141's older form, `HC + m + ~m'`, complements only at the start
/// and can produce 0xFFFF where summing from scratch gives 0x0000 (RFC 1624
/// §3–4: the two zeros of ones' complement). Eqn. 3 complements at the end,
/// as a full computation does, and agrees with it for any data that is
/// not all zeros.
pub fn update(checksum: u16, old: u16, new: u16) -> u16 {
    let sum = ones_complement_add(ones_complement_add(!checksum, !old), new);
    !sum
}
// ANCHOR_END: checksum_update

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_section_3_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(add_words_rfc1071(0, &data), 0xddf2);
        assert_eq!(add_words_wide(0, &data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn end_around_carry() {
        assert_eq!(ones_complement_add(0xffff, 0x0001), 0x0001);
        assert_eq!(ones_complement_add(0x8000, 0x8000), 0x0001);
        assert_eq!(ones_complement_add(0xffff, 0xffff), 0xffff);
        assert_eq!(ones_complement_add(0x1234, 0x0000), 0x1234);
    }

    #[test]
    fn a_correct_checksum_sums_to_zero() {
        let mut data =
            *b"\x45\x00\x00\x54\x00\x01\x40\x00\x40\x01\x00\x00\xc6\x12\x00\x02\xc6\x12\x00\x01";
        let sum = checksum(&data);
        data[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn pseudo_header_is_twelve_bytes_in_front() {
        let (src, dst) = (Ipv4Addr::new(198, 18, 0, 2), Ipv4Addr::new(198, 18, 0, 1));
        let mut by_hand = vec![198, 18, 0, 2, 198, 18, 0, 1, 0, 17, 0, 9];
        let segment = b"\x30\x39\x00\x07\x00\x09\x00\x00x";
        let mut sum = pseudo_header(src, dst, IpProtocol::UDP, 9);
        sum.add_bytes(segment);
        by_hand.extend_from_slice(segment);
        assert_eq!(sum.finish(), checksum(&by_hand));
    }
}
