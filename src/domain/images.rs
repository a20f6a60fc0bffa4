//! Rules about NetBird image references that need no engine: which release a tag names, and
//! whether that release can be bootstrapped safely.

/// The first NetBird release whose `/api/setup` creates an access token
/// (`NB_SETUP_PAT_ENABLED`, `management/server/instance/setup_service.go`): older servers would
/// leave nbmsp without a token, and the owner claimable until someone logs in.
pub const MIN_SETUP_PAT: (u32, u32, u32) = (0, 70, 5);

/// The release a tag names (`0.77.1`, `v0.77.1`), if the tag is a version at all (`latest` is not).
pub fn tag_version(image: &str) -> Option<(u32, u32, u32)> {
    let last = image.rsplit('/').next()?;
    let tag = last.split_once(':')?.1.split('@').next()?;
    let mut parts = tag.trim_start_matches('v').split(['.', '-']);
    let mut num = || parts.next()?.parse::<u32>().ok();
    Some((num()?, num()?, num().unwrap_or(0)))
}

/// Why `image`, the management-bearing image of a customer's stack, cannot be used; `None` when
/// it can (including tags that name no version: those are checked by the health gate).
pub fn too_old_for_setup(setting: &str, image: &str) -> Option<String> {
    let v = tag_version(image)?;
    (v < MIN_SETUP_PAT).then(|| {
        let (a, b, c) = MIN_SETUP_PAT;
        format!(
            "{setting} = {image} is NetBird {}.{}.{}, older than {a}.{b}.{c}, the first release whose setup issues an \
             access token; nbmsp could not create the customer's owner safely: choose {a}.{b}.{c} or newer",
            v.0, v.1, v.2
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_tags() {
        assert_eq!(tag_version("netbirdio/netbird-server:0.77.1"), Some((0, 77, 1)));
        assert_eq!(tag_version("registry.local:5000/nb/management:v0.70.5"), Some((0, 70, 5)));
        assert_eq!(tag_version("netbirdio/netbird-server:latest"), None);
        assert_eq!(tag_version("registry.local:5000/nb/server"), None);
        assert!(too_old_for_setup("images.server", "netbirdio/netbird-server:0.70.4").unwrap().contains("0.70.5"));
        assert!(too_old_for_setup("images.server", "netbirdio/netbird-server:0.70.5").is_none());
        assert!(too_old_for_setup("images.server", "nbmsp-standin/netbird-server:latest").is_none());
    }
}
