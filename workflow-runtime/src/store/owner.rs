//! Who runs an execution: the identity a store handle claims executions with, and how a claim
//! by another process is judged live or dead.
//!
//! An owner is a store handle in a process: a random id, the process id, the process's start
//! time (so that a reused process id is not mistaken for the owner) and the machine (host name
//! and boot id, so that a process on another machine, or before a reboot, is never judged by
//! this machine's process table). Its claims hold while it renews its lease, every
//! [`LEASE_TTL`]`/3`; a claim whose lease expired can be taken over. On the owner's machine a
//! dead owner is recognised at once: no process with its id and start time exists.

use std::time::Duration;

/// How long a claim holds without being renewed. A process that stops renewing (it hangs, or
/// its machine lost power) loses its executions to another process after this long.
pub const LEASE_TTL: Duration = Duration::from_secs(15);

/// The identity under which a store handle claims executions.
///
/// ```
/// use workflow_runtime::store::Owner;
///
/// let me = Owner::current();
/// assert_eq!(me.pid, std::process::id());
/// assert_ne!(me.id, Owner::current().id); // one id per store handle
/// assert!(!me.is_dead_here(&me.host, me.pid, me.started)); // this process is alive
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// A random id, one per store handle.
    pub id: String,
    /// The machine: host name and boot id.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The process's start time (Linux: clock ticks after boot, from `/proc/<pid>/stat`; 0
    /// where unknown).
    pub started: u64,
}

impl Owner {
    /// A new identity for a store handle of this process.
    ///
    /// ```
    /// let owner = workflow_runtime::store::Owner::current();
    /// assert!(!owner.id.is_empty());
    /// ```
    pub fn current() -> Owner {
        let pid = std::process::id();
        Owner {
            id: uuid::Uuid::new_v4().simple().to_string(),
            host: machine(),
            pid,
            started: process_start(pid).unwrap_or(0),
        }
    }

    /// Whether a claim by (`host`, `pid`, `started`) is certainly dead: it was made on this
    /// machine (same host and boot) and no process with that id and start time exists.
    /// `false` when this cannot be known (another machine, no process table).
    ///
    /// ```
    /// use workflow_runtime::store::Owner;
    ///
    /// let me = Owner::current();
    /// // Another machine's claim cannot be judged from here.
    /// assert!(!me.is_dead_here("another-host", 1, 1));
    /// ```
    pub fn is_dead_here(&self, host: &str, pid: u32, started: u64) -> bool {
        if host != self.host || !cfg!(target_os = "linux") {
            return false;
        }
        if pid == self.pid && started == self.started {
            // This process: alive.
            return false;
        }
        match process_start(pid) {
            None => std::path::Path::new("/proc/self/stat").exists(),
            Some(now) => started != 0 && now != started,
        }
    }
}

/// `host name/boot id` of this machine (each part empty where unknown).
fn machine() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let host = read("/proc/sys/kernel/hostname");
    let host = if host.is_empty() {
        std::env::var("HOSTNAME").unwrap_or_default()
    } else {
        host
    };
    format!("{host}/{}", read("/proc/sys/kernel/random/boot_id"))
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`), or `None` when there is no
/// such process (or no `/proc`).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    // Fields 3.. follow; the start time is field 22, the 20th after the name.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Milliseconds since the Unix epoch.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_dead() {
        let me = Owner::current();
        assert!(!me.is_dead_here(&me.host, me.pid, me.started));
        if !cfg!(target_os = "linux") {
            return;
        }
        assert_ne!(me.started, 0, "the start time is known on Linux");
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn `true`");
        let pid = child.id();
        let started = process_start(pid).unwrap_or(0);
        child.wait().expect("wait");
        assert!(me.is_dead_here(&me.host, pid, started), "an ended process");
        // A live process with another start time (a reused pid) is not the owner.
        assert!(me.is_dead_here(&me.host, me.pid, me.started + 1));
        // Another machine cannot be judged.
        assert!(!me.is_dead_here("elsewhere/boot", pid, started));
    }
}
