//! The command line of `loadgen` (the flags `payments loadgen` had).

use std::time::Duration;

use clap::Parser;

/// Send a stream of realistic signed events to a running `payments` server and print one
/// JSON summary (throughput, latency, apply lag, lost events).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
pub struct Args {
    /// Connected accounts (stores) the events are spread over.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub stores: u32,
    /// Seed of the stores' account ids and of what happens in each store.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fraction of deliveries that re-send an event already sent, as Stripe retries do.
    #[arg(long, default_value_t = 0.0, value_name = "FRACTION", value_parser = fraction)]
    pub duplicates: f64,
    /// Deliver events out of order (shuffled among the next few dozen).
    #[arg(long)]
    pub shuffle: bool,
    /// Requests in flight: the closed loop's workers, or the open loop's cap.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub concurrency: u32,
    /// Open loop: start this many deliveries per second, whatever the answers take.
    #[arg(long, value_name = "EVENTS_PER_SEC", value_parser = positive)]
    pub rate: Option<f64>,
    /// How long to send (`500ms`, `10s`, `2m`) [default: 10s, unless --events].
    #[arg(long, value_parser = parse_duration, conflicts_with = "events")]
    pub duration: Option<Duration>,
    /// Send this many deliveries (duplicates included) instead of running for a duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub events: Option<u64>,
    #[command(flatten)]
    pub target: payments::cli::TargetArgs,
    /// The server's database: read the apply lag and check that every acknowledged event
    /// is stored and applied (the exit status fails otherwise, unless --no-check).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// How long to wait, after sending, for the sent events to be applied.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub wait_applied: Duration,
    /// Only report: exit 0 even if acknowledged events are lost or unapplied.
    #[arg(long)]
    pub no_check: bool,
    /// The server's process id: its peak RSS is read from /proc/PID/status (VmHWM)
    /// [default: sample `process_resident_memory_bytes` from the server's /metrics].
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
}

/// `500ms`, `10s`, `2m` or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 10s or 2m"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("unknown unit `{unit}`: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("`{text}`: {err}"))
}

fn fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err(format!("`{text}` is not a fraction between 0 and 1")),
    }
}

fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("`{text}` is not a positive number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_ms_s_and_m() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn fractions_stay_between_0_and_1() {
        assert_eq!(fraction("0.05"), Ok(0.05));
        assert!(fraction("1.5").is_err());
        assert!(positive("0").is_err());
    }

    #[test]
    fn duration_and_events_exclude_each_other() {
        let parsed = Args::try_parse_from(["loadgen", "--duration", "1s", "--events", "5"]);
        assert!(parsed.is_err());
        let args = Args::try_parse_from(["loadgen", "--rate", "100", "--shuffle"]).unwrap();
        assert_eq!(args.rate, Some(100.0));
        assert_eq!(args.concurrency, 32);
    }
}
