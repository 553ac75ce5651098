//! A probe (tests/probe) that runs its arguments, then the commands of each
//! line written to its stdin: a program that keeps running while a test
//! drives it from outside.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

pub(crate) struct Interactive {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    /// Read as it comes, so that a chatty probe never blocks on a full pipe.
    stderr: Option<JoinHandle<String>>,
}

impl Interactive {
    /// Spawns `command`, the probe with its arguments and environment.
    pub(crate) fn spawn(mut command: Command) -> Interactive {
        let mut child = command
            .arg("interactive")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the probe runs");
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = child.stderr.take().expect("stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut probe = Interactive { child, stdin, lines, stderr: Some(stderr) };
        probe.until("interactive");
        probe
    }

    /// Reads lines up to the one that starts with `prefix`, and returns it.
    pub(crate) fn until(&mut self, prefix: &str) -> String {
        for line in self.lines.by_ref().map_while(Result::ok) {
            if line.starts_with(prefix) {
                return line;
            }
        }
        panic!("the probe ended before printing `{prefix}`")
    }

    /// The value of the next line `<key> = <value>`.
    pub(crate) fn value(&mut self, key: &str) -> String {
        let prefix = format!("{key} = ");
        self.until(&prefix)[prefix.len()..].to_owned()
    }

    /// Runs one line of commands.
    pub(crate) fn send(&mut self, commands: &str) {
        let stdin = self.stdin.as_mut().expect("the probe still reads");
        writeln!(stdin, "{commands}").expect("the probe reads");
    }

    /// Runs one line of commands; the value of `key` they print.
    pub(crate) fn run(&mut self, commands: &str, key: &str) -> String {
        self.send(commands);
        self.value(key)
    }

    /// Ends the probe, which must succeed; its stderr.
    pub(crate) fn finish(mut self) -> String {
        drop(self.stdin.take());
        let status = self.child.wait().expect("the probe ends");
        let stderr = self.stderr.take().map(|reader| reader.join().unwrap_or_default()).unwrap_or_default();
        assert!(status.success(), "the probe failed ({status}): {stderr}");
        stderr
    }
}

impl Drop for Interactive {
    fn drop(&mut self) {
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
