//! The edge's container (nginx with its stream module): a configuration is tested with
//! `nginx -t` in a throwaway container before the running edge gets it, then handed over through
//! Docker's archive API and a SIGHUP (nginx re-reads its files and keeps the old workers when it
//! cannot). No bind mount: the same calls work on every kind of host.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum};
use bollard::query_parameters::{
    CreateContainerOptions, KillContainerOptions, LogsOptions, UploadToContainerOptions, WaitContainerOptions,
};
use futures_util::StreamExt;

use super::{DockerEngine, api_text};
use crate::engine::EngineError;

/// Where the configuration goes inside the container.
pub const CONF_PATH: &str = "/etc/nbmsp-edge/nginx.conf";

fn failed(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Docker(format!("edge ({what}): {e}"))
}

fn tar_of(path: &str, content: &[u8]) -> Result<Vec<u8>, EngineError> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, path.trim_start_matches('/'), content).map_err(|e| failed("packing", e))?;
    tar.into_inner().map_err(|e| failed("packing", e))
}

/// What the edge container is made from.
pub struct EdgeSpec<'a> {
    /// Container name.
    pub name: &'a str,
    /// nginx image.
    pub image: &'a str,
    /// Docker network it joins (NPM's and the customers').
    pub network: &'a str,
    /// Host address and port published to the container's 443.
    pub listen: (&'a str, u16),
    /// Labels (installation, role).
    pub labels: HashMap<String, String>,
}

/// What `nginx -t` said of a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NginxTest {
    /// It passed.
    Accepted,
    /// It did not: nginx's words.
    Refused(String),
}

impl DockerEngine {
    async fn put_conf(&self, name: &str, conf: &str) -> Result<(), EngineError> {
        let up = UploadToContainerOptions { path: "/".into(), ..Default::default() };
        let tar = tar_of(CONF_PATH, conf.as_bytes())?;
        self.docker
            .upload_to_container(name, Some(up), bollard::body_full(tar.into()))
            .await
            .map_err(|e| failed("upload", api_text(e)))
    }

    /// `nginx -t` on `conf` in a throwaway container of `image` (no network): accepted, or
    /// refused with what nginx said.
    pub async fn edge_test(&self, image: &str, conf: &str) -> Result<NginxTest, EngineError> {
        let b = crate::store::crypto::random_bytes::<6>().map_err(|e| failed("name", e))?;
        let name = format!("nbmsp-edge-test-{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>());
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["nginx".into()]),
            cmd: Some(vec!["-t".into(), "-c".into(), CONF_PATH.into()]),
            labels: Some(HashMap::from([(super::helper::LABEL_HELPER.to_string(), "edge-test".to_string())])),
            host_config: Some(HostConfig { network_mode: Some("none".into()), ..Default::default() }),
            ..Default::default()
        };
        let opts = CreateContainerOptions { name: Some(name.clone()), platform: String::new() };
        self.docker.create_container(Some(opts), body).await.map_err(|e| failed("create", api_text(e)))?;
        let result = async {
            self.put_conf(&name, conf).await?;
            self.docker.start_container(&name, None).await.map_err(|e| failed("start", api_text(e)))?;
            let opts = WaitContainerOptions { condition: "not-running".into() };
            let code = match self.docker.wait_container(&name, Some(opts)).next().await {
                Some(Ok(r)) => r.status_code,
                Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
                Some(Err(e)) => return Err(failed("wait", api_text(e))),
                None => return Err(failed("wait", "no answer")),
            };
            let mut out = String::new();
            let opts = LogsOptions { stdout: true, stderr: true, ..Default::default() };
            let mut logs = self.docker.logs(&name, Some(opts));
            while let Some(Ok(chunk)) = logs.next().await {
                out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
            }
            let said = crate::domain::sanitize::terminal_safe(out.trim());
            Ok(if code == 0 { NginxTest::Accepted } else { NginxTest::Refused(said) })
        }
        .await;
        self.remove(&name).await?;
        result
    }

    /// Creates and starts the edge with `conf` (already tested).
    pub async fn edge_start(&self, spec: &EdgeSpec<'_>, conf: &str) -> Result<(), EngineError> {
        let (ip, port) = spec.listen;
        let body = ContainerCreateBody {
            image: Some(spec.image.to_string()),
            entrypoint: Some(vec!["nginx".into()]),
            cmd: Some(vec!["-g".into(), "daemon off;".into(), "-c".into(), CONF_PATH.into()]),
            labels: Some(spec.labels.clone()),
            exposed_ports: Some(vec!["443/tcp".into()]),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(
                    "443/tcp".to_string(),
                    Some(vec![PortBinding { host_ip: Some(ip.to_string()), host_port: Some(port.to_string()) }]),
                )])),
                restart_policy: Some(RestartPolicy {
                    name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                    maximum_retry_count: None,
                }),
                network_mode: Some(spec.network.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptions { name: Some(spec.name.to_string()), platform: String::new() };
        self.docker.create_container(Some(opts), body).await.map_err(|e| failed("create", api_text(e)))?;
        self.put_conf(spec.name, conf).await?;
        self.docker.start_container(spec.name, None).await.map_err(|e| failed("start", api_text(e)))
    }

    /// Gives the running edge `conf` (already tested) and has nginx re-read it.
    pub async fn edge_reload(&self, name: &str, conf: &str) -> Result<(), EngineError> {
        self.put_conf(name, conf).await?;
        let opts = KillContainerOptions { signal: "HUP".into() };
        self.docker.kill_container(name, Some(opts)).await.map_err(|e| failed("reload", api_text(e)))
    }

    /// The container's address on `network`, if it runs there.
    pub async fn address_on(&self, name: &str, network: &str) -> Result<Option<String>, EngineError> {
        Ok(self.inspect(name, Some(network)).await?.and_then(|c| c.ip))
    }

    /// The value of `key` in container `name`'s environment as it runs (`None`: no such
    /// container, or no such variable).
    pub async fn env_value(&self, name: &str, key: &str) -> Result<Option<String>, EngineError> {
        let prefix = format!("{key}=");
        Ok(self
            .inspect_raw(name)
            .await?
            .and_then(|c| c.config)
            .and_then(|c| c.env)
            .and_then(|env| env.iter().find_map(|e| e.strip_prefix(&prefix).map(str::to_string))))
    }
}
