//! Tests of `fleet.rs`.

use super::*;

fn up(service: &str) -> ContainerSeen {
    ContainerSeen { service: service.into(), state: "running".into(), health: None, image: "x".into() }
}

fn with_state(service: &str, state: &str) -> ContainerSeen {
    ContainerSeen { state: state.into(), ..up(service) }
}

fn obs<'a>(stored: CustomerStatus, containers: &'a [ContainerSeen]) -> Observation<'a> {
    Observation {
        stored,
        stored_reason: None,
        deployed: true,
        busy: false,
        layout: Layout::Combined,
        containers,
        probe: None,
        cert_pending: None,
        devices: None,
        token_renewal_failed: None,
        backup_failed: None,
        reverse: None,
        baseline: None,
    }
}

#[test]
fn a_customer_off_the_baseline_is_degraded_with_one_alert_and_says_how_to_fix_it() {
    let c = [up("server"), up("dashboard")];
    let what = "policy 'Default' lets every device reach every other (All → All)";
    let v = judge(&Observation { baseline: Some(what), ..obs(CustomerStatus::Active, &c) }, 600);
    assert_eq!(v.status, CustomerStatus::Degraded, "it works; it needs attention");
    assert_eq!(v.conditions.iter().map(Condition::key).collect::<Vec<_>>(), ["baseline"]);
    assert!(v.reason.unwrap().contains("nbmsp baseline apply"));
    assert_eq!(judge(&obs(CustomerStatus::Degraded, &c), 600).status, CustomerStatus::Active, "cleared");
}

#[test]
fn an_unregistered_proxy_and_a_service_without_tunnel_are_one_alert_each_and_degrade() {
    let c = [up("server"), up("dashboard")];
    let seen =
        ReverseSeen { registered: false, services: 2, troubled: vec![("wiki".into(), "tunnel_not_created".into())] };
    let v = judge(&Observation { reverse: Some(&seen), ..obs(CustomerStatus::Active, &c) }, 600);
    assert_eq!(v.status, CustomerStatus::Degraded, "the VPN works; visitors of services do not get through");
    let keys: Vec<String> = v.conditions.iter().map(Condition::key).collect();
    assert_eq!(keys, ["proxy", "service:wiki:tunnel_not_created"]);
    assert!(v.reason.unwrap().contains("service wiki: tunnel_not_created"));
    let fine = ReverseSeen { registered: true, services: 2, troubled: Vec::new() };
    let v = judge(&Observation { reverse: Some(&fine), ..obs(CustomerStatus::Degraded, &c) }, 600);
    assert_eq!((v.status, v.conditions.len()), (CustomerStatus::Active, 0), "cleared when it clears");
}

#[test]
fn all_up_is_active_and_recovers_from_error() {
    let cs = [up("server"), up("dashboard")];
    for stored in [CustomerStatus::Active, CustomerStatus::Error, CustomerStatus::Degraded] {
        let v = judge(&obs(stored, &cs), 3600);
        assert_eq!((v.status, v.reason, v.conditions.len()), (CustomerStatus::Active, None, 0), "{stored}");
    }
}

#[test]
fn core_down_is_error_dashboard_down_is_degraded() {
    let cs = [with_state("server", "exited"), up("dashboard")];
    let v = judge(&obs(CustomerStatus::Active, &cs), 3600);
    assert_eq!(v.status, CustomerStatus::Error);
    assert_eq!(v.reason.as_deref(), Some("server container is down"));
    let cs = [up("server"), with_state("dashboard", "exited")];
    assert_eq!(judge(&obs(CustomerStatus::Active, &cs), 3600).status, CustomerStatus::Degraded);
    let cs = [up("server")];
    let v = judge(&obs(CustomerStatus::Active, &cs), 3600);
    assert_eq!(v.conditions, vec![Condition::ContainerDown { service: "dashboard".into() }]);
}

#[test]
fn restarting_and_unhealthy_count_as_down() {
    let cs = [with_state("server", "restarting"), up("dashboard")];
    let v = judge(&obs(CustomerStatus::Active, &cs), 3600);
    assert_eq!(v.conditions, vec![Condition::Restarting { service: "server".into() }]);
    assert_eq!(v.status, CustomerStatus::Error);
    let sick = ContainerSeen { health: Some("unhealthy".into()), ..up("server") };
    let cs = [sick, up("dashboard")];
    assert_eq!(judge(&obs(CustomerStatus::Active, &cs), 3600).status, CustomerStatus::Error);
}

#[test]
fn operations_own_the_status_while_they_run() {
    let cs: [ContainerSeen; 0] = [];
    let mut o = obs(CustomerStatus::Deploying, &cs);
    assert_eq!(judge(&o, 3600).status, CustomerStatus::Deploying);
    o.stored = CustomerStatus::Active;
    o.busy = true;
    assert_eq!(judge(&o, 3600), Verdict { status: CustomerStatus::Active, reason: None, conditions: vec![] });
    o.busy = false;
    o.deployed = false;
    o.stored = CustomerStatus::Inactive;
    assert_eq!(judge(&o, 3600).status, CustomerStatus::Inactive);
}

#[test]
fn stopped_on_purpose_stays_stopped_until_something_runs() {
    let cs = [with_state("server", "exited"), with_state("dashboard", "exited")];
    let v = judge(&obs(CustomerStatus::Stopped, &cs), 3600);
    assert_eq!((v.status, v.conditions.len()), (CustomerStatus::Stopped, 0));
    let cs = [up("server"), up("dashboard")];
    assert_eq!(judge(&obs(CustomerStatus::Stopped, &cs), 3600).status, CustomerStatus::Active);
}

#[test]
fn failed_operation_keeps_its_reason_while_nothing_exists() {
    let cs: [ContainerSeen; 0] = [];
    let mut o = obs(CustomerStatus::Error, &cs);
    o.stored_reason = Some("deploy failed: image missing");
    let v = judge(&o, 3600);
    assert_eq!(v.status, CustomerStatus::Error);
    assert_eq!(v.reason.as_deref(), Some("deploy failed: image missing"));
    assert_eq!(v.conditions.len(), 2);
    // An active customer whose containers vanished is an outage, not "kept".
    o.stored = CustomerStatus::Active;
    let v = judge(&o, 3600);
    assert_eq!(v.status, CustomerStatus::Error);
    assert!(v.reason.unwrap().contains("server container is down"));
}

#[test]
fn probes_certificates_and_devices() {
    let cs = [up("server"), up("dashboard")];
    let bad_stun = ProbeSeen { http_ok: true, dashboard_ok: true, stun_ok: Some(false), reason: None, public: None };
    let mut o = obs(CustomerStatus::Active, &cs);
    o.probe = Some(&bad_stun);
    assert_eq!(judge(&o, 3600).status, CustomerStatus::Degraded);
    let bad_http = ProbeSeen {
        http_ok: false,
        dashboard_ok: true,
        stun_ok: Some(true),
        reason: Some("/ answered 502".into()),
        public: None,
    };
    o.probe = Some(&bad_http);
    let v = judge(&o, 3600);
    assert_eq!(v.status, CustomerStatus::Error);
    assert_eq!(v.reason.as_deref(), Some("health check failing: / answered 502"));
    o.probe = None;
    o.cert_pending = Some(("DNS not pointing here", 120));
    let v = judge(&o, 3600);
    assert_eq!(v.status, CustomerStatus::Active, "pending below the limit is no alert");
    assert_eq!(v.reason.as_deref(), Some("certificate pending: DNS not pointing here"));
    o.cert_pending = Some(("DNS not pointing here", 7200));
    assert_eq!(judge(&o, 3600).status, CustomerStatus::Degraded);
    o.cert_pending = None;
    o.devices = Some((21, 20));
    let v = judge(&o, 3600);
    assert_eq!(v.conditions, vec![Condition::DevicesOver { devices: 21, max: 20 }]);
    let ok = ProbeSeen { http_ok: true, dashboard_ok: true, stun_ok: Some(true), reason: None, public: None };
    let bad = ProbeSeen { http_ok: false, reason: Some("not answering".into()), ..ok.clone() };
    assert!(record_probe_now(None, &ok, false), "good news is recorded at once");
    assert!(!record_probe_now(Some(&ok), &bad, false), "a first failure is checked again");
    assert!(!record_probe_now(None, &bad, false), "also right after the containers changed");
    assert!(record_probe_now(Some(&ok), &bad, true), "a failure seen twice is recorded");
    assert!(record_probe_now(Some(&bad), &bad, false), "an ongoing failure is recorded");
    let no_dns = ProbeSeen { public: Some("DNS: acme.msp.example does not resolve yet".into()), ..ok.clone() };
    o.probe = Some(&no_dns);
    let v = judge(&o, 3600);
    assert_eq!(v.status, CustomerStatus::Degraded, "reachable inside, not yet for users");
    assert_eq!(v.conditions[0].key(), "public");
    o.probe = None;
    let failed = Observation { token_renewal_failed: Some("token invalid"), devices: None, ..o.clone() };
    let v = judge(&failed, 3600);
    assert_eq!(v.status, CustomerStatus::Degraded, "the VPN works; nbmsp's view of it is ending");
    assert_eq!(v.conditions[0].key(), "token");
    let no_backup = Observation { backup_failed: Some("disk full"), devices: None, ..o.clone() };
    let v = judge(&no_backup, 3600);
    assert_eq!((v.status, v.conditions[0].key()), (CustomerStatus::Degraded, "backup".to_string()));
    o.devices = Some((20, 20));
    assert_eq!(judge(&o, 3600).status, CustomerStatus::Active);
}

#[test]
fn a_probe_of_down_containers_is_ignored() {
    let cs = [with_state("server", "exited"), up("dashboard")];
    let p =
        ProbeSeen { http_ok: false, dashboard_ok: false, stun_ok: Some(false), reason: Some("x".into()), public: None };
    let mut o = obs(CustomerStatus::Active, &cs);
    o.probe = Some(&p);
    assert_eq!(judge(&o, 3600).conditions.len(), 1);
}

#[test]
fn legacy_layout_needs_four_services() {
    let cs = [up("management"), up("signal"), up("dashboard")];
    let mut o = obs(CustomerStatus::Active, &cs);
    o.layout = Layout::Legacy;
    let v = judge(&o, 3600);
    assert_eq!(v.conditions, vec![Condition::ContainerDown { service: "relay".into() }]);
}
