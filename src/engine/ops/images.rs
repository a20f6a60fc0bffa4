//! The images a customer's stack runs: present on the engine before containers are created
//! (pulled when missing, or every time under `images.pull = always`), and never a management
//! image too old to be bootstrapped safely.

use super::lifecycle::{Ops, Progress};
use crate::domain::customer::Customer;
use crate::domain::images::too_old_for_setup;
use crate::domain::settings::{ImagePull, Settings};
use crate::engine::EngineError;
use crate::engine::npm::proxy::Proxy;
use crate::engine::stack::render::RenderedStack;

impl<P: Proxy> Ops<'_, P> {
    /// Makes sure every image of the stack is on the engine: pulled when missing, or every time
    /// under `images.pull = always`. An image that is missing and cannot be pulled names the
    /// setting that chose it. Refuses a management image older than the first release that can
    /// be bootstrapped safely.
    pub(crate) async fn ensure_images(
        &self,
        customer: &Customer,
        stack: &RenderedStack,
        settings: &Settings,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<String, EngineError> {
        let management = customer.layout.management_service();
        let mut wanted: Vec<(&str, &str)> =
            stack.compose.services.iter().map(|(svc, s)| (svc.as_str(), s.image.as_str())).collect();
        wanted.sort_unstable_by_key(|(_, image)| *image);
        wanted.dedup_by_key(|(_, image)| *image);
        if let Some((svc, image)) = wanted.iter().find(|(svc, _)| *svc == management)
            && let Some(why) = too_old_for_setup(&format!("images.{svc}"), image)
        {
            return Err(EngineError::Usage(why));
        }
        let always = settings.images_pull == ImagePull::Always;
        let (mut pulled, mut kept) = (0, 0);
        let docker = self.engines.for_customer(customer).await?;
        for (svc, image) in &wanted {
            let present = docker.has_image(image).await?;
            if present && !always {
                continue;
            }
            progress(Progress::Note { text: format!("pulling {image}") });
            match docker.pull(image, |line| progress(Progress::Note { text: line })).await {
                Ok(()) => pulled += 1,
                Err(e) if present => {
                    progress(Progress::Note { text: format!("{image}: pull failed ({e}); using the local image") });
                    kept += 1;
                }
                Err(e) => {
                    return Err(EngineError::Unavailable(format!(
                        "image {image} is not on the Docker engine and could not be pulled ({e}): set images.{svc} \
                         (the app's Settings, tab NetBird, or `nbmsp settings set images.{svc} …`) to an image that is present, \
                         or load it with `docker load`"
                    )));
                }
            }
        }
        let mut detail = format!("{} present, {pulled} pulled", wanted.len());
        if kept > 0 {
            detail.push_str(&format!(", {kept} kept (pull failed)"));
        }
        Ok(detail)
    }
}
