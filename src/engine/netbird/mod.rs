//! Each customer's NetBird: its management API ([`api`]), the owner account nbmsp creates
//! and keeps a working access token for ([`owner`]), and administering its devices, setup
//! keys, users and groups ([`admin`] for the calls, [`manage`] for roles and audit), its networks
//! and DNS settings ([`networks`]), and its
//! Reverse Proxy's token and registration ([`reverse_proxy`]).

pub mod access;
pub mod admin;
pub mod api;
pub mod manage;
pub mod networks;
pub mod owner;
pub mod reverse_proxy;
mod routes;

pub use api::{DeviceCount, OwnerCredentials};
pub use owner::{DeviceUsage, TokenRenewal, owner_credentials};
