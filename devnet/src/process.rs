//! The relayer program as a child process (`micropay-relayer`), the one launcher the
//! demo, the benchmark (its CPU and memory measured apart) and the crash tests
//! (SIGKILL at any moment) share.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::Duration,
};

use anyhow::{bail, ensure, Context};

/// A relayer's command line, in `micropay-relayer`'s own flags (its `--help`).
/// Nothing here links the relayer: a devnet drives it as a program, as an operator
/// does.
#[derive(Clone, Debug, Default)]
pub struct RelayerFlags {
    flags: Vec<(&'static str, String)>,
}

impl RelayerFlags {
    /// Sets `flag` (`--store-url`, …) to `value`, replacing any value it had.
    pub fn set(&mut self, flag: &'static str, value: impl ToString) -> &mut Self {
        let value = value.to_string();
        match self.flags.iter_mut().find(|(name, _)| *name == flag) {
            Some((_, old)) => *old = value,
            None => self.flags.push((flag, value)),
        }
        self
    }

    pub fn get(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(name, _)| *name == flag)
            .map(|(_, value)| value.as_str())
    }

    /// The arguments, flag then value, in the order they were first set.
    pub fn args(&self) -> Vec<String> {
        self.flags
            .iter()
            .flat_map(|(flag, value)| [flag.to_string(), value.clone()])
            .collect()
    }
}

/// The relayer program as a child process; killed if dropped while running.
pub struct RelayerProcess {
    child: Child,
    pub url: String,
}

impl RelayerProcess {
    /// `micropay-relayer` from beside the running executable, as `cargo build` puts
    /// the two.
    pub fn beside_this_program() -> anyhow::Result<PathBuf> {
        let program = std::env::current_exe()?
            .parent()
            .context("the executable's directory")?
            .join("micropay-relayer");
        ensure!(
            program.exists(),
            "{} is missing: build it with `cargo build -p micropay-relayer`",
            program.display()
        );
        Ok(program)
    }

    /// `program` (a build of `micropay-relayer`) with `flags`, listening on a free
    /// local port; returns once it answers.
    pub async fn spawn_program(program: &Path, flags: &RelayerFlags) -> anyhow::Result<Self> {
        Self::spawn_program_with(program, flags, &[]).await
    }

    /// [`Self::spawn_program`] with extra environment variables (a crash point).
    pub async fn spawn_program_with(
        program: &Path,
        flags: &RelayerFlags,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut flags = flags.clone();
        flags.set("--listen", format!("127.0.0.1:{port}"));
        let child = Command::new(program)
            .args(flags.args())
            .env(
                "RUST_LOG",
                std::env::var("MICROPAY_RELAYER_LOG")
                    .unwrap_or_else(|_| "error,micropay_relayer=warn".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .context("starting the relayer process")?;
        let process = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let health = format!("{}{}", process.url, micropay_api::routes::HEALTH);
        for _ in 0..300 {
            if reqwest::get(&health)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(process);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the relayer process did not come up")
    }

    /// Asks the relayer to settle every open stream epoch now (SIGUSR1).
    pub fn settle_now(&self) -> anyhow::Result<()> {
        self.signal(libc::SIGUSR1)
    }

    fn signal(&self, signal: libc::c_int) -> anyhow::Result<()> {
        // SAFETY: signalling our own child process by its pid.
        ensure!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) } == 0,
            "signal not delivered"
        );
        Ok(())
    }

    /// CPU time the process has used, seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        stat_cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Its Prometheus metrics, as text.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        let url = format!("{}{}", self.url, micropay_api::routes::METRICS);
        Ok(reqwest::get(&url).await?.error_for_status()?.text().await?)
    }

    /// Peak resident memory, MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        self.memory_mib("VmHWM:")
    }

    /// Resident memory now, MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        self.memory_mib("VmRSS:")
    }

    /// A kibibyte figure of `/proc/<pid>/status`, in MiB.
    fn memory_mib(&self, field: &str) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no {field} in /proc status"))?;
        Ok(kib / 1024.0)
    }

    /// SIGKILL, as a crash would; returns once the process is gone.
    pub fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// How the process exited, once it has, or `None` after `timeout`.
    pub async fn exited(&mut self, timeout: Duration) -> anyhow::Result<Option<ExitStatus>> {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(None)
    }

    /// SIGTERM; returns how the process exited.
    pub async fn terminate(mut self) -> anyhow::Result<ExitStatus> {
        self.signal(libc::SIGTERM)?;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, and a clean exit.
    pub async fn stop(self) -> anyhow::Result<()> {
        let status = self.terminate().await?;
        ensure!(status.success(), "the relayer exited with {status}");
        Ok(())
    }
}

impl Drop for RelayerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// CPU seconds (user and system) used so far by this process's live tokio runtime
/// threads: in the benchmark, the simulated clients, apart from the in-process
/// validator's threads (which have names of their own). Threads that have exited are
/// not counted, so a difference of two readings is a lower bound.
pub fn runtime_cpu_seconds() -> anyhow::Result<f64> {
    let mut seconds = 0.0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let task = task?.path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        // A thread that has exited since the listing (an idle blocking-pool thread)
        // has no stat left to read; its time is no longer counted.
        if name.trim() == "tokio-rt-worker" {
            if let Ok(thread) = stat_cpu_seconds(&task.join("stat").to_string_lossy()) {
                seconds += thread;
            }
        }
    }
    Ok(seconds)
}

/// Utime plus stime of a `/proc/.../stat` file, seconds.
fn stat_cpu_seconds(path: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(path)?;
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("malformed /proc stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(ticks / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_set_again_keeps_its_place_and_takes_the_new_value() {
        let mut flags = RelayerFlags::default();
        flags
            .set("--url", "http://127.0.0.1:8899")
            .set("--instance", "a")
            .set("--url", "http://127.0.0.1:9000");
        assert_eq!(flags.get("--url"), Some("http://127.0.0.1:9000"));
        assert_eq!(flags.get("--listen"), None);
        assert_eq!(
            flags.args(),
            ["--url", "http://127.0.0.1:9000", "--instance", "a"]
        );
    }
}
