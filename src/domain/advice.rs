//! What to do about a stored reason: the failure texts nbmsp writes, matched to the next step
//! an operator takes. Shown under the reason on the dashboard and the customer's tabs.

/// The next step for `reason`, when nbmsp knows one.
pub fn for_reason(reason: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        // First: a cancelled deploy names the step it stopped at, which is no failure of that step.
        ("cancelled by", "cancelled on purpose and rolled back: D deploys (U redeploys) again when you want"),
        (
            "cannot pull image",
            "no registry reachable and the image is not here: docker load it, or set images.* (Settings 3) to \
             one the engine has; then D",
        ),
        ("is not on this engine", "load the image (docker load) or set images.* to one the engine has, then D"),
        ("wait until ready", "NetBird did not come up: read the Logs tab (3) for the service that fails, then D"),
        ("certificate pending", "check that the domain's DNS points at the proxy, then c retries the certificate"),
        ("no free UDP port", "widen relay_port_count or move relay_base_port (Settings, 1), then D"),
        ("is missing or empty", "the NetBird data is not where the stack expects it: see `nbmsp reconcile`"),
        ("token renewal failed", "renew it with `nbmsp customer renew-token`, or check the instance's API"),
        ("scheduled backup failed", "check backup.dir (Settings, 1) and the disk; `nbmsp customer backup` tries now"),
        ("unreachable", "check that the Docker engine (or NPM) runs: `nbmsp doctor` says which"),
    ];
    TABLE.iter().find(|(needle, _)| reason.contains(needle)).map(|(_, fix)| *fix)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_pull_says_what_to_do() {
        let r = "deploy failed at images: cannot pull image netbirdio/dashboard:v2.90.9: dial tcp: no such host";
        assert!(super::for_reason(r).unwrap().contains("docker load"));
        assert_eq!(super::for_reason("all good"), None);
        // #29: a deliberate cancel at 'wait until ready' is not "NetBird did not come up".
        let cancelled = "deploy cancelled by admin at 'wait until ready' and rolled back";
        assert!(super::for_reason(cancelled).unwrap().starts_with("cancelled on purpose"));
    }
}
