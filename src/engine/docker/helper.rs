//! Throwaway helper containers (busybox, `images.helper`) for what a tcp:// host offers no other
//! way to do, since nbmsp has no SSH there: shell work on a customer's instance files (the data
//! dir bind-mounted at its own path, so paths mean the same inside and out), and TCP streams
//! into the host's Docker networks (`nc` on the host's network, its stdin/stdout attached).
//!
//! A script's input and output travel as files through Docker's archive API, not through an
//! attached stream or the log driver: the log driver stores lines as JSON text and would mangle
//! a tar stream, and an archive upload needs no hijacked connection.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptions, CreateContainerOptions, DownloadFromContainerOptions, UploadToContainerOptions,
    WaitContainerOptions,
};
use futures_util::StreamExt;

use super::DockerEngine;
use crate::engine::EngineError;

/// Label on every helper container, so a leftover (a killed nbmsp) is recognisable.
pub const LABEL_HELPER: &str = "nbmsp.helper";

/// How a helper's script is started: its files in `/nbmsp`, stdout and stderr kept as files.
const RUNNER: &str = "sh /nbmsp/script < /nbmsp/input > /nbmsp/output 2> /nbmsp/error";

fn failed(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Docker(format!("helper container ({what}): {e}"))
}

/// A fresh helper name (random, so concurrent runs never meet).
fn unique_name(kind: &str) -> Result<String, EngineError> {
    let b = crate::store::crypto::random_bytes::<6>().map_err(|e| failed("name", e))?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("nbmsp-helper-{kind}-{hex}"))
}

/// Pulls `image` when the engine lacks it (as a deploy pulls NetBird's).
async fn ensure_image(engine: &DockerEngine, image: &str) -> Result<(), EngineError> {
    if engine.has_image(image).await? {
        return Ok(());
    }
    engine.pull(image, |_| {}).await.map_err(|e| failed(image, format!("{e} (set images.helper)")))
}

/// A tar archive of `files` (path, content) for an upload at `/`.
fn tar_of(files: &[(&str, &[u8])]) -> Result<Vec<u8>, EngineError> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o600);
        tar.append_data(&mut h, path, *content).map_err(|e| failed("packing", e))?;
    }
    tar.into_inner().map_err(|e| failed("packing", e))
}

/// The content of the one file at `path` in the (stopped) container.
async fn read_back(engine: &DockerEngine, name: &str, path: &str) -> Result<Vec<u8>, EngineError> {
    let opts = DownloadFromContainerOptions { path: path.to_string() };
    let mut stream = engine.docker.download_from_container(name, Some(opts));
    let mut archive = Vec::new();
    while let Some(chunk) = stream.next().await {
        archive.extend_from_slice(&chunk.map_err(|e| failed("reading back", super::api_text(e)))?);
    }
    let mut t = tar::Archive::new(archive.as_slice());
    let mut entries = t.entries().map_err(|e| failed("reading back", e))?;
    let mut out = Vec::new();
    if let Some(entry) = entries.next() {
        std::io::Read::read_to_end(&mut entry.map_err(|e| failed("reading back", e))?, &mut out)
            .map_err(|e| failed("reading back", e))?;
    }
    Ok(out)
}

/// Runs `script` with busybox `sh` in a helper container that sees the host's `mount` (an
/// absolute dir, created by Docker when missing) at the same path, feeding it `input`; its
/// stdout comes back. A failure carries what the script printed on stderr. The container has
/// no network and is removed in every case.
pub async fn run_script(
    engine: &DockerEngine,
    image: &str,
    mount: &str,
    script: &str,
    input: Vec<u8>,
) -> Result<Vec<u8>, EngineError> {
    // A bind spec is `source:target[:options]`: a ':' or ',' in the path would change its meaning.
    if !mount.starts_with('/') || mount.contains([':', ',']) {
        return Err(EngineError::Usage(format!("the data dir {mount} cannot be mounted into a helper (':' or ',')")));
    }
    ensure_image(engine, image).await?;
    sweep(engine).await;
    let name = unique_name("sh")?;
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        entrypoint: Some(vec!["sh".into(), "-c".into(), RUNNER.into()]),
        cmd: Some(Vec::new()),
        user: Some("0".into()),
        labels: Some(HashMap::from([(LABEL_HELPER.to_string(), "sh".to_string())])),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{mount}:{mount}")]),
            network_mode: Some("none".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let opts = CreateContainerOptions { name: Some(name.clone()), platform: String::new() };
    let docker = &engine.docker;
    docker.create_container(Some(opts), body).await.map_err(|e| failed("create", super::api_text(e)))?;
    let result = async {
        let files = tar_of(&[("nbmsp/script", script.as_bytes()), ("nbmsp/input", &input)])?;
        let up = UploadToContainerOptions { path: "/".into(), ..Default::default() };
        docker
            .upload_to_container(&name, Some(up), bollard::body_full(files.into()))
            .await
            .map_err(|e| failed("upload", super::api_text(e)))?;
        docker.start_container(&name, None).await.map_err(|e| failed("start", super::api_text(e)))?;
        let code = exit_code(engine, &name).await?;
        if code != 0 {
            let err = read_back(engine, &name, "/nbmsp/error").await.unwrap_or_default();
            let err = crate::domain::sanitize::terminal_safe(String::from_utf8_lossy(&err).trim());
            return Err(EngineError::Files(if err.is_empty() { format!("exited with {code}") } else { err }));
        }
        read_back(engine, &name, "/nbmsp/output").await
    }
    .await;
    discard(engine, &name).await;
    result
}

/// Removes script helpers an nbmsp killed mid-run left behind: exited ones created over an hour
/// ago (a live run reads its helper back within seconds of its exit).
async fn sweep(engine: &DockerEngine) {
    let filters = HashMap::from([
        ("label".to_string(), vec![format!("{LABEL_HELPER}=sh")]),
        ("status".to_string(), vec!["exited".to_string(), "created".to_string()]),
    ]);
    let opts =
        bollard::query_parameters::ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
    let Ok(list) = engine.docker.list_containers(Some(opts)).await else { return };
    let hour_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    for c in list.into_iter().filter(|c| c.created.is_some_and(|t| t < hour_ago)) {
        if let Some(name) = c.names.and_then(|n| n.into_iter().next()) {
            discard(engine, name.trim_start_matches('/')).await;
        }
    }
}

/// Waits for the container to stop; its exit code.
async fn exit_code(engine: &DockerEngine, name: &str) -> Result<i64, EngineError> {
    let opts = WaitContainerOptions { condition: "not-running".into() };
    let mut wait = engine.docker.wait_container(name, Some(opts));
    match wait.next().await {
        Some(Ok(r)) => Ok(r.status_code),
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(failed("wait", super::api_text(e))),
        None => Err(failed("wait", "no answer")),
    }
}

/// A byte stream to `host:port` as the Docker host itself reaches it (its loopback, its bridge
/// networks): `nc` in a helper on the host's network, attached. The helper is created with
/// auto-remove (`nc` ends when the peer hangs up); [`discard`] removes it at once.
pub struct NcStream {
    /// The helper's name.
    pub name: String,
    /// Its stdin (bytes to the peer) and its output (the peer's bytes as stdout frames).
    pub io: bollard::container::AttachContainerResults,
}

impl NcStream {
    /// Opens the stream (see the type).
    pub async fn open(engine: &DockerEngine, image: &str, host: &str, port: u16) -> Result<Self, EngineError> {
        ensure_image(engine, image).await?;
        let name = unique_name("nc")?;
        let docker = &engine.docker;
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["nc".into(), host.to_string(), port.to_string()]),
            cmd: Some(Vec::new()),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(true),
            labels: Some(HashMap::from([(LABEL_HELPER.to_string(), "nc".to_string())])),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                auto_remove: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptions { name: Some(name.clone()), platform: String::new() };
        docker.create_container(Some(opts), body).await.map_err(|e| failed("create", super::api_text(e)))?;
        let attach =
            AttachContainerOptions { stdin: true, stdout: true, stderr: true, stream: true, ..Default::default() };
        let io = match docker.attach_container(&name, Some(attach)).await {
            Ok(a) => a,
            Err(e) => {
                discard(engine, &name).await;
                return Err(failed("attach", super::api_text(e)));
            }
        };
        if let Err(e) = docker.start_container(&name, None).await {
            discard(engine, &name).await;
            return Err(failed("start", super::api_text(e)));
        }
        Ok(Self { name, io })
    }
}

/// Removes the helper `name` (an auto-removed one may be gone already); a failure is only
/// logged: the helper is labelled, and a later run's sweep or the operator finds it.
pub async fn discard(engine: &DockerEngine, name: &str) {
    if let Err(e) = engine.remove(name).await {
        tracing::warn!("helper container {name} stays: {e}");
    }
}
