//! The edge's reload at 100 and 1,000 customers: generating its configuration from the routes,
//! and `nginx -t` over it (what every reload waits for before nginx gets its SIGHUP), with this
//! machine's nginx and stream module as the edge image has them. Prints `bench` lines.

use std::process::Command;
use std::time::Instant;

use nbmsp::domain::edge::{Plan, Route, nginx_conf};

const MODULE: &str = "/usr/lib/nginx/modules/ngx_stream_module.so";

fn plan(n: usize) -> Plan {
    Plan {
        listen: "0.0.0.0:443".into(),
        fallback: Some("npm:443".into()),
        routes: (0..n)
            .map(|i| Route { domain: format!("c{i:04}.msp.example"), upstream: format!("netbird-c{i:04}-proxy:8443") })
            .collect(),
        internal_port: 10443,
        resolver: Some("127.0.0.11".into()),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if !std::path::Path::new(MODULE).exists() {
        println!("bench edge_reload SKIPPED: no {MODULE} (apt-get install nginx-light libnginx-mod-stream)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for n in [100, 1000] {
        let p = plan(n);
        let mut generate = Vec::new();
        let mut test = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let conf = nginx_conf(&p, Some(MODULE), dir.path().to_str().unwrap()).expect("config");
            generate.push(start.elapsed().as_secs_f64() * 1000.0);
            std::fs::write(dir.path().join("nginx.conf"), conf).expect("write");
            let start = Instant::now();
            let out = Command::new("nginx")
                .args(["-t", "-q", "-p"])
                .arg(dir.path())
                .arg("-c")
                .arg(dir.path().join("nginx.conf"))
                .output()
                .expect("nginx");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            test.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        println!("bench edge_config_{n} {:.2} ms", median(generate));
        println!("bench edge_nginx_t_{n} {:.1} ms", median(test));
    }
}
