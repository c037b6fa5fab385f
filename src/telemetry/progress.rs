//! A progress bar on stderr for long commands (`tgbox reindex`): redrawn in place on a
//! terminal, a log line every few seconds otherwise (journald, pipes).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    what: &'static str,
    started: Instant,
    last_draw: Option<Instant>,
    terminal: bool,
}

impl Progress {
    pub fn new(what: &'static str) -> Progress {
        Progress {
            what,
            started: Instant::now(),
            last_draw: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Report `done` of `total`; draws at most 10 times a second (every 5 s off a terminal).
    pub fn update(&mut self, done: u64, total: u64) {
        let every = if self.terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        let due = self.last_draw.is_none_or(|t| t.elapsed() >= every);
        if !due && done < total {
            return;
        }
        self.last_draw = Some(Instant::now());
        let line = render(self.what, done, total, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r{line}\x1b[K")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }

    /// End the bar (a newline on a terminal).
    pub fn finish(&mut self) {
        if self.terminal && self.last_draw.is_some() {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `[#########-----------]  45%  450000/1000000 messages  52000/s`
pub fn render(what: &str, done: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: u64 = 24;
    let total = total.max(done);
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let rate = done as f64 / elapsed.as_secs_f64().max(0.001);
    format!(
        "[{}{}] {percent:>3}%  {done}/{total} {what}  {rate:.0}/s",
        "#".repeat(filled as usize),
        "-".repeat((WIDTH - filled) as usize),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_bar() {
        let line = super::render("messages", 50, 100, std::time::Duration::from_secs(1));
        assert!(
            line.starts_with("[############------------]  50%  50/100 messages"),
            "{line}"
        );
        let line = super::render("messages", 0, 0, std::time::Duration::ZERO);
        assert!(line.contains("100%"), "{line}");
    }
}
