//! Each customer's NetBird: its management API ([`api`]), the owner account nbmsp creates
//! and keeps a working access token for ([`owner`]), and administering its devices, setup
//! keys, users and groups ([`admin`] for the calls, [`manage`] for roles and audit).

pub mod admin;
pub mod api;
pub mod manage;
pub mod owner;

pub use api::{DeviceCount, OwnerCredentials};
pub use owner::{DeviceUsage, TokenRenewal, owner_credentials};
