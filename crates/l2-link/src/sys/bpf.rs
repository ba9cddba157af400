//! Classic BPF: the little programs the kernel runs on every frame before it
//! queues the frame on a packet socket (`SO_ATTACH_FILTER`, see
//! [`super::PacketSocket::attach_filter`]).
//!
//! A classic BPF machine (McCanne & Jacobson, "The BSD Packet Filter", 1993;
//! Linux's `Documentation/networking/filter.rst`) has an accumulator `A`,
//! an index register `X` and a program counter. Each instruction is 8 bytes,
//! `struct sock_filter` from `<linux/filter.h>`: a 16-bit opcode, two 8-bit
//! jump offsets (taken when the test is true / false, counted from the next
//! instruction) and a 32-bit constant `k`. The program ends with `ret`: the
//! number of bytes of the frame to keep, 0 meaning "drop it".
//!
//! Building a program is ordinary safe code; only handing it to the kernel is
//! a syscall.
#![deny(unsafe_code)]

use std::fmt::Write as _;

use crate::wire::EtherType;

/// One classic BPF instruction, laid out exactly as the kernel's
/// `struct sock_filter` (`<linux/filter.h>`), so a slice of them can be
/// passed to `SO_ATTACH_FILTER` as it is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BpfInstruction {
    /// The opcode: instruction class | size | addressing mode (or jump test).
    pub code: u16,
    /// Jump offset if the test is true (conditional jumps only).
    pub jt: u8,
    /// Jump offset if the test is false (conditional jumps only).
    pub jf: u8,
    /// The constant operand: an offset, a value to compare, a return value.
    pub k: u32,
}

// The opcode pieces, from <linux/bpf_common.h>. An opcode ORs a class with
// its modifiers: `BPF_LD | BPF_H | BPF_ABS` is "load a half-word from an
// absolute offset".

/// Class: load into the accumulator `A`.
pub const BPF_LD: u16 = 0x00;
/// Class: jump.
pub const BPF_JMP: u16 = 0x05;
/// Class: return (accept that many bytes; 0 drops).
pub const BPF_RET: u16 = 0x06;
/// Load size: 32-bit word.
pub const BPF_W: u16 = 0x00;
/// Load size: 16-bit half-word.
pub const BPF_H: u16 = 0x08;
/// Load size: byte.
pub const BPF_B: u16 = 0x10;
/// Addressing mode: the absolute byte offset `k` into the frame. Loads are
/// big-endian (network order), so `ldh [12]` reads an EtherType as written.
pub const BPF_ABS: u16 = 0x20;
/// Jump test: always (`ja`).
pub const BPF_JA: u16 = 0x00;
/// Jump test: `A == k`.
pub const BPF_JEQ: u16 = 0x10;
/// Jump test: `A > k`.
pub const BPF_JGT: u16 = 0x20;
/// Jump test: `A >= k`.
pub const BPF_JGE: u16 = 0x30;
/// Jump test: `A & k != 0`.
pub const BPF_JSET: u16 = 0x40;
/// Operand source: the constant `k`.
pub const BPF_K: u16 = 0x00;

/// What `ret` returns to accept a frame whole: keep up to 262144 bytes,
/// the snapshot length tcpdump and libpcap use for "everything".
pub const ACCEPT_WHOLE_FRAME: u32 = 0x40000;

/// Where the EtherType sits in an Ethernet II header: after the destination
/// and source MAC addresses (6 + 6 bytes).
pub const ETHERTYPE_OFFSET: u32 = 12;

impl BpfInstruction {
    /// An instruction without jumps (C's `BPF_STMT(code, k)` macro).
    pub const fn statement(code: u16, k: u32) -> BpfInstruction {
        BpfInstruction {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// A conditional jump (C's `BPF_JUMP(code, k, jt, jf)` macro): compare
    /// `A` with `k`, then skip `jt` instructions if true, `jf` if false.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> BpfInstruction {
        BpfInstruction { code, jt, jf, k }
    }
}

/// A filter that keeps only frames of one EtherType — what tcpdump compiles
/// for `ether proto 0x88b5`.
///
/// The kernel removes an 802.1Q tag before the filter runs (the tag travels
/// in `PACKET_AUXDATA` instead), so offset 12 holds the *inner* EtherType of
/// a tagged frame: this filter matches a tagged frame by what it carries.
// ANCHOR: bpf_ethertype
pub fn ethertype_filter(ethertype: EtherType) -> Vec<BpfInstruction> {
    vec![
        // (0) ldh [12]: A = the 16 bits at byte 12 of the frame, the EtherType.
        BpfInstruction::statement(BPF_LD | BPF_H | BPF_ABS, ETHERTYPE_OFFSET),
        // (1) jeq #type, jt 0, jf 1: if A == type, fall through to (2);
        //     otherwise skip one instruction, to (3).
        BpfInstruction::jump(BPF_JMP | BPF_JEQ | BPF_K, u32::from(ethertype.0), 0, 1),
        // (2) ret #262144: accept, keeping the whole frame.
        BpfInstruction::statement(BPF_RET | BPF_K, ACCEPT_WHOLE_FRAME),
        // (3) ret #0: keep zero bytes, that is, drop the frame.
        BpfInstruction::statement(BPF_RET | BPF_K, 0),
    ]
}
// ANCHOR_END: bpf_ethertype

/// A filter that drops every frame (`ret #0`). Attaching it first lets a
/// socket empty its queue of frames that arrived before the real filter.
pub fn drop_all() -> Vec<BpfInstruction> {
    vec![BpfInstruction::statement(BPF_RET | BPF_K, 0)]
}

/// The program in the notation `tcpdump -d` prints, one instruction a line:
/// `(001) jeq      #0x88b5          jt 2    jf 3`. Jump targets are
/// absolute instruction numbers, as tcpdump shows them.
pub fn disassemble(program: &[BpfInstruction]) -> String {
    let mut out = String::new();
    for (pc, insn) in program.iter().enumerate() {
        let next = pc + 1;
        let (mnemonic, operand, jumps) = describe(insn, next);
        let line = match jumps {
            Some((jt, jf)) => format!("({pc:03}) {mnemonic:<8} {operand:<16} jt {jt}\tjf {jf}"),
            None => format!("({pc:03}) {mnemonic:<8} {operand}"),
        };
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// Mnemonic, operand and absolute jump targets of one instruction.
fn describe(insn: &BpfInstruction, next: usize) -> (&'static str, String, Option<(usize, usize)>) {
    let k = insn.k;
    let targets = Some((next + usize::from(insn.jt), next + usize::from(insn.jf)));
    match insn.code {
        c if c == BPF_LD | BPF_W | BPF_ABS => ("ld", format!("[{k}]"), None),
        c if c == BPF_LD | BPF_H | BPF_ABS => ("ldh", format!("[{k}]"), None),
        c if c == BPF_LD | BPF_B | BPF_ABS => ("ldb", format!("[{k}]"), None),
        c if c == BPF_JMP | BPF_JA => ("ja", format!("{}", next as u64 + u64::from(k)), None),
        c if c == BPF_JMP | BPF_JEQ | BPF_K => ("jeq", format!("#0x{k:x}"), targets),
        c if c == BPF_JMP | BPF_JGT | BPF_K => ("jgt", format!("#0x{k:x}"), targets),
        c if c == BPF_JMP | BPF_JGE | BPF_K => ("jge", format!("#0x{k:x}"), targets),
        c if c == BPF_JMP | BPF_JSET | BPF_K => ("jset", format!("#0x{k:x}"), targets),
        c if c == BPF_RET | BPF_K => ("ret", format!("#{k}"), None),
        other => ("unimp", format!("0x{other:x}"), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_struct_sock_filter() {
        // The kernel reads the program as an array of `struct sock_filter`.
        assert_eq!(
            std::mem::size_of::<BpfInstruction>(),
            std::mem::size_of::<libc::sock_filter>()
        );
        assert_eq!(
            std::mem::align_of::<BpfInstruction>(),
            std::mem::align_of::<libc::sock_filter>()
        );
        assert_eq!(
            std::mem::offset_of!(BpfInstruction, k),
            std::mem::offset_of!(libc::sock_filter, k)
        );
        assert_eq!(
            std::mem::offset_of!(BpfInstruction, jf),
            std::mem::offset_of!(libc::sock_filter, jf)
        );
    }

    #[test]
    fn ethertype_filter_is_what_tcpdump_compiles() {
        // `tcpdump -dd 'ether proto 0x88b5'` (and `dumpcap -d`) print:
        //   { 0x28, 0, 0, 0x0000000c },
        //   { 0x15, 0, 1, 0x000088b5 },
        //   { 0x6, 0, 0, 0x00040000 },
        //   { 0x6, 0, 0, 0x00000000 },
        let tcpdump = [
            (0x28, 0, 0, 0x0000_000c),
            (0x15, 0, 1, 0x0000_88b5),
            (0x06, 0, 0, 0x0004_0000),
            (0x06, 0, 0, 0x0000_0000),
        ];
        let ours: Vec<_> = ethertype_filter(EtherType(0x88b5))
            .iter()
            .map(|i| (i.code, i.jt, i.jf, i.k))
            .collect();
        assert_eq!(ours, tcpdump);
    }

    #[test]
    fn disassembles_like_tcpdump() {
        let text = disassemble(&ethertype_filter(EtherType::ARP));
        // `tcpdump -d arp` prints these four lines.
        let expected = "(000) ldh      [12]\n\
                        (001) jeq      #0x806           jt 2\tjf 3\n\
                        (002) ret      #262144\n\
                        (003) ret      #0\n";
        assert_eq!(text, expected);
    }
}
