//! The nftables ruleset generation of this network namespace, read over netlink without
//! spawning `nft`: a converged pass skips `nft list table inet netc` when nothing was committed
//! since netc last read the table.
//!
//! The kernel bumps the generation id on every committed nftables transaction in the namespace
//! (`nf_tables_commit` increments `nft_net->base_seq`), whichever table it touches: a flushed or
//! edited `inet netc` always changes it. The id alone restarts with a new namespace or a boot, so
//! a generation is the id *and* the namespace's cookie (`SO_NETNS_COOKIE`, Linux 5.14: never
//! reused while the system runs) *and* the boot id. Where the cookie is not available there is
//! no generation and netc always lists the table.
//!
//! Wire format: include/uapi/linux/netfilter/nfnetlink.h (`struct nfgenmsg`,
//! `NFNL_SUBSYS_NFTABLES`) and include/uapi/linux/netfilter/nf_tables.h (`NFT_MSG_GETGEN`,
//! `NFT_MSG_NEWGEN`, `NFTA_GEN_ID`).

use std::io;
use std::os::fd::AsRawFd;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};
use serde::{Deserialize, Serialize};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFT_MSG_NEWGEN: u16 = 15;
const NFT_MSG_GETGEN: u16 = 16;
const NFTA_GEN_ID: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_HDRLEN: usize = 16;
const NFGENMSG_LEN: usize = 4;

/// One committed state of the ruleset of one network namespace during one boot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    pub id: u32,
    pub netns_cookie: u64,
    pub boot_id: String,
}

/// The current generation; `None` when the kernel cannot say (no cookie, no nf_tables).
pub fn current() -> Option<Generation> {
    let socket = Socket::new(NETLINK_NETFILTER).ok()?;
    let netns_cookie = netns_cookie(&socket)?;
    let id = generation_id(socket).ok()?;
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(Generation {
        id,
        netns_cookie,
        boot_id: boot_id.trim().to_owned(),
    })
}

fn netns_cookie(socket: &Socket) -> Option<u64> {
    let mut cookie: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: `cookie` and `len` are valid for writes of the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_NETNS_COOKIE,
            (&raw mut cookie).cast(),
            &raw mut len,
        )
    };
    (rc == 0 && len as usize == std::mem::size_of::<u64>()).then_some(cookie)
}

fn generation_id(mut socket: Socket) -> io::Result<u32> {
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut request = Vec::with_capacity(NLMSG_HDRLEN + NFGENMSG_LEN);
    request.extend_from_slice(&((NLMSG_HDRLEN + NFGENMSG_LEN) as u32).to_ne_bytes());
    request.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN).to_ne_bytes());
    request.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    request.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    request.extend_from_slice(&[0, 0, 0, 0]); // nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id 0
    socket.send(&request, 0)?;
    let mut buf = vec![0u8; 8192];
    let n = socket.recv(&mut &mut buf[..], 0)?;
    parse_reply(&buf[..n])
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("nftables generation: {what}"),
    )
}

/// The id in a `NFT_MSG_NEWGEN` reply (or the error the kernel answered with).
fn parse_reply(msg: &[u8]) -> io::Result<u32> {
    let u16_at = |i: usize| msg.get(i..i + 2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
    let len = msg
        .get(0..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| bad("short reply"))?;
    let kind = u16_at(4).ok_or_else(|| bad("short reply"))?;
    if kind == NLMSG_ERROR {
        let errno = msg
            .get(NLMSG_HDRLEN..NLMSG_HDRLEN + 4)
            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("short error"))?;
        return Err(io::Error::from_raw_os_error(-errno));
    }
    if kind != (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN || len > msg.len() {
        return Err(bad("unexpected reply"));
    }
    let mut at = NLMSG_HDRLEN + NFGENMSG_LEN;
    while at + 4 <= len {
        let (Some(alen), Some(atype)) = (u16_at(at), u16_at(at + 2)) else {
            break;
        };
        let alen = usize::from(alen);
        if alen < 4 || at + alen > len {
            break;
        }
        // NLA_TYPE_MASK drops the nested/byte-order flags.
        if atype & 0x3fff == NFTA_GEN_ID && alen >= 8 {
            let b = &msg[at + 4..at + 8];
            return Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        }
        at += alen.div_ceil(4) * 4;
    }
    Err(bad("no NFTA_GEN_ID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_newgen_and_errors() {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN).to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&[0, 0, 0, 7]);
        // NFTA_GEN_PROC_PID first, then NFTA_GEN_ID (big-endian).
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&99u32.to_be_bytes());
        m.extend_from_slice(&8u16.to_ne_bytes());
        m.extend_from_slice(&NFTA_GEN_ID.to_ne_bytes());
        m.extend_from_slice(&0x0102_0304u32.to_be_bytes());
        assert_eq!(parse_reply(&m).expect("id"), 0x0102_0304);

        let mut e = Vec::new();
        e.extend_from_slice(&36u32.to_ne_bytes());
        e.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        e.extend_from_slice(&[0; 10]);
        e.extend_from_slice(&(-libc::EPERM).to_ne_bytes());
        let err = parse_reply(&e).expect_err("error");
        assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    }
}
