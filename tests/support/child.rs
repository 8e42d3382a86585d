//! Child processes for cross-process tests: this test binary re-run on one ignored test,
//! reporting progress as lines on its stdout.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Starts this test binary as a child running only the ignored test `name`, with the
/// environment `env` (which tells the child it is one and what to do); its stdout comes
/// through the channel line by line. `stderr` goes to the parent's when `show_stderr`.
pub fn spawn(
    name: &str,
    env: &[(&str, &str)],
    show_stderr: bool,
) -> (Child, mpsc::Receiver<String>) {
    let mut cmd = Command::new(std::env::current_exe().expect("the test binary's path"));
    cmd.args([
        "--ignored",
        "--exact",
        name,
        "--nocapture",
        "--test-threads=1",
    ])
    .stdout(Stdio::piped())
    .stderr(if show_stderr {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn child");
    let out = child.stdout.take().expect("the child's stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits (at most two minutes) for a line of the child's containing `what`.
pub fn wait_for(rx: &mpsc::Receiver<String>, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("the child never printed {what}"));
        if line.contains(what) {
            return line;
        }
    }
}
