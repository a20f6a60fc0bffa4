//! Which Docker engine this is: two host records may reach one engine (a socket and a TLS
//! port, an SSH tunnel), and nbmsp must see its containers as one set.

use std::collections::HashMap;

use super::{DockerEngine, api, is_not_found};
use crate::engine::EngineError;

impl DockerEngine {
    /// The engine's own ID (`docker info`'s `ID`): the same for every address that reaches one
    /// engine (a socket, a TLS port, an SSH tunnel), so two host records of one engine show.
    pub async fn engine_id(&self) -> Result<String, EngineError> {
        self.count();
        let info = self.docker.info().await.map_err(api)?;
        Ok(info.id.unwrap_or_default())
    }

    /// Whether `other` is this same engine reached another way. The engine ID says when two
    /// are certainly different; an equal ID is not proof (daemons started from one image or one
    /// `key.json` share it), so a throwaway volume made here is looked for there.
    pub async fn same_engine_as(&self, other: &DockerEngine) -> Result<bool, EngineError> {
        if self.engine_id().await? != other.engine_id().await? {
            return Ok(false);
        }
        let suffix: String = crate::store::crypto::random_bytes::<8>()
            .map_err(|e| EngineError::Docker(format!("no randomness for the engine probe: {e}")))?
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let name = format!("nbmsp-identity-{suffix}");
        self.count();
        let req = bollard::models::VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some(HashMap::from([("nbmsp.managed".to_string(), "true".to_string())])),
            ..Default::default()
        };
        self.docker.create_volume(req).await.map_err(api)?;
        other.count();
        let seen = match other.docker.inspect_volume(&name).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api(e)),
        };
        if let Err(e) = self.docker.remove_volume(&name, None::<bollard::query_parameters::RemoveVolumeOptions>).await {
            tracing::warn!("cannot remove the probe volume {name}: {e}");
        }
        seen
    }
}
