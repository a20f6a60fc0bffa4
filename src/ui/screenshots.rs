//! The pictures in `assets/`, rendered from the app's own screens at 120x40. This test fails
//! when a picture is stale; `scripts/screenshots.sh` writes them again.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::tests::{dashboard, detail};
use crate::app::detail::Tab;
use crate::app::{Action, AppState, Event, update};

fn picture(state: &AppState) -> String {
    let mut state = state.clone();
    state.color = true;
    state.size = (120, 40);
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| super::render(&state, f)).unwrap();
    super::svg::render(t.backend().buffer()).replace(env!("CARGO_PKG_VERSION"), "X.Y.Z")
}

fn screens() -> Vec<(&'static str, AppState)> {
    let mut form = dashboard();
    update(&mut form, Action::NewCustomer);
    let mut settings = dashboard();
    update(&mut settings, Action::OpenSettings);
    let rows = crate::domain::settings::SETTINGS
        .iter()
        .map(|d| crate::domain::settings::SettingView {
            key: d.key,
            value: if d.is_secret() { "unset".into() } else { d.default.to_string() },
            secret: d.is_secret(),
            help: d.help,
        })
        .collect();
    update(&mut settings, Action::Engine(crate::app::Event::Settings { rows, users: Vec::new() }));
    let mut netbird = detail(Tab::NetBird);
    let peers = super::netbird_tests::peers();
    let action = crate::domain::netbird::AdminAction::Peers;
    update(&mut netbird, Action::Engine(Event::netbird(1, action, Ok(peers))));
    vec![
        ("dashboard", dashboard()),
        ("detail-netbird", netbird),
        ("detail-logs", detail(Tab::Logs)),
        ("detail-health", detail(Tab::Health)),
        ("detail-deployment", detail(Tab::Deployment)),
        ("form", form),
        ("settings", settings),
    ]
}

#[test]
fn the_pictures_in_assets_show_the_app_as_it_is() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let update_them = std::env::var_os("UPDATE_ASSETS").is_some();
    for (name, state) in screens() {
        let svg = picture(&state);
        let file = dir.join(format!("{name}.svg"));
        if update_them {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &svg).unwrap();
        } else {
            let current = std::fs::read_to_string(&file).unwrap_or_default();
            assert!(current == svg, "{} is stale: run scripts/screenshots.sh", file.display());
        }
    }
}
