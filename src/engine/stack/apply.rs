//! Applying a rendered compose file with bollard: create what is missing, recreate what
//! changed, keep what is identical.

use std::collections::HashMap;
use std::path::Path;

use crate::domain::customer::Layout;
use crate::engine::EngineError;
use crate::engine::docker::{ContainerSpec, DockerEngine, LABEL_CONFIG_HASH, LABEL_PROJECT, LABEL_SERVICE};
use crate::engine::stack::compose::{self, ComposeFile, Mount, PortMapping, Service};

/// What happened to one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It did not exist; created and started.
    Created,
    /// Its definition changed; replaced.
    Recreated,
    /// Identical and running; untouched.
    Kept,
    /// Identical but stopped; started.
    Started,
}

/// FNV-1a: a stable hash (unlike std's), so a new nbmsp binary does not see every container as changed.
fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The container spec of one service, with env files and mounted files read from disk, and a
/// hash over everything that defines the container (including those files' contents).
pub fn spec(
    file: &ComposeFile,
    project: &str,
    service: &str,
    svc: &Service,
    working_dir: &Path,
) -> Result<ContainerSpec, EngineError> {
    let bad = |e: String| EngineError::Damaged(format!("docker-compose.yml, service {service}: {e}"));
    let mut hash = fnv(serde_json::to_string(svc).unwrap_or_default().as_bytes(), 0xcbf2_9ce4_8422_2325);
    let mut env: Vec<(String, String)> = Vec::new();
    for path in &svc.env_file {
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read env file {path}: {e}")))?;
        hash = fnv(text.as_bytes(), hash);
        env.extend(compose::parse_env_file(&text));
    }
    env.extend(svc.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut binds = Vec::new();
    for v in &svc.volumes {
        let m = Mount::parse(v).map_err(|e| bad(e.0))?;
        // Mounted config files are part of the definition: a changed config.yaml must restart.
        if let Ok(content) = std::fs::read(&m.host) {
            hash = fnv(&content, hash);
        }
        binds.push(v.clone());
    }
    let ports = svc
        .ports
        .iter()
        .map(|p| PortMapping::parse(p).map(|m| (m.container_key(), m.host)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.0))?;
    let network = match svc.networks.first() {
        Some(key) => {
            let name = file.network_name(key).ok_or_else(|| bad(format!("network {key} is not declared")))?;
            Some((name.to_string(), vec![service.to_string(), svc.container_name.clone()]))
        }
        None => None,
    };
    let mut labels: HashMap<String, String> = svc.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    // docker-compose finds containers by these, so `docker-compose -p <project> ps|logs` work too.
    for (k, v) in [
        (LABEL_PROJECT, project.to_string()),
        (LABEL_SERVICE, service.to_string()),
        ("com.docker.compose.oneoff", "False".to_string()),
        ("com.docker.compose.container-number", "1".to_string()),
        ("com.docker.compose.project.working_dir", working_dir.to_string_lossy().into_owned()),
        (
            "com.docker.compose.project.config_files",
            working_dir.join("docker-compose.yml").to_string_lossy().into_owned(),
        ),
        (LABEL_CONFIG_HASH, format!("{hash:016x}")),
    ] {
        labels.insert(k.to_string(), v);
    }
    // Later definitions of a variable win, as in docker-compose.
    let mut seen = std::collections::BTreeMap::new();
    for (k, v) in env {
        seen.insert(k, v);
    }
    Ok(ContainerSpec {
        name: svc.container_name.clone(),
        image: svc.image.clone(),
        command: svc.command.clone(),
        env: seen.into_iter().map(|(k, v)| format!("{k}={v}")).collect(),
        binds,
        ports,
        network,
        restart: svc.restart.clone(),
        labels,
        healthcheck: svc.healthcheck.as_ref().map(|h| h.to_docker()).transpose().map_err(|e| bad(e.0))?,
    })
}

async fn apply_one(docker: &DockerEngine, spec: &ContainerSpec) -> Result<Change, EngineError> {
    let want = spec.labels.get(LABEL_CONFIG_HASH).cloned();
    // The same name can mean another image: a tag re-pointed (pulled, loaded or rebuilt) since.
    let want_image = docker.image_id(&spec.image).await?;
    let same_image = |c: &crate::domain::deployment::ContainerInfo| {
        c.image == spec.image && want_image.as_ref().is_none_or(|id| c.image_id.is_empty() || c.image_id == *id)
    };
    Ok(match docker.inspect(&spec.name, None).await? {
        None => {
            docker.create_and_start(spec).await?;
            Change::Created
        }
        Some(c)
            if c.config_hash == want
                && same_image(&c)
                && spec.network.as_ref().is_none_or(|(net, _)| c.networks.contains(net)) =>
        {
            if c.state == "running" {
                Change::Kept
            } else {
                docker.start(&spec.name).await?;
                Change::Started
            }
        }
        Some(_) if docker.same_owner(&spec.name, &spec.labels).await? == Some(false) => {
            return Err(EngineError::Docker(format!(
                "a container named {} exists that nbmsp did not create for this customer; \
                 remove or rename it (nbmsp never removes containers it does not own)",
                spec.name
            )));
        }
        Some(_) => {
            docker.remove(&spec.name).await?;
            docker.create_and_start(spec).await?;
            Change::Recreated
        }
    })
}

/// Brings the containers in line with `file`. Services are applied concurrently: none of
/// NetBird's containers needs another one up to start, and Docker spends most of a start on
/// network setup that overlaps well. Results come back in layout order; the first error wins
/// (a caller's rollback finds any other container by its labels).
pub async fn apply(
    docker: &DockerEngine,
    file: &ComposeFile,
    project: &str,
    layout: Layout,
    working_dir: &Path,
) -> Result<Vec<(String, Change)>, EngineError> {
    // The layout's services in their order, then the optional ones the file has (the reverse proxy).
    let layout_services = crate::engine::stack::render::services(layout);
    let extra = file.services.keys().map(String::as_str).filter(|s| !layout_services.contains(s));
    let specs = layout_services
        .iter()
        .copied()
        .chain(extra)
        .map(|service| {
            let svc = file
                .services
                .get(service)
                .ok_or_else(|| EngineError::Damaged(format!("the compose file has no service {service}")))?;
            Ok((service.to_string(), spec(file, project, service, svc, working_dir)?))
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let results = futures_util::future::join_all(specs.iter().map(|(_, spec)| apply_one(docker, spec))).await;
    specs.into_iter().zip(results).map(|((service, _), r)| r.map(|change| (service, change))).collect()
}
