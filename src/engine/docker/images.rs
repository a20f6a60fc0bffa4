//! Images and networks: what containers are made from and joined to.

use std::collections::HashMap;

use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use super::{DockerEngine, api, api_text, is_not_found};
use crate::engine::EngineError;

impl DockerEngine {
    /// Creates the bridge network `name` unless it exists; true when created.
    pub async fn ensure_network(&self, name: &str) -> Result<bool, EngineError> {
        match self.docker.inspect_network(name, None::<bollard::query_parameters::InspectNetworkOptions>).await {
            Ok(_) => Ok(false),
            Err(e) if is_not_found(&e) => {
                let req = NetworkCreateRequest {
                    name: name.to_string(),
                    driver: Some("bridge".into()),
                    attachable: Some(true),
                    labels: Some(HashMap::from([("nbmsp.managed".to_string(), "true".to_string())])),
                    ..Default::default()
                };
                match self.docker.create_network(req).await {
                    Ok(_) => Ok(true),
                    // Another nbmsp created it at the same moment.
                    Err(e) if e.to_string().contains("already exists") => Ok(false),
                    Err(e) => Err(api(e)),
                }
            }
            Err(e) => Err(api(e)),
        }
    }

    /// Removes network `name` (used by tests and cleanup); missing is fine.
    pub async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        match self.docker.remove_network(name).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(api(e)),
        }
    }

    /// Names of the containers attached to network `name`.
    pub async fn network_members(&self, name: &str) -> Result<Vec<String>, EngineError> {
        let n = self
            .docker
            .inspect_network(name, None::<bollard::query_parameters::InspectNetworkOptions>)
            .await
            .map_err(api)?;
        Ok(n.containers.unwrap_or_default().into_values().filter_map(|c| c.name).collect())
    }

    /// True when `image` is present locally.
    pub async fn has_image(&self, image: &str) -> Result<bool, EngineError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(api(e)),
        }
    }

    /// The id (`sha256:…`) of the local image `image` names, if it is present.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>, EngineError> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i.id),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(api(e)),
        }
    }

    /// Pulls `image`, reporting progress lines; the error names the image and the registry's answer.
    pub async fn pull(&self, image: &str, mut progress: impl FnMut(String)) -> Result<(), EngineError> {
        let (repo, tag) = split_image(image);
        let opts =
            CreateImageOptions { from_image: Some(repo.to_string()), tag: Some(tag.to_string()), ..Default::default() };
        let mut stream = self.docker.create_image(Some(opts), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                        return Err(EngineError::Docker(format!("cannot pull image {image}: {detail}")));
                    }
                    if let Some(status) = info.status {
                        let layer = info.id.map(|id| format!(" {id}")).unwrap_or_default();
                        progress(format!("{image}:{layer} {status}"));
                    }
                }
                Err(e) => return Err(EngineError::Docker(format!("cannot pull image {image}: {}", api_text(e)))),
            }
        }
        if self.has_image(image).await? {
            Ok(())
        } else {
            Err(EngineError::Docker(format!("cannot pull image {image}: the registry sent nothing")))
        }
    }
}

/// `repo[:tag]` → (repo, tag); the tag defaults to `latest`, a registry port is not a tag.
pub fn split_image(image: &str) -> (&str, &str) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_split_on_the_tag_only() {
        assert_eq!(split_image("netbirdio/dashboard:v2.9"), ("netbirdio/dashboard", "v2.9"));
        assert_eq!(split_image("netbirdio/dashboard"), ("netbirdio/dashboard", "latest"));
        assert_eq!(split_image("registry.local:5000/nb/server"), ("registry.local:5000/nb/server", "latest"));
        assert_eq!(split_image("registry.local:5000/nb/server:1.2"), ("registry.local:5000/nb/server", "1.2"));
    }
}
