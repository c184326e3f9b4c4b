//! The real `paycard-server` binary, as `make run` starts it: on port 0, with a database
//! of the test's, spoken to over HTTP.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub base: String,
    pub stdout_lines: Vec<String>,
}

/// Spawns the binary and waits for the "listening on" line it prints once ready.
pub fn start(db: &Path, password: Option<&str>) -> Server {
    start_with(db, password, &[], Stdio::inherit())
}

/// As [`start`], with more settings (`RUST_LOG`…) and the logs (stderr) sent to `logs`.
pub fn start_with(db: &Path, password: Option<&str>, vars: &[(&str, &str)], logs: Stdio) -> Server {
    start_on(&format!("sqlite://{}", db.display()), password, vars, logs)
}

/// As [`start_with`], on the database `url` names (PostgreSQL for several instances).
pub fn start_on(url: &str, password: Option<&str>, vars: &[(&str, &str)], logs: Stdio) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paycard-server"));
    cmd.env("PAYCARD_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", url)
        .env("PAYCARD_DEMO", "1")
        .env_remove("PAYCARD_DEMO_PASSWORD")
        .env("RUST_LOG", "warn")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(logs);
    if let Some(pw) = password {
        cmd.env("PAYCARD_DEMO_PASSWORD", pw);
    }
    let mut child = cmd.spawn().expect("spawn paycard-server");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut stdout_lines = Vec::new();
    let mut base = None;
    // The welcome block ends with the password line in demo mode.
    for line in reader.by_ref().lines() {
        let line = line.expect("read stdout");
        if let Some(url) = line.strip_prefix("paycard listening on ") {
            base = Some(url.trim().to_owned());
        }
        let done = line.trim_start().starts_with("password");
        stdout_lines.push(line);
        if done {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    Server {
        child,
        base: base.expect("the server printed its address"),
        stdout_lines,
    }
}

impl Server {
    /// `host:port` of the server.
    pub fn authority(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Sends SIGTERM and returns whether the process exited cleanly in time.
    pub fn terminate(mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`: no goodbye, no flush beyond what the database already has.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// The process's resident memory, in KiB (Linux's /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
