//! The server's peak resident memory while the load ran.
//!
//! With the server's pid, `VmHWM` of `/proc/PID/status` is the kernel's own high-water
//! mark (exact, Linux only). Without it, `/metrics` is sampled for
//! `process_resident_memory_bytes`: the peak seen between samples, so a short spike can
//! be missed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// Where the memory figure comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `/proc/PID/status`, `VmHWM`.
    Pid(u32),
    /// The server's `/metrics` URL.
    Metrics(String),
}

impl Source {
    /// The name used in the summary.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Pid(_) => "vmhwm",
            Self::Metrics(_) => "metrics",
        }
    }
}

/// A running sampler; [`Watch::finish`] stops it and returns the peak in bytes.
pub struct Watch {
    peak: Arc<AtomicU64>,
    task: JoinHandle<()>,
    source: Source,
    client: reqwest::Client,
}

/// Starts sampling `source`.
pub fn watch(source: Source, client: reqwest::Client) -> Watch {
    let peak = Arc::new(AtomicU64::new(0));
    let task = {
        let (peak, source, client) = (Arc::clone(&peak), source.clone(), client.clone());
        tokio::spawn(async move {
            loop {
                if let Some(bytes) = sample(&source, &client).await {
                    peak.fetch_max(bytes, Ordering::Relaxed);
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        })
    };
    Watch {
        peak,
        task,
        source,
        client,
    }
}

impl Watch {
    /// The peak in bytes, if any sample succeeded.
    pub async fn finish(self) -> Option<u64> {
        self.task.abort();
        if let Some(bytes) = sample(&self.source, &self.client).await {
            self.peak.fetch_max(bytes, Ordering::Relaxed);
        }
        Some(self.peak.load(Ordering::Relaxed)).filter(|&bytes| bytes > 0)
    }

    pub fn source(&self) -> &Source {
        &self.source
    }
}

async fn sample(source: &Source, client: &reqwest::Client) -> Option<u64> {
    match source {
        Source::Pid(pid) => {
            let status = tokio::fs::read_to_string(format!("/proc/{pid}/status"))
                .await
                .ok()?;
            vm_hwm(&status)
        }
        Source::Metrics(url) => {
            let response = client.get(url).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            resident_bytes(&response.text().await.ok()?)
        }
    }
}

/// `VmHWM:    123456 kB` in bytes.
fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// `process_resident_memory_bytes 1.2e7` in bytes.
fn resident_bytes(metrics: &str) -> Option<u64> {
    let line = metrics
        .lines()
        .find(|line| line.starts_with("process_resident_memory_bytes "))?;
    let value: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(value as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm_and_the_resident_memory_metric() {
        let status = "Name:\tpayments\nVmPeak:\t  900 kB\nVmHWM:\t   2048 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(vm_hwm(status), Some(2048 * 1024));
        assert_eq!(vm_hwm("Name:\tx\n"), None);
        let metrics = "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 31457280\nprocess_resident_memory_bytes_x 1\n";
        assert_eq!(resident_bytes(metrics), Some(31_457_280));
        assert_eq!(
            resident_bytes("process_resident_memory_bytes 1.5e7\n"),
            Some(15_000_000)
        );
    }
}
