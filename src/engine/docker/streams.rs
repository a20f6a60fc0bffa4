//! What flows out of running containers: their log lines and resource samples.

use bollard::query_parameters::{LogsOptions, StatsOptions};
use futures_util::{Stream, StreamExt};

use super::{DockerEngine, api};
use crate::domain::deployment::{ContainerStats, LogLine};
use crate::engine::EngineError;

impl DockerEngine {
    /// Log lines of one container: the last `tail` (or all), then new ones while `follow`.
    pub fn logs(
        &self,
        name: &str,
        service: String,
        tail: Option<usize>,
        follow: bool,
    ) -> impl Stream<Item = Result<LogLine, EngineError>> + Send + 'static {
        let opts = LogsOptions {
            follow,
            stdout: true,
            stderr: true,
            timestamps: true,
            tail: tail.map_or_else(|| "all".to_string(), |n| n.to_string()),
            ..Default::default()
        };
        self.docker.logs(name, Some(opts)).map(move |item| {
            let out = item.map_err(api)?;
            let raw = String::from_utf8_lossy(&out.into_bytes()).trim_end_matches(['\n', '\r']).to_string();
            let (timestamp, text) = match raw.split_once(' ') {
                Some((ts, rest)) if ts.len() >= 20 && ts.as_bytes()[4] == b'-' => {
                    (Some(ts.to_string()), rest.to_string())
                }
                _ => (None, raw),
            };
            // Anyone on the internet can put escapes into a request path that lands here.
            Ok(LogLine { service: service.clone(), timestamp, text: crate::domain::sanitize::terminal_safe(&text) })
        })
    }

    /// One resource sample of a container (Docker takes about a second to measure CPU).
    pub async fn stats(&self, name: &str, service: &str) -> Result<ContainerStats, EngineError> {
        self.count();
        let mut s = self.docker.stats(name, Some(StatsOptions { stream: false, one_shot: false }));
        let st = s.next().await.ok_or_else(|| EngineError::Docker(format!("no stats for {name}")))?.map_err(api)?;
        let cpu = st.cpu_stats.as_ref();
        let pre = st.precpu_stats.as_ref();
        let total = |c: Option<&bollard::models::ContainerCpuStats>| {
            c.and_then(|c| c.cpu_usage.as_ref()).and_then(|u| u.total_usage).unwrap_or(0)
        };
        let system = |c: Option<&bollard::models::ContainerCpuStats>| c.and_then(|c| c.system_cpu_usage).unwrap_or(0);
        let cpu_delta = total(cpu).saturating_sub(total(pre)) as f64;
        let sys_delta = system(cpu).saturating_sub(system(pre)) as f64;
        let cpus = cpu.and_then(|c| c.online_cpus).unwrap_or(1).max(1) as f64;
        let cpu_percent = if sys_delta > 0.0 { cpu_delta / sys_delta * cpus * 100.0 } else { 0.0 };
        let mem = st.memory_stats.as_ref();
        let cache = mem
            .and_then(|m| m.stats.as_ref())
            .and_then(|s| s.get("inactive_file").or_else(|| s.get("cache")).copied())
            .unwrap_or(0);
        let (rx, tx) = st.networks.as_ref().map_or((0, 0), |nets| {
            nets.values().fold((0, 0), |(r, t), n| (r + n.rx_bytes.unwrap_or(0), t + n.tx_bytes.unwrap_or(0)))
        });
        Ok(ContainerStats {
            name: name.to_string(),
            service: service.to_string(),
            cpu_percent,
            memory_bytes: mem.and_then(|m| m.usage).unwrap_or(0).saturating_sub(cache),
            memory_limit_bytes: mem.and_then(|m| m.limit).unwrap_or(0),
            net_rx_bytes: rx,
            net_tx_bytes: tx,
        })
    }
}
