//! Namespaces: creating the lab's, and entering them.
//!
//! See namespaces(7), user_namespaces(7), pid_namespaces(7),
//! network_namespaces(7) and mount_namespaces(7) for the rules quoted here.

use std::ffi::CString;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::check;

/// The namespaces the lab uses, as `CLONE_*` flags for `unshare`/`setns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// User namespace: who is root, and over what.
    User,
    /// Network namespace: interfaces, addresses, routes, sockets, sysctls.
    Net,
    /// Mount namespace: the mount table (each host's /sys and /proc).
    Mount,
    /// PID namespace: process ids, and the init whose death ends them all.
    Pid,
}

impl Namespace {
    fn flag(self) -> libc::c_int {
        match self {
            Namespace::User => libc::CLONE_NEWUSER,
            Namespace::Net => libc::CLONE_NEWNET,
            Namespace::Mount => libc::CLONE_NEWNS,
            Namespace::Pid => libc::CLONE_NEWPID,
        }
    }

    /// The name of its file under `/proc/PID/ns/`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Namespace::User => "user",
            Namespace::Net => "net",
            Namespace::Mount => "mnt",
            Namespace::Pid => "pid",
        }
    }
}

/// `unshare(2)`: moves this process into new namespaces of the given kinds.
///
/// A new PID namespace is the exception: it applies to the children created
/// afterwards, not to the caller (the first child becomes its PID 1).
pub fn unshare(namespaces: &[Namespace]) -> io::Result<()> {
    let flags = namespaces.iter().fold(0, |flags, ns| flags | ns.flag());
    // SAFETY: unshare takes only an integer and changes this process's own
    // namespace membership; no memory is involved.
    check(unsafe { libc::unshare(flags) })?;
    Ok(())
}

/// `setns(2)`: moves this process into the namespace `file` refers to (an
/// open `/proc/PID/ns/*` file).
pub fn setns(file: &File, namespace: Namespace) -> io::Result<()> {
    // SAFETY: the descriptor is valid for the duration of the call (borrowed
    // from `file`); the nstype is one of the CLONE_NEW* constants, which
    // makes the kernel check the file is a namespace of that kind.
    check(unsafe { libc::setns(file.as_raw_fd(), namespace.flag()) })?;
    Ok(())
}

/// The inode number that identifies a namespace (what `ls -l /proc/PID/ns`
/// shows in brackets, e.g. `net:[4026532281]`). Two processes are in the same
/// namespace exactly when these are equal.
pub fn namespace_id(path: &Path) -> io::Result<u64> {
    Ok(fs::metadata(path)?.ino())
}

/// This process's effective user and group ids.
pub fn effective_ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// This process's real user id (whose lab it is, for the shared lab's path).
pub fn real_uid() -> u32 {
    // SAFETY: getuid cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

/// The step of [`create_user_namespace`] that failed, and the kernel's error.
#[derive(Debug)]
pub struct UserNamespaceError {
    /// What we were doing (`unshare(CLONE_NEWUSER)`, `write /proc/self/uid_map`…).
    pub step: &'static str,
    /// The kernel's answer.
    pub error: io::Error,
}

// ANCHOR: create_user_namespace
/// Makes this process root of a new user namespace: uid and gid 0 inside
/// are the caller's own uid and gid outside, and nobody else is mapped.
///
/// Inside, the process has every capability, but only over namespaces this
/// user namespace owns (the network, mount and PID namespaces the lab creates
/// next), never over the host's. That is how a learner gets CAP_NET_RAW for
/// the lab's veths without sudo.
///
/// The process must be single-threaded: the kernel refuses (EINVAL) to move
/// one thread of a multi-threaded process into a new user namespace.
pub fn create_user_namespace() -> Result<(), UserNamespaceError> {
    // Read our ids first: once unshared, and until the maps are written, the
    // kernel shows them as the overflow id 65534.
    let (uid, gid) = effective_ids();
    unshare(&[Namespace::User]).map_err(|error| UserNamespaceError {
        step: "unshare(CLONE_NEWUSER)",
        error,
    })?;
    // An unprivileged process may write a gid map only after giving up
    // setgroups(2) for good; otherwise it could drop a group it is in, which
    // "deny" rules could rely on (user_namespaces(7), CVE-2014-8989).
    let maps = [
        ("/proc/self/setgroups", "deny".to_string()),
        // "<first id inside> <first id outside> <count>": just one id each.
        ("/proc/self/uid_map", format!("0 {uid} 1")),
        ("/proc/self/gid_map", format!("0 {gid} 1")),
    ];
    for (path, contents) in maps {
        fs::write(path, contents).map_err(|error| UserNamespaceError { step: path, error })?;
    }
    Ok(())
}
// ANCHOR_END: create_user_namespace

/// `mount(2)` of a pseudo file system (sysfs, proc) on `target`, with the
/// usual hardening flags (no setuid, no device files, no executables).
fn mount_pseudo_fs(fstype: &str, target: &str) -> io::Result<()> {
    let source = CString::new(fstype)?;
    let target = CString::new(target)?;
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    // SAFETY: the three strings are NUL-terminated and live until the call
    // returns; a null `data` means "no file-system options".
    check(unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            source.as_ptr(),
            flags,
            std::ptr::null(),
        )
    })?;
    Ok(())
}

/// Marks every mount under `/` as a slave: mounts made here stay here,
/// while mounts the host makes later (a USB stick, a new tmpfs) still show up.
fn make_mounts_slave() -> io::Result<()> {
    let root = CString::new("/")?;
    // SAFETY: changing propagation needs only the target path (a
    // NUL-terminated string that outlives the call); source, type and data
    // are ignored and may be null.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        )
    })?;
    Ok(())
}

/// Whether [`mount_host_filesystems`] could give the host its own /proc.
#[derive(Debug)]
pub enum ProcMount {
    /// /proc now shows the lab's PID namespace (`ps` lists lab processes).
    Own,
    /// Mounting proc failed (some containers forbid it); /proc still shows
    /// the processes outside the lab.
    Inherited(io::Error),
}

// ANCHOR: host_sysfs
/// Gives a host (a process that has just unshared its network and mount
/// namespaces) its own `/sys` and, where the kernel allows it, its own
/// `/proc`, as `ip netns exec` does.
///
/// sysfs shows the network devices of the network namespace of the process
/// that mounts it, so after this `/sys/class/net` lists the host's
/// interfaces only. The rest of the file system stays shared.
pub fn mount_host_filesystems() -> io::Result<ProcMount> {
    // First, so that the mounts below never propagate back into the mount
    // namespace we were copied from.
    make_mounts_slave()?;
    mount_pseudo_fs("sysfs", "/sys")?;
    // proc shows the PID namespace of whoever mounts it: ours is the lab's.
    // Best effort: where the outer /proc is partly hidden (some container
    // runtimes mask parts of it) the kernel refuses a fresh one (EPERM).
    Ok(match mount_pseudo_fs("proc", "/proc") {
        Ok(()) => ProcMount::Own,
        Err(error) => ProcMount::Inherited(error),
    })
}
// ANCHOR_END: host_sysfs

/// Open handles on one host's namespaces: the `/proc/PID/ns/*` files of a
/// process living in them (the host's holder process).
#[derive(Debug)]
pub struct HostNamespaces {
    user: File,
    net: File,
    mount: File,
    pid: File,
}

impl HostNamespaces {
    /// Opens the namespaces of process `pid`, as numbered by this process's
    /// `/proc`.
    pub fn of_process(pid: u32) -> io::Result<HostNamespaces> {
        let open = |ns: Namespace| File::open(format!("/proc/{pid}/ns/{}", ns.proc_name()));
        Ok(HostNamespaces {
            user: open(Namespace::User)?,
            net: open(Namespace::Net)?,
            mount: open(Namespace::Mount)?,
            pid: open(Namespace::Pid)?,
        })
    }

    /// The namespace id (see [`namespace_id`]) of one of them.
    pub fn id(&self, namespace: Namespace) -> io::Result<u64> {
        let file = match namespace {
            Namespace::User => &self.user,
            Namespace::Net => &self.net,
            Namespace::Mount => &self.mount,
            Namespace::Pid => &self.pid,
        };
        Ok(file.metadata()?.ino())
    }
}

// ANCHOR: enter_host
/// Moves this process into a host: the lab's user namespace (unless already
/// in it), the host's network and mount namespaces, and the lab's PID
/// namespace (for the children spawned afterwards).
///
/// Order matters: entering the user namespace first gives us the
/// capabilities (CAP_SYS_ADMIN, CAP_SYS_CHROOT) that the kernel demands
/// over the lab's namespaces for the other three. Entering the mount
/// namespace resets the working directory to `/`: callers that care restore
/// it. Like `unshare(CLONE_NEWUSER)`, this needs a single-threaded process.
pub fn enter_host(host: &HostNamespaces) -> io::Result<()> {
    let context =
        |what: &str, error: io::Error| io::Error::new(error.kind(), format!("{what}: {error}"));
    // setns into the user namespace we are already in is EINVAL: compare ids.
    let own_user_ns = namespace_id(Path::new("/proc/self/ns/user"))?;
    if own_user_ns != host.id(Namespace::User)? {
        setns(&host.user, Namespace::User).map_err(|e| context("setns(user)", e))?;
    }
    setns(&host.net, Namespace::Net).map_err(|e| context("setns(net)", e))?;
    setns(&host.mount, Namespace::Mount).map_err(|e| context("setns(mnt)", e))?;
    setns(&host.pid, Namespace::Pid).map_err(|e| context("setns(pid)", e))?;
    Ok(())
}
// ANCHOR_END: enter_host

/// Checks the capability a learner needs in the lab: opens (and closes) an
/// AF_PACKET raw socket in the current network namespace. Protocol 0 means
/// the socket receives nothing, so no traffic is touched.
///
/// Where AppArmor restricts unprivileged user namespaces, `unshare` succeeds
/// but the namespace has no capabilities; this is where it shows (EPERM).
pub fn probe_packet_socket() -> io::Result<()> {
    // SAFETY: socket takes only integers; on success we own the returned
    // descriptor and close it right away.
    let fd =
        check(unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket(2) and nothing else owns it;
    // dropping the OwnedFd closes it.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(())
}
