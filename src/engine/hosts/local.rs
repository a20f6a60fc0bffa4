//! The host's own resources for the dashboard header and the disk alert: CPU and memory from
//! `/proc`, the data dir's disk from statvfs. Cheap enough to read every few seconds.
//! Also: which other nbmsp installations have containers on this engine.

use std::collections::BTreeMap;
use std::path::Path;

use crate::domain::fleet::HostStats;

/// Cumulative CPU jiffies (busy, total) from `/proc/stat`'s first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuTimes {
    busy: u64,
    total: u64,
}

/// Parses the aggregate `cpu` line of `/proc/stat`.
pub fn parse_cpu(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    if v.len() < 4 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    let total: u64 = v.iter().take(8).sum();
    Some(CpuTimes { busy: total.saturating_sub(idle), total })
}

/// Busy percent between two samples.
pub fn cpu_percent(prev: CpuTimes, now: CpuTimes) -> Option<f64> {
    let total = now.total.checked_sub(prev.total)?;
    (total > 0).then(|| now.busy.saturating_sub(prev.busy) as f64 * 100.0 / total as f64)
}

/// Memory in use in percent, from `/proc/meminfo` (MemTotal − MemAvailable).
pub fn parse_memory_percent(meminfo: &str) -> Option<f64> {
    let field =
        |name: &str| meminfo.lines().find_map(|l| l.strip_prefix(name)?.split_whitespace().next()?.parse::<u64>().ok());
    let total = field("MemTotal:")?;
    let available = field("MemAvailable:")?;
    (total > 0).then(|| total.saturating_sub(available) as f64 * 100.0 / total as f64)
}

/// (percent used, bytes free for unprivileged users) of the filesystem holding `path`; the
/// nearest existing ancestor is measured when `path` does not exist yet.
pub fn disk_usage(path: &Path) -> Option<(f64, u64)> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let s = rustix::fs::statvfs(existing).ok()?;
    let frsize = if s.f_frsize > 0 { s.f_frsize } else { s.f_bsize };
    let used = s.f_blocks.saturating_sub(s.f_bfree);
    // As df computes it: used / (used + available to users).
    let denom = used + s.f_bavail;
    let percent = if denom > 0 { used as f64 * 100.0 / denom as f64 } else { 0.0 };
    Some((percent, s.f_bavail.saturating_mul(frsize)))
}

/// Recent CPU readings, so the gauge shows the last minute's average: steadier (and more
/// telling) than the last few seconds, which jump with every probe round.
#[derive(Debug, Clone, Default)]
pub struct CpuHistory {
    readings: std::collections::VecDeque<(std::time::Instant, CpuTimes)>,
}

/// The window the CPU gauge averages over.
pub const CPU_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

impl CpuHistory {
    /// Adds a reading taken at `at` and returns the busy percent since the oldest reading
    /// inside the window (`None` until there are two).
    pub fn push(&mut self, at: std::time::Instant, now: CpuTimes) -> Option<f64> {
        while self.readings.len() > 1 && self.readings.get(1).is_some_and(|(t, _)| at.duration_since(*t) >= CPU_WINDOW)
        {
            self.readings.pop_front();
        }
        let oldest = self.readings.front().map(|(_, c)| *c);
        self.readings.push_back((at, now));
        oldest.and_then(|o| cpu_percent(o, now))
    }
}

/// Samples the host; `history` carries the CPU readings between calls.
pub fn sample(data_dir: &Path, history: &mut CpuHistory) -> HostStats {
    let cpu_now = std::fs::read_to_string("/proc/stat").ok().as_deref().and_then(parse_cpu);
    let cpu_percent = cpu_now.and_then(|c| history.push(std::time::Instant::now(), c));
    let disk = disk_usage(data_dir);
    HostStats {
        cpu_percent,
        memory_percent: std::fs::read_to_string("/proc/meminfo").ok().as_deref().and_then(parse_memory_percent),
        disk_percent: disk.map(|d| d.0),
        disk_free_bytes: disk.map(|d| d.1),
        containers: None,
    }
}

/// Containers of nbmsp installations on this Docker engine, by installation id: before a new
/// installation is made, these tell of one whose database may have been lost.
pub async fn foreign_installations() -> Result<BTreeMap<String, Vec<String>>, crate::engine::EngineError> {
    let docker = crate::engine::docker::DockerEngine::connect().await?;
    let mut found = docker.by_label_value(crate::engine::stack::render::LABEL_INSTALLATION).await?;
    found.retain(|id, _| !id.is_empty());
    Ok(found)
}

/// Why a new installation is refused beside `found`, and what to do instead.
pub fn foreign_refusal(found: &BTreeMap<String, Vec<String>>) -> String {
    let mut list: Vec<String> = found
        .iter()
        .take(5)
        .map(|(id, names)| format!("{id} ({} containers, e.g. {})", names.len(), names.first().map_or("", |n| n)))
        .collect();
    if found.len() > 5 {
        list.push(format!("and {} more installations", found.len() - 5));
    }
    format!(
        "this Docker engine runs containers of another nbmsp installation: {}. If that installation's database is \
         lost, put a backup back with `nbmsp backup restore FILE` instead of starting over. To start a separate \
         installation beside them run `nbmsp init --beside-foreign`; to take over their id, `nbmsp init --adopt ID`",
        list.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_between_samples() {
        let a = parse_cpu("cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n").unwrap();
        let b = parse_cpu("cpu  150 0 150 900 0 0 0 0 0 0\n").unwrap();
        assert_eq!(cpu_percent(a, b), Some(50.0));
        assert_eq!(cpu_percent(a, a), None, "no time passed");
        assert_eq!(parse_cpu("intr 1 2 3"), None);
    }

    #[test]
    fn memory_from_meminfo() {
        let m = "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n";
        assert_eq!(parse_memory_percent(m), Some(75.0));
        assert_eq!(parse_memory_percent("MemTotal: 0 kB\nMemAvailable: 0 kB"), None);
    }

    #[test]
    fn disk_of_a_missing_dir_is_its_parents() {
        let dir = tempfile::tempdir().unwrap();
        let (p, free) = disk_usage(&dir.path().join("not/yet")).unwrap();
        assert!((0.0..=100.0).contains(&p) && free > 0);
    }

    #[test]
    fn samples_this_host() {
        let mut history = CpuHistory::default();
        let first = sample(Path::new("/"), &mut history);
        assert!(first.memory_percent.is_some() && first.disk_percent.is_some());
        assert_eq!(first.cpu_percent, None, "one reading is no rate yet");
    }

    #[test]
    fn cpu_is_averaged_over_the_last_minute() {
        let t0 = std::time::Instant::now();
        let at = |s: u64| t0 + std::time::Duration::from_secs(s);
        let mut h = CpuHistory::default();
        assert_eq!(h.push(at(0), CpuTimes { busy: 0, total: 0 }), None);
        // 10 s at 100 %, then 10 s idle: the average since the start is 50 %.
        assert_eq!(h.push(at(10), CpuTimes { busy: 100, total: 100 }), Some(100.0));
        assert_eq!(h.push(at(20), CpuTimes { busy: 100, total: 200 }), Some(50.0));
        // Later readings drop the ones older than the window.
        h.push(at(70), CpuTimes { busy: 100, total: 700 });
        assert_eq!(h.push(at(80), CpuTimes { busy: 100, total: 800 }), Some(0.0));
    }
}
