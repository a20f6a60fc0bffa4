//! A customer's stack as files and containers: the rendered config and compose file
//! (render, templates, compose), where they live (instance), the UDP port they publish
//! (ports), and making Docker run exactly that (apply).

pub mod apply;
pub mod compose;
pub mod instance;
pub mod ports;
pub mod render;
pub mod templates;
