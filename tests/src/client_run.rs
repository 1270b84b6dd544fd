//! A third-party client process run by a test: its output kept in files, a
//! time limit, killed when dropped (a failing test leaves nothing behind).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Run;

/// A client process, killed when dropped (a failing test leaves nothing behind).
pub struct ClientRun {
    child: Child,
    label: String,
    stdout: PathBuf,
    stderr: PathBuf,
    started: Instant,
}

impl ClientRun {
    /// Starts `command` (its working directory already set) with its output in
    /// `<logs>/<label>.{out,err}`.
    pub fn spawn(logs: &Path, label: &str, mut command: Command) -> Self {
        std::fs::create_dir_all(logs).unwrap();
        let stdout = logs.join(format!("{label}.out"));
        let stderr = logs.join(format!("{label}.err"));
        let child = command
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        Self {
            child,
            label: label.to_string(),
            stdout,
            stderr,
            started: Instant::now(),
        }
    }

    /// Its label (the log files' name).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// What it has printed so far.
    pub fn output(&self) -> (String, String) {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        (read(&self.stdout), read(&self.stderr))
    }

    /// Whether it has exited (and how).
    pub fn exited(&mut self) -> Option<bool> {
        self.child
            .try_wait()
            .expect("poll the client")
            .map(|s| s.success())
    }

    /// Waits for it to exit, at most `timeout` from its start; kills it and fails past that.
    pub fn wait(mut self, timeout: Duration) -> Run {
        loop {
            if let Some(ok) = self.exited() {
                let (stdout, stderr) = self.output();
                println!(
                    "{}: exited {} after {:.1} s",
                    self.label,
                    if ok { "successfully" } else { "with failure" },
                    self.started.elapsed().as_secs_f64()
                );
                return Run { ok, stdout, stderr };
            }
            if self.started.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let (stdout, stderr) = self.output();
                panic!(
                    "{} did not finish within {} s; killed.\nstdout: {stdout}\nstderr: {stderr}",
                    self.label,
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits and fails with its output unless it succeeded.
    pub fn success(self, timeout: Duration) -> Run {
        let label = self.label.clone();
        let run = self.wait(timeout);
        assert!(
            run.ok,
            "{label} failed:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run
    }
}

impl Drop for ClientRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
